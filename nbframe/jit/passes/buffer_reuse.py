"""Buffer reuse by liveness, for inference runs on the CPU.

Every fused elementwise node writes ``out=`` into a preallocated array. Two values whose lifetimes
do not overlap share one array: walking the nodes in order, a value's buffer goes back to the pool
after its last reader (or the last reader of any view of it) has run. Graph outputs never get a
pooled buffer (the caller keeps them). Runs that need gradients ignore the buffers.
"""

from __future__ import annotations

import numpy as np

from ..ir import COMPUTED, Graph, Value
from .fusion import FusedElementwise

#: Ops whose output may share memory with their first input.
_VIEW_LABELS = {"reshape", "view", "expand", "permute", "getitem", "narrow", "split", "unbind", "flatten",
                "squeeze", "unsqueeze", "transpose", "t", "view_dtype", "dropout", "contiguous", "to",
                "detach", "alias"}


def _roots(graph: Graph) -> dict[Value, Value]:
    root: dict[Value, Value] = {}
    for node in graph.nodes:
        first = node.inputs()[:1]
        for out in node.outputs:
            base = first[0] if first and node.label in _VIEW_LABELS else out
            root[out] = root.get(base, base)
    return root


def buffer_reuse(graph: Graph) -> str:
    root = _roots(graph)
    last_use: dict[Value, int] = {}
    for i, node in enumerate(graph.nodes):
        for value in node.inputs():
            r = root.get(value, value)
            last_use[r] = max(last_use.get(r, -1), i)
    pinned = {root.get(v, v) for v in graph.output_values()}
    pool: dict[tuple, list] = {}
    releases: dict[int, list[tuple[tuple, np.ndarray]]] = {}
    allocated = assigned = 0
    reused_bytes = 0
    for i, node in enumerate(graph.nodes):
        kernel = node.fn
        if isinstance(kernel, FusedElementwise):
            kernel.buffer = None
            out = node.outputs[0]
            if out.kind == COMPUTED and out not in pinned:
                key = (out.shape, np.dtype(out.dtype).str)
                free = pool.setdefault(key, [])
                if free:
                    buffer = free.pop()
                    reused_bytes += buffer.nbytes
                else:
                    buffer = np.empty(out.shape, out.dtype)
                    allocated += 1
                kernel.buffer = buffer
                assigned += 1
                releases.setdefault(last_use.get(out, i), []).append((key, buffer))
        for key, buffer in releases.pop(i, ()):
            pool[key].append(buffer)
    return (f"{assigned} fused output(s) in {allocated} preallocated buffer(s); "
            f"{reused_bytes} bytes reused per run instead of allocated")
