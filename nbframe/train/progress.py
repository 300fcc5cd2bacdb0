"""How a run shows its progress: the one small registry that picks a reporter when ``fit`` is called.

Inside a Jupyter kernel the reporter is the widgets' ``TrainingDashboard``
(imported lazily: the only place the engine reaches up to the notebook layer);
anywhere else, or when ipywidgets is missing, a text bar. A reporter is any
object with ``start(run, epochs, steps_per_epoch)``, ``step(step, epoch, logs,
samples)``, ``epoch(epoch, logs)``, ``finish(history)`` (``history.partial_epoch``
names an epoch a stop cut short) and a ``stop_requested``
attribute (the dashboard's Stop button sets it).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

_REPORTERS: dict[str, Callable[[], Any]] = {}


def register_reporter(name: str, factory: Callable[[], Any]) -> None:
    """Make ``fit(..., progress=name)`` use ``factory()``; a factory may raise ImportError to decline."""
    _REPORTERS[name] = factory


def in_kernel() -> bool:
    """True inside a Jupyter kernel (widgets can render there); never imports IPython itself."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def pick_reporter(progress: Any = "auto") -> Any:
    """``"auto"``: the dashboard in a kernel, else text. Also ``"text"``, ``"dashboard"``, ``None``/``False``
    (silent), or a reporter object (an existing dashboard, to overlay this run on earlier ones)."""
    if progress is None or progress is False or progress == "none":
        return _Silent()
    if not isinstance(progress, str):
        return progress
    name = ("dashboard" if in_kernel() else "text") if progress == "auto" else progress
    if name not in _REPORTERS:
        raise ValueError(f"progress={progress!r}: expected 'auto', 'none' or one of {sorted(_REPORTERS)}")
    try:
        return _REPORTERS[name]()
    except ImportError as exc:  # ipywidgets missing: still train, with a text bar
        if progress == "auto":
            return TextProgress()
        raise ImportError(f"progress={progress!r} needs {exc.name or 'ipywidgets'}: {exc}") from None


class _Silent:
    stop_requested = False

    def start(self, run: str, epochs: int, steps_per_epoch: int | None) -> None:
        pass

    def step(self, step: int, epoch: int, logs: dict[str, float], samples: int) -> None:
        pass

    def epoch(self, epoch: int, logs: dict[str, float]) -> None:
        pass

    def finish(self, history) -> None:
        pass


class TextProgress(_Silent):
    """``epoch 2/5 [######----] 40/100 loss 0.41 · 1234 samples/s · ETA 3s``, redrawn at most every
    ``interval`` seconds on a terminal (one line per epoch when the stream is not a terminal)."""

    def __init__(self, stream: TextIO | None = None, interval: float = 0.5, width: int = 20,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.stream, self.interval, self.width, self.clock = stream or sys.stderr, interval, width, clock
        self.redraws = 0

    def start(self, run: str, epochs: int, steps_per_epoch: int | None) -> None:
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        self.begun = self.last = self.clock()
        self.done_in_epoch, self.samples, self.epoch_number = 0, 0, 1
        self.logs: dict[str, float] = {}

    def step(self, step: int, epoch: int, logs: dict[str, float], samples: int) -> None:
        self.done_in_epoch = self.done_in_epoch + 1 if epoch == self.epoch_number else 1
        self.epoch_number, self.logs = epoch, logs
        self.samples += samples
        now = self.clock()
        if now - self.last >= self.interval and getattr(self.stream, "isatty", lambda: False)():
            self.last = now
            self._draw("\r")

    def epoch(self, epoch: int, logs: dict[str, float]) -> None:
        self.logs = logs
        self._draw("\r", end="\n")
        self.last = self.clock()

    def line(self) -> str:
        total = self.steps_per_epoch
        done = self.done_in_epoch
        filled = int(self.width * done / total) if total else 0
        bar = f"[{'#' * filled}{'-' * (self.width - filled)}] {done}/{total}" if total else f"{done} steps"
        elapsed = max(self.clock() - self.begun, 1e-9)
        rate = self.samples / elapsed
        values = " ".join(f"{k} {v:.4g}" for k, v in self.logs.items())
        text = f"epoch {self.epoch_number}/{self.epochs} {bar} {values} · {rate:.0f} samples/s"
        if total:
            steps_done = (self.epoch_number - 1) * total + done
            left = self.epochs * total - steps_done
            text += f" · ETA {_duration(elapsed / max(steps_done, 1) * left)}"
        return text

    def _draw(self, start: str, end: str = "") -> None:
        self.redraws += 1
        self.stream.write(f"{start}{self.line()}{end}")
        self.stream.flush()

    def finish(self, history) -> None:
        if history.stopped:
            partial = f" (epoch {history.partial_epoch} partial)" if history.partial_epoch is not None else ""
            self.stream.write(f"stopped: {history.stopped}{partial}\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _dashboard() -> Any:
    import ipywidgets  # noqa: F401  (missing: ImportError, and fit falls back to the text bar)

    from nbframe.widgets.dashboard import TrainingDashboard

    return TrainingDashboard()


register_reporter("text", TextProgress)
register_reporter("dashboard", _dashboard)


def static_plot(history) -> Any:
    """``History.plot()``: the dashboard's SVG charts without the widget, or a text table when the
    widgets package can't be imported."""
    try:
        from nbframe.widgets.dashboard import history_picture
    except ImportError:
        return _TextTable(history)
    return history_picture(history)


class _TextTable:
    def __init__(self, history) -> None:
        self.history = history

    def __repr__(self) -> str:
        rows = self.history.epochs
        columns = list(dict.fromkeys(k for row in rows for k in row))
        lines = ["  ".join(f"{c:>10}" for c in columns)]
        lines += ["  ".join(f"{row.get(c, float('nan')):>10.4g}" for c in columns) for row in rows]
        return "\n".join(lines)
