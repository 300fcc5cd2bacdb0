"""Undoing broadcasting in backward: sum a gradient down to an input's shape."""

from __future__ import annotations


def sum_to(grad, shape: tuple):
    """Sum ``grad`` (a Tensor) over the dimensions that broadcasting added or stretched."""
    gshape = grad.array.shape
    if gshape == shape:
        return grad
    from .reduce import Sum
    from .shape import Reshape

    dims = _broadcast_dims(gshape, shape)
    if dims:
        grad = Sum.apply(grad, dims, False, None)
    if grad.array.shape != shape:
        grad = Reshape.apply(grad, shape)
    return grad


def sum_to_array(grad, shape: tuple):
    """``sum_to`` on a raw array: for backward's fast path when no graph is recorded."""
    if grad.shape == shape:
        return grad
    dims = _broadcast_dims(grad.shape, shape)
    if dims:
        grad = grad.sum(axis=dims)
    return grad.reshape(shape)


def _broadcast_dims(gshape: tuple, shape: tuple) -> tuple:
    """The dimensions of ``gshape`` that broadcasting ``shape`` up to it added or stretched."""
    lead = len(gshape) - len(shape)
    stretched = tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    return tuple(range(lead)) + stretched
