"""``nf.jit.compile_step(model, loss_fn, optimizer)``: a whole training step from one traced graph.

The forward pass ``loss_fn(model(*inputs), *targets)`` is traced once per input signature. Each call
then runs the graph's nodes, and the backward pass as a *static schedule*: the nodes in reverse
order, each op's ``backward`` called directly with gradients routed by the graph's edges, so the
engine's per-step work (discovering the graph, counting dependencies, hooks, buffers keyed by
node) is done once at compile time. Leaf functions (max pooling, batch norm, dropout) and any node
whose tensors sit inside nested arguments run their own small autograd graph, cut at their inputs.
Then the optimizer's update runs on the raw arrays (``optimizer.step()``).

The gradients and parameters are those of the eager step (tested); the loss is returned detached.
"""

from __future__ import annotations

from collections.abc import Callable

from ..autograd import grad_mode
from ..autograd.function import Node as _AutogradNode
from ..creation import ones_like
from ..tensor import Tensor, _wrap
from .executor import plan_for
from .ir import COMPUTED, PARAM, Graph, Value
from .trace import module_names, record, signature

_state = grad_mode._state


def compile_step(model, loss_fn: Callable, optimizer) -> CompiledStep:
    """A function ``step(input, target, ...)`` that does zero_grad, forward, backward and
    ``optimizer.step()`` and returns the loss (detached). ``loss_fn(model(input), target, ...)``."""
    return CompiledStep(model, loss_fn, optimizer)


class _Schedule:
    """The backward order and gradient routes of one graph (built once per input signature)."""

    def __init__(self, graph: Graph):
        plan = plan_for(graph)
        self.plan = plan
        slots = plan.slots
        self.loss_slot = slots[graph.outputs] if isinstance(graph.outputs, Value) else None
        if self.loss_slot is None:
            raise TypeError("compile_step: loss_fn must return one tensor (the loss)")
        self.params = [(slots[v], v.tensor) for v in graph.params if v.kind == PARAM]
        self.routes = []  # per node: [(argument position, slot)] for Value arguments, or None (isolated)
        for node in graph.nodes:
            flat = node.op is not None and not node.kwargs and all(
                isinstance(a, Value) or not _has_value(a) for a in node.args)
            if flat:
                self.routes.append([(p, slots[a]) for p, a in enumerate(node.args)
                                    if isinstance(a, Value) and a.kind in (COMPUTED, PARAM)])
            else:
                self.routes.append(None)


def _has_value(structure) -> bool:
    if isinstance(structure, Value):
        return True
    if isinstance(structure, (tuple, list)):
        return any(_has_value(s) for s in structure)
    if isinstance(structure, dict):
        return any(_has_value(s) for s in structure.values())
    return False


