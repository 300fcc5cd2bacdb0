"""Eigen-decomposition of symmetric matrices: ``eigh`` and ``eigvalsh``.

Only one triangle of the input is read (``UPLO``), as in PyTorch; the gradient
is PyTorch's, which is meant for symmetric inputs: it does not fold the other
triangle's share back, so differentiate through a symmetric construction
(``eigh(X + X.mT)``) when the input is not symmetric by construction.
"""

from __future__ import annotations

from collections import namedtuple

from ..autograd.function import Op
from ..backend import get_array_module
from ..ops.linalg import diag_embed
from ._checks import require_square
from ._out import accepts_out

__all__ = ["eigh", "eigvalsh"]

#: PyTorch's ``torch.return_types.linalg_eigh``.
eigh_result = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])


def pairwise_differences(values):
    """``values[j] - values[i]`` at ``[i, j]``, with ones on the diagonal (the divisor of the off-diagonal
    terms of the eigenvector and singular-vector gradients)."""
    from ..creation import eye

    n = values.shape[-1]
    return values.unsqueeze(-2) - values.unsqueeze(-1) + eye(n, dtype=values.dtype, device=values.device)


class Eigh(Op):
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of a symmetric matrix."""

    label = "linalg_eigh"

    @staticmethod
    def forward(ctx, a, uplo):
        values, vectors = get_array_module(a).linalg.eigh(a, UPLO=uplo)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(values, vectors)
        return values, vectors

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        values, vectors = ctx.saved_tensors
        vectors_t = vectors.mT
        if grad_vectors is None:
            inner = diag_embed(grad_values)
        else:
            # The eigenvectors stay orthonormal: only the skew-symmetric part of Vᵀ gV moves them,
            # each pair (i, j) in proportion to 1 / (λj - λi).
            projected = vectors_t @ grad_vectors
            inner = 0.5 * (projected - projected.mT) / pairwise_differences(values)
            if grad_values is not None:
                inner = inner + diag_embed(grad_values)
        return vectors @ inner @ vectors_t, None


def _check_uplo(uplo) -> str:
    if not isinstance(uplo, str) or uplo.upper() not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")
    return uplo.upper()


@accepts_out("eigh")
def eigh(A, UPLO: str = "L"):
    """``(eigenvalues, eigenvectors)`` of symmetric ``A``, read from its lower (``UPLO='L'``) or upper
    triangle.

    Eigenvalues are in ascending order; ``A = V @ diag(L) @ V.mT``. Each eigenvector is defined up to
    its sign, so a loss should not depend on it.
    """
    require_square("eigh", A.array)
    return eigh_result(*Eigh.apply(A, _check_uplo(UPLO)))


@accepts_out("eigvalsh")
def eigvalsh(A, UPLO: str = "L"):
    """The eigenvalues of symmetric ``A`` in ascending order (its gradient is V diag(grad) Vᵀ)."""
    require_square("eigvalsh", A.array)
    return Eigh.apply(A, _check_uplo(UPLO))[0]
