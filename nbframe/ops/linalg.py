"""Linear algebra: ``matmul`` and its relatives, and ``einsum``.

Products go to BLAS (cuBLAS on the GPU) through ``xp.matmul`` and ``xp.einsum``.
The gradient of an ``einsum`` operand is another ``einsum``: of the output's
gradient with the other operands, written to that operand's subscripts.
"""

from __future__ import annotations

import string

import numpy as np

from ..autograd.function import Op
from ..backend import get_array_module
from .broadcast import sum_to, sum_to_array
from .promotion import promote
from .shape import Expand, Reshape, _cast_all, _cast_grads, _common_dtype

__all__ = ['matmul', 'mm', 'bmm', 'mv', 'dot', 'vdot', 'inner', 'outer', 'ger', 'einsum', 'tensordot',
           'addmm', 'addmv', 'baddbmm', 'addbmm', 'tril', 'triu', 'diag', 'diagonal', 'diag_embed']


def _matmul_error(a, b) -> RuntimeError:
    sa, sb = list(a.shape), list(b.shape)
    if a.ndim == 0 or b.ndim == 0:
        return RuntimeError(f"matmul: both arguments to matmul need to be at least 1D, but they are "
                            f"{a.ndim}D and {b.ndim}D")
    inner_a = sa[-1]
    inner_b = sb[-2] if b.ndim > 1 else sb[0]
    if inner_a != inner_b:
        if a.ndim == 1 and b.ndim == 1:
            return RuntimeError(
                f"inconsistent tensor size, expected tensor [{inner_a}] and src [{inner_b}] to have the same "
                f"number of elements, but got {inner_a} and {inner_b} elements respectively"
            )
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
        # Promote 1-D operands to matrices (a row, b column) so one rule covers every case, then undo it.
        shape = grad.array.shape
        if len(sb) == 1:
            shape = shape + (1,)
        if len(sa) == 1:
            shape = shape[:-1] + (1,) + shape[-1:]
        g = Reshape.apply(grad, shape) if shape != grad.array.shape else grad
        if ctx.needs_input_grad[0]:
            bm = Reshape.apply(b, (1, sb[0])) if len(sb) == 1 else b.mT
            ga = _sum_back(Matmul.apply(g, bm), sa, (1, sa[0]))
        if ctx.needs_input_grad[1]:
            am = Reshape.apply(a, (sa[0], 1)) if len(sa) == 1 else a.mT
            gb = _sum_back(Matmul.apply(am, g), sb, (sb[0], 1))
        return ga, gb

    @staticmethod
    def backward_arrays(ctx, grad):
        # backward's steps on raw arrays, in the same order (so the same BLAS calls, bit for bit).
        a, b = ctx.saved_arrays
        sa, sb = ctx.shapes
        need = ctx.needs_input_grad
        ga = gb = None
        shape = grad.shape
        if len(sb) == 1:
            shape = shape + (1,)
        if len(sa) == 1:
            shape = shape[:-1] + (1,) + shape[-1:]
        g = grad.reshape(shape) if shape != grad.shape else grad
        xp = get_array_module(grad)
        if need[0]:
            bm = b.reshape(1, sb[0]) if len(sb) == 1 else b.swapaxes(-2, -1)
            ga = _sum_back_array(xp.matmul(g, bm), sa, (1, sa[0]))
        if need[1]:
            am = a.reshape(sa[0], 1) if len(sa) == 1 else a.swapaxes(-2, -1)
            gb = _sum_back_array(xp.matmul(am, g), sb, (sb[0], 1))
        return ga, gb


def _sum_back_array(grad, shape: tuple, as_matrix: tuple):
    """``_sum_back`` on a raw array."""
    if len(shape) == 1:
        return sum_to_array(grad, as_matrix).reshape(shape)
    return sum_to_array(grad, shape)


def _sum_back(grad, shape: tuple, as_matrix: tuple):
    """Sum a matrix-promoted gradient over broadcast batches back to ``shape`` (1-D via ``as_matrix``)."""
    if len(shape) == 1:
        return Reshape.apply(sum_to(grad, as_matrix), shape)
    return sum_to(grad, shape)


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


def _require_dims(op: str, **tensors) -> None:
    """Each keyword is ``name=(tensor, ndim)``; raise naming the first tensor of another rank."""
    for name, (t, ndim) in tensors.items():
        if t.array.ndim != ndim:
            raise RuntimeError(f"{op}: Expected {ndim}-D argument {name}, but got {t.array.ndim}-D")


