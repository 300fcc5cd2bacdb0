"""Reductions: ``sum``, ``mean`` and the other ops that collapse dimensions.

``dim`` may be an int, a tuple of ints or None (all dimensions); ``keepdim``
keeps the reduced dimensions with size 1, as in PyTorch.
"""

from __future__ import annotations

from .. import dtypes
from ..autograd.function import Op
from ..backend import get_array_module

__all__ = ['sum', 'mean']


def normalize_dims(dim, ndim: int, op: str) -> tuple:
    """``dim`` as a sorted tuple of non-negative axes, with PyTorch's error for one out of range."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        dims = dim
    else:
        dims = (dim,)
    n = max(ndim, 1)
    out = []
    for d in dims:
        d = int(d)
        if not -n <= d < n:
            raise IndexError(
                f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
        out.append(d % n)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {list(dims)} appears multiple times in the list of dims")
    return tuple(sorted(out)) if ndim else ()


def expand_reduced(grad, in_shape: tuple, dims: tuple, keepdim: bool):
    """Broadcast a reduced gradient back to the input's shape (the backward of every reduction)."""
    from .shape import Expand, Reshape

    if not keepdim and dims:
        kept = list(in_shape)
        for d in dims:
            kept[d] = 1
        grad = Reshape.apply(grad, tuple(kept))
    if grad.array.shape != in_shape:
        grad = Expand.apply(grad, in_shape)
    return grad


def _sum_dtype(x):
    # PyTorch sums bool and integer tensors as int64.
    return x.dtype if x.dtype.kind == "f" else dtypes.int64.numpy


class Sum(Op):
    label = "sum"

    @staticmethod
    def forward(ctx, x, dim, keepdim, dtype=None):
        dims = normalize_dims(dim, x.ndim, "sum")
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        xp = get_array_module(x)
        target = dtypes.to_numpy(dtypes.as_dtype(dtype)) if dtype is not None else _sum_dtype(x)
        return xp.asarray(xp.sum(x, axis=dims, keepdims=keepdim, dtype=target))

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(grad, ctx.in_shape, ctx.dims, ctx.keepdim), None, None, None


class Mean(Op):
    label = "mean"

    @staticmethod
    def forward(ctx, x, dim, keepdim, dtype=None):
        if dtype is None and x.dtype.kind != "f":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                f"complex dtype. Got: {dtypes.from_numpy(x.dtype).name.capitalize()}"
            )
        dims = normalize_dims(dim, x.ndim, "mean")
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        count = 1
        for d in dims:
            count *= x.shape[d]
        ctx.count = count
        xp = get_array_module(x)
        target = dtypes.to_numpy(dtypes.as_dtype(dtype)) if dtype is not None else x.dtype
        return xp.asarray(xp.mean(x, axis=dims, keepdims=keepdim, dtype=target))

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(grad / ctx.count, ctx.in_shape, ctx.dims, ctx.keepdim), None, None, None


def sum(input, dim=None, keepdim: bool = False, *, dtype=None):
    return Sum.apply(input, dim, keepdim, dtype)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None):
    return Mean.apply(input, dim, keepdim, dtype)


TENSOR_METHODS = {"sum": sum, "mean": mean}
