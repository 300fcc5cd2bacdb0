"""``TrainingDashboard``: live loss and metric curves, progress, a Stop button — SVG in an HTML widget.

Drawing happens in Python (``svg.line_chart``) into an ``HTML`` widget whose
value is replaced in place: no ``clear_output``, no flicker, nothing else in the
cell's output touched. Redraws are throttled (at most every ``throttle``
seconds, plus every epoch end and the end of the run), so a fast loop pays for
a handful of drawings, not one per step. Several runs overlay in one dashboard.

``fit`` uses it as its progress reporter inside a kernel; a hand-written loop
calls ``dash.log(step, loss=..., acc=...)``. Outside a kernel the same calls
print a text progress line. ipywidgets is imported only when the widget is shown.

While a cell trains, the kernel's main thread is busy in the loop, so the Stop button's and the
log-scale toggle's comms are pinned to a kernel subshell (``_route_to_subshell``): their handlers run
at once on that thread. A lock keeps its redraws and the loop's updates from interleaving.
"""

from __future__ import annotations

import contextlib
import html
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from nbframe.train.progress import _duration

from .svg import PALETTE, Series, line_chart

#: The most points a step curve is drawn with (longer ones are averaged in bins).
MAX_POINTS = 400
_HIGHER_IS_BETTER = ("acc", "auc", "f1", "precision", "recall")
#: How the Stop button looks in each state: (description, button_style, disabled, tooltip).
_STOP_LOOKS = {
    "running": ("Stop", "danger", False, "End training after the current step"),
    "stopping": ("Stopping\u2026", "warning", True, "Training ends after the current step"),
    "idle": ("Stop", "", True, "No run in progress: Stop is enabled while a run trains"),
}


@dataclass
class _Run:
    name: str
    color: str
    steps: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    epochs: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    epoch_end_step: dict[int, float] = field(default_factory=dict)
    total_epochs: int | None = None
    steps_per_epoch: int | None = None
    last_step: float = 0
    epoch: int = 0
    samples: int = 0
    started: float = 0.0
    finished: str | None = None
    partial_epoch: int | None = None  # the last epoch, when a stop cut it short