def mv(input, vec, *, out=None):
    """Matrix times vector."""
    _require_dims("mv", input=(input, 2), vec=(vec, 1))
    return Matmul.apply(input, vec)


def dot(input, tensor, *, out=None):
    """The inner product of two 1-D tensors."""
    if input.array.ndim != 1 or tensor.array.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.array.ndim}D and {tensor.array.ndim}D tensors"
        )
    return Matmul.apply(input, tensor)


vdot = dot  # the same for real tensors


def inner(input, other, *, out=None):
    """Sum over the last dimension of both (a product with a scalar if either is 0-D)."""
    if input.array.ndim == 0 or other.array.ndim == 0:
        return input * other
    return tensordot(input, other, ([-1], [-1]))


def outer(input, vec2, *, out=None):
    """``input[i] * vec2[j]``: the outer product of two 1-D tensors."""
    from .elementwise import Mul

    _require_dims("outer", self=(input, 1), vec2=(vec2, 1))
    return Mul.apply(Reshape.apply(input, (-1, 1)), vec2)


ger = outer


def _scaled(t, factor):
    return t if factor == 1 else t * factor


def _add_scaled(input, product, beta, alpha):
    """``beta * input + alpha * product``; with ``beta == 0`` the input is ignored (NaNs included)."""
    product = _scaled(product, alpha)
    if beta == 0:
        return product
    return _scaled(input, beta) + product


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    return _add_scaled(input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat @ vec)``."""
    return _add_scaled(input, mv(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _add_scaled(input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * sum_b (batch1[b] @ batch2[b])``."""
    return _add_scaled(input, bmm(batch1, batch2).sum(0), beta, alpha)


# --------------------------------------------------------------------------- einsum
_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _parse_einsum(equation: str, shapes) -> tuple:
    """The equation with ``...`` replaced by letters and the output made explicit: (terms, output)."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        more = "more" if len(shapes) > len(terms) else "fewer"
        raise RuntimeError(
            f"einsum(): {more} operands were provided than specified in the equation {equation!r} "
            f"({len(shapes)} operands, {len(terms)} subscript groups)"
        )
    for i, c in enumerate(eq):
        if not (c in _LETTERS or c in ".,->"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, "
                               f"subscripts must be in [a-zA-Z] (got {c!r})")
    free = [c for c in _LETTERS if c not in eq]
    counts = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        letters = term.replace("...", "")
        if "." in letters:
            raise RuntimeError(f"einsum(): found '.' for operand {i} that is not part of any ellipsis")
        n_ellipsis = len(shape) - len(letters)
        if ("..." in term and n_ellipsis < 0) or ("..." not in term and n_ellipsis != 0):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(letters)}) does not match the "
                f"number of dimensions ({len(shape)}) for operand {i}"
                + ("" if "..." in term else " and no ellipsis was given")
            )
        counts.append(n_ellipsis if "..." in term else 0)
    ellipsis = "".join(free[:max(counts, default=0)])
    terms = tuple(t.replace("...", ellipsis[len(ellipsis) - n:]) for t, n in zip(terms, counts))
    if not arrow:
        singles = [c for c in _LETTERS if c not in ellipsis and lhs.count(c) == 1]
        return terms, ellipsis + "".join(singles)
    if "." in out.replace("...", ""):
        raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis")
    out = out.replace("...", ellipsis)
    for c in out:
        if out.count(c) > 1:
            raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
        if c not in lhs and c not in ellipsis:
            raise RuntimeError(
                f"einsum(): output subscript {c} does not appear in the equation for any input operand"
            )
    return terms, out


def _label_sizes(terms, shapes) -> dict:
    """Each subscript's size; sizes of one must agree or be 1 (which broadcasts)."""
    sizes: dict = {}
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        for c, n in zip(term, shape):
            seen = sizes.get(c, 1)
            if n != 1 and seen != 1 and n != seen:
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {i} which does not broadcast with "
                    f"previously seen size {seen}"
                )
            sizes[c] = max(seen, n) if n and seen else 0
    return sizes


