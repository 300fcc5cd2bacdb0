"""What an untraced autograd graph still knows: each op's output shapes, and gradient norms on request.

A single-output node does not store its output's shape (that would cost every
op), and ``%graph loss`` has no trace. So shapes are read at draw time from
what the graph still holds: the outputs themselves, the values each op saved
for backward (a saved input is an upstream op's output; a saved output is the
op's own), the input shapes ops keep to reduce broadcast gradients
(``shapes``/``in_shape``), tensors kept on a node, multi-output nodes' own
metadata, and any tensors the caller knows (the notebook's variables). A
backward that freed the graph leaves only the outputs and the known tensors.

``replay``: where some shape is still missing (or gradient norms are asked
for) and the graph is intact (not yet backwarded, or kept with
``retain_graph=True``), its backward is run again once, into nothing, with a
hook on every node: that gives every output shape and each op output's
gradient norm (the op-to-op edges of ``grads=True``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

#: node id -> {output number: shape}
Shapes = dict[int, dict[int, tuple]]


def graph_nodes(outputs) -> tuple[list, list]:
    """The op nodes and the leaf tensors reachable from ``outputs``, breadth-first, each once."""
    nodes, leaves, seen = [], [], set()
    queue = [out.grad_fn for out in outputs if out.grad_fn is not None]
    seen.update(id(fn) for fn in queue)
    position = 0
    while position < len(queue):
        fn = queue[position]
        position += 1
        nodes.append(fn)
        for edge in fn.next_edges or ():
            if edge is None or id(edge[0]) in seen:
                continue
            seen.add(id(edge[0]))
            (queue if hasattr(edge[0], "next_edges") else leaves).append(edge[0])
    return nodes, leaves


def op_shapes(outputs, nodes, known: Iterable = ()) -> Shapes:
    """Output shapes of the op nodes, from everything the graph (and ``known``) still holds."""
    from nbframe import Tensor
    from nbframe.autograd.function import _OUTPUT

    shapes: Shapes = {}

    def note(fn, output_nr: int, shape) -> None:
        if fn is not None and _is_shape(shape):
            shapes.setdefault(id(fn), {}).setdefault(output_nr, tuple(shape))

    for tensor in (*outputs, *known):
        if isinstance(tensor, Tensor):
            note(tensor.grad_fn, tensor._output_nr, tensor.shape)
    for fn in nodes:
        own = getattr(fn, "__dict__", {})
        for k, meta in enumerate(own.get("_outputs_meta", ())):
            note(fn, k, meta[0])
        for kind, value, *_ in own.get("_saved") or ():
            if kind == _OUTPUT:
                note(fn, value[1], value[0].shape)
            elif isinstance(value, Tensor):
                note(value.grad_fn, value._output_nr, value.shape)
        for value in own.values():
            if isinstance(value, Tensor):
                note(value.grad_fn, value._output_nr, value.shape)
        edges = fn.next_edges or ()
        inputs = own.get("shapes")
        if isinstance(inputs, tuple) and len(inputs) == len(edges) and all(
                s is None or _is_shape(s) for s in inputs):
            for edge, shape in zip(edges, inputs):
                if edge is not None and hasattr(edge[0], "next_edges"):
                    note(edge[0], edge[1], shape)
        first = edges[0] if edges else None
        if first is not None and hasattr(first[0], "next_edges") and _is_shape(own.get("in_shape")):
            note(first[0], first[1], own["in_shape"])
    return shapes


def missing(nodes, shapes: Shapes) -> bool:
    """True when some op node still has no known output shape."""
    return any(id(fn) not in shapes for fn in nodes)


def replay(outputs, nodes, leaves, shapes: Shapes) -> dict[int, float]:
    """Run the graph's backward once more, into nothing: every op's output shape and gradient norm.

    Only where that changes nothing: no backward freed the graph, and it holds no
    hooks (they would run again; ``retain_grad`` would add to ``.grad``). The
    gradients are captured by ``autograd.grad``, never accumulated into ``.grad``;
    the outputs get a gradient of ones, as ``loss.backward()`` gives a scalar loss.
    Returns {node id: norm of its outputs' gradient}, {} when it can't run; fills ``shapes``.
    """
    from nbframe import ones_like
    from nbframe.autograd import grad

    inputs = [leaf for leaf in leaves if leaf.requires_grad]
    hooked = any(getattr(fn, key, None) for fn in nodes for key in ("_hooks", "_pre_hooks", "_tensor_hooks"))
    if not inputs or hooked or any(getattr(leaf, "_hooks", None) for leaf in leaves) or \
            any(fn._freed for fn in nodes):
        return {}
    norms: dict[int, float] = {}

    def hook_for(fn):
        def record(grads):
            present = [(k, g) for k, g in enumerate(grads) if g is not None]
            norms[id(fn)] = math.sqrt(sum(grad_norm(g) ** 2 for _, g in present))
            for k, g in present:
                shapes.setdefault(id(fn), {}).setdefault(k, tuple(g.shape))

        return record

    handles = [fn.register_prehook(hook_for(fn)) for fn in nodes]
    try:
        grad(outputs, inputs, [ones_like(out) for out in outputs], retain_graph=True, allow_unused=True)
    except Exception:  # a drawing never fails because the replay could not run (e.g. anomaly mode)
        return {}
    finally:
        for handle in handles:
            handle.remove()
        for fn in nodes:
            if fn.__dict__.get("_pre_hooks") == []:
                del fn._pre_hooks
    return norms


def grad_norm(tensor) -> float:
    """The 2-norm of a gradient, in float64."""
    return float((tensor.detach().double() ** 2).sum().item()) ** 0.5


def _is_shape(value) -> bool:
    return isinstance(value, tuple) and all(type(n) is int for n in value)
