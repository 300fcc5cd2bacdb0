"""Run a Graph: each node calls its Op's ``apply`` on tensors, so autograd works exactly as in eager mode.

The graph is compiled once into a *plan*: every Value gets a slot in a flat list,
parameters and constants are placed in it up front, and each node knows where
its arguments come from and which slots die after it (liveness), so
intermediates are freed as early as eager Python would free them.
"""

from __future__ import annotations

from ..tensor import Tensor, _wrap
from .ir import COMPUTED, INPUT, Graph, Value, for_each_value, map_values


class Plan:
    """A graph compiled for repeated runs: slots, argument getters, frees."""

    def __init__(self, graph: Graph):
        self.graph = graph
        slots: dict[Value, int] = {}
        for value in graph.all_values():
            slots[value] = len(slots)
        self.slots = slots
        template: list = [None] * len(slots)
        for value in graph.params + graph.constants:
            template[slots[value]] = value.tensor
        self.template = template
        self.input_slots = [slots[v] for v in graph.inputs]
        last_use: dict[Value, int] = {}
        for i, node in enumerate(graph.nodes):
            for value in node.inputs():
                last_use[value] = i
        keep = set(graph.output_values())
        frees: list[list[int]] = [[] for _ in graph.nodes]
        for value, i in last_use.items():
            if value.kind in (COMPUTED, INPUT) and value not in keep:
                frees[i].append(slots[value])
        self.steps = []
        for node, free in zip(graph.nodes, frees):
            out_slots = [slots[o] for o in node.outputs]
            self.steps.append((node.fn, self._getter(node), out_slots, node.multi, free))
        self.output_structure = graph.outputs

    def _getter(self, node):
        """A function env -> (args, kwargs) for ``node``; flat argument lists take a fast path."""
        slots = self.slots
        args, kwargs = node.args, node.kwargs
        flat = not _contains_value(kwargs) and all(
            isinstance(a, Value) or not _contains_value(a) for a in args)
        if flat:
            spec = [(True, slots[a]) if isinstance(a, Value) else (False, a) for a in args]

            def get(env):
                return [env[x] if is_value else x for is_value, x in spec], kwargs

            return get

        def get_nested(env):
            pick = lambda v: env[slots[v]]  # noqa: E731
            return map_values(args, pick), map_values(kwargs, pick)

        return get_nested

    def run(self, inputs) -> object:
        env = list(self.template)
        if len(inputs) != len(self.input_slots):
            raise TypeError(
                f"this graph takes {len(self.input_slots)} input(s) "
                f"({', '.join(v.name for v in self.graph.inputs)}), but {len(inputs)} were given")
        for slot, value in zip(self.input_slots, inputs):
            env[slot] = value if isinstance(value, Tensor) else _as_tensor(value)
        for fn, get, out_slots, multi, free in self.steps:
            args, kwargs = get(env)
            result = fn(*args, **kwargs)
            if multi:
                for slot, r in zip(out_slots, result):
                    env[slot] = r
            else:
                env[out_slots[0]] = result
            for slot in free:
                env[slot] = None
        slots = self.slots
        return map_values(self.output_structure, lambda v: env[slots[v]])


def _contains_value(structure) -> bool:
    found = []
    for_each_value(structure, found.append)
    return bool(found)


def _as_tensor(value) -> Tensor:
    from ..backend import array_types

    if isinstance(value, array_types()):
        return _wrap(value, False, None, 0)
    from ..creation import tensor

    return tensor(value)


def plan_for(graph: Graph) -> Plan:
    plan = graph._plan
    if plan is None:
        plan = graph._plan = Plan(graph)
    return plan


def execute(graph: Graph, inputs) -> object:
    """Run ``graph`` on ``inputs`` (Tensors or arrays, one per graph input); return its outputs."""
    return plan_for(graph).run(tuple(inputs))
