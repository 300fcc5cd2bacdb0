"""The backward engine: iterative, dependency-counted, deterministic.

A graph edge is ``(node, output_nr)`` for an op's output or ``(tensor, 0)`` for
a leaf that requires grad. The engine first counts, for every node reachable
from the roots, how many edges lead into it; a node runs once all of them have
delivered their gradient (or said they have none). No recursion, so a chain of
100,000 ops backpropagates; no sets, so the order is the same on every run.
"""

from __future__ import annotations

import numpy as np

from . import anomaly, grad_mode
from . import function as _function
from .function import Node

_state = grad_mode._state
_anomaly_enabled = anomaly._enabled
_NO_CAPTURE: dict = {}  # shared, never written: plain backward() captures nothing


def _count_dependencies(roots) -> dict:
    """For every node reachable from ``roots`` (Tensors): how many edges lead into it."""
    return _count_from_nodes([root.grad_fn for root in roots if root.grad_fn is not None])


def _count_from_nodes(nodes) -> dict:
    """For every node reachable from ``nodes``: how many edges lead into it (0 for ``nodes``)."""
    dependencies: dict = {}
    stack = []
    for fn in nodes:
        if fn not in dependencies:
            dependencies[fn] = 0
            stack.append(fn)
    pop, push = stack.pop, stack.append
    while stack:
        edges = pop().next_edges
        if edges is None:
            continue
        for edge in edges:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Node):
                count = dependencies.get(target)
                if count is None:
                    dependencies[target] = 1
                    push(target)
                else:
                    dependencies[target] = count + 1
    return dependencies


def run_backward(roots, root_grads, retain_graph: bool, create_graph: bool, capture=None):
    """Propagate ``root_grads`` from ``roots`` (Tensors) back to the leaves.

    With ``capture`` (a list of Tensors, for ``autograd.grad``) the gradients
    reaching those tensors are returned in that order instead of accumulated.
    """
    captured = None
    capture_slots: dict = _NO_CAPTURE
    if capture is not None:
        capture_slots = {}
        captured = [None] * len(capture)
        for i, t in enumerate(capture):
            key = (id(t.grad_fn), t._output_nr) if t.grad_fn is not None else (id(t), 0)
            capture_slots.setdefault(key, []).append(i)

    dependencies = _count_dependencies(roots)

    # Seed the gradient buffers with the roots' gradients.
    buffers: dict = {}
    given: set = set()
    hooked: dict = {}  # id(leaf) -> (leaf, the sum of its gradients so far): leaves with hooks
    for root, grad in zip(roots, root_grads):
        fn = root.grad_fn
        if fn is None:
            _deliver_to_leaf(root, grad, captured, capture_slots, create_graph, given, hooked)
        else:
            _add_to_buffer(buffers, fn, root._output_nr, grad)
    if len(roots) == 1 and roots[0].grad_fn is not None:
        ready = [roots[0].grad_fn]  # one root (loss.backward()): nothing else can start, skip the scan
    else:
        ready = [fn for fn, count in dependencies.items() if count == 0]
        ready.reverse()

    prev = _state.enabled
    _state.enabled = create_graph
    try:
        with _quiet():
            while ready:
                node = ready.pop()
                grads = buffers.pop(node, None)
                outputs = None
                if grads is not None:
                    if node._plain and not capture_slots:
                        # No hooks, one output, not freed (``Node._plain``): call backward directly.
                        outputs = type(node).backward(node, grads[0])
                        if type(outputs) is not tuple:
                            outputs = (outputs,)
                        if _anomaly_enabled[0]:
                            anomaly.check_gradients(node, outputs)
                    else:
                        outputs = _call_node(node, grads, capture_slots, captured)
                edges = node.next_edges
                if edges is not None:
                    if outputs is not None and len(outputs) != len(edges):
                        # Add(a, b, alpha) called as a + b returns a None for alpha: allowed, checked cheaply.
                        if outputs[-1] is not None or len(outputs) != len(edges) + 1:
                            _check_gradient_count(node, outputs, edges)
                    i = -1
                    for edge in edges:
                        i += 1
                        if edge is None:
                            continue
                        target = edge[0]
                        grad = outputs[i] if outputs is not None else None
                        if isinstance(target, Node):
                            if grad is not None:
                                _add_to_buffer(buffers, target, edge[1], grad)
                            left = dependencies[target] - 1
                            dependencies[target] = left
                            if left == 0:
                                ready.append(target)
                        elif grad is not None:
                            garray, tarray = grad.array, target.array
                            if garray.shape != tarray.shape or garray.dtype != tarray.dtype:
                                grad = _match_leaf(grad, target, node)
                            _deliver_to_leaf(
                                target, grad, captured, capture_slots, create_graph, given, hooked
                            )
                if not retain_graph:
                    node._release()
            for leaf, grad in hooked.values():  # each hooked leaf's hooks, once, on its whole gradient
                _deliver_to_leaf(leaf, grad, captured, capture_slots, create_graph, given, None)
    finally:
        _state.enabled = prev
    return captured


