"""Showing things: one ``show`` for every picture the magics make, and the Tensor/Module rich displays.

``show`` takes the static bundle (HTML/SVG and always ``text/plain``, so a
terminal or an exported notebook still shows something) and, optionally, a
way to make a live widget, used only inside a Jupyter kernel. ``show_graph``
and ``show_record`` do this for ``nbframe.widgets``' GraphView and TensorInspector.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Callable


def show(bundle: dict[str, str], widget: Callable[[], object] | None = None) -> None:
    """Display ``widget()`` in a kernel when given, else the static ``bundle`` (a MIME dict)."""
    from IPython.display import display

    if widget is not None and in_kernel():
        try:
            display(widget())
            return
        except Exception as exc:  # a widget bug must not hide the picture: fall back, say why
            warnings.warn(f"nbframe: the live view failed ({exc}); showing the static picture", stacklevel=2)
    display(bundle, raw=True)


def in_kernel() -> bool:
    """True inside a Jupyter kernel (where widgets can render), False in a terminal IPython."""
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show_graph(target, example=None, **options) -> None:
    """``GraphView(target, example, **options)``: live in a kernel, else its SVG (or DOT) and a listing."""
    from nbframe.widgets import GraphView

    view = GraphView(target, example, **options)
    show(view.static_bundle(), lambda: view)


def show_record(record, title: str) -> None:
    """A ``nf.debug.watch()`` record in a TensorInspector: live in a kernel, else its table."""
    from nbframe.widgets import TensorInspector
    from nbframe.widgets.inspector import SHOWN_ROWS

    inspector = TensorInspector(record)
    more = f"… {len(record) - SHOWN_ROWS} more ops in the record" if len(record) > SHOWN_ROWS else ""
    text = "\n".join(filter(None, [f"{title}: {len(record)} ops", inspector.text(), more]))
    page = (f"<div><b>{html.escape(title)}</b>: {len(record)} ops (ms: time since the previous op)"
            f"{inspector.table_html()}</div>")
    show({"text/html": page, "text/plain": text}, lambda: inspector)


# --- rich display of Tensor and Module ------------------------------------------------------------

def tensor_html(tensor) -> str:
    """Shape, dtype, device, grad state, then PyTorch's printout as the preview."""
    facts = [f"shape {list(tensor.shape)}", str(tensor.dtype).removeprefix("nbframe."), str(tensor.device)]
    if tensor.grad_fn is not None:
        facts.append(f"grad_fn={tensor.grad_fn.name()}")
    elif tensor.requires_grad:
        facts.append("requires_grad (leaf)")
    if tensor.grad is not None:
        facts.append("has .grad")
    preview = html.escape(repr(tensor))
    return (f"<div class='nbframe-tensor'><b>Tensor</b> <code>{html.escape(' · '.join(facts))}</code>"
            f"<pre style='margin:2px 0'>{preview}</pre></div>")


def module_html(module, summaries) -> str:
    """The summary table: the one ``%%model --input`` computed when there is one, else layers only."""
    from .summary import summary

    found = summaries.get(module)
    return (found if found is not None else summary(module))._repr_html_()


def register(shell, summaries) -> list[tuple[str, type, object]]:
    """Add the HTML formatters; returns what to restore on unload (format, type, previous function)."""
    from nbframe import Tensor
    from nbframe.nn import Module

    formatter = shell.display_formatter.formatters["text/html"]
    installed = []
    for cls, function in ((Tensor, tensor_html), (Module, lambda m: module_html(m, summaries))):
        previous = formatter.for_type(cls, function)
        installed.append(("text/html", cls, previous))
    return installed


def unregister(shell, installed: list[tuple[str, type, object]]) -> None:
    for mime, cls, previous in installed:
        formatter = shell.display_formatter.formatters[mime]
        formatter.pop(cls, None)
        if previous is not None:
            formatter.for_type(cls, previous)
