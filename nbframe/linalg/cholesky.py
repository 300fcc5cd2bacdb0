"""Cholesky factorisation: ``A = L @ L.mT`` for symmetric positive-definite ``A``.

Only the lower triangle of ``A`` is read. The gradient is PyTorch's symmetric
one, L⁻ᵀ Φ(Lᵀ gL) L⁻¹ with Φ taking the lower triangle and halving the
diagonal; it is written with ``solve`` so it can be differentiated again.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Op
from ..backend import get_array_module
from ._checks import require_square
from ._out import accepts_out
from .inverse import Solve

__all__ = ["cholesky"]


class Cholesky(Op):
    """The lower-triangular L (or its transpose with ``upper``) with ``A = L Lᵀ``."""

    label = "linalg_cholesky"

    @staticmethod
    def forward(ctx, a, upper):
        lower = _factor(get_array_module(a), a)
        if lower is None:
            raise _not_positive_definite(a)
        out = lower.swapaxes(-1, -2).copy() if upper else lower
        ctx.upper = upper
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        lower, grad_lower = (out.mT, grad.mT) if ctx.upper else (out, grad)
        phi = (lower.mT @ grad_lower).tril()
        phi = 0.5 * (phi + phi.tril(-1).mT)
        left = Solve.apply(lower.mT, phi)  # L⁻ᵀ Φ
        return Solve.apply(lower.mT, left.mT).mT, None  # (L⁻ᵀ Φ) L⁻¹


def _factor(xp, a):
    """The lower Cholesky factor, or None where ``a`` is not positive-definite (NumPy raises; CuPy, by
    default, returns NaN instead)."""
    try:
        lower = xp.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return None
    if xp is not np and bool(xp.isnan(lower).any()):
        return None
    return lower


def _not_positive_definite(a) -> RuntimeError:
    """PyTorch's error, naming the first failing batch element and its smallest leading minor that is not
    positive-definite (found by bisection: once a leading minor fails, every larger one does)."""
    xp = get_array_module(a)
    matrices = a.reshape((-1,) + a.shape[-2:])
    element = next((i for i in range(matrices.shape[0]) if _factor(xp, matrices[i]) is None), 0)
    matrix = matrices[element]
    low, high = 1, matrix.shape[-1]  # the answer lies in [low, high]
    while low < high:
        middle = (low + high) // 2
        if _factor(xp, matrix[:middle, :middle]) is not None:
            low = middle + 1
        else:
            high = middle
    where = f"(Batch element {element}): " if a.ndim > 2 else ""
    return RuntimeError(
        f"linalg.cholesky: {where}The factorization could not be completed because the input is not "
        f"positive-definite (the leading minor of order {low} is not positive-definite)."
    )


@accepts_out("cholesky")
def cholesky(A, *, upper: bool = False):
    """The Cholesky factor L (lower triangular, positive diagonal) with ``A = L @ L.mT``; with ``upper=True``,
    ``U = L.mT`` with ``A = U.mT @ U``."""
    require_square("cholesky", A.array)
    return Cholesky.apply(A, bool(upper))