class TrainingDashboard:
    """Live training curves: ``log(step, **metrics)`` per step, ``log_epoch(epoch, **metrics)`` per epoch.

    Names starting with ``val_`` are validation values, drawn dashed on the same chart as the
    training value. ``new_run(name)`` starts another overlaid run. ``stop_requested`` turns True
    when the Stop button is pressed; ``fit`` then ends after the current step. The button is red and
    enabled only while a run is in progress (from ``start`` or the first ``log`` until ``finish``),
    "Stopping…" once pressed, grey and disabled otherwise. ``stop_works`` says whether the kernel
    handles a click (and the log-scale toggle) while a cell runs (else a note under it says what to use).
    """

    def __init__(self, throttle: float = 0.3, width: int = 360, height: int = 220, log_scale: bool = False,
                 clock: Callable[[], float] = time.perf_counter, text_stream=None) -> None:
        self.throttle, self.width, self.height, self.clock = throttle, width, height, clock
        self.log_scale = log_scale
        self.runs: dict[str, _Run] = {}
        self.current: _Run | None = None
        self.stop_requested = False
        self.stop_works = False
        self.redraws = 0
        self._last_draw = -float("inf")
        self._widget = None
        self._parts: dict = {}
        self._text_stream = text_stream
        self._display = None  # IPython's DisplayHandle: every output showing this dashboard shares its id
        self._lock = threading.RLock()  # the subshell's handlers and the training loop both draw

    # --- feeding it -------------------------------------------------------------------------------
    def new_run(self, name: str | None = None) -> str:
        """Start a new overlaid run (its name made unique) and make it the one ``log`` feeds."""
        base = name or f"run {len(self.runs) + 1}"
        name, k = base, 2
        with self._lock:
            while name in self.runs:
                name, k = f"{base} ({k})", k + 1
            self.current = _Run(name, PALETTE[len(self.runs) % len(PALETTE)], started=self.clock())
            self.runs[name] = self.current
            self.stop_requested = False
            self._sync_stop()
        return name

    def log(self, step: float, samples: int = 0, **metrics: float) -> None:
        """Record per-step values (e.g. ``loss=0.3``); redraws when ``throttle`` seconds have passed."""
        with self._lock:
            run = self.current or self.runs.get(self.new_run("run"))
            for name, value in metrics.items():
                run.steps.setdefault(name, []).append((float(step), float(value)))
            run.last_step, run.samples = float(step), run.samples + samples
            if self.clock() - self._last_draw >= self.throttle:
                self.redraw()

    def log_epoch(self, epoch: int, partial: bool = False, **metrics: float) -> None:
        """Record per-epoch values (``loss``, ``val_loss``, ...) and redraw. ``partial=True``: the epoch was
        cut short (drawn with a square, never the best epoch)."""
        with self._lock:
            run = self.current or self.runs.get(self.new_run("run"))
            run.epoch = epoch
            if partial:
                run.partial_epoch = epoch
            run.epoch_end_step[epoch] = run.last_step
            for name, value in metrics.items():
                run.epochs.setdefault(name, []).append((float(epoch), float(value)))
            self.redraw()

    # --- the reporter protocol nf.fit uses -------------------------------------------------------
    def start(self, run: str, epochs: int, steps_per_epoch: int | None) -> None:
        self.current = self.runs[self.new_run(run)]  # a new run: Stop enabled, no stop requested
        self.current.total_epochs, self.current.steps_per_epoch = epochs, steps_per_epoch
        self._show()

    def step(self, step: int, epoch: int, logs: dict[str, float], samples: int) -> None:
        self.current.epoch = epoch - 1
        self.log(step, samples=samples, **logs)

    def epoch(self, epoch: int, logs: dict[str, float]) -> None:
        self.log_epoch(epoch, **logs)

    def finish(self, history=None) -> None:
        with self._lock:
            if self.current is not None:
                self.current.finished = (history.stopped if history is not None else None) or "done"
                if history is not None:
                    self.current.partial_epoch = getattr(history, "partial_epoch", None)
            self._sync_stop()  # no run in progress: Stop greyed out
            self.redraw()
            self.update_display()

    @property
    def running(self) -> bool:
        """True while a run is in progress: started (or first logged) and not finished."""
        return self.current is not None and self.current.finished is None

    # --- what it shows ---------------------------------------------------------------------------
    def metric_names(self) -> list[str]:
        """Chart names: each logged value without its ``val_`` prefix, in first-logged order."""
        names: list[str] = []
        for run in self.runs.values():
            for name in (*run.steps, *run.epochs):
                base = name.removeprefix("val_")
                if base not in names and base not in ("lr",):
                    names.append(base)
        return names

    def best_epoch(self, run: _Run) -> tuple[str, int, float] | None:
        """(monitored name, epoch, value): best ``val_loss``, else ``loss``; a partial epoch never counts."""
        for name in ("val_loss", "loss"):
            points = [p for p in run.epochs.get(name, []) if int(p[0]) != run.partial_epoch]
            if points:
                epoch, value = min(points, key=lambda p: p[1])
                return name, int(epoch), value
        return None

    def chart(self, metric: str) -> str:
        """The SVG chart of one metric: step curves (faint), epoch curves (train solid, val dashed)."""
        series = []
        higher = any(word in metric for word in _HIGHER_IS_BETTER)
        for run in self.runs.values():
            several = len(self.runs) > 1
            prefix = f"{run.name}: " if several else ""
            if metric in run.steps:
                series.append(Series(f"{prefix}{metric} (step)", _thin(run.steps[metric]), run.color, 1.0,
                                     opacity=0.35))
            best = self.best_epoch(run)
            for name, dash in ((metric, False), (f"val_{metric}", True)):
                points = [(run.epoch_end_step.get(int(e), e), v) for e, v in run.epochs.get(name, [])]
                if not points:
                    continue
                marker = partial = None
                if best is not None and best[0] == name:
                    marker = (run.epoch_end_step.get(best[1], best[1]), best[2])
                if run.partial_epoch is not None and int(run.epochs[name][-1][0]) == run.partial_epoch:
                    partial = points[-1]
                series.append(Series(f"{prefix}{name}", points, run.color, 2.0, dash=dash, marker=marker,
                                     partial=partial))
        return line_chart(series, width=self.width, height=self.height, title=metric,
                          log_y=self.log_scale and not higher, x_label="step")

    def svg(self) -> str:
        """All charts side by side in one SVG document (the static fallback). A chart whose legend
        needs more room than ``width`` x ``height`` is wider or taller; the picture fits them all."""
        charts = [self.chart(name) for name in self.metric_names()] or [self.chart("loss")]
        sizes = [_size(chart) for chart in charts]
        tallest = max(height for _, height in sizes)
        inner, total = [], 0.0
        for chart, (width, height) in zip(charts, sizes):  # bottoms aligned: the x axes line up
            inner.append(f'<g transform="translate({_number(total)},{_number(tallest - height)})">'
                         f'{_strip_root(chart)}</g>')
            total += width
        total, tallest = _number(total), _number(tallest)
        scale = "log" if self.log_scale else "linear"  # the y scale of the lower-is-better charts
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{tallest}" '
                f'viewBox="0 0 {total} {tallest}" font-family="sans-serif" font-size="10" '
                f'data-y-scale="{scale}">{"".join(inner)}</svg>')

    def status(self) -> str:
        """One line: run, epoch, step, samples/s, ETA, best epoch (also the text progress line)."""
        run = self.current
        if run is None:
            return "no run yet"
        parts = [run.name]
        if run.total_epochs:
            shown = min(run.epoch + (0 if run.finished else 1), run.total_epochs)
            parts.append(f"epoch {shown}/{run.total_epochs}")
        parts.append(f"step {int(run.last_step)}")
        elapsed = max(self.clock() - run.started, 1e-9)
        if run.samples:
            parts.append(f"{run.samples / elapsed:.0f} samples/s")
        fraction = self.fraction(run)
        if fraction and not run.finished:
            parts.append(f"ETA {_duration(elapsed / fraction * (1 - fraction))}")
        best = self.best_epoch(run)
        if best is not None:
            parts.append(f"best epoch {best[1]} ({best[0]} {best[2]:.4g})")
        if run.finished:
            parts.append("done" if run.finished == "done" else f"stopped: {run.finished}")
        if run.partial_epoch is not None:
            parts.append(f"epoch {run.partial_epoch} partial")
        return " · ".join(parts)

    @staticmethod
    def fraction(run: _Run) -> float | None:
        if not run.total_epochs or not run.steps_per_epoch:
            return None
        return min(run.last_step / (run.total_epochs * run.steps_per_epoch), 1.0)

    # --- drawing ---------------------------------------------------------------------------------
    def redraw(self) -> None:
        """Replace the widget's pictures in place (or print the text line outside a kernel)."""
        with self._lock:
            self._last_draw = self.clock()
            self.redraws += 1
            if self._parts:
                self._parts["charts"].value = self.svg()
                self._parts["progress"].value = self._progress_html()
            elif self._text_stream is not None or not _in_kernel():
                stream = self._text_stream or sys.stderr
                stream.write("\r" + self.status())
                stream.flush()

    def _progress_html(self) -> str:
        run = self.current
        fraction = (self.fraction(run) if run else None) or 0.0
        return (f'<div style="font-family:sans-serif;font-size:12px">{html.escape(self.status())}'
                f'<div style="background:#eee;width:300px;height:6px"><div style="background:#0072B2;'
                f'width:{round(300 * fraction)}px;height:6px"></div></div></div>')

    @property
    def widget(self):
        """The ipywidgets view (built on first use)."""
        if self._widget is None:
            import ipywidgets as widgets

            charts = widgets.HTML(self.svg())
            progress = widgets.HTML(self._progress_html())
            scale = widgets.ToggleButton(value=self.log_scale, description="log scale",
                                         tooltip="Loss curves on a logarithmic y axis",
                                         layout=widgets.Layout(width="100px"))
            description, style, disabled, tooltip = _STOP_LOOKS[self._stop_state()]
            stop = widgets.Button(description=description, button_style=style, disabled=disabled,
                                  tooltip=tooltip, icon="stop", layout=widgets.Layout(width="100px"))
            scale.observe(self._on_scale, names="value")
            stop.on_click(self._on_stop)
            scale_works = _route_to_subshell(scale.comm)
            self.stop_works = _route_to_subshell(stop.comm) and scale_works
            note = widgets.HTML("" if self.stop_works else _stop_note(stop.comm))
            self._parts = {"charts": charts, "progress": progress, "scale": scale, "stop": stop, "note": note}
            self._widget = widgets.VBox([widgets.HBox([progress, scale, stop]), note, charts])
        return self._widget

    def _stop_state(self) -> str:
        return "idle" if not self.running else "stopping" if self.stop_requested else "running"

    def _sync_stop(self) -> None:
        """Make the Stop button look like the current state (one message, only when something changed)."""
        stop = self._parts.get("stop")
        if stop is None:
            return
        description, style, disabled, tooltip = _STOP_LOOKS[self._stop_state()]
        with stop.hold_sync():
            stop.description, stop.button_style, stop.tooltip = description, style, tooltip
            stop.disabled = disabled
        _route_to_subshell(stop.comm)  # publishing from the main shell re-pins the comm there

    def _on_scale(self, change) -> None:
        # On the kernel subshell's thread during a run: redraw now rather than after the cell ends.
        with self._lock:
            self.log_scale = bool(change["new"])
            self.redraw()
        _route_to_subshell(self._parts["scale"].comm)  # echoing the new value re-pinned it to the main shell

    def _on_stop(self, button=None) -> None:
        # On the kernel subshell's thread while fit runs on the main one: a flag and the button only. A click
        # that arrives after the run ended (queued where clicks wait for the cell) stops nothing.
        with self._lock:
            if self.running:
                self.stop_requested = True
                self._sync_stop()

    def _show(self) -> None:
        if self._widget is None and _in_kernel():
            from IPython.display import display

            display(self)

    def _ipython_display_(self) -> None:
        """Show the dashboard under one display id, so ``update_display`` can refresh the stored copy."""
        from IPython.display import display

        if self._display is None:
            self._display = display(self._repr_mimebundle_(), raw=True, display_id=True)
        else:
            self._display.display(self._repr_mimebundle_(), raw=True)

    def update_display(self) -> None:
        """Refresh every output showing this dashboard with the current pictures (``fit`` calls it when a
        run ends, however it ends).

        The widget view only lives in a running frontend; a saved notebook keeps the output's static
        ``image/svg+xml`` and text, which the widget updates in place never touch. Republishing the same
        view with the new fallback (``update_display_data``) replaces them, so nbconvert, GitHub and a
        notebook reopened without its kernel show the final curves rather than the first, empty chart.
        """
        if self._display is not None:
            self._display.update(self._repr_mimebundle_(), raw=True)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        with self._lock:
            bundle = {"image/svg+xml": self.svg(), "text/plain": self.status()}
            try:
                bundle.update(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
            except ImportError:
                pass
            bundle["text/plain"] = self.status()
        return bundle


class HistoryPicture:
    """``History.plot()``'s result: the dashboard's charts as a static SVG (text elsewhere)."""

    def __init__(self, svg: str, text: str) -> None:
        self.svg, self.text = svg, text

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"image/svg+xml": self.svg, "text/plain": self.text}

    def __repr__(self) -> str:
        return self.text


