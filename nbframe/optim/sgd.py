"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..backend import cuda as _cuda
from ..backend import get_array_module
from ._checks import check_nonnegative, reject_unsupported
from .optimizer import Optimizer, state_tensor


class SGD(Optimizer):
    """PyTorch's SGD: ``buf = momentum * buf + (1 - dampening) * g``; ``p -= lr * (g + momentum * buf)``
    with Nesterov, else ``p -= lr * buf`` (the first step's buffer is the gradient itself)."""

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None):
        check_nonnegative("lr", lr, "learning rate")
        check_nonnegative("momentum", momentum)
        check_nonnegative("weight_decay", weight_decay)
        reject_unsupported(differentiable)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def _update(self, param, grad, state: dict, group: dict[str, Any]) -> None:
        sgd_update(param, grad, state, group["lr"], group["momentum"], group["dampening"],
                   group["weight_decay"], group["nesterov"], group["maximize"])


def sgd_update(param, grad, state: dict, lr: float, momentum: float, dampening: float,
               weight_decay: float, nesterov: bool, maximize: bool) -> None:
    """One SGD step of one parameter, in place on its array (NumPy or CuPy)."""
    if _cuda.has_kernel_dtype(param) and param.flags.c_contiguous:  # one launch: kernels/optimizers.cu
        buf_t = state.get("momentum_buffer")
        buf = _cuda.sgd_step(param, grad, None if buf_t is None else buf_t.array, lr, momentum, dampening,
                             weight_decay, nesterov, maximize)
        if buf_t is None and buf is not None:
            state["momentum_buffer"] = state_tensor(buf)
        return
    xp = get_array_module(param)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    if momentum != 0:
        buf_t = state.get("momentum_buffer")
        if buf_t is None:
            buf = xp.array(grad, copy=True)
            state["momentum_buffer"] = state_tensor(buf)
        else:
            buf = buf_t.array
            buf *= momentum
            if dampening == 0:
                buf += grad
            else:
                buf += (1 - dampening) * grad
        if nesterov:
            grad = grad + momentum * buf
        else:
            grad = buf
    step = grad * -lr
    param += step
