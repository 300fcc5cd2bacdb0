"""The Graph IR: ``Value`` (an edge: a tensor with a shape and dtype), ``Node`` (an op) and ``Graph``.

A graph is TensorFlow 1's data-flow graph made from one recorded run: its
inputs (placeholders), parameters and buffers (named by module path, read live
so that training updates are seen), constants (tensors the traced code made
that do not depend on the inputs), and nodes in execution order. A node calls
an ``Op`` class's ``apply`` with its arguments (Values resolved to tensors), so
running a graph builds the same autograd graph as eager mode; a *leaf* node
calls a whole function instead (max pooling, dropout, batch norm: functions
whose data-dependent work happens outside a single op).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

INPUT, PARAM, BUFFER, CONSTANT, COMPUTED = "input", "param", "buffer", "constant", "computed"


class Value:
    """One tensor flowing through the graph: where it comes from, its shape and dtype."""

    __slots__ = ("name", "kind", "shape", "dtype", "node", "index", "tensor")

    def __init__(self, name: str, kind: str, shape: tuple, dtype, node=None, index: int = 0, tensor=None):
        self.name = name
        self.kind = kind
        self.shape = tuple(shape)
        self.dtype = dtype
        self.node = node  # the producing Node for COMPUTED values
        self.index = index  # which output of that node
        self.tensor = tensor  # the live Tensor for params, buffers and constants

    def __repr__(self) -> str:
        return f"%{self.name}"


class Node:
    """One op call: ``fn(*args, **kwargs)`` where Values in ``args`` are replaced by their tensors.

    ``op`` is the ``Op``/``Function`` class (None for leaf functions and fused nodes), ``fn`` what runs,
    ``label`` the short name shown in tables and drawings, ``multi`` whether fn returns a tuple.
    """

    __slots__ = ("name", "op", "fn", "label", "args", "kwargs", "outputs", "multi", "source", "meta")

    def __init__(self, name: str, op, fn: Callable, label: str, args: tuple, kwargs: dict | None = None,
                 multi: bool = False, source: str | None = None):
        self.name = name
        self.op = op
        self.fn = fn
        self.label = label
        self.args = args
        self.kwargs = kwargs or {}
        self.outputs: list[Value] = []
        self.multi = multi
        self.source = source
        self.meta: dict = {}

    def inputs(self) -> list[Value]:
        """The Values this node reads, in argument order (duplicates kept)."""
        found: list[Value] = []
        for_each_value((self.args, self.kwargs), found.append)
        return found

    def __repr__(self) -> str:
        return f"Node({self.name}: {self.label})"


def for_each_value(structure, visit: Callable[[Value], None]) -> None:
    """Call ``visit`` on every Value inside nested tuples, lists and dicts."""
    if isinstance(structure, Value):
        visit(structure)
    elif isinstance(structure, (tuple, list)):
        for item in structure:
            for_each_value(item, visit)
    elif isinstance(structure, dict):
        for item in structure.values():
            for_each_value(item, visit)


def map_values(structure, fn: Callable):
    """``structure`` with every Value replaced by ``fn(value)`` (tuples stay tuples, lists lists)."""
    if isinstance(structure, Value):
        return fn(structure)
    if type(structure) is tuple:
        return tuple(map_values(item, fn) for item in structure)
    if type(structure) is list:
        return [map_values(item, fn) for item in structure]
    if type(structure) is dict:
        return {k: map_values(v, fn) for k, v in structure.items()}
    return structure


class Graph:
    """A recorded computation: inputs, parameters, constants, nodes in order, and outputs.

    ``print(graph)`` shows a table (torch.fx's ``print_tabular``); ``graph.passes`` lists what each
    optimisation pass did; ``graph.run(outputs, feed={placeholder: batch})`` is TensorFlow 1's session.
    """

    def __init__(self):
        self.inputs: list[Value] = []
        self.params: list[Value] = []  # parameters and buffers
        self.constants: list[Value] = []
        self.nodes: list[Node] = []
        self.outputs = None  # a Value or a nested tuple/list of Values
        self.passes: list[str] = []
        self._names: dict[str, int] = {}
        self._plan = None  # the executor's compiled plan; dropped by changed()

    def changed(self) -> None:
        """Say the graph was edited (passes call this) so the executor re-plans."""
        self._plan = None

    # ----------------------------------------------------------------- building
    def unique_name(self, base: str) -> str:
        count = self._names.get(base, 0)
        self._names[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def add_input(self, name: str, shape, dtype) -> Value:
        value = Value(self.unique_name(name), INPUT, shape, dtype)
        self.inputs.append(value)
        return value

    def add_param(self, name: str, tensor, kind: str = PARAM) -> Value:
        value = Value(self.unique_name(name), kind, tensor.array.shape, tensor.array.dtype, tensor=tensor)
        self.params.append(value)
        return value

    def add_constant(self, tensor, name: str = "const") -> Value:
        value = Value(self.unique_name(name), CONSTANT, tensor.array.shape, tensor.array.dtype, tensor=tensor)
        self.constants.append(value)
        return value

    def add_node(self, node: Node, output_meta: list[tuple]) -> Node:
        """Append ``node``; ``output_meta`` is one (shape, dtype) per output."""
        self.nodes.append(node)
        for i, (shape, dtype) in enumerate(output_meta):
            name = node.name if len(output_meta) == 1 else f"{node.name}.{i}"
            node.outputs.append(Value(name, COMPUTED, shape, dtype, node=node, index=i))
        return node

    # ----------------------------------------------------------------- queries
    def output_values(self) -> list[Value]:
        found: list[Value] = []
        for_each_value(self.outputs, found.append)
        return found

    def users(self) -> dict[Value, list[Node]]:
        """For every Value, the nodes that read it (in order)."""
        result: dict[Value, list[Node]] = {}
        for node in self.nodes:
            for value in node.inputs():
                result.setdefault(value, []).append(node)
        return result

    def all_values(self) -> Iterator[Value]:
        yield from self.inputs
        yield from self.params
        yield from self.constants
        for node in self.nodes:
            yield from node.outputs

    def replace_uses(self, old: Value, new: Value) -> None:
        """Make every reader of ``old`` (nodes and outputs) read ``new`` instead."""
        swap = lambda v: new if v is old else v  # noqa: E731
        for node in self.nodes:
            node.args = map_values(node.args, swap)
            node.kwargs = map_values(node.kwargs, swap)
        self.outputs = map_values(self.outputs, swap)

    # ----------------------------------------------------------------- running
    def __call__(self, *inputs):
        from .executor import execute

        return execute(self, inputs)

    def run(self, outputs=None, feed: dict | None = None):
        """Run the graph with ``feed`` mapping placeholders (or input names) to tensors/arrays.

        ``outputs`` picks what to return: one tensor or a list of them, as given to ``from_outputs``
        (or their Values); by default the graph's own outputs.
        """
        from .placeholder import run_graph

        return run_graph(self, outputs, feed or {})

    @classmethod
    def from_outputs(cls, *outputs) -> Graph:
        """The graph that computes ``outputs`` from the placeholders they were built on."""
        from .placeholder import graph_from_outputs

        return graph_from_outputs(outputs[0] if len(outputs) == 1 else outputs)

    # ----------------------------------------------------------------- showing
    def table(self) -> list[tuple[str, str, str, str, str, str]]:
        rows = []
        for v in self.inputs:
            rows.append(("placeholder", v.name, v.name, "()", _shape(v.shape), _dtype(v.dtype)))
        for v in self.params:
            rows.append(("get_" + v.kind, v.name, v.name, "()", _shape(v.shape), _dtype(v.dtype)))
        for v in self.constants:
            rows.append(("constant", v.name, "tensor", "()", _shape(v.shape), _dtype(v.dtype)))
        for node in self.nodes:
            args = _format_args(node.args, node.kwargs)
            out = node.outputs[0] if len(node.outputs) == 1 else None
            shape = _shape(out.shape) if out else ", ".join(_shape(o.shape) for o in node.outputs)
            dtype = _dtype(out.dtype) if out else (_dtype(node.outputs[0].dtype) if node.outputs else "")
            kind = "call_function" if node.op is None else "call_op"
            rows.append((kind, node.name, node.label, args, shape, dtype))
        rows.append(("output", "output", "output", _format_args((self.outputs,), {}), "", ""))
        return rows

    def __str__(self) -> str:
        header = ("opcode", "name", "target", "args", "shape", "dtype")
        rows = [header] + self.table()
        widths = [min(max(len(r[i]) for r in rows), 60) for i in range(len(header))]
        lines = []
        for i, row in enumerate(rows):
            cells = [(c if len(c) <= 60 else c[:57] + "...").ljust(w) for c, w in zip(row, widths)]
            lines.append("  ".join(cells).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        if self.passes:
            lines.append("")
            lines.extend(f"pass {p}" for p in self.passes)
        return "\n".join(lines)

    def print_tabular(self) -> None:
        print(self)

    def __repr__(self) -> str:
        return (f"<Graph: {len(self.inputs)} inputs, {len(self.params)} parameters/buffers, "
                f"{len(self.nodes)} nodes>")

    def to_dot(self) -> str:
        """Graphviz DOT text of the data-flow graph (values are edges, ops are boxes)."""
        lines = ["digraph G {", "  rankdir=TB; node [fontname=Helvetica, fontsize=10];"]
        for v in self.inputs:
            lines.append(f'  "{v.name}" [shape=ellipse, label="{v.name}\\n{_shape(v.shape)}"];')
        for node in self.nodes:
            lines.append(f'  "{node.name}" [shape=box, label="{node.label}\\n{node.name}"];')
            for value in node.inputs():
                if value.kind == COMPUTED:
                    lines.append(f'  "{value.node.name}" -> "{node.name}" [label="{_shape(value.shape)}"];')
                elif value.kind == INPUT:
                    lines.append(f'  "{value.name}" -> "{node.name}";')
        lines.append("}")
        return "\n".join(lines)


def _shape(shape) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"


def _dtype(dtype) -> str:
    return str(dtype) if dtype is not None else ""


def _format_args(args, kwargs) -> str:
    def show(x) -> str:
        if isinstance(x, Value):
            return x.name
        if isinstance(x, (tuple, list)):
            inner = ", ".join(show(i) for i in x)
            return f"({inner},)" if isinstance(x, tuple) and len(x) == 1 else (
                f"({inner})" if isinstance(x, tuple) else f"[{inner}]")
        if hasattr(x, "shape") and hasattr(x, "dtype"):
            return f"array{list(x.shape)}"
        text = repr(x)
        return text if len(text) <= 24 else text[:21] + "..."

    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"
