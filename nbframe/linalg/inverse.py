"""Inverse, determinants and linear solves: ``inv``, ``det``, ``slogdet``, ``solve``.

Each is an op whose backward is written with ``inv``/``solve``/``matmul`` on
the saved values, so its gradient can be differentiated again
(``create_graph=True``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.function import Op
from ..backend import get_array_module
from ..ops.broadcast import sum_to
from ._checks import require_square, singular
from ._out import accepts_out

__all__ = ["inv", "det", "slogdet", "solve"]

#: PyTorch's ``torch.return_types.linalg_slogdet``.
slogdet_result = namedtuple("linalg_slogdet", ["sign", "logabsdet"])


class Inv(Op):
    """The inverse of each square matrix; d(A⁻¹) = -A⁻¹ dA A⁻¹, so grad A = -A⁻ᵀ grad A⁻ᵀ."""

    label = "linalg_inv"

    @staticmethod
    def forward(ctx, a):
        require_square("inv", a)
        xp = get_array_module(a)
        try:
            out = xp.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise singular("inv") from None
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
        require_square("det", a)
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
            raise singular("solve") from None
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


class SlogDet(Op):
    """(sign, log|det|) of each square matrix; grad A = grad_logabsdet · A⁻ᵀ (the sign has none)."""

    label = "linalg_slogdet"

    @staticmethod
    def forward(ctx, a):
        require_square("slogdet", a)
        sign, logabsdet = get_array_module(a).linalg.slogdet(a)
        ctx.mark_non_differentiable(sign)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(a)
        return sign, logabsdet

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        if grad_logabsdet is None:
            return None
        (a,) = ctx.saved_tensors
        return grad_logabsdet.unsqueeze(-1).unsqueeze(-1) * Inv.apply(a).mT


# --------------------------------------------------------------------------- public functions
@accepts_out("inv")
def inv(A):
    """The inverse of each square matrix in the last two dims of ``A``."""
    return Inv.apply(A)


@accepts_out("det")
def det(A):
    """The determinant of each square matrix in the last two dims of ``A``."""
    return Det.apply(A)


@accepts_out("solve")
def solve(A, B, *, left: bool = True):
    """The solution X of ``A @ X = B`` (``X @ A = B`` with ``left=False``); B may be a vector (batch)."""
    if not left:
        return solve(A.mT, B.mT).mT
    a, b = A.array, B.array
    require_square("solve", a)
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


@accepts_out("slogdet")
def slogdet(A):
    """``(sign, logabsdet)`` of each square matrix: ``det(A) = sign * exp(logabsdet)``, without overflow."""
    return slogdet_result(*SlogDet.apply(A))
