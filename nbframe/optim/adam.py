"""Adam (with AMSGrad) and AdamW, whose weight decay shrinks the weights instead of the gradient."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..backend import cuda as _cuda
from ..backend import get_array_module
from ._checks import check_betas, check_nonnegative, reject_unsupported
from .optimizer import Optimizer, new_step, state_tensor


class Adam(Optimizer):
    """PyTorch's Adam: bias-corrected first and second moment estimates of the gradient.

    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2), unless
    ``decoupled_weight_decay=True``, which is AdamW.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False):
        check_nonnegative("lr", lr, "learning rate")
        check_nonnegative("eps", eps, "epsilon")
        check_betas(betas)
        check_nonnegative("weight_decay", weight_decay)
        reject_unsupported(differentiable, capturable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, param, grad, state: dict, group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        adam_update(param, grad, state, group["lr"], beta1, beta2, group["eps"], group["weight_decay"],
                    group["amsgrad"], group["maximize"], group["decoupled_weight_decay"])


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         foreach=foreach, maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused, decoupled_weight_decay=True)


def adam_update(param, grad, state: dict, lr: float, beta1: float, beta2: float, eps: float,
                weight_decay: float, amsgrad: bool, maximize: bool, decoupled: bool) -> None:
    """One Adam/AdamW step of one parameter, in place on its array (NumPy or CuPy)."""
    xp = get_array_module(param)
    if not state:
        state["step"] = new_step()
        state["exp_avg"] = state_tensor(xp.zeros_like(param))
        state["exp_avg_sq"] = state_tensor(xp.zeros_like(param))
        if amsgrad:
            state["max_exp_avg_sq"] = state_tensor(xp.zeros_like(param))
    if _cuda.has_kernel_dtype(param) and param.flags.c_contiguous:  # one launch: kernels/optimizers.cu
        step_t = state["step"].array
        step_t += 1
        max_sq = state["max_exp_avg_sq"].array if amsgrad else None
        _cuda.adam_step(param, grad, state["exp_avg"].array, state["exp_avg_sq"].array, max_sq, int(step_t),
                        lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad, maximize)
        return
    if maximize:
        grad = -grad
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    step_t = state["step"].array
    step_t += 1
    step = float(step_t)
    exp_avg = state["exp_avg"].array
    exp_avg_sq = state["exp_avg_sq"].array

    scratch = xp.subtract(grad, exp_avg, out=xp.empty_like(param))  # exp_avg.lerp_(grad, 1 - beta1)
    scratch *= 1 - beta1
    exp_avg += scratch
    xp.multiply(grad, grad, out=scratch)          # exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g²
    scratch *= 1 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += scratch

    second = exp_avg_sq
    if amsgrad:
        second = state["max_exp_avg_sq"].array
        xp.maximum(second, exp_avg_sq, out=second)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
    denom = xp.sqrt(second, out=scratch)          # denom = sqrt(v) / sqrt(bc2) + eps
    denom /= bias_correction2_sqrt
    denom += eps
    xp.divide(exp_avg, denom, out=denom)
    denom *= -lr / bias_correction1
    param += denom
