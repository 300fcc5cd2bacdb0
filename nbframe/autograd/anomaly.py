"""Anomaly mode: find the op whose backward made a NaN, and the line that ran its forward.

``detect_anomaly()`` subscribes an op observer that remembers, for every op, the
user's source line that called it; the engine then checks every gradient and,
at the first NaN, raises an error naming the op and that line.
"""

from __future__ import annotations

import os
import sys
import traceback

from . import observers

_enabled = [0]
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def is_enabled() -> bool:
    return _enabled[0] > 0


def user_frames(limit: int = 40) -> list:
    """The stack without nbframe's own frames: where the user's code called into nbframe."""
    frames = traceback.extract_stack(sys._getframe(1), limit=limit)
    return [f for f in frames if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)]


def _remember_trace(op, inputs, outputs) -> None:
    op._trace = user_frames()


class detect_anomaly:
    """Context manager (and decorator) turning on anomaly detection, as ``torch.autograd.detect_anomaly``."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self._handle = None

    def __enter__(self):
        _enabled[0] += 1
        self._handle = observers.add_op_observer(_remember_trace)
        return self

    def __exit__(self, *exc) -> None:
        _enabled[0] -= 1
        self._handle.remove()

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly(detect_anomaly):
    def __init__(self, mode: bool, check_nan: bool = True):
        super().__init__(check_nan)
        self.mode = mode

    def __enter__(self):
        if self.mode:
            return super().__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.mode:
            super().__exit__(*exc)


def check_gradients(node, grads) -> None:
    """Raise at the first gradient with a NaN, naming the op and where its forward was called."""
    for i, g in enumerate(grads):
        if g is None:
            continue
        xp_array = g.array
        if xp_array.dtype.kind == "f" and bool((xp_array != xp_array).any()):
            where = ""
            if node._trace:
                last = node._trace[-1]
                where = (
                    f"\nIts forward was called at {last.filename}, line {last.lineno}"
                    + (f":\n    {last.line}" if last.line else "")
                    + "\nTraceback of the forward call:\n"
                    + "".join(traceback.format_list(node._trace[-8:]))
                )
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.{where}")
