"""Undoing broadcasting in backward: sum a gradient down to an input's shape."""

from __future__ import annotations


def sum_to(grad, shape: tuple):
    """Sum ``grad`` (a Tensor) over the dimensions that broadcasting added or stretched."""
    gshape = grad.array.shape
    if gshape == shape:
        return grad
    from .reduce import Sum
    from .shape import Reshape

    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1
    )
    if dims:
        grad = Sum.apply(grad, dims, False, None)
    if grad.array.shape != shape:
        grad = Reshape.apply(grad, shape)
    return grad
