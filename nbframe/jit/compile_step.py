"""``nf.jit.compile_step(model, loss_fn, optimizer)``: a whole training step from one traced graph.

The forward pass ``loss_fn(model(*inputs), *targets)`` is traced once per input signature (shapes,
dtypes, devices and the model's train/eval mode) into a ``StepProgram``: the graph's nodes, a static
backward schedule, and the optimiser's update on the raw arrays (``step_program`` and
``fused_update`` say how). A call checks the signature, then runs it.

The loss (detached), the gradients in ``.grad`` and the parameters and optimiser state afterwards are
those of the eager step ``zero_grad(); loss_fn(model(x), y).backward(); step()`` (tested).
"""

from __future__ import annotations

from collections.abc import Callable

from ..autograd import grad_mode
from ..tensor import Tensor
from .fused_update import updates_for
from .ir import Graph
from .step_program import StepProgram
from .trace import module_names, record, signature


def compile_step(model, loss_fn: Callable, optimizer) -> CompiledStep:
    """A function ``step(input, target, ...)`` that does zero_grad, forward, backward and
    ``optimizer.step()`` and returns the loss (detached). ``loss_fn(model(input), target, ...)``."""
    return CompiledStep(model, loss_fn, optimizer)


class CompiledStep:
    """The callable ``compile_step`` returns; ``.graph`` is the forward graph of the last signature and
    ``.programs`` holds one compiled step per signature seen."""

    def __init__(self, model, loss_fn: Callable, optimizer):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.programs: dict[tuple, StepProgram] = {}
        self.graph: Graph | None = None
        self._updates = updates_for(optimizer)

    def __call__(self, *inputs) -> Tensor:
        return self._program(inputs).run(inputs, self._updates)

    def _program(self, inputs: tuple) -> StepProgram:
        key = _fast_signature(inputs, self.model)
        program = self.programs.get(key)
        if program is None:
            with grad_mode.no_grad():
                graph, _ = record(self._forward_fn, inputs, module_names(self.model))
            from .passes import dce

            dce(graph)
            graph.changed()
            program = self.programs[key] = StepProgram(graph)
            self.graph = graph
        return program

    def _forward_fn(self, *inputs):
        return self.loss_fn(self.model(inputs[0]), *inputs[1:])


def _fast_signature(inputs: tuple, model) -> tuple:
    """What a program is specialised to: each input array's shape, dtype and type (any non-Tensor
    input by ``trace.signature``'s rules) and whether the model is training."""
    key = [getattr(model, "training", None)]
    for x in inputs:
        if type(x) is Tensor:
            a = x.array
            key.append((a.shape, a.dtype, type(a)))
        else:
            key.append(signature((x,)))
    return tuple(key)
