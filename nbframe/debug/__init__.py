"""nbframe.debug: the op recorder behind ``%%watch`` (``nf.debug.watch()``)."""

from .recorder import NonFiniteStop, OpRecord, WatchRecord, stats, watch

__all__ = ["watch", "OpRecord", "WatchRecord", "NonFiniteStop", "stats"]