def history_picture(history) -> HistoryPicture:
    """Draw an ``nbframe.train.History`` as the dashboard would have shown it."""
    dash = TrainingDashboard(throttle=float("inf"), text_stream=_Discard())
    dash.new_run(history.run)
    ended: dict[int, float] = {}  # epoch -> the step it ended at
    for row in history.steps:
        dash.log(row["step"], **{k: v for k, v in row.items() if k not in ("step", "epoch", "lr")})
        if "epoch" in row:
            ended[int(row["epoch"])] = row["step"]
    for row in history.epochs:
        dash.log_epoch(int(row["epoch"]), **{k: v for k, v in row.items() if k != "epoch"})
    dash.current.epoch_end_step.update(ended)  # each epoch's values drawn where it ended, as live
    dash.current.finished = history.stopped or "done"
    dash.current.partial_epoch = getattr(history, "partial_epoch", None)
    return HistoryPicture(dash.svg(), repr(history))


class _Discard:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


def _thin(points: list[tuple[float, float]], limit: int = MAX_POINTS) -> list[tuple[float, float]]:
    """At most ``limit`` points: consecutive points averaged in equal bins (deterministic)."""
    if len(points) <= limit:
        return points
    size = len(points) / limit
    out = []
    for k in range(limit):
        chunk = points[int(k * size):int((k + 1) * size)] or [points[-1]]
        out.append((chunk[-1][0], sum(p[1] for p in chunk) / len(chunk)))
    return out


