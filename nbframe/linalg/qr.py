"""QR factorisation: ``A = Q @ R`` with orthonormal columns in Q and upper-triangular R.

``mode`` is PyTorch's: 'reduced' (Q m×k, R k×n, k = min(m, n)), 'complete'
(Q m×m) or 'r' (R only; Q is empty). The gradient is the standard one for
'reduced' (and for 'complete' when m <= n, where the two agree); PyTorch's
errors otherwise.
"""

from __future__ import annotations

from collections import namedtuple

from ..autograd.function import Op
from ..backend import get_array_module
from ..ops.shape import cat
from ._checks import require_matrix
from ._out import accepts_out
from .inverse import Solve

__all__ = ["qr"]

#: PyTorch's ``torch.return_types.linalg_qr``.
qr_result = namedtuple("linalg_qr", ["Q", "R"])

MODES = ("reduced", "complete", "r")


class Qr(Op):
    label = "linalg_qr"

    @staticmethod
    def forward(ctx, a, mode):
        xp = get_array_module(a)
        ctx.mode = mode
        ctx.set_materialize_grads(False)
        if mode == "r":
            r = xp.linalg.qr(a, mode="r")
            q = xp.zeros((0,), dtype=a.dtype)
        else:
            q, r = xp.linalg.qr(a, mode=mode)
        ctx.save_for_backward(q, r)
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        q, r = ctx.saved_tensors
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
                "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
            )
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
            )
        if grad_q is None:
            grad_q = q * 0
        if grad_r is None:
            grad_r = r * 0
        if m >= n:
            return _square_or_tall_backward(q, r, grad_q, grad_r), None
        # Wide A = Q [U | V]: the first m columns factor as a square QR; the rest are Q V, read through Q.
        u, v = r[..., :m], r[..., m:]
        grad_u, grad_v = grad_r[..., :m], grad_r[..., m:]
        grad_x = _square_or_tall_backward(q, u, grad_q + (q @ v) @ grad_v.mT, grad_u)
        return cat([grad_x, q @ grad_v], -1), None


def _square_or_tall_backward(q, r, grad_q, grad_r):
    """(gQ + Q copyltu(M)) R⁻ᵀ with M = R gRᵀ - gQᵀ Q, copyltu mirroring M's lower triangle upwards."""
    m = r @ grad_r.mT - grad_q.mT @ q
    mirrored = m.tril() + m.tril(-1).mT
    return Solve.apply(r, (grad_q + q @ mirrored).mT).mT


@accepts_out("qr")
def qr(A, mode: str = "reduced"):
    """``(Q, R)`` with ``A = Q @ R``, Q's columns orthonormal and R upper triangular."""
    if mode not in MODES:
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or "
            "'complete'"
        )
    require_matrix("qr", A.array)
    return qr_result(*Qr.apply(A, mode))
