"""DOT source for an autograd graph: ops, parameters by module path, modules as clusters folded by depth.

The graph is walked breadth-first from the outputs along each node's
``next_edges``, in order, and nodes are numbered as found, so the same code
gives the same DOT text (and picture) every time. Running a Module through
``trace_module`` records which module each op ran in (forward pre/post hooks)
so modules become nested clusters; below ``depth`` levels a module is folded
into one box; ``steps`` draws only that many ops back from the outputs.
``grads=True`` colours and thickens each edge by the norm of the gradient that
flowed along it (leaves' ``.grad``; op outputs' gradients caught by hooks the
trace set, or, for a plain tensor whose graph is still intact, by replaying its
backward: see ``graph_shapes``), with a legend.

Every op node is labelled with its output shape: a trace records them; for a
plain tensor they are read from what the graph still holds (the outputs, the
tensors and shapes ops saved for backward, tensors the caller passes as
``known``, a replay of an intact graph's backward), since a single-output node
does not store its own shape.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .graph_shapes import Shapes, grad_norm, graph_nodes, missing, op_shapes, replay

#: (upper bound of the gradient norm, colour, legend text, pen width): vanishing to exploding.
GRAD_SCALE = ((1e-6, "#1f4e9c", "< 1e-6 vanishing", 1.0), (1e-3, "#56B4E9", "1e-6 … 1e-3", 1.5),
              (10.0, "#009E73", "1e-3 … 10", 2.0), (1e3, "#E69F00", "10 … 1e3", 3.0),
              (math.inf, "#C62828", "> 1e3 exploding", 4.5))
VANISHING, EXPLODING = GRAD_SCALE[0][0], GRAD_SCALE[-2][0]


@dataclass
class Trace:
    """One run of a Module: its output, each op's module scope, output tensors, and gradient norms."""

    output: Any
    inputs: list
    scopes: dict[int, tuple[str, ...]] = field(default_factory=dict)
    outputs: dict[int, Any] = field(default_factory=dict)
    module_types: dict[tuple[str, ...], str] = field(default_factory=dict)
    module_shapes: dict[tuple[str, ...], tuple] = field(default_factory=dict)
    module_outputs: dict[tuple[str, ...], Any] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    grad_norms: dict[int, float] = field(default_factory=dict)
    keep: list = field(default_factory=list)


def trace_module(model, *inputs) -> Trace:
    """Run ``model(*inputs)`` with gradients on, recording each op's module path and output tensors.

    Float inputs are detached copies with ``requires_grad=True`` so they appear as input nodes.
    """
    from nbframe import Tensor, enable_grad
    from nbframe.autograd.observers import add_op_observer
    from nbframe.nn.module import register_module_forward_hook, register_module_forward_pre_hook

    module_names = {id(m): tuple(name.split(".")) if name else () for name, m in model.named_modules()}
    inputs = [x.detach().clone().requires_grad_(True)
              if isinstance(x, Tensor) and x.is_floating_point() else x for x in inputs]
    trace = Trace(None, inputs)
    trace.names = {id(p): name for name, p in model.named_parameters()}
    trace.names.update({id(x): "input" if len(inputs) == 1 else f"input {k}" for k, x in enumerate(inputs)})
    stack: list[tuple[str, ...]] = [()]

    def enter(module, args):
        path = module_names.get(id(module), stack[-1])
        stack.append(path)
        trace.module_types.setdefault(path, type(module).__name__)

    def leave(module, args, output):
        path = stack.pop() if len(stack) > 1 else ()
        if isinstance(output, Tensor):
            trace.module_shapes[path] = tuple(output.shape)
            trace.module_outputs[path] = output

    def observe(op, op_inputs, op_outputs):
        trace.scopes[id(op)] = stack[-1]
        trace.keep.append(op)
        if op_outputs:
            trace.outputs[id(op)] = op_outputs[0]
            if op_outputs[0].requires_grad:
                op_outputs[0].register_hook(_norm_recorder(trace.grad_norms, id(op)))

    handles = [register_module_forward_pre_hook(enter), register_module_forward_hook(leave)]
    try:
        with enable_grad(), add_op_observer(observe):
            output = model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    trace.output = output[0] if isinstance(output, (tuple, list)) else output
    trace.names.setdefault(id(trace.output), "output")
    return trace


