"""TensorFlow 1's style: ``placeholder``, build with ordinary ops and layers, then ``graph.run(feed=...)``.

``x = nf.jit.placeholder((None, 784))`` makes a stand-in tensor (a ``None`` dimension is 1 while
building) and starts recording, into the *default graph*, every op that reads it or anything made
from it. ``nf.jit.Graph.from_outputs(y)`` cuts out the graph that computes ``y``;
``graph.run(y, feed={x: batch})`` runs it on real data, as a TF1 session would.
``reset_default_graph()`` forgets everything recorded so far.
"""

from __future__ import annotations

from .. import dtypes as _dtypes
from ..tensor import Tensor
from .executor import execute
from .ir import COMPUTED, INPUT, Graph, Value, for_each_value, map_values
from .recorder import Recorder

_default: dict = {"recorder": None, "context": None}


def _recorder() -> Recorder:
    if _default["recorder"] is None:
        recorder = Recorder(Graph(), record_all=False)
        context = recorder.recording()
        context.__enter__()
        _default["recorder"], _default["context"] = recorder, context
    return _default["recorder"]


def reset_default_graph() -> None:
    """Stop recording and forget all placeholders and ops recorded into the default graph."""
    context = _default["context"]
    if context is not None:
        context.__exit__(None, None, None)
    _default["recorder"] = _default["context"] = None


def placeholder(shape, dtype=None, name: str | None = None) -> Tensor:
    """A tensor to be fed at run time; ``None`` in ``shape`` is a dimension of any size (the batch)."""
    from ..creation import zeros

    shape = tuple(shape)
    for s in shape:
        if s is not None and (not isinstance(s, int) or s < 0):
            raise ValueError(f"placeholder: shape entries must be non-negative ints or None, got {shape}")
    dtype = dtype or _dtypes.get_default_dtype()
    t = zeros(tuple(1 if s is None else s for s in shape), dtype=dtype)
    value = _recorder().add_input(t, name or "placeholder")
    value.shape = shape
    return t


def _value_in_default(tensor: Tensor) -> Value:
    recorder = _default["recorder"]
    value = recorder.lookup(tensor) if recorder is not None else None
    if value is None:
        raise ValueError(
            "Graph.from_outputs: this tensor was not built from a placeholder (nothing recorded it); "
            "make the placeholders first, then build the outputs from them")
    return value


def subgraph(graph: Graph, outputs) -> Graph:
    """The part of ``graph`` that computes ``outputs`` (Values, nested): needed nodes and inputs only."""
    wanted: list[Value] = []
    for_each_value(outputs, wanted.append)
    live = set(wanted)
    nodes = []
    for node in reversed(graph.nodes):
        if any(o in live for o in node.outputs):
            nodes.append(node)
            live.update(node.inputs())
    result = Graph()
    result.nodes = nodes[::-1]
    result.inputs = [v for v in graph.inputs if v in live]
    result.params = [v for v in graph.params if v in live]
    result.constants = [v for v in graph.constants if v in live]
    result.outputs = outputs
    result._names = dict(graph._names)
    return result


def graph_from_outputs(outputs) -> Graph:
    """The graph computing ``outputs`` (a tensor or nested tuple/list of them) from placeholders."""
    recorder = _recorder()
    values = map_values(_to_values(outputs), lambda v: v)
    graph = subgraph(recorder.graph, values)
    _follow_batch(graph)
    return graph


_BUILD_BATCH = 1  # the size a None dimension has while building
_RESHAPES = ("reshape", "view")


