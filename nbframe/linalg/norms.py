"""Vector and matrix norms: ``vector_norm``, ``matrix_norm``, ``norm``.

They are built from ops that already have gradients (``Norm``, ``abs``,
``sum``, ``amax``, and ``svdvals`` for the spectral and nuclear norms).
"""

from __future__ import annotations

import math

from ..ops.reduce import Norm, normalize_dims
from ._out import accepts_out

__all__ = ["norm", "vector_norm", "matrix_norm"]


@accepts_out("vector_norm")
def vector_norm(x, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None):
    """The ``ord``-norm of ``x`` as a vector (all elements, or over ``dim``): 2, 1, inf, -inf, 0 or any p."""
    if isinstance(ord, str) or isinstance(ord, bool):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    if dtype is not None:
        x = x.to(dtype)
    return Norm.apply(x, float(ord), dim, keepdim)


def _matrix_dims(op: str, A, dim) -> tuple:
    if A.array.ndim < 2:
        raise RuntimeError(f"linalg.{op}: The input tensor A must have at least 2 dimensions.")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"linalg.{op}: dim must be a 2-tuple. Got {dim}")
    d0, d1 = (normalize_dims((d,), A.array.ndim, f"linalg.{op}")[0] for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


@accepts_out("matrix_norm")
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None):
    """A matrix norm over the two dims ``dim``: 'fro', or 1/-1 (max/min column sum), inf/-inf (row sum)."""
    d0, d1 = _matrix_dims("matrix_norm", A, dim)
    if dtype is not None:
        A = A.to(dtype)
    if ord == "fro":
        return Norm.apply(A, 2.0, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        return _spectral_norm(A, ord, d0, d1, keepdim)
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    summed, picked = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = A.abs().sum(summed, keepdim=True)
    result = sums.amax(picked, keepdim=True) if ord > 0 else sums.amin(picked, keepdim=True)
    if keepdim:
        return result
    return result.reshape(tuple(n for k, n in enumerate(result.shape) if k not in (d0, d1)))


def _spectral_norm(A, ord, d0: int, d1: int, keepdim: bool):
    """'nuc' (sum of singular values), 2 (the largest) or -2 (the smallest), over dims ``d0``, ``d1``."""
    from .svd import svdvals

    values = svdvals(A.movedim((d0, d1), (-2, -1)))
    result = values.sum(-1) if ord == "nuc" else values.amax(-1) if ord == 2 else values.amin(-1)
    if keepdim:
        for d in sorted((d0, d1)):
            result = result.unsqueeze(d)
    return result


@accepts_out("norm")
def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None):
    """A vector norm (``dim`` an int, or 1-D input) or a matrix norm (``dim`` a pair, or 2-D input).

    With neither ``ord`` nor ``dim``, the 2-norm of all elements, whatever the shape.
    """
    ndim = A.array.ndim
    if dim is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim, dtype=dtype)
        if ndim not in (1, 2):
            raise RuntimeError(
                f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {ndim}D."
            )
        dim = (0,) if ndim == 1 else (0, 1)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) == 1:
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if len(dims) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