class CompiledStep:
    """The callable ``compile_step`` returns; ``.graph`` is the forward graph of the last signature."""

    def __init__(self, model, loss_fn: Callable, optimizer):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.schedules: dict[tuple, _Schedule] = {}
        self.graph: Graph | None = None

    def _forward_fn(self, *inputs):
        return self.loss_fn(self.model(inputs[0]), *inputs[1:])

    def _schedule(self, inputs: tuple) -> _Schedule:
        sig = signature(inputs)
        schedule = self.schedules.get(sig)
        if schedule is None:
            with grad_mode.no_grad():
                graph, _ = record(self._forward_fn, inputs, module_names(self.model))
            from .passes import dce

            dce(graph)
            graph.changed()
            schedule = self.schedules[sig] = _Schedule(graph)
            self.graph = graph
        return schedule

    def __call__(self, *inputs) -> Tensor:
        schedule = self._schedule(inputs)
        loss, grads = self._forward_backward(schedule, inputs)
        with grad_mode.no_grad():
            for slot, param in schedule.params:
                g = grads[slot]
                if g is not None and (g.grad_fn is not None or not g.array.flags.writeable):
                    g = _wrap(g.array.copy(), False, None, 0)
                param.grad = g
        self.optimizer.step()
        return loss.detach()

    def _forward_backward(self, schedule: _Schedule, inputs: tuple):
        plan = schedule.plan
        env = list(plan.template)
        for slot, x in zip(plan.input_slots, inputs):
            env[slot] = x
        routes = schedule.routes
        saved = []  # per node: (op node, output slots) or (isolated inputs, outputs, routes)
        prev = _state.enabled
        _state.enabled = True
        try:
            for (fn, get, out_slots, multi, _free), route in zip(plan.steps, routes):
                args, kwargs = get(env)
                if route is None:
                    saved.append(_isolate(args, kwargs, fn, out_slots, multi, env))
                    continue
                result = fn(*args)
                first = result[0] if multi else result
                if multi:
                    for slot, r in zip(out_slots, result):
                        env[slot] = r
                else:
                    env[out_slots[0]] = result
                saved.append(first.grad_fn if isinstance(first, Tensor) else None)
        finally:
            _state.enabled = prev
        loss = env[schedule.loss_slot]
        grads: list = [None] * len(env)
        grads[schedule.loss_slot] = ones_like(loss)
        _state.enabled = False
        try:
            for i in range(len(saved) - 1, -1, -1):
                entry = saved[i]
                if entry is None:
                    continue
                out_slots = plan.steps[i][2]
                grad_outputs = [grads[s] for s in out_slots]
                if all(g is None for g in grad_outputs):
                    continue
                if isinstance(entry, _AutogradNode):
                    _op_backward(entry, grad_outputs, routes[i], grads, env, out_slots)
                else:
                    _isolated_backward(entry, grad_outputs, grads)
        finally:
            _state.enabled = prev
        return loss, grads


def _accumulate(grads: list, slot: int, g) -> None:
    current = grads[slot]
    grads[slot] = g if current is None else current + g


def _op_backward(node, grad_outputs, route, grads, env, out_slots) -> None:
    if node._n_outputs > 1:
        from ..creation import zeros_like

        grad_outputs = [g if g is not None else zeros_like(env[s]) for g, s in zip(grad_outputs, out_slots)]
    result = type(node).backward(node, *grad_outputs)
    if type(result) is not tuple:
        result = (result,)
    for position, slot in route:
        g = result[position] if position < len(result) else None
        if g is not None:
            _accumulate(grads, slot, g)


def _isolate(args, kwargs, fn, out_slots, multi, env):
    """Run a node on detached copies of its inputs so its own graph can be differentiated alone."""
    from .ir import map_values  # noqa: F401  (kept for symmetry with the executor)

    cut: list[tuple[int, Tensor]] = []
    slot_of = {id(env[s]): s for s in range(len(env)) if env[s] is not None and isinstance(env[s], Tensor)}

    def detach(x):
        if isinstance(x, Tensor) and x.requires_grad:
            leaf = x.detach().requires_grad_()
            cut.append((slot_of.get(id(x)), leaf))
            return leaf
        if isinstance(x, (tuple, list)):
            return type(x)(detach(i) for i in x)
        return x

    args, kwargs = detach(list(args)), {k: detach(v) for k, v in kwargs.items()}
    result = fn(*args, **kwargs)
    outputs = result if multi else (result,)
    for slot, r in zip(out_slots, outputs):
        env[slot] = r
    return (cut, outputs)


def _isolated_backward(entry, grad_outputs, grads) -> None:
    from ..autograd import grad as autograd_grad

    cut, outputs = entry
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
             if g is not None and isinstance(o, Tensor) and o.requires_grad]
    if not pairs or not cut:
        return
    found = autograd_grad([o for o, _ in pairs], [leaf for _, leaf in cut], [g for _, g in pairs],
                          allow_unused=True)
    for (slot, _), g in zip(cut, found):
        if g is not None and slot is not None:
            _accumulate(grads, slot, g)
