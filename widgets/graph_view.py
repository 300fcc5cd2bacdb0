"""``GraphView``: the autograd graph as an SVG in an HTML widget, with a node picker and tensor details.

Give it a Tensor (its graph) or a Module and an example input (traced, so modules
become clusters). ``depth`` folds modules deeper than that into boxes; the
depth slider expands or collapses them. ``steps`` draws only that many ops back
from the output; ``known`` tensors (e.g. the notebook's variables) label the
ops that made them with their shapes. Clicking a node in the picture (when
anywidget is installed: ``graph_click.js``, shipped in the package) or picking
it in the node picker (a Dropdown: works in any front end, no custom JavaScript)
shows the chosen tensor's shape, dtype, statistics and a histogram; the two stay
in step, and ``select(node_id)`` does the same from Python. ``update()``
redraws (e.g. after ``backward()`` with ``grads=True``). Without a graphviz
engine it shows the DOT text and how to get graphviz.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from .graph_click import picture_widget
from .graph_dot import GraphDot, GraphNode, graph_dot, trace_module
from .layout import INSTALL_HINT, render
from .svg import histogram

NOTHING_PICKED = "<i>click a node (or pick one) to see its tensor</i>"


class GraphView:
    def __init__(self, target, example=None, *, depth: int | None = None, grads: bool = False,
                 names: dict[int, str] | None = None, engine: str | None = None, steps: int | None = None,
                 known: Iterable = ()) -> None:
        from nbframe import Tensor
        from nbframe.nn import Module

        self.target, self.depth, self.grads, self.names, self.engine = target, depth, grads, names, engine
        self.steps, self.known = steps, list(known)
        self.trace = None
        if isinstance(target, Module):
            if example is None:
                raise ValueError("GraphView(module): give an example input, "
                                 "e.g. GraphView(model, nf.zeros(1, 784))")
            examples = example if isinstance(example, (tuple, list)) else (example,)
            self.trace = trace_module(target, *examples)
            self.output = self.trace.output
        elif isinstance(target, Tensor):
            if target.grad_fn is None:
                raise ValueError("GraphView(tensor): this tensor has no graph (no grad_fn); compute it from "
                                 "tensors with requires_grad=True")
            self.output = target
        else:
            raise TypeError(f"GraphView: expected a Tensor or a Module, got {type(target).__name__}")
        self._widget = None
        self._parts: dict = {}
        self.update()

    def update(self) -> None:
        """Rebuild the DOT and the SVG (gradient colours included) and refresh the widget in place.

        The picked node stays picked if the new drawing still shows it (ids are renumbered on each draw)."""
        picked = self._picked()
        self.graph: GraphDot = graph_dot(self.output, trace=self.trace, names=self.names, depth=self.depth,
                                         steps=self.steps, grads=self.grads, known=self.known)
        self.svg, self.problem = render(self.graph.dot, self.engine)
        if self._parts:
            self._parts["picture"].value = self._picture_html()
            self._parts["picker"].options = self._options()
            self._parts["picker"].value = self._redrawn_id(picked)

    @property
    def dot(self) -> str:
        return self.graph.dot

    def details(self, node_id: str) -> str:
        """HTML: the node's label, and for a known tensor its shape, dtype, statistics and histogram."""
        node = self.graph.node(node_id)
        title = html.escape(node.label.replace("\n", " "))
        if node.tensor is None:
            return f"<div><b>{title}</b><br><i>{node.kind}: no tensor recorded for this node</i></div>"
        import numpy as np

        tensor = node.tensor.detach()
        values = np.asarray(tensor.cpu().numpy(), dtype=np.float64)
        finite = values[np.isfinite(values)]
        rows = [("shape", list(tensor.shape)), ("dtype", str(tensor.dtype).removeprefix("nbframe.")),
                ("NaN/Inf", int(values.size - finite.size))]
        if finite.size:
            rows += [("min", f"{finite.min():.4g}"), ("max", f"{finite.max():.4g}"),
                     ("mean", f"{finite.mean():.4g}"), ("std", f"{finite.std():.4g}")]
        if getattr(node.tensor, "grad", None) is not None:
            rows.append(("|grad|", f"{float(np.linalg.norm(node.tensor.grad.cpu().numpy())):.4g}"))
        table = "".join(f"<tr><td>{k}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        return f"<div><b>{title}</b><table>{table}</table>{histogram(values, title='values')}</div>"

    def _options(self) -> list[tuple[str, str]]:
        return [(f"{n.id}: {n.label.replace(chr(10), ' ')}", n.id) for n in self.graph.nodes]  # (text, id)

    def _picture_html(self) -> str:
        if self.svg is not None:
            return f'<div style="overflow:auto;max-height:700px">{self.svg}</div>'
        return f"<p>{html.escape(self.problem or INSTALL_HINT)}</p><pre>{html.escape(self.graph.dot)}</pre>"

    @property
    def widget(self):
        if self._widget is None:
            import ipywidgets as widgets

            picture = picture_widget(self._picture_html())
            picker = widgets.Dropdown(options=self._options(), description="node", value=None,
                                      layout=widgets.Layout(width="320px"))
            info = widgets.HTML(NOTHING_PICKED)
            controls = [picker]
            if self.trace is not None and self.graph.max_depth:
                shown = self.graph.max_depth if self.depth is None else self.depth
                depth = widgets.IntSlider(value=shown, min=0, max=self.graph.max_depth, description="depth")
                depth.observe(self._on_depth, names="value")
                controls.insert(0, depth)
            picker.observe(self._on_pick, names="value")
            if picture.has_trait("selected"):
                picture.observe(self._on_click, names="selected")
            self._parts = {"picture": picture, "picker": picker, "info": info}
            self._widget = widgets.HBox([picture, widgets.VBox([*controls, info])])
        return self._widget

    def select(self, node_id: str | None) -> None:
        """Show ``node_id``'s details (None: none), as a click on it or picking it in the dropdown does."""
        self.widget  # noqa: B018  (builds the parts)
        if node_id is not None and not self._has_node(node_id):
            raise ValueError(f"GraphView.select: no node {node_id!r} in the graph; its nodes are "
                             f"{', '.join(node.id for node in self.graph.nodes)}")
        self._parts["picker"].value = node_id

    def _picked(self) -> GraphNode | None:
        node_id = self._parts["picker"].value if self._parts else None
        return None if node_id is None else self.graph.node(node_id)

    def _redrawn_id(self, node: GraphNode | None) -> str | None:
        """The id of the previous drawing's ``node`` in this one (same kind, label, tensor), or None."""
        if node is None:
            return None
        return next((new.id for new in self.graph.nodes if (new.kind, new.label) == (node.kind, node.label)
                     and new.tensor is node.tensor), None)

    def _has_node(self, node_id: str) -> bool:
        return any(node_id == node.id for node in self.graph.nodes)

    def _on_pick(self, change) -> None:
        """The one path every selection takes: fill the details panel and outline the node in the picture."""
        node_id = change["new"]
        info, picture = self._parts["info"], self._parts["picture"]
        info.value = NOTHING_PICKED if node_id is None else self.details(node_id)
        if picture.has_trait("selected"):
            picture.selected = node_id or ""

    def _on_click(self, change) -> None:
        if self._has_node(change["new"]):
            self._parts["picker"].value = change["new"]
        else:  # a legend box, or a node of a graph since redrawn: keep the current selection
            self._parts["picture"].selected = self._parts["picker"].value or ""

    def _on_depth(self, change) -> None:
        self.depth = change["new"]
        self.update()

    def static_bundle(self) -> dict[str, str]:
        """The picture without the widget: SVG and a text listing, or the DOT text and how to get graphviz."""
        if self.svg is not None:
            return {"image/svg+xml": self.svg, "text/plain": self.graph.text()}
        note = self.problem or INSTALL_HINT
        return {"text/html": self._picture_html(), "text/plain": f"{note}\n{self.graph.dot}"}

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {}
        try:
            bundle.update(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        except ImportError:
            pass
        return {**bundle, **self.static_bundle()}