def _follow_batch(graph: Graph) -> None:
    """Let reshapes keep the batch: a reshape (``Flatten``, ``x.view(x.size(0), -1)``) of a value whose first
    dimension is a placeholder's ``None`` recorded the building size there; it is made to copy the fed
    batch size instead, so the graph runs at any batch. A value carries the batch when it is computed from
    one that does and its first dimension is still the building size."""
    carrying = {v for v in graph.inputs if v.shape and v.shape[0] is None}
    for node in graph.nodes:
        if not any(v in carrying for v in node.inputs()):
            continue
        if node.label in _RESHAPES and node.op is not None and not node.meta.get("keeps_batch"):
            x, shape = node.args[0], node.args[1]
            if x in carrying and isinstance(shape, (tuple, list)) and shape and shape[0] == _BUILD_BATCH:
                node.fn = _keeping_batch(node.fn)
                node.meta["keeps_batch"] = True
        carrying.update(v for v in node.outputs if v.shape and v.shape[0] == _BUILD_BATCH)


def _keeping_batch(apply):
    def reshape(x, shape):
        return apply(x, (x.shape[0], *shape[1:]))

    return reshape


def _to_values(structure):
    if isinstance(structure, Tensor):
        return _value_in_default(structure)
    if isinstance(structure, (tuple, list)):
        return type(structure)(_to_values(s) for s in structure)
    return structure


def _resolve_output(graph: Graph, item):
    if isinstance(item, Value):
        return item
    if isinstance(item, Tensor):
        return _value_in_default(item)
    if isinstance(item, str):
        for value in graph.all_values():
            if value.name == item:
                return value
        raise KeyError(f"Graph.run: no value named {item!r} in this graph")
    if isinstance(item, (tuple, list)):
        return type(item)(_resolve_output(graph, i) for i in item)
    raise TypeError(f"Graph.run: outputs must be tensors, Values or names, got {type(item).__name__}")


def _feed_value(graph: Graph, key) -> Value:
    if isinstance(key, Value):
        return key
    if isinstance(key, str):
        for value in graph.inputs:
            if value.name == key:
                return value
        raise KeyError(f"Graph.run: no placeholder named {key!r}; the graph's are "
                       f"{', '.join(v.name for v in graph.inputs)}")
    if isinstance(key, Tensor):
        return _value_in_default(key)
    raise TypeError(f"Graph.run: feed keys must be placeholders or their names, got {type(key).__name__}")


def _check_feed(value: Value, data) -> None:
    shape = tuple(data.shape)
    if len(shape) != len(value.shape) or any(s is not None and s != d for s, d in zip(value.shape, shape)):
        wanted = "(" + ", ".join("?" if s is None else str(s) for s in value.shape) + ")"
        raise ValueError(f"Graph.run: cannot feed a value of shape {shape} for placeholder {value.name!r}, "
                         f"which has shape {wanted}")


def run_graph(graph: Graph, outputs, feed: dict):
    """TF1's ``session.run(outputs, feed_dict)`` for a Graph."""
    targets = graph.outputs if outputs is None else _resolve_output(graph, outputs)
    fed = {}
    for key, data in feed.items():
        value = _feed_value(graph, key)
        if not isinstance(data, Tensor):
            from ..creation import tensor

            data = tensor(data)
        _check_feed(value, data)
        fed[value] = data
    part = graph if targets is graph.outputs else _cached_subgraph(graph, targets)
    missing = [v for v in part.inputs if v not in fed]
    if missing:
        raise ValueError(f"Graph.run: you must feed a value for placeholder {missing[0].name!r} "
                         f"(feed={{placeholder: data}})")
    for value in list(part.inputs):
        if value.kind != INPUT:
            raise ValueError(f"Graph.run: {value.name} is not a placeholder")
    return execute(part, [fed[v] for v in part.inputs])


def _cached_subgraph(graph: Graph, targets) -> Graph:
    cache = graph.__dict__.setdefault("_subgraphs", {})
    key = tuple(id(v) for v in _flat(targets))
    if key not in cache:
        cache[key] = subgraph(graph, targets)
    return cache[key]


def _flat(structure) -> list:
    found: list = []
    for_each_value(structure, found.append)
    return found


__all__ = ["placeholder", "reset_default_graph", "subgraph", "COMPUTED"]