def _norm_recorder(norms: dict[int, float], key: int):
    def record(grad):
        norms[key] = grad_norm(grad)

    return record


@dataclass
class GraphNode:
    """One drawn node: DOT id, label, kind (op/param/input/leaf/output/module/more), tensor if known."""

    id: str
    label: str
    kind: str
    cluster: tuple[str, ...] = ()
    tensor: Any = None
    alert: bool = False  # a vanishing or exploding gradient on this leaf


@dataclass
class GraphDot:
    dot: str
    nodes: list[GraphNode]
    edges: list[tuple[str, str, float | None]]
    max_depth: int

    def node(self, node_id: str) -> GraphNode:
        return next(n for n in self.nodes if n.id == node_id)

    def text(self) -> str:
        """One line per node, ``n0: sum [] <- n1``: the picture as text, for terminals and exports."""
        sources: dict[str, list[str]] = {}
        for source, target, _ in self.edges:
            sources.setdefault(target, []).append(source)
        lines = []
        for node in self.nodes:
            line = f"{node.id}: {node.label.replace(chr(10), ' ')}"
            lines.append(f"{line} <- {', '.join(sources[node.id])}" if node.id in sources else line)
        return "\n".join(lines)


def graph_dot(outputs, *, trace: Trace | None = None, names: dict[int, str] | None = None,
              depth: int | None = None, steps: int | None = None, grads: bool = False,
              known: Iterable = ()) -> GraphDot:
    """The DOT of the graph that made ``outputs`` (a Tensor or a list).

    ``trace`` (from ``trace_module``) adds module clusters, folded below ``depth``
    levels; ``steps`` draws only that many ops back from the outputs (the cut
    marked ``…``); ``known`` are tensors whose shapes label the ops that made them.
    """
    from nbframe import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    builder = _Builder(trace, {**(trace.names if trace else {}), **(names or {})}, depth, steps, grads)
    if trace is not None:
        builder.norms = trace.grad_norms
    else:
        nodes, leaves = graph_nodes(outputs)
        builder.shapes = op_shapes(outputs, nodes, known)
        backward_ran = any(leaf.grad is not None for leaf in leaves)
        if (grads and backward_ran) or missing(nodes, builder.shapes):
            norms = replay(outputs, nodes, leaves, builder.shapes)
            builder.norms = norms if backward_ran and all(out.numel() == 1 for out in outputs) else {}
    for k, out in enumerate(outputs):
        label = builder.names.get(id(out), "output" if len(outputs) == 1 else f"output {k}")
        out_id = builder.add(GraphNode(f"out{k}", f"{label}\n{_shape(out.shape)}", "output", (), out))
        if out.grad_fn is not None:
            builder.edge(builder.op(out.grad_fn, 0), out_id, builder.norms.get(id(out.grad_fn)))
    builder.walk()
    edges = [(source, target, norm) for (source, target), norm in builder.edges.items()]
    return GraphDot(builder.source(), builder.nodes, edges, builder.max_depth)


