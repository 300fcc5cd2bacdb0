"""One input signature's training step, compiled: the forward graph's nodes, a *static* backward
schedule, and the optimiser's update (``fused_update``).

Everything the autograd engine works out on every ``loss.backward()`` is worked out once here:
- the backward order (the nodes in reverse) and where each gradient goes (graph edges -> slots);
- when a forward value dies (the executor's liveness), when a gradient is used up, when a node's
  saved tensors can go (right after its backward, as the engine frees them);
- when a parameter's gradient is complete: after the backward of the first node that reads it, where
  it is handed to the parameter (and its slot freed).

Gradients flow as raw arrays: an op with ``backward_arrays`` is called with and returns arrays; any
other op gets its gradient wrapped in a Tensor (no graph: backward runs under no_grad). Leaf
functions (max pooling, batch norm, dropout, LSTM) and nodes with tensors nested inside arguments
run their own small autograd graph, cut at their inputs. Some ops are swapped for a variant that
computes the same values faster in a loop of steps (``_FASTER``: convolutions keep their column
matrix for the weight gradient).
"""

from __future__ import annotations

from ..autograd import anomaly, grad_mode
from ..autograd import function as _function
from ..backend import get_array_module
from ..ops.conv import Conv2dOp
from ..tensor import Tensor, _wrap
from .executor import _contains_value, plan_for
from .ir import COMPUTED, PARAM, Graph, Value, map_values

_state = grad_mode._state


class StepProgram:
    """Built once per signature; ``run(inputs, updates)`` does one whole step and returns the loss."""

    def __init__(self, graph: Graph):
        plan = plan_for(graph)
        slots = plan.slots
        if not isinstance(graph.outputs, Value):
            raise TypeError("compile_step: loss_fn must return one tensor (the loss)")
        if any(d != 1 for d in graph.outputs.shape):
            raise RuntimeError(
                "compile_step: loss_fn must return a scalar loss (one element), but it returned a tensor of "
                f"shape {list(graph.outputs.shape)}; reduce it (.mean() or .sum())")
        self.graph = graph
        self.loss_slot = slots[graph.outputs]
        self.template = plan.template
        self.input_slots = plan.input_slots
        self.size = len(slots)
        first_use: dict[Value, int] = {}
        for i, node in enumerate(graph.nodes):
            for value in node.inputs():
                first_use.setdefault(value, i)
        # per node: the parameters (slot, tensor) whose gradient is complete after its backward
        self.finish: list[list] = [[] for _ in graph.nodes]
        for value in graph.params:
            if value.kind == PARAM and value in first_use:
                self.finish[first_use[value]].append((slots[value], value.tensor))
        self.params_in_graph = frozenset(id(v.tensor) for v in graph.params if v.kind == PARAM)
        self.forward = []
        self.backward = []
        self.variants: list[type] = []  # the op classes swapped in for faster ones (``_FASTER``)
        for node, (fn, get, out_slots, multi, free) in zip(graph.nodes, plan.steps):
            if node.op is not None and not node.kwargs and all(
                    isinstance(a, Value) or not _contains_value(a) for a in node.args):
                route = tuple((p, slots[a]) for p, a in enumerate(node.args)
                              if isinstance(a, Value) and a.kind in (COMPUTED, PARAM))
                if node.op in _FASTER and fn == node.op.apply:
                    variant = _FASTER[node.op]()
                    self.variants.append(variant)
                    fn = variant.apply
                self.forward.append(_op_forward(fn, get, out_slots, multi, free))
                self.backward.append(_op_backward(out_slots, route))
            else:
                self.forward.append(_isolated_forward(node, slots, fn, out_slots, multi, free))
                self.backward.append(_isolated_backward)

    def run(self, inputs: tuple, updates) -> Tensor:
        env = list(self.template)
        for slot, x in zip(self.input_slots, inputs):
            env[slot] = x
        records = []
        prev = _state.enabled
        _state.enabled = True
        try:
            for forward in self.forward:
                records.append(forward(env))
        finally:
            _state.enabled = prev
        loss = env[self.loss_slot]
        updates.begin(self.params_in_graph)
        grads: list = [None] * self.size
        if loss.requires_grad:
            array = loss.array
            grads[self.loss_slot] = get_array_module(array).ones(array.shape, array.dtype)
        arrays = not _function._OBSERVERS and not anomaly._enabled[0]
        given: set = set()
        finish, backward = self.finish, self.backward
        _state.enabled = False
        try:
            for i in range(len(records) - 1, -1, -1):
                record = records[i]
                if record is not None:
                    backward[i](record, grads, arrays)
                    records[i] = None
                for slot, param in finish[i]:
                    grad = grads[slot]
                    grads[slot] = None
                    owned = grad is not None and id(grad) not in given and grad.flags.writeable
                    if grad is not None:
                        given.add(id(grad))
                    updates.finish(param, grad, owned)
        finally:
            _state.enabled = prev
        updates.end()
        return loss.detach()