class Einsum(Op):
    """``apply((terms, output), *arrays)`` with explicit subscripts (see ``_parse_einsum``)."""

    label = "einsum"

    @staticmethod
    def forward(ctx, spec, *arrays):
        terms, out = spec
        _label_sizes(terms, [a.shape for a in arrays])
        ctx.spec = spec
        ctx.shapes, ctx.dtypes = tuple(a.shape for a in arrays), tuple(a.dtype for a in arrays)
        if any(ctx.needs_input_grad[1:]):
            ctx.save_for_backward(*arrays)
        arrays = _cast_all(list(arrays), _common_dtype(arrays, "einsum"))
        xp = get_array_module(arrays[0])
        return xp.asarray(xp.einsum(",".join(terms) + "->" + out, *arrays, optimize=len(arrays) > 1))

    @staticmethod
    def backward(ctx, grad):
        terms, out = ctx.spec
        operands = ctx.saved_tensors
        grads = []
        for i, term in enumerate(terms):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [j for j in range(len(terms)) if j != i]
            grads.append(_einsum_operand_grad(
                grad, out, [terms[j] for j in others], [operands[j] for j in others], term, ctx.shapes[i]
            ))
        return (None,) + _cast_grads(grads, ctx.dtypes)


def _einsum_operand_grad(grad, out: str, other_terms, others, term: str, shape: tuple):
    """The gradient of the operand with subscripts ``term`` and shape ``shape``."""
    unique = "".join(dict.fromkeys(term))
    sizes = dict(zip(term, shape))
    reachable = set(out).union(*other_terms)
    target = "".join(c for c in unique if c in reachable)
    g = Einsum.apply(((out, *other_terms), target), grad, *others)
    if target != unique:  # subscripts only this operand had were summed away: put them back as size 1
        g = Reshape.apply(g, tuple(n for n in _sizes_with_ones(g.array.shape, target, unique)))
    full = tuple(sizes[c] for c in unique)
    spread = np.broadcast_shapes(g.array.shape, full)
    if spread != g.array.shape:
        g = Expand.apply(g, spread)
    g = sum_to(g, full)  # where this operand had size 1 and broadcast
    if len(unique) != len(term):  # a repeated subscript read a diagonal: write the gradient onto it
        g = _onto_diagonal(g, unique, term, shape)
    return g


def _sizes_with_ones(shape, target: str, unique: str):
    sizes = dict(zip(target, shape))
    return (sizes.get(c, 1) for c in unique)


def _onto_diagonal(g, unique: str, term: str, shape: tuple):
    from ..creation import zeros_for
    from .index import IndexPut

    xp = get_array_module(g.array)
    positions = {c: k for k, c in enumerate(unique)}
    index = tuple(
        xp.arange(n).reshape([-1 if k == positions[c] else 1 for k in range(len(unique))])
        for c, n in zip(term, shape)
    )
    return IndexPut.apply(zeros_for(shape, g.array.dtype, xp), g, index, False)


def einsum(equation: str, *operands):
    """Sum of products over the subscripts of ``equation`` (``"ij,jk->ik"``, ``"...ij->...ji"``, ``"ii"``)."""
    from ..tensor import Tensor

    if not isinstance(equation, str):
        raise NotImplementedError("einsum(operand, sublist, ...) is not supported; pass an equation string")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, not {type(t).__name__}")
    spec = _parse_einsum(equation, [t.array.shape for t in operands])
    return Einsum.apply(spec, *operands)