def run_backward_arrays(root, grad, retain_graph: bool) -> None:
    """Plain ``loss.backward()``: ``run_backward`` with gradients flowing as raw arrays.

    For one root Tensor with a ``grad_fn``, no ``create_graph``, no capture, no observer and no
    anomaly mode: then no graph is recorded in backward and nobody looks at backward's ops, so
    there is no reason to wrap every gradient in a Tensor. An op that defines ``backward_arrays``
    is called with and returns arrays; any other node (one written with Tensor ops, one with
    hooks or several outputs) gets its gradients wrapped and its results unwrapped. Leaves get
    their ``.grad`` Tensor as usual.
    """
    root_fn = root.grad_fn
    slots = [None] * root_fn._n_outputs
    slots[root._output_nr] = grad
    # No counting pass: a node runs once as many gradients (or Nones) have arrived as forward counted
    # consumers (``Node._uses``). A node with several consumers waits in ``waiting`` (deliveries still
    # to come) and ``buffers`` (the sum so far) meanwhile; a chain's nodes never touch either dict.
    # A consumer the loss does not reach leaves a node waiting for ever: when nothing else is ready,
    # ``_recount`` counts the real edges among what is left and the loop goes on from there.
    waiting: dict = {}
    buffers: dict = {}
    ready = [(root_fn, slots)]
    given: set = set()
    hooked: dict = {}  # as in run_backward
    prev = _state.enabled
    _state.enabled = False
    try:
        while True:
            _drain(ready, waiting, buffers, given, hooked, retain_graph)
            if not waiting:
                break
            waiting = _recount(waiting, buffers, ready)
        for leaf, grad in hooked.values():
            _deliver_array_to_leaf(leaf, grad, None, given, None)
    finally:
        _state.enabled = prev


