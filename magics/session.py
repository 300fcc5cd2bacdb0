"""What the extension remembers between cells, kept on one object per shell (not in module globals)."""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass, field


@dataclass
class Session:
    """Defaults set with ``%nbframe`` and the summaries ``%%model`` computed (shown by a Module's display)."""

    device: object = None  # nbframe.device for %%model and %graph inputs; None: the CPU
    summaries: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary)
    counter: itertools.count = field(default_factory=itertools.count)

    def cell_filename(self, magic: str, name: str = "") -> str:
        """A unique file name for code compiled from a cell (tracebacks and linecache use it)."""
        return f"<{magic} {name}#{next(self.counter)}>".replace("  ", " ")