class _Builder:
    def __init__(self, trace, names, depth, steps, grads):
        self.trace, self.names, self.depth, self.steps, self.grads = trace, names, depth, steps, grads
        self.ids: dict[Any, str] = {}
        self.nodes: list[GraphNode] = []
        self.edges: dict[tuple[str, str], float | None] = {}
        self.queue: list[tuple[Any, int]] = []  # (node, ops from the output)
        self.shapes: Shapes = {}  # untraced graphs: what graph_shapes recovered
        self.norms: dict[int, float] = {}  # op node id -> norm of its output's gradient
        self.max_depth = max((len(p) for p in (trace.scopes.values() if trace else ())), default=0)

    def add(self, node: GraphNode) -> str:
        self.nodes.append(node)
        return node.id

    def edge(self, source: str, target: str, norm: float | None) -> None:
        if source == target:
            return
        old = self.edges.get((source, target))
        self.edges[(source, target)] = norm if old is None else max(old, norm or 0.0)

    def _fold(self, path: tuple[str, ...]) -> tuple[str, ...] | None:
        """The module box a node at ``path`` is folded into, or None when it is drawn itself."""
        if self.depth is None or len(path) <= self.depth:
            return None
        return path[:self.depth + 1]

    def _module_box(self, block: tuple[str, ...]) -> str:
        key = ("module", block)
        if key not in self.ids:
            self.ids[key] = node_id = f"m{len(self.ids)}"
            kind = self.trace.module_types.get(block, "module") if self.trace else "module"
            shape = self.trace.module_shapes.get(block) if self.trace else None
            label = f"{'.'.join(block)} ({kind})" + (f"\n{_shape(shape)}" if shape is not None else "")
            tensor = self.trace.module_outputs.get(block) if self.trace else None
            self.add(GraphNode(node_id, label, "module", block[:-1], tensor))
        return self.ids[key]

    def op(self, fn, level: int) -> str:
        path = self.trace.scopes.get(id(fn), ()) if self.trace else ()
        block = self._fold(path)
        if block is not None:
            if ("walked", id(fn)) not in self.ids:
                self.ids[("walked", id(fn))] = "folded"
                self.queue.append((fn, level))
            return self._module_box(block)
        if id(fn) not in self.ids:
            self.ids[id(fn)] = node_id = f"n{len(self.ids)}"
            self.queue.append((fn, level))
            self.add(GraphNode(node_id, self._op_label(fn), "op", path,
                               self.trace.outputs.get(id(fn)) if self.trace else None))
        return self.ids[id(fn)]

    def leaf(self, tensor) -> tuple[str, float | None]:
        """The leaf's node id, and its gradient's norm when ``grads`` and it has one."""
        name = self.names.get(id(tensor))
        kind = "input" if name and name.startswith("input") else "param" if name else "leaf"
        in_trace = self.trace is not None and kind == "param" and id(tensor) in self.trace.names
        path = tuple(self.trace.names[id(tensor)].split(".")[:-1]) if in_trace else ()
        norm = grad_norm(tensor.grad) if self.grads and tensor.grad is not None else None
        block = self._fold(path)
        if block is not None:
            return self._module_box(block), norm
        if id(tensor) not in self.ids:
            self.ids[id(tensor)] = node_id = f"n{len(self.ids)}"
            label = f"{name or 'leaf'}\n{_shape(tensor.shape)}"
            if norm is not None:
                label += f"\n|grad| {norm:.2e}"
            alert = norm is not None and not VANISHING <= norm <= EXPLODING
            self.add(GraphNode(node_id, label, kind, path, tensor, alert))
        return self.ids[id(tensor)], norm

    def walk(self) -> None:
        position = 0
        while position < len(self.queue):
            fn, level = self.queue[position]
            position += 1
            target = self.op(fn, level)
            edges = [edge for edge in fn.next_edges or () if edge is not None]
            if self.steps is not None and level + 1 >= self.steps:
                if edges and target.startswith("n"):
                    more = self.add(GraphNode(f"{target}_more", "…", "more"))
                    self.edge(more, target, None)
                continue
            for source, _ in edges:
                if hasattr(source, "next_edges"):
                    self.edge(self.op(source, level + 1), target, self.norms.get(id(source)))
                else:
                    leaf_id, norm = self.leaf(source)
                    self.edge(leaf_id, target, norm)

    def _op_label(self, fn) -> str:
        label = getattr(type(fn), "label", None) or fn.name()
        if label == "op":  # a user's autograd.Function: its class name says more
            label = type(fn).__name__
        out = self.trace.outputs.get(id(fn)) if self.trace else None
        if out is not None:
            return label + "\n" + _shape(out.shape)
        known = self.shapes.get(id(fn))
        if known:
            label += "\n" + ", ".join(_shape(known[k]) if k in known else "?" for k in range(max(known) + 1))
        return label

    # --- DOT text -----------------------------------------------------------------------------------
    def source(self) -> str:
        lines = ["digraph autograd {", '  graph [rankdir=TB, fontname="Helvetica", fontsize=10];',
                 '  node [fontname="Helvetica", fontsize=10];', '  edge [arrowsize=0.6];']
        tree: dict[tuple[str, ...], list[GraphNode]] = {}
        for node in self.nodes:
            tree.setdefault(node.cluster, []).append(node)
        lines += self._cluster((), tree, "  ")
        for (source, target), norm in self.edges.items():
            style = _edge_style(norm) if self.grads else ""
            if source.endswith("_more"):
                style = " [style=dashed]"
            lines.append(f"  {source} -> {target}{style};")
        if self.grads:
            lines += _legend()
        lines.append("}")
        return "\n".join(lines)

    def _cluster(self, path: tuple[str, ...], tree, indent: str) -> list[str]:
        lines = [f"{indent}{node.id} [{_node_style(node)}];" for node in tree.get(path, [])]
        children = sorted({p[:len(path) + 1] for p in tree if len(p) > len(path) and p[:len(path)] == path},
                          key=lambda p: _first_index(p, tree, self.nodes))
        for child in children:
            kind = self.trace.module_types.get(child, "") if self.trace else ""
            name = "_".join(child).replace("-", "_")
            lines.append(f'{indent}subgraph "cluster_{name}" {{')
            lines.append(f'{indent}  label={_quote(".".join(child) + (f" ({kind})" if kind else ""))}; '
                         'style="rounded"; color="#999999";')
            lines += self._cluster(child, tree, indent + "  ")
            lines.append(f"{indent}}}")
        return lines


