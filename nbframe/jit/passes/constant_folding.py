"""Constant folding: a node that reads only constants is computed once, at compile time."""

from __future__ import annotations

from ...autograd import grad_mode
from ..ir import CONSTANT, Graph, map_values

_IMPURE = {"dropout", "batch_norm"}


def constant_folding(graph: Graph) -> str:
    kept, folded = [], 0
    for node in graph.nodes:
        inputs = node.inputs()
        if node.label in _IMPURE or not inputs or any(v.kind != CONSTANT for v in inputs):
            kept.append(node)
            continue
        pick = lambda v: v.tensor  # noqa: E731
        with grad_mode.no_grad():
            result = node.fn(*map_values(node.args, pick), **map_values(node.kwargs, pick))
        results = result if node.multi else (result,)
        for old, tensor in zip(node.outputs, results):
            new = graph.add_constant(tensor, name=f"{node.name}_folded")
            graph.replace_uses(old, new)
        folded += 1
    graph.nodes = kept
    used = set()
    for node in graph.nodes:
        used.update(node.inputs())
    used.update(graph.output_values())
    graph.constants = [c for c in graph.constants if c in used]
    return f"folded {folded} node(s) into constants"
