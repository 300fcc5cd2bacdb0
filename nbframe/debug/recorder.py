"""The op recorder behind ``%%watch`` and the TensorInspector: ``nf.debug.watch()``.

``with nf.debug.watch() as record: ...`` records every op run inside the block
(forward and backward): op name, input/output shapes and dtypes, time since the
previous op, statistics and NaN/Inf counts of the first output, and the user's
source line. It subscribes to ``nbframe.autograd.observers``, so nothing is
paid when no one watches. ``stop_at_nonfinite=True`` stops the block at the
first op whose output holds a NaN or an Inf (``NonFiniteStop``); ``%%watch``
is this recorder with the cell's file as ``source``.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class OpRecord:
    """One recorded op. ``tensor`` is its first output (kept when ``keep_tensors``), for histograms."""

    index: int
    op: str
    node: str
    inputs: list  # (shape, dtype) of each tensor input
    outputs: list  # (shape, dtype) of each output
    seconds: float
    line: int | None
    stats: dict  # min, max, mean, std, nan, inf, numel of the first output
    filename: str | None = None
    tensor: Any = field(default=None, repr=False)

    @property
    def bad(self) -> bool:
        """True when the first output holds a NaN or an Inf."""
        return bool(self.stats.get("nan") or self.stats.get("inf"))


class WatchRecord(list):
    """The ops a ``watch()`` block ran, in order (a list of ``OpRecord``)."""

    def first_bad(self) -> OpRecord | None:
        return next((r for r in self if r.bad), None)

    def __repr__(self) -> str:
        bad = sum(r.bad for r in self)
        return f"<WatchRecord of {len(self)} ops, {bad} with NaN/Inf>"


class NonFiniteStop(BaseException):
    """Raised by ``watch(stop_at_nonfinite=True)`` at the first op whose output holds a NaN or an Inf.

    ``record`` is that op's ``OpRecord``, ``inputs`` its arguments (to judge why).
    A BaseException, like KeyboardInterrupt, so that an ``except Exception`` in
    the watched code can't swallow the stop and run on with the bad values.
    """

    def __init__(self, record: OpRecord, inputs: tuple) -> None:
        super().__init__(f"op #{record.index} {record.op} produced NaN/Inf")
        self.record, self.inputs = record, inputs


class _Recorder:
    def __init__(self, pattern: re.Pattern | None, keep_tensors: bool, stop: bool, source: str | None):
        self.pattern, self.keep_tensors, self.stop, self.source = pattern, keep_tensors, stop, source
        self.record = WatchRecord()
        self.count = 0
        self.last = time.perf_counter()

    def __call__(self, op, inputs, outputs) -> None:
        seconds = time.perf_counter() - self.last
        label = getattr(type(op), "label", None) or type(op).__name__
        if label == "op":
            label = type(op).__name__
        self.count += 1
        wanted = self.pattern is None or self.pattern.search(label) or self.pattern.search(op.name())
        bad = self.stop and _has_nonfinite(outputs)
        if wanted or bad:
            filename, line = _caller(self.source)
            first = outputs[0] if outputs else None
            kept = first.detach() if first is not None and self.keep_tensors else None
            found = OpRecord(self.count, label, op.name(), _meta(inputs), _meta(outputs), seconds, line,
                             stats(first), filename, kept)
            if wanted:
                self.record.append(found)
            if bad:
                raise NonFiniteStop(found, inputs)
        self.last = time.perf_counter()


@contextmanager
def watch(ops: str | None = None, keep_tensors: bool = True, stop_at_nonfinite: bool = False,
          source: str | None = None) -> Iterator[WatchRecord]:
    """Record every op run inside the block.

    ``ops`` keeps only ops whose name matches that regular expression;
    ``keep_tensors`` keeps each op's first output (for histograms);
    ``stop_at_nonfinite`` raises ``NonFiniteStop`` at the first op that makes a NaN or an Inf;
    ``source``: a file name (a notebook cell's): each op's line is the line in that file that ran it.
    """
    from nbframe.autograd.observers import add_op_observer

    try:
        pattern = re.compile(ops, re.IGNORECASE) if ops else None
    except re.error as exc:
        raise ValueError(f"watch(ops={ops!r}): not a regular expression: {exc}") from None
    recorder = _Recorder(pattern, keep_tensors, stop_at_nonfinite, source)
    with add_op_observer(recorder):
        recorder.last = time.perf_counter()
        yield recorder.record


def stats(tensor) -> dict:
    """numel, NaN/Inf counts and min/max/mean/std of the finite values (floats; ints without NaN counts)."""
    if tensor is None or tensor.array.dtype.kind not in "fiub" or tensor.array.size == 0:
        return {}
    from nbframe.backend import get_array_module

    array = tensor.array
    xp = get_array_module(array)
    found: dict = {"numel": int(array.size)}
    values = array if array.dtype.kind == "f" else array.astype(xp.float64)
    if array.dtype.kind == "f":
        found["nan"], found["inf"] = int(xp.isnan(array).sum()), int(xp.isinf(array).sum())
        if found["nan"] or found["inf"]:
            values = values[xp.isfinite(values)]
    if values.size:
        found.update(min=float(values.min()), max=float(values.max()),
                     mean=float(values.mean(dtype=xp.float64)), std=float(values.std(dtype=xp.float64)))
    return found


def _has_nonfinite(outputs) -> bool:
    from nbframe.backend import get_array_module

    for out in outputs:
        array = out.array
        if array.dtype.kind == "f" and array.size and not bool(get_array_module(array).isfinite(array).all()):
            return True
    return False


def _meta(values) -> list:
    from nbframe import Tensor

    return [(tuple(v.shape), str(v.array.dtype)) for v in values if isinstance(v, Tensor)]


def _caller(source: str | None) -> tuple[str | None, int | None]:
    """The user's line that ran the op: the first frame in ``source`` if given, else outside nbframe."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if source is not None:
            found = filename == source
        else:
            found = not os.path.abspath(filename).startswith(_PACKAGE_DIR) and "contextlib" not in filename
        if found:
            return filename, frame.f_lineno
        frame = frame.f_back
    return None, None