def _first_index(prefix, tree, nodes) -> int:
    order = {node.id: k for k, node in enumerate(nodes)}
    return min(order[n.id] for p, group in tree.items() if p[:len(prefix)] == prefix for n in group)


_STYLES = {"op": 'shape=ellipse', "param": 'shape=box, style=filled, fillcolor="#bbdefb"',
           "input": 'shape=box, style="filled,bold", fillcolor="#fff59d"',
           "leaf": 'shape=box, style=filled, fillcolor="#e0e0e0"',
           "output": 'shape=box, style="filled,bold", fillcolor="#c8e6c9"',
           "module": 'shape=box3d, style=filled, fillcolor="#f5f5f5"', "more": "shape=plaintext"}
_ALERT = 'shape=box, style=filled, fillcolor="#ffcdd2", color="#c62828"'


def _node_style(node: GraphNode) -> str:
    return f"label={_quote(node.label)}, {_ALERT if node.alert else _STYLES[node.kind]}"


def _edge_style(norm: float | None) -> str:
    if norm is None:
        return ' [color="#bbbbbb", style=dashed]'
    for bound, color, _, width in GRAD_SCALE:
        if norm < bound:
            return f' [color="{color}", penwidth={width}, tooltip="|grad| {norm:.2e}"]'
    return ""


def _legend() -> list[str]:
    lines = ['  subgraph "cluster_legend" {', '    label="gradient norm"; fontsize=9; color="#cccccc";']
    for k, (_, color, text, width) in enumerate(GRAD_SCALE):
        lines.append(f'    legend{k}a [label="", shape=point, width=0.05]; legend{k}b [label={_quote(text)}, '
                     'shape=plaintext, fontsize=9];')
        lines.append(f'    legend{k}a -> legend{k}b [color="{color}", penwidth={width}, arrowhead=none];')
    lines.append('    legendNa [label="", shape=point, width=0.05]; legendNb [label="not recorded", '
                 'shape=plaintext, fontsize=9];')
    lines.append('    legendNa -> legendNb [color="#bbbbbb", style=dashed, arrowhead=none];')
    lines.append("  }")
    return lines


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"
