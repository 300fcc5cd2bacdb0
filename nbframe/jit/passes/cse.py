"""Common-subexpression elimination: two nodes calling the same op on the same arguments become one."""

from __future__ import annotations

from ..ir import Graph, Value

#: Leaf functions that must run every time (random masks, running statistics).
_IMPURE = {"dropout", "batch_norm"}


def _key(structure):
    """A hashable key: Values and arrays by identity, plain values by value."""
    if isinstance(structure, Value):
        return ("value", id(structure))
    if isinstance(structure, (tuple, list)):
        return (type(structure).__name__, tuple(_key(item) for item in structure))
    if isinstance(structure, dict):
        return ("dict", tuple((k, _key(v)) for k, v in sorted(structure.items())))
    try:
        hash(structure)
        return ("plain", type(structure).__name__, structure)
    except TypeError:
        return ("object", id(structure))


def cse(graph: Graph) -> str:
    seen: dict = {}
    kept, merged = [], 0
    for node in graph.nodes:
        if node.label in _IMPURE:
            kept.append(node)
            continue
        key = (node.fn, _key(node.args), _key(node.kwargs))
        first = seen.get(key)
        if first is None:
            seen[key] = node
            kept.append(node)
            continue
        for old, new in zip(node.outputs, first.outputs):
            graph.replace_uses(old, new)
        merged += 1
    graph.nodes = kept
    return f"merged {merged} duplicate node(s)"
