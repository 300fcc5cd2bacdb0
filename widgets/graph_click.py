"""The graph picture as a widget: clickable through anywidget when installed, else a plain HTML widget.

The clickable one runs ``graph_click.js`` (shipped in the package, no CDN): it draws the ``value``
HTML and sets ``selected`` to the id of a clicked graphviz node. Both kinds keep the picture in
``value``, so callers update them alike; only the clickable one has ``selected``.
"""

from __future__ import annotations

import functools
import pathlib

ESM = pathlib.Path(__file__).parent / "graph_click.js"


def clickable() -> bool:
    """Whether anywidget can be imported (checked every time, so a test can hide it)."""
    try:
        import anywidget  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def _graph_click_class() -> type:
    import anywidget
    import traitlets

    class GraphClick(anywidget.AnyWidget):
        """The SVG picture; ``selected`` is the id of the node last clicked (or picked from Python)."""

        _esm = ESM
        value = traitlets.Unicode("").tag(sync=True)
        selected = traitlets.Unicode("").tag(sync=True)

    return GraphClick


def picture_widget(html: str):
    """A ``GraphClick`` showing ``html`` when anywidget is installed, else an ipywidgets ``HTML``."""
    if clickable():
        return _graph_click_class()(value=html)
    import ipywidgets

    return ipywidgets.HTML(html)