def _drain(ready: list, waiting: dict, buffers: dict, given: set, hooked: dict, retain_graph: bool) -> None:
    """``run_backward_arrays``' loop: run ready nodes, pass their gradients on, until none is ready."""
    while ready:
        # grads: None (no gradient reached the node), the gradient array of a one-output node, or a
        # list of one per output (a node with several, or one that waited in buffers)
        node, grads = ready.pop()
        outputs = None
        if grads is not None:
            if node._plain:
                grad = grads[0] if type(grads) is list else grads
                backward_arrays = node.backward_arrays
                if backward_arrays is not None:
                    outputs = backward_arrays(node, grad)
                else:
                    with _quiet():
                        outputs = _unwrap(type(node).backward(node, _wrap_array(grad)))
            elif node.backward_arrays is not None and node._n_outputs > 1 and _bare(node):
                # Several outputs (split, batch norm, an LSTM): backward_arrays(ctx, *grads), with
                # zeros for the outputs no gradient reached, as backward gets them.
                outputs = node.backward_arrays(node, *_zeros_for_missing(node, grads))
            else:
                grads = [_wrap_array(g) for g in (grads if type(grads) is list else (grads,))]
                with _quiet():
                    outputs = _unwrap(_call_node(node, grads, _NO_CAPTURE, None))
            if type(outputs) is not tuple:
                outputs = (outputs,)
        edges = node.next_edges
        if edges is not None:
            if outputs is None:  # no gradient reached this node: its inputs get none either
                outputs = (None,) * len(edges)
            elif len(outputs) != len(edges):
                # Add(a, b, alpha) called as a + b returns a None for alpha: allowed, and checked cheaply.
                if outputs[-1] is not None or len(outputs) != len(edges) + 1:
                    _check_gradient_count(node, outputs, edges)
            for edge, grad in zip(edges, outputs):
                if edge is None:
                    continue
                target = edge[0]
                if isinstance(target, Node):
                    left = waiting.get(target)
                    if left is None:  # its first delivery
                        left = target._uses
                    left -= 1
                    if left:  # more edges still to deliver into target: keep the sum in buffers
                        waiting[target] = left
                        if grad is not None:
                            _add_to_buffer(buffers, target, edge[1], grad)
                        continue
                    if waiting:
                        waiting.pop(target, None)
                    slots = buffers.pop(target, None) if buffers else None
                    if grad is not None:
                        if slots is None:
                            if target._n_outputs == 1:
                                slots = grad
                            else:
                                slots = [None] * target._n_outputs
                                slots[edge[1]] = grad
                        else:
                            current = slots[edge[1]]
                            slots[edge[1]] = grad if current is None else current + grad
                            current = None  # a stale large array would make the next one map fresh pages
                    ready.append((target, slots))
                elif grad is not None:
                    old = target.grad
                    if (
                        old is not None
                        and not target._hooks
                        and type(grad) is type(old_array := old.array)
                        and grad.shape == old_array.shape
                        and grad.dtype == old_array.dtype
                        and target.requires_grad
                    ):
                        # A leaf that already has a gradient: the accumulation, inlined.
                        _accumulate(target, old, old_array, grad, given)
                        old = old_array = grad = None
                    else:
                        _deliver_array_to_leaf(target, grad, node, given, hooked)
        if not retain_graph:
            # node._release(), inlined: free what forward stored, keep the edges for drawing.
            if node._small_ctx:
                node._saved = node._to_save = None
                node._freed = True
                node._plain = False
            else:
                d = node.__dict__
                d.clear()
                d["next_edges"] = edges
                d["_freed"] = True
                d["_plain"] = False


def _bare(node) -> bool:
    """No hooks of any kind and not freed: nothing of ``_call_node`` but backward itself applies."""
    return not (node._freed or node._hooks or node._pre_hooks or node._tensor_hooks)


def _zeros_for_missing(node, grads: list) -> list:
    """A node's gradient slots with a zero array for each output that no gradient reached."""
    for g in grads:  # not `None in grads`: that compares arrays with ==
        if g is None:
            break
    else:
        return grads
    if not node._materialize:
        return grads
    return [
        g if g is not None else xp.zeros(shape, dtype)
        for g, (shape, dtype, xp) in zip(grads, node._outputs_meta)
    ]


def _recount(waiting: dict, buffers: dict, ready: list) -> dict:
    """The backward of ``run_backward_arrays`` went as far as use counts allow; go on with real ones.

    ``waiting`` holds the nodes that have had some of their gradients but still count on consumers
    that never ran: the loss does not reach them (a metric computed from an output, a result thrown
    away). Every node not yet run is one of these or lies below one, so counting the edges among
    what they reach gives each the deliveries really still to come. Those with none are ready now.
    """
    counts = _count_from_nodes(list(waiting))
    for node in waiting:
        if counts[node] == 0:
            ready.append((node, buffers.pop(node, None)))
    if not ready:  # cannot happen in a graph without cycles; better an error than gradients left out
        raise RuntimeError("backward: no node of the graph is ready to run (the graph has a cycle?)")
    return {node: count for node, count in counts.items() if count}


def _wrap_array(array):
    return None if array is None else _function._wrap(array, False, None, 0)


def _unwrap(results):
    """A Tensor backward's result (one gradient or a tuple) as arrays."""
    if type(results) is not tuple:
        return None if results is None else results.array
    return tuple([None if g is None else g.array for g in results])


