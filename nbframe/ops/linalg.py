"""Linear algebra: ``matmul`` and its relatives. Products go to BLAS (cuBLAS on the GPU) via ``xp.matmul``."""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import get_array_module
from .broadcast import sum_to
from .promotion import promote

__all__ = ['matmul', 'mm', 'bmm']


def _matmul_error(a, b) -> RuntimeError:
    sa, sb = list(a.shape), list(b.shape)
    if a.ndim == 0 or b.ndim == 0:
        return RuntimeError(f"matmul: both arguments to matmul need to be at least 1D, but they are "
                            f"{a.ndim}D and {b.ndim}D")
    inner_a = sa[-1]
    inner_b = sb[-2] if b.ndim > 1 else sb[0]
    if inner_a != inner_b:
        if a.ndim <= 2 and b.ndim <= 2:
            left = "x".join(map(str, sa if a.ndim == 2 else [1] + sa))
            right = "x".join(map(str, sb if b.ndim == 2 else sb + [1]))
            return RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({left} and {right}): the last dimension of the "
                f"first ({inner_a}) must equal the first of the second ({inner_b})"
            )
        return RuntimeError(
            f"matmul: shapes {sa} and {sb} don't match: the last dimension of the first ({inner_a}) must "
            f"equal the second-to-last of the second ({inner_b})"
        )
    return RuntimeError(f"matmul: the batch dimensions of shapes {sa} and {sb} can't be broadcast together")


class Matmul(Op):
    """PyTorch's matmul over every shape case: 1D·1D dot, 2D·2D, 1D/2D with batches, broadcast batches."""

    label = "matmul"

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b, "matmul")
        need = ctx.needs_input_grad
        ctx.save_for_backward(a if need[1] else None, b if need[0] else None)
        ctx.shapes = (a.shape, b.shape)
        try:
            return get_array_module(a).matmul(a, b)
        except ValueError:
            raise _matmul_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        ga = gb = None
        # Promote 1-D operands to matrices so one rule covers every case, then undo it.
        g = grad
        if len(sa) == 1:
            g = g.unsqueeze(-2)
        if len(sb) == 1:
            g = g.unsqueeze(-1)
        if ctx.needs_input_grad[0]:
            bm = b.unsqueeze(-1) if len(sb) == 1 else b
            ga = Matmul.apply(g, bm.mT)
            if len(sa) == 1:
                ga = ga.squeeze(-2)
            ga = sum_to(ga, sa)
        if ctx.needs_input_grad[1]:
            am = a.unsqueeze(0) if len(sa) == 1 else a
            gb = Matmul.apply(am.mT, g)
            if len(sb) == 1:
                gb = gb.squeeze(-1)
            gb = sum_to(gb, sb)
        return ga, gb


def matmul(input, other, *, out=None):
    return Matmul.apply(input, other)


def mm(input, mat2, *, out=None):
    if input.array.ndim != 2 or mat2.array.ndim != 2:
        raise RuntimeError(
            f"mm: expected 2D tensors, got {input.array.ndim}D and {mat2.array.ndim}D "
            "(use matmul or bmm for batches)"
        )
    return Matmul.apply(input, mat2)


def bmm(input, mat2, *, out=None):
    if input.array.ndim != 3 or mat2.array.ndim != 3:
        raise RuntimeError(
            f"bmm: expected 3D tensors (batch, n, m), got {input.array.ndim}D and {mat2.array.ndim}D"
        )
    if input.array.shape[0] != mat2.array.shape[0]:
        raise RuntimeError(
            f"bmm: batch sizes differ: {input.array.shape[0]} and {mat2.array.shape[0]}"
        )
    return Matmul.apply(input, mat2)


TENSOR_METHODS = {"matmul": matmul, "mm": mm, "bmm": bmm}
