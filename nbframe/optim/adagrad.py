"""Adagrad: per-coordinate learning rates that shrink with the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..backend import get_array_module
from ._checks import check_nonnegative, reject_unsupported
from .optimizer import Optimizer, new_step, state_tensor


class Adagrad(Optimizer):
    """PyTorch's Adagrad: ``s += g²``; ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)``.

    Its state is created with the optimiser (``sum`` starts at ``initial_accumulator_value``).
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None):
        check_nonnegative("lr", lr, "learning rate")
        check_nonnegative("lr_decay", lr_decay)
        check_nonnegative("weight_decay", weight_decay)
        check_nonnegative("initial_accumulator_value", initial_accumulator_value)
        check_nonnegative("eps", eps, "epsilon")
        reject_unsupported(differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _init_group_state(self, group: dict[str, Any]) -> None:
        for p in group["params"]:
            state = self.state[p]
            if state:
                continue
            xp = get_array_module(p.array)
            state["step"] = new_step()
            state["sum"] = state_tensor(xp.full_like(p.array, group["initial_accumulator_value"]))

    def _update(self, param, grad, state: dict, group: dict[str, Any]) -> None:
        adagrad_update(param, grad, state, group["lr"], group["lr_decay"], group["eps"],
                       group["weight_decay"], group["maximize"])


def adagrad_update(param, grad, state: dict, lr: float, lr_decay: float, eps: float, weight_decay: float,
                   maximize: bool) -> None:
    """One Adagrad step of one parameter, in place on its array (NumPy or CuPy)."""
    xp = get_array_module(param)
    step_t = state["step"].array
    step_t += 1
    step = float(step_t)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum = state["sum"].array
    std = xp.multiply(grad, grad, out=xp.empty_like(param))
    state_sum += std
    xp.sqrt(state_sum, out=std)
    std += eps
    xp.divide(grad, std, out=std)
    std *= -clr
    param += std
