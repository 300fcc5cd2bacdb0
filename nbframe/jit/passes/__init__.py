"""Graph passes: each a small function ``graph -> str`` that edits the graph and says what it did.

``run_passes(graph, names)`` runs them in order and appends each report to ``graph.passes``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..ir import Graph
from .buffer_reuse import buffer_reuse
from .constant_folding import constant_folding
from .cse import cse
from .dce import dce
from .fusion import fusion

PASSES: dict[str, Callable[[Graph], str]] = {
    "dce": dce,
    "cse": cse,
    "constant_folding": constant_folding,
    "fusion": fusion,
    "buffer_reuse": buffer_reuse,
}


def run_passes(graph: Graph, names: Sequence[str]) -> Graph:
    """Run the named passes on ``graph`` in order; unknown names raise, listing the known ones."""
    for name in names:
        if name not in PASSES:
            raise ValueError(f"jit: unknown pass {name!r}; the passes are {', '.join(PASSES)}")
        report = PASSES[name](graph)
        graph.passes.append(f"{name}: {report}")
        graph.changed()
    return graph


__all__ = ["PASSES", "run_passes", "dce", "cse", "constant_folding", "fusion", "buffer_reuse"]
