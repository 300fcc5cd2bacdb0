"""``nbframe.nn.utils``: gradient clipping, parameters as one vector, and ``nn.utils.rnn``.

The clipping functions work on the gradients' raw arrays, in place and outside
autograd (as PyTorch's do under ``no_grad``): they sit between ``backward()``
and ``optimizer.step()`` on every training step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ...backend import get_array_module
from ...tensor import Tensor, _wrap
from . import rnn

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters", "rnn"]


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters) -> list:
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` taken together, as if concatenated into one vector."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        from ...creation import tensor

        return tensor(0.0)
    xp = get_array_module(tensors[0].array)
    arrays = [t.array for t in tensors]
    if norm_type == math.inf:
        total = xp.max(xp.stack([xp.max(xp.abs(a)) if a.size else xp.zeros((), a.dtype) for a in arrays]))
    elif norm_type == -math.inf:
        total = xp.min(xp.stack([xp.min(xp.abs(a)) for a in arrays if a.size]))
    else:
        norms = xp.stack([_vector_norm(xp, a, norm_type) for a in arrays])
        total = _vector_norm(xp, norms, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the non-finite "
            "norm anyway, set `error_if_nonfinite=False`"
        )
    return _wrap(xp.asarray(total, dtype=arrays[0].dtype), False, None, 0)


def _vector_norm(xp, a, p: float):
    if p == 2.0:
        return xp.sqrt(xp.vdot(a.ravel(), a.ravel()).real).astype(a.dtype)
    if p == 1.0:
        return xp.sum(xp.abs(a)).astype(a.dtype)
    if p == 0.0:
        return xp.asarray(xp.count_nonzero(a), dtype=a.dtype)
    return (xp.sum(xp.abs(a) ** p) ** (1.0 / p)).astype(a.dtype)


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scale the gradients by ``max_norm / (total_norm + 1e-6)`` when that is below 1."""
    grads = _grads(parameters)
    if not grads:
        return
    coef = min(float(max_norm) / (float(total_norm.item()) + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):  # an infinite gradient times 0 is NaN, as in PyTorch
        for g in grads:
            g.array *= g.array.dtype.type(coef)
            g._version[0] += 1


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale the gradients in place so that their total norm is at most ``max_norm``; return the norm.

    The norm is taken over all gradients together, as if concatenated into one vector.
    """
    parameters = _as_list(parameters)
    grads = _grads(parameters)
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        xp = get_array_module(g.array)
        xp.clip(g.array, -clip_value, clip_value, out=g.array)
        g._version[0] += 1


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    from ...ops import cat

    parameters = list(parameters)
    _check_same_device(parameters)
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy slices of the 1-D ``vec`` into the parameters' data, in order (the inverse of the above).

    As in PyTorch, each parameter then views ``vec``'s memory.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected nbframe.Tensor, but got: {type(vec).__name__}")
    parameters = list(parameters)
    _check_same_device([vec, *parameters])
    needed = sum(p.numel() for p in parameters)
    if vec.numel() != needed:
        raise RuntimeError(
            f"vector_to_parameters: vec has {vec.numel()} elements but the parameters need {needed}"
        )
    flat = vec.array.reshape(-1)
    pointer = 0
    for param in parameters:
        n = param.numel()
        chunk = flat[pointer:pointer + n].reshape(param.array.shape)
        param.array = chunk.astype(param.array.dtype, copy=False)
        param._version[0] += 1
        pointer += n


def _check_same_device(tensors: list) -> None:
    devices = {str(t.device) for t in tensors}
    if len(devices) > 1:
        raise TypeError(
            f"Found two parameters on different devices ({', '.join(sorted(devices))}), "
            "this is currently not supported."
        )
