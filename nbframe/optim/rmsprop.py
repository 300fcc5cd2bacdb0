"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..backend import get_array_module
from ._checks import check_nonnegative, reject_unsupported
from .optimizer import Optimizer, new_step, state_tensor


class RMSprop(Optimizer):
    """PyTorch's RMSprop: ``v = alpha * v + (1 - alpha) * g²``; ``p -= lr * g / (sqrt(v) + eps)``;
    ``centered`` subtracts the squared running mean of ``g`` from ``v``; ``momentum`` smooths the step."""

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False):
        check_nonnegative("lr", lr, "learning rate")
        check_nonnegative("eps", eps, "epsilon")
        check_nonnegative("momentum", momentum)
        check_nonnegative("weight_decay", weight_decay)
        check_nonnegative("alpha", alpha)
        reject_unsupported(differentiable, capturable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state: dict, group: dict[str, Any]) -> None:
        rmsprop_update(param, grad, state, group["lr"], group["alpha"], group["eps"], group["weight_decay"],
                       group["momentum"], group["centered"], group["maximize"])


def rmsprop_update(param, grad, state: dict, lr: float, alpha: float, eps: float, weight_decay: float,
                   momentum: float, centered: bool, maximize: bool) -> None:
    """One RMSprop step of one parameter, in place on its array (NumPy or CuPy)."""
    xp = get_array_module(param)
    if not state:
        state["step"] = new_step()
        state["square_avg"] = state_tensor(xp.zeros_like(param))
        if momentum > 0:
            state["momentum_buffer"] = state_tensor(xp.zeros_like(param))
        if centered:
            state["grad_avg"] = state_tensor(xp.zeros_like(param))
    if maximize:
        grad = -grad
    state["step"].array += 1
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg = state["square_avg"].array
    avg = xp.multiply(grad, grad, out=xp.empty_like(param))  # square_avg = alpha * v + (1 - alpha) * g²
    avg *= 1 - alpha
    square_avg *= alpha
    square_avg += avg
    if centered:
        grad_avg = state["grad_avg"].array          # grad_avg.lerp_(grad, 1 - alpha)
        xp.subtract(grad, grad_avg, out=avg)
        avg *= 1 - alpha
        grad_avg += avg
        xp.multiply(grad_avg, grad_avg, out=avg)
        xp.subtract(square_avg, avg, out=avg)
        xp.sqrt(avg, out=avg)
    else:
        xp.sqrt(square_avg, out=avg)
    avg += eps
    xp.divide(grad, avg, out=avg)
    if momentum > 0:
        buf = state["momentum_buffer"].array
        buf *= momentum
        buf += avg
        xp.multiply(buf, -lr, out=avg)
    else:
        avg *= -lr
    param += avg