def _deliver_array_to_leaf(leaf, grad, node, given: set, hooked: dict | None) -> None:
    """``_deliver_to_leaf`` for an array gradient (plain backward: no capture, no graph)."""
    target = leaf.array
    if type(grad) is not type(target) or grad.shape != target.shape or grad.dtype != target.dtype:
        grad = _match_leaf(_wrap_array(grad), leaf, node).array
    if leaf._hooks:
        if hooked is not None:  # wait for the leaf's whole gradient (see _hold_for_hooks)
            _hold_for_hooks(hooked, leaf, grad)
            return
        for hook in tuple(leaf._hooks):
            new = hook(_wrap_array(grad))
            if new is not None:
                grad = new.array
    if not leaf.requires_grad:
        return
    old = leaf.grad
    if old is None:
        # As in _deliver_to_leaf: each leaf gets an array of its own that it may change in place (not
        # one a hook may have kept: the next backward adds into .grad in place).
        owner = id(_memory_of(grad))
        if owner in given or leaf._hooks or not _writeable(grad):
            grad = grad.copy()
            owner = id(grad)
        given.add(owner)
        leaf.grad = _function._wrap(grad, False, None, 0)
        return
    array = old.array
    if type(array) is type(grad) and array.dtype == grad.dtype and array.shape == grad.shape:
        _accumulate(leaf, old, array, grad, given)
    else:
        leaf.grad = old + _wrap_array(grad)


def _accumulate(leaf, old, array, grad, given: set) -> None:
    """Add ``grad`` into ``leaf.grad`` (``old``, whose array is ``array``) when no graph is recorded.

    In place, as PyTorch's AccumulateGrad does then (the ``.grad`` Tensor stays the same object and
    its version goes up): no new array, no new Tensor. Not when the array was handed to the leaf in
    this backward (``given``: a node still to run may hold it, or a view of it). Not
    when NumPy says the array is read-only (a ``.grad`` the user set to a broadcast view). Otherwise
    the sum is a new array, and the old one is dropped at once: held until the next leaf, it would
    make NumPy map fresh pages for the next large gradient (a 1M-element step took 1.7x as long).
    """
    if id(array if array.base is None else _memory_of(array)) not in given:
        try:
            array += grad
        except ValueError:  # read-only
            pass
        else:
            old._version[0] += 1
            return
    leaf.grad = _function._wrap(array + grad, False, None, 0)


def _memory_of(array):
    """The array that owns ``array``'s memory: itself, or the base of the view it is.

    Two leaves must not get gradients that share memory, or an in-place change of one (accumulation,
    ``clip_grad_norm_``) changes the other: a reshape's gradient is a view of the gradient a sibling
    leaf got (``a.reshape(2, 2) + b``). ``given`` therefore holds owners, not the arrays handed over.
    """
    base = getattr(array, "base", None)
    while base is not None and hasattr(base, "shape"):  # (a NumPy array over a bytes object: stop there)
        array = base
        base = getattr(array, "base", None)
    return array


def _check_gradient_count(node, outputs, edges) -> None:
    """One gradient per input; extra ones are allowed only as None (as PyTorch allows)."""
    extra = outputs[len(edges):]
    if len(outputs) < len(edges) or extra.count(None) != len(extra):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients "
            f"(expected {len(edges)}, got {len(outputs)})"
        )


def _writeable(array) -> bool:
    """Whether a leaf may keep ``array`` as its ``.grad`` and let it be changed in place.

    NumPy says so (a broadcast view or a shared constant is read-only); CuPy has no such flag, so a
    view with a zero stride (a broadcast) counts as not writeable there.
    """
    writeable = getattr(array.flags, "writeable", None)
    if writeable is not None:
        return writeable
    return array.size <= 1 or 0 not in array.strides


def _quiet():
    """NumPy's divide/invalid/overflow warnings off: in backward, inf and NaN are values, as in PyTorch.

    Around whole Tensor-op backwards only (about 0.6 µs to enter); ``backward_arrays`` that divide
    quiet themselves.
    """
    return np.errstate(all="ignore")