# --------------------------------------------------------------------------- op nodes
def _conv_keeping_columns():
    """A convolution that keeps its column matrix for its weight gradient instead of rebuilding it, in
    memory of its own reused every step: one im2col per convolution and step saved, and no fresh
    memory (page faults) for the other. The program holds kh*kw times the input's memory for it."""
    return type("Conv2dKeepingColumns", (Conv2dOp,), {"keep_columns": {}})


#: Op classes the compiled step swaps, node by node, for a variant that computes the same values faster.
_FASTER = {Conv2dOp: _conv_keeping_columns}


def _op_forward(fn, get, out_slots, multi, free):
    """A node that calls an Op's ``apply``: run it, store its outputs, return its autograd node."""
    if not multi:
        out_slot = out_slots[0]

        def forward(env):
            args, _ = get(env)
            result = fn(*args)
            env[out_slot] = result
            for slot in free:
                env[slot] = None
            return result.grad_fn if isinstance(result, Tensor) else None

        return forward

    def forward_multi(env):
        args, _ = get(env)
        result = fn(*args)
        node = None
        for slot, r in zip(out_slots, result):
            env[slot] = r
            if node is None and isinstance(r, Tensor):
                node = r.grad_fn
        for slot in free:
            env[slot] = None
        return node

    return forward_multi


def _op_backward(out_slots, route):
    """The node's backward, its gradients accumulated into the slots of its inputs; then its saved
    tensors are freed (as the engine does without ``retain_graph``)."""
    single = len(out_slots) == 1

    def backward(node, grads, arrays):
        if single:
            slot = out_slots[0]
            g = grads[slot]
            grads[slot] = None
            if g is None:
                node._release()
                return
            backward_arrays = node.backward_arrays
            if arrays and backward_arrays is not None and node._plain:
                result = backward_arrays(node, g)
            else:
                result = _unwrap(type(node).backward(node, _wrap(g, False, None, 0)))
        else:
            gs = [grads[s] for s in out_slots]
            for s in out_slots:
                grads[s] = None
            if all(g is None for g in gs):
                node._release()
                return
            result = _unwrap(type(node).backward(node, *_materialized(node, gs)))
        node._release()
        if type(result) is not tuple:
            result = (result,)
        n = len(result)
        for position, slot in route:
            g = result[position] if position < n else None
            if g is not None:
                current = grads[slot]
                grads[slot] = g if current is None else current + g

    return backward


def _materialized(node, grads: list) -> list:
    """Tensors for a several-output node's backward: zeros for outputs no gradient reached (PyTorch's
    ``materialize_grads``), or None where the node asked not to materialise."""
    from ..creation import zeros_for

    out = []
    for g, (shape, dtype, xp) in zip(grads, node._outputs_meta):
        if g is not None:
            out.append(_wrap(g, False, None, 0))
        else:
            out.append(zeros_for(shape, dtype, xp) if node._materialize else None)
    return out


def _unwrap(result):
    if type(result) is not tuple:
        return None if result is None else result.array
    return tuple([None if g is None else g.array for g in result])


# --------------------------------------------------------------------------- isolated nodes
def _isolated_forward(node, slots: dict, fn, out_slots, multi, free):
    """A leaf function (or a node with nested tensor arguments) run on detached copies of its inputs
    that require grad, so that its own autograd graph can be differentiated alone."""
    args, kwargs = node.args, node.kwargs

    def forward(env):
        cut: list[tuple[int, Tensor]] = []

        def detach(value):
            x = env[slots[value]]
            if isinstance(x, Tensor) and x.requires_grad:
                leaf = x.detach().requires_grad_()
                cut.append((slots[value] if value.kind in (COMPUTED, PARAM) else None, leaf))
                return leaf
            return x

        result = fn(*map_values(args, detach), **map_values(kwargs, detach))
        outputs = result if multi else (result,)
        for slot, r in zip(out_slots, outputs):
            env[slot] = r
        for slot in free:
            env[slot] = None
        return (cut, outputs, out_slots)

    return forward


def _isolated_backward(record, grads, arrays) -> None:
    from ..autograd import grad as autograd_grad

    cut, outputs, out_slots = record
    pairs = []
    for slot, o in zip(out_slots, outputs):
        g = grads[slot]
        grads[slot] = None
        if g is not None and isinstance(o, Tensor) and o.requires_grad:
            pairs.append((o, _wrap(g, False, None, 0)))
    if not pairs or not cut:
        return
    found = autograd_grad([o for o, _ in pairs], [leaf for _, leaf in cut], [g for _, g in pairs],
                          allow_unused=True)
    for (slot, _), g in zip(cut, found):
        if g is not None and slot is not None:
            current = grads[slot]
            grads[slot] = g.array if current is None else current + g.array

