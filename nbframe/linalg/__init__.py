"""``nbframe.linalg``: PyTorch's ``torch.linalg`` namespace.

One module per family: norms, inverse/determinant/solve, and the
decompositions (``eigh``, ``svd``, ``cholesky``, ``qr``). Each op's backward is
written with nbframe's own differentiable ops, so gradients can be
differentiated again (``create_graph=True``).
"""

from __future__ import annotations

from ..ops.products import linalg_cross as cross
from .cholesky import cholesky
from .eigh import eigh, eigvalsh
from .inverse import det, inv, slogdet, solve
from .norms import matrix_norm, norm, vector_norm
from .qr import qr
from .svd import pinv, svd, svdvals

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "det", "slogdet", "solve", "eigh", "eigvalsh", "svd",
           "svdvals", "pinv", "cholesky", "qr", "cross"]
