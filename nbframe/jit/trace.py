"""``nf.jit.trace``: record one run of a function or Module into a Graph; a callable ``GraphModule``.

Like ``tf.function``, a graph is specialised to its inputs' shapes and dtypes:
a call with a new signature traces again, and each graph is cached under its
signature. Python control flow that reads tensor values is frozen into the
graph; the tracer warns (``TracerWarning``) at the user's line when it sees
``.item()``, ``bool(tensor)``, ``.numpy()`` or ``.tolist()`` on a traced value.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

from ..tensor import Tensor
from .executor import execute
from .ir import Graph
from .module_paths import module_names
from .recorder import Recorder


def trace(fn_or_module: Callable, example_inputs, *, passes: Sequence[str] = ("dce",)) -> GraphModule:
    """Trace ``fn_or_module(*example_inputs)`` into a Graph and return a callable ``GraphModule``.

    ``example_inputs`` is one Tensor or a tuple of them. ``passes`` run after each trace (names from
    ``nbframe.jit.passes.PASSES``: "dce", "cse", "constant_folding", "fusion", "buffer_reuse").
    """
    module = GraphModule(fn_or_module, passes=passes)
    module.trace_for(_as_tuple(example_inputs))
    return module


def _as_tuple(inputs) -> tuple:
    return inputs if isinstance(inputs, tuple) else (tuple(inputs) if isinstance(inputs, list) else (inputs,))


def signature(inputs: tuple) -> tuple:
    """What a graph is specialised to: shapes, dtypes and devices of tensors; other arguments' values."""
    sig = []
    for x in inputs:
        if isinstance(x, Tensor):
            sig.append(("tensor", x.array.shape, str(x.array.dtype), type(x.array).__module__))
        else:
            try:
                hash(x)
                sig.append(("value", x))
            except TypeError:
                sig.append(("object", id(x)))
    return tuple(sig)


def _input_names(fn: Callable, count: int) -> list[str]:
    target = fn.forward if hasattr(fn, "forward") and hasattr(fn, "named_parameters") else fn
    try:
        params = [p for p in inspect.signature(target).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params[:count]]
    return names + [f"input_{i}" for i in range(len(names), count)]


def record(fn: Callable, inputs: tuple, names: dict | None = None) -> tuple[Graph, object]:
    """Run ``fn(*inputs)`` once under a Recorder; return the graph and the eager result."""
    graph = Graph()
    recorder = Recorder(graph, names)
    with recorder.recording():
        for x, name in zip(inputs, _input_names(fn, len(inputs))):
            if isinstance(x, Tensor):
                recorder.add_input(x, name)
        result = fn(*inputs)
    graph.outputs = recorder.template(result)
    _check_outputs(graph.outputs)
    return graph, result


def _check_outputs(outputs) -> None:
    if isinstance(outputs, Tensor):
        return
    if isinstance(outputs, (tuple, list)):
        for item in outputs:
            _check_outputs(item)


class GraphModule:
    """A traced function or Module: call it like the original; ``.graph`` is the last traced Graph.

    Calls with a new input signature (shapes, dtypes, devices) trace again; ``.graphs`` holds one
    graph per signature seen.
    """

    def __init__(self, fn: Callable, passes: Sequence[str] = ("dce",)):
        self.fn = fn
        self.passes = tuple(passes)
        self.graphs: dict[tuple, Graph] = {}
        self.graph: Graph | None = None
        self.traces = 0

    def trace_for(self, inputs: tuple) -> Graph:
        from .passes import run_passes

        names = module_names(self.fn)
        graph, _ = record(self.fn, inputs, names)
        run_passes(graph, self.passes)
        self.graphs[signature(inputs)] = graph
        self.graph = graph
        self.traces += 1
        return graph

    def __call__(self, *inputs):
        graph = self.graphs.get(signature(inputs))
        if graph is None:
            graph = self.trace_for(inputs)
            # The trace itself ran the function; run the graph anyway so every call goes one way.
        self.graph = graph
        return execute(graph, [x for x in inputs if isinstance(x, Tensor)])

    def optimize(self, passes: Sequence[str] = ("dce", "cse", "constant_folding", "fusion")) -> GraphModule:
        """Run optimisation passes on every cached graph (and on later traces)."""
        from .passes import run_passes

        self.passes = self.passes + tuple(p for p in passes if p not in self.passes)
        for graph in self.graphs.values():
            run_passes(graph, passes)
        return self

    # Module-like conveniences
    def parameters(self):
        return self.fn.parameters() if hasattr(self.fn, "parameters") else iter(())

    def named_parameters(self):
        return self.fn.named_parameters() if hasattr(self.fn, "named_parameters") else iter(())

    def print_tabular(self) -> None:
        print(self.graph)

    def __str__(self) -> str:
        return str(self.graph)

    def __repr__(self) -> str:
        name = getattr(self.fn, "__name__", type(self.fn).__name__)
        return f"GraphModule({name}, {len(self.graphs)} traced signature(s))\n{self.graph}"