def tensordot(a, b, dims=2, out=None):
    """Sum over the last ``dims`` dimensions of ``a`` and the first of ``b`` (or the listed pairs)."""
    na, nb = a.array.ndim, b.array.ndim
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        dims_a, dims_b = list(range(na - dims, na)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError(f"both dimension lists should have same length (got {dims_a} and {dims_b})")
    letters = iter(_LETTERS)
    ta, tb = [next(letters) for _ in range(na)], [None] * nb
    for da, db in zip(dims_a, dims_b):
        tb[db % nb] = ta[da % na]
    tb = [c or next(letters) for c in tb]
    contracted = {ta[d % na] for d in dims_a}
    out_terms = [c for c in ta if c not in contracted] + [c for c in tb if c not in contracted]
    return einsum("".join(ta) + "," + "".join(tb) + "->" + "".join(out_terms), a, b)


class Tril(Op):
    """The lower triangle of the last two dims (from ``diagonal`` down); the rest zero. Its gradient too."""

    label = "tril"

    @classmethod
    def forward(cls, ctx, x, diagonal):
        if x.ndim < 2:
            raise RuntimeError(f"{cls.label}: input tensor must have at least 2 dimensions")
        ctx.diagonal = diagonal
        return getattr(get_array_module(x), cls.label)(x, diagonal)

    @classmethod
    def backward(cls, ctx, grad):
        return cls.apply(grad, ctx.diagonal), None


class Triu(Tril):
    """The upper triangle of the last two dims (from ``diagonal`` up); the rest zero."""

    label = "triu"


def tril(input, diagonal: int = 0, *, out=None):
    return Tril.apply(input, int(diagonal))


def triu(input, diagonal: int = 0, *, out=None):
    return Triu.apply(input, int(diagonal))


# --------------------------------------------------------------------------- diagonals
def _diagonal_positions(xp, shape: tuple, offset: int):
    """Row and column indices of the ``offset`` diagonal of the last two dims of ``shape``."""
    rows, cols = shape[-2], shape[-1]
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    steps = xp.arange(length)
    return steps - min(offset, 0), steps + max(offset, 0)


class Diagonal(Op):
    """The ``offset`` diagonal of the planes (dim1, dim2), as a new last dimension.

    With ``view`` (``diagonal``) a view of ``x``, as PyTorch's: writing into it writes ``x``. Otherwise a
    copy (``diag`` of a matrix is one in PyTorch, and backward's must not alias the gradient).
    """

    label = "diagonal"
    _is_view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2, view=False):
        ctx.in_shape, ctx.offset, ctx.dims = x.shape, offset, (dim1, dim2)
        out = get_array_module(x).diagonal(x, offset, dim1, dim2)
        if not view:
            ctx._is_view = False
            return out.copy()
        if type(out) is np.ndarray and x.flags.writeable:  # (of an expanded view: read-only, as x)
            out.setflags(write=True)  # NumPy's diagonal is a read-only view, even of a writeable array
        return out

    @staticmethod
    def backward(ctx, grad):
        return DiagonalScatter.apply(grad, ctx.in_shape, ctx.offset, *ctx.dims), None, None, None, None


class DiagonalScatter(Op):
    """Zeros of ``shape`` with ``x``'s last dimension written onto the ``offset`` diagonal of (dim1, dim2)."""

    label = "diag_embed"

    @staticmethod
    def forward(ctx, x, shape, offset, dim1, dim2):
        ctx.offset, ctx.dims = offset, (dim1, dim2)
        xp = get_array_module(x)
        out = xp.zeros(shape, dtype=x.dtype)
        planes = xp.moveaxis(out, (dim1, dim2), (-2, -1))  # a view: writing it writes ``out``
        rows, cols = _diagonal_positions(xp, planes.shape, offset)
        planes[..., rows, cols] = x
        return out

    @staticmethod
    def backward(ctx, grad):
        return Diagonal.apply(grad, ctx.offset, *ctx.dims), None, None, None, None


def _two_dims(op: str, ndim: int, dim1: int, dim2: int) -> tuple:
    from .shape import _dim

    d1, d2 = _dim(dim1, ndim, op), _dim(dim2, ndim, op)
    if d1 == d2:
        raise RuntimeError(f"{op}: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """The ``offset`` diagonal of each (dim1, dim2) plane, appended as the last dimension: a view of
    ``input`` (sharing its memory and version counter), as in PyTorch."""
    if input.array.ndim < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dimensions, got {input.array.ndim}D")
    d1, d2 = _two_dims("diagonal", input.array.ndim, dim1, dim2)
    return Diagonal.apply(input, int(offset), d1, d2, True)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """Matrices (in dims dim1, dim2 of the result) with the last dimension of ``input`` on their diagonal."""
    shape = input.array.shape
    if not shape:
        raise RuntimeError("diag_embed: expected a tensor with at least 1 dimension, got a 0-d tensor")
    d1, d2 = _two_dims("diag_embed", len(shape) + 1, dim1, dim2)
    side = shape[-1] + abs(int(offset))
    batch = iter(shape[:-1])
    out_shape = tuple(side if k in (d1, d2) else next(batch) for k in range(len(shape) + 1))
    return DiagonalScatter.apply(input, out_shape, int(offset), d1, d2)


def diag(input, diagonal: int = 0, *, out=None):
    """A vector becomes a square matrix with it on its ``diagonal``-th diagonal; a matrix gives that one."""
    ndim = input.array.ndim
    if ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if ndim == 2:
        return Diagonal.apply(input, int(diagonal), 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")


TENSOR_METHODS = {
    "diag": diag, "diagonal": diagonal, "diag_embed": diag_embed,
    "tril": tril, "triu": triu,
    "matmul": matmul, "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "vdot": vdot, "inner": inner,
    "outer": outer, "ger": ger, "addmm": addmm, "addmv": addmv, "baddbmm": baddbmm, "addbmm": addbmm,
}