def _add_to_buffer(buffers, node, output_nr, grad) -> None:
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * node._n_outputs
    current = slots[output_nr]
    slots[output_nr] = grad if current is None else current + grad


def _call_node(node, grads, capture_slots, captured):
    if node._freed:
        _ = node.saved_tensors  # raises PyTorch's "backward through the graph a second time"
    if node._tensor_hooks:
        for output_nr, hook in tuple(node._tensor_hooks):
            g = grads[output_nr]
            if g is not None:
                new = hook(g)
                if new is not None:
                    grads[output_nr] = new
    if capture_slots:
        for output_nr, g in enumerate(grads):
            for i in capture_slots.get((id(node), output_nr), ()):
                captured[i] = g if captured[i] is None else captured[i] + g
    if node._pre_hooks:
        for hook in tuple(node._pre_hooks):
            new = hook(tuple(grads))
            if new is not None:
                grads = list(new)
    if node._n_outputs > 1 and node._materialize:
        grads = _materialize(node, grads)
    result = type(node).backward(node, *grads)
    if type(result) is not tuple:
        result = (result,)
    if node._hooks:
        for hook in tuple(node._hooks):
            new = hook(result, tuple(grads))
            if new is not None:
                result = tuple(new)
    if _anomaly_enabled[0]:
        anomaly.check_gradients(node, result)
    return result


def _materialize(node, grads):
    """Give backward zeros for the outputs no gradient reached, as PyTorch does."""
    for g in grads:  # not `None in grads`: that calls Tensor.__eq__
        if g is None:
            break
    else:
        return grads
    from ..creation import zeros_for

    return [
        g if g is not None else zeros_for(shape, dtype, xp)
        for g, (shape, dtype, xp) in zip(grads, node._outputs_meta)
    ]


def _match_leaf(grad, leaf, node):
    if not hasattr(leaf, "array"):
        return grad
    if grad.array.shape != leaf.array.shape:
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at a leaf - got shape "
            f"{list(grad.array.shape)} but expected shape compatible with {list(leaf.array.shape)}"
        )
    return grad.to(leaf.dtype)


def _hold_for_hooks(hooked: dict, leaf, grad) -> None:
    """Sum the gradients that reach a leaf with hooks: its hooks run once, on the sum, after the
    graph (as PyTorch runs them when the leaf's AccumulateGrad has all its inputs). Run on each
    part, a hook that clips or rescales a shared weight's gradient would give a different result."""
    entry = hooked.get(id(leaf))
    hooked[id(leaf)] = (leaf, grad if entry is None else entry[1] + grad)


def _deliver_to_leaf(leaf, grad, captured, capture_slots, create_graph, given: set, hooked=None) -> None:
    hooks = leaf._hooks
    if hooks:
        if hooked is not None:
            _hold_for_hooks(hooked, leaf, grad)
            return
        for hook in tuple(hooks):
            new = hook(grad)
            if new is not None:
                grad = new
    if captured is not None:
        for i in capture_slots.get((id(leaf), 0), ()):
            captured[i] = grad if captured[i] is None else captured[i] + grad
        return
    if not leaf.requires_grad:
        return
    if not create_graph and grad.grad_fn is not None:
        grad = grad.detach()
    if leaf.grad is None:
        # The same gradient object may reach two leaves (a + b), and a broadcast view is
        # read-only: give each leaf a gradient of its own that it can change in place.
        array = grad.array
        if id(_memory_of(array)) in given or hooks or not _writeable(array):
            grad = grad.clone() if create_graph else _own_copy(grad)
        given.add(id(_memory_of(grad.array)))
        leaf.grad = grad
    elif create_graph or _function._OBSERVERS:
        leaf.grad = leaf.grad + grad
    else:
        # Plain, unobserved backward: add the arrays directly (no op dispatch) when they agree.
        old = leaf.grad.array
        new = grad.array
        if type(old) is type(new) and old.dtype == new.dtype and old.shape == new.shape:
            _accumulate(leaf, leaf.grad, old, new, given)
        else:
            leaf.grad = leaf.grad + grad


def _own_copy(grad):
    return _function._wrap(grad.array.copy(), False, None, 0)
