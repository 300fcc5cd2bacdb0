"""``nbframe.linalg``: PyTorch's ``torch.linalg`` namespace (norms, ``inv``, ``det``, ``solve``).

The norms are built from ops that already have gradients (``Norm``, ``abs``,
``sum``, ``amax``). ``inv``, ``det`` and ``solve`` are ops of their own whose
backward is written with ``inv``/``solve``/``matmul`` on the saved output, so
their gradients can be differentiated again (``create_graph=True``).
"""

from __future__ import annotations

import math

import numpy as np

from .autograd.function import Op
from .backend import get_array_module
from .ops.broadcast import sum_to
from .ops.reduce import Norm, normalize_dims

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "det", "solve"]


# --------------------------------------------------------------------------- checks
def _require_square(op: str, a) -> None:
    if a.dtype.kind != "f":
        kind = "Long" if a.dtype.kind in "iu" else str(a.dtype).capitalize()
        raise RuntimeError(f"linalg.{op}: Expected a floating point or complex tensor as input. Got {kind}")
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{op}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"linalg.{op}: A must be batches of square matrices, but they are {a.shape[-2]} by {a.shape[-1]} "
            "matrices"
        )


def _singular(op: str) -> RuntimeError:
    return RuntimeError(f"linalg.{op}: The input matrix is singular, so {op} could not be completed.")


# --------------------------------------------------------------------------- ops
class Inv(Op):
    """The inverse of each square matrix; d(A⁻¹) = -A⁻¹ dA A⁻¹, so grad A = -A⁻ᵀ grad A⁻ᵀ."""

    label = "linalg_inv"

    @staticmethod
    def forward(ctx, a):
        _require_square("inv", a)
        xp = get_array_module(a)
        try:
            out = xp.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise _singular("inv") from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        inverse_t = out.mT
        return -(inverse_t @ grad @ inverse_t)


class Det(Op):
    """The determinant of each square matrix; grad A = grad · det(A) · A⁻ᵀ (A must be invertible)."""

    label = "linalg_det"

    @staticmethod
    def forward(ctx, a):
        _require_square("det", a)
        out = get_array_module(a).linalg.det(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        scale = (grad * out).unsqueeze(-1).unsqueeze(-1)
        return scale * Inv.apply(a).mT


class Solve(Op):
    """X with A X = B for batches of matrices (batches broadcast); grad B = A⁻ᵀ grad, grad A = -grad B Xᵀ."""

    label = "linalg_solve"

    @staticmethod
    def forward(ctx, a, b):
        xp = get_array_module(a)
        try:
            out = xp.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise _singular("solve") from None
        ctx.shapes = (a.shape, b.shape)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        shape_a, shape_b = ctx.shapes
        grad_b = Solve.apply(a.mT, grad)
        grad_a = -(grad_b @ out.mT) if ctx.needs_input_grad[0] else None
        return (None if grad_a is None else sum_to(grad_a, shape_a),
                sum_to(grad_b, shape_b) if ctx.needs_input_grad[1] else None)


# --------------------------------------------------------------------------- public functions
def inv(A, *, out=None):
    """The inverse of each square matrix in the last two dims of ``A``."""
    return Inv.apply(A)


def det(A, *, out=None):
    """The determinant of each square matrix in the last two dims of ``A``."""
    return Det.apply(A)


def solve(A, B, *, left: bool = True, out=None):
    """The solution X of ``A @ X = B`` (``X @ A = B`` with ``left=False``); B may be a vector (batch)."""
    if not left:
        return solve(A.mT, B.mT).mT
    a, b = A.array, B.array
    _require_square("solve", a)
    as_vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    rows = b.shape[-1] if as_vector else b.shape[-2] if b.ndim >= 2 else b.shape[-1]
    if rows != a.shape[-1]:
        cols = 1 if as_vector else b.shape[-1]
        raise RuntimeError(
            "linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({a.shape[-2]}x{a.shape[-1]} and {rows}x{cols})"
        )
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"linalg.solve: Expected A and B to have the same dtype, got {A.dtype} and {B.dtype}"
        )
    if as_vector:
        return Solve.apply(A, B.unsqueeze(-1)).squeeze(-1)
    return Solve.apply(A, B)


def vector_norm(x, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None, out=None):
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


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None, out=None):
    """A matrix norm over the two dims ``dim``: 'fro', or 1/-1 (max/min column sum), inf/-inf (row sum)."""
    d0, d1 = _matrix_dims("matrix_norm", A, dim)
    if dtype is not None:
        A = A.to(dtype)
    if ord == "fro":
        return Norm.apply(A, 2.0, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(
            f"linalg.matrix_norm: ord={ord!r} needs singular values, which nbframe does not compute yet; "
            "use ord='fro', 1, -1, inf or -inf"
        )
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    summed, picked = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = A.abs().sum(summed, keepdim=True)
    result = sums.amax(picked, keepdim=True) if ord > 0 else sums.amin(picked, keepdim=True)
    if keepdim:
        return result
    return result.reshape(tuple(n for k, n in enumerate(result.shape) if k not in (d0, d1)))


def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None, out=None):
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
