"""Dead-code elimination: drop nodes whose outputs no output needs, and constants nobody reads."""

from __future__ import annotations

from ..ir import Graph

#: Leaf nodes kept even when unused: they change state (batch norm's running statistics).
_SIDE_EFFECTS = {"batch_norm"}


def dce(graph: Graph) -> str:
    live = set(graph.output_values())
    kept = []
    for node in reversed(graph.nodes):
        if node.label in _SIDE_EFFECTS and node.op is None or any(o in live for o in node.outputs):
            kept.append(node)
            live.update(node.inputs())
    removed = len(graph.nodes) - len(kept)
    graph.nodes = kept[::-1]
    before = len(graph.constants)
    graph.constants = [c for c in graph.constants if c in live]
    return f"removed {removed} node(s) and {before - len(graph.constants)} constant(s)"