def _size(svg: str) -> tuple[float, float]:
    """The width and height a chart's root ``<svg>`` element declares."""
    root = svg[:svg.index(">")]
    return tuple(float(re.search(rf' {name}="([0-9.]+)"', root).group(1)) for name in ("width", "height"))


def _number(value: float) -> str:
    return f"{round(value, 1):g}"


def _strip_root(svg: str) -> str:
    return svg[svg.index(">") + 1:svg.rindex("</svg>")]


def _stop_note(comm) -> str:
    """The line shown under the buttons when the kernel can't be made to handle a Stop click during a run."""
    subshells = getattr(getattr(comm, "kernel", None), "shell_channel_thread", None) is not None
    where = ("a Stop click (or the log-scale toggle) reaches this kernel during a run only where the "
             "frontend sends widget messages on kernel subshells (JupyterLab 4.4 or later)" if subshells else
             "this kernel handles the Stop button and the log-scale toggle only after the running cell ends "
             "(a click during a run needs ipykernel 7 or later)")
    return ('<div style="font-family:sans-serif;font-size:11px;color:#a15c00">'
            f"{html.escape(where[0].upper() + where[1:])}. The kernel's interrupt button (\u25a0, or Kernel "
            "\u2192 Interrupt) always works, and also ends training cleanly after the current step.</div>")


