"""Singular value decomposition: ``svd``, ``svdvals`` and the pseudoinverse ``pinv`` built on it.

The gradient is PyTorch's: for ``A = U diag(S) Vh`` with k = min(m, n) singular
values, it is defined where the singular values are distinct and non-zero
(a loss should also not depend on the sign of a singular-vector pair). With
``full_matrices=True`` the extra columns of U (rows of Vh) are an arbitrary
completion and get no gradient, as in PyTorch.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.function import Op
from ..backend import get_array_module
from ..ops.linalg import diag_embed
from ._checks import require_matrix, require_square
from ._out import accepts_out
from .eigh import Eigh, pairwise_differences

__all__ = ["svd", "svdvals", "pinv"]

#: PyTorch's ``torch.return_types.linalg_svd``.
svd_result = namedtuple("linalg_svd", ["U", "S", "Vh"])


class Svd(Op):
    """``U, S, Vh`` with ``A = U diag(S) Vh``; singular values descending."""

    label = "linalg_svd"

    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = get_array_module(a).linalg.svd(a, full_matrices=full_matrices)
        ctx.full_matrices = full_matrices
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, grad_u, grad_s, grad_vh):
        u, s, vh = ctx.saved_tensors
        return _svd_backward(grad_u, grad_s, grad_vh, u, s, vh, ctx.full_matrices), None


def _svd_backward(grad_u, grad_s, grad_vh, u, s, vh, full_matrices: bool):
    m, n, k = u.shape[-2], vh.shape[-1], s.shape[-1]
    if full_matrices:  # only the first k columns of U and rows of Vh are determined by A
        u, vh = u[..., :k], vh[..., :k, :]
        grad_u = None if grad_u is None else grad_u[..., :k]
        grad_vh = None if grad_vh is None else grad_vh[..., :k, :]
    if grad_u is None and grad_vh is None:
        return (u * grad_s.unsqueeze(-2)) @ vh
    v = vh.mT
    grad_v = None if grad_vh is None else grad_vh.mT
    # Off the diagonal: the skew-symmetric parts of Uᵀ gU and Vᵀ gV, each pair (j, k) divided by
    # S_k² - S_j²; on it, the singular values' own gradient.
    inner = 0
    if grad_u is not None:
        u_t_grad_u = u.mT @ grad_u
        inner = (u_t_grad_u - u_t_grad_u.mT) * s.unsqueeze(-2)
    if grad_v is not None:
        v_t_grad_v = v.mT @ grad_v
        inner = inner + s.unsqueeze(-1) * (v_t_grad_v - v_t_grad_v.mT)
    inner = inner / pairwise_differences(s * s)
    if grad_s is not None:
        inner = inner + diag_embed(grad_s)
    # What lies outside the span of U (tall A) or V (wide A) comes back through S⁻¹.
    if m > n and grad_u is not None:
        return (u @ inner + (grad_u - u @ u_t_grad_u) / s.unsqueeze(-2)) @ vh
    if m < n and grad_v is not None:
        return u @ (inner @ vh + (grad_v - v @ v_t_grad_v).mT / s.unsqueeze(-1))
    return u @ inner @ vh


@accepts_out("svd")
def svd(A, full_matrices: bool = True, *, driver=None):
    """``(U, S, Vh)`` with ``A = U @ diag(S) @ Vh``, S descending; U is m×m and Vh n×n unless
    ``full_matrices=False`` (then m×k and k×n, k = min(m, n))."""
    require_matrix("svd", A.array)
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs "
                           "with cuSOLVER backend.")
    return svd_result(*Svd.apply(A, bool(full_matrices)))


@accepts_out("svdvals")
def svdvals(A, *, driver=None):
    """The singular values of ``A`` in descending order (gradient U diag(grad) Vh)."""
    require_matrix("svdvals", A.array)
    return Svd.apply(A, False)[1]


def _tolerance(xp, value, dtype):
    """A tolerance (None, a number or a Tensor of the batch shape) as something that broadcasts over
    each matrix's singular values."""
    from ..tensor import Tensor

    if value is None:
        return None
    if isinstance(value, Tensor):
        return value.array.astype(dtype)[..., None]
    return xp.asarray(value, dtype=dtype)


def _reciprocal_above(values, magnitudes, atol, rtol, shape):
    """1 / values where ``magnitudes`` exceed max(atol, rtol · largest magnitude), else 0 (PyTorch's
    cutoff: rtol defaults to eps · max(m, n) where atol is not given or not positive, else to 0)."""
    from ..tensor import _wrap

    xp = get_array_module(magnitudes)
    dtype = magnitudes.dtype
    atol, rtol = _tolerance(xp, atol, dtype), _tolerance(xp, rtol, dtype)
    if rtol is None:
        default = np.finfo(dtype).eps * max(shape[-2:])
        rtol = default if atol is None else xp.where(atol > 0, dtype.type(0), dtype.type(default))
    largest = magnitudes.max(axis=-1, keepdims=True) if magnitudes.shape[-1] else xp.zeros_like(magnitudes)
    cutoff = rtol * largest if atol is None else xp.maximum(atol, rtol * largest)
    kept = magnitudes > cutoff
    # Reciprocal of 1 where dropped, so neither the value nor its gradient sees 1/0.
    ones_where_dropped = values.masked_fill(_wrap(~kept, False, None, 0), 1.0)
    return ones_where_dropped.reciprocal() * _wrap(kept.astype(dtype), False, None, 0)


@accepts_out("pinv")
def pinv(A, rcond=None, hermitian: bool = False, *, atol=None, rtol=None):
    """The Moore-Penrose pseudoinverse, through the SVD (or ``eigh`` with ``hermitian=True``).

    Singular values at or below max(atol, rtol · σ_max) count as zero; by default rtol = eps · max(m, n).
    ``rcond`` is PyTorch's older name for ``rtol``.
    """
    a = A.array
    require_matrix("pinv", a)
    if rcond is not None:
        if rtol is not None:
            raise RuntimeError("linalg.pinv: give rcond or rtol, not both (rcond is the old name of rtol)")
        rtol = rcond
    if hermitian:
        require_square("pinv", a)
        values, vectors = Eigh.apply(A, "L")
        inverted = _reciprocal_above(values, abs(values.array), atol, rtol, a.shape)
        return (vectors * inverted.unsqueeze(-2)) @ vectors.mT
    u, s, vh = Svd.apply(A, False)
    inverted = _reciprocal_above(s, s.array, atol, rtol, a.shape)
    return (vh.mT * inverted.unsqueeze(-2)) @ u.mT