_SUBSHELLS: dict[int, str] = {}  # id(kernel) -> the subshell this module's buttons are handled on
_SUBSHELL_LOCK = threading.Lock()


def _route_to_subshell(comm) -> bool:
    """Have the kernel handle the frontend's messages to ``comm`` on a subshell thread; True when it does.

    A widget's click reaches the kernel as a ``comm_msg`` on the shell channel. The main shell runs
    the cell that trains, so there it would wait until training ends. ipykernel 7 has kernel
    subshells (JEP 91): threads with their own message loop, and its shell-channel thread routes a
    comm's incoming messages to the subshell the comm is pinned to (``_reply_subshell_id``, set by
    whichever shell last published on the comm). Pinning the Stop button's comm to a subshell of
    our own makes a click run its handler at once, in any frontend, whether or not the frontend
    itself sends comm messages on subshells. These are ipykernel internals, so each one is checked
    and any failure returns False (the dashboard then says to use the kernel's interrupt, which
    ``fit`` turns into the same clean stop).
    """
    kernel = getattr(comm, "kernel", None)
    manager = getattr(getattr(kernel, "shell_channel_thread", None), "manager", None)
    if manager is None or not callable(getattr(comm, "_reply_subshell_for", None)):
        return False  # ipykernel < 7, subshells off, or a kernel without comm routing
    try:
        subshell = _kernel_subshell(kernel, manager)
    except Exception:
        return False
    if subshell is None:
        return False
    with getattr(comm, "_reply_subshell_lock", None) or contextlib.nullcontext():
        comm._reply_subshell_id = subshell
    return True


def _kernel_subshell(kernel, manager) -> str | None:
    """The one subshell this module creates per kernel (made on the shell-channel thread, as ipykernel
    does for a ``create_subshell_request``; None when it did not answer within 5 s)."""
    with _SUBSHELL_LOCK:
        known = _SUBSHELLS.get(id(kernel))
        if known is not None and known in manager.list_subshell():
            return known
        made: dict[str, str] = {}
        done = threading.Event()

        def create() -> None:
            try:
                made["id"] = manager._create_subshell()
            finally:
                done.set()

        manager._shell_channel_io_loop.add_callback(create)
        if not done.wait(5.0) or "id" not in made:
            return None
        _SUBSHELLS[id(kernel)] = made["id"]
        return made["id"]


def _in_kernel() -> bool:
    from nbframe.train.progress import in_kernel

    return in_kernel()
