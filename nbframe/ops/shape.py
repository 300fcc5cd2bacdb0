"""Shape ops: views and rearrangements that move elements without computing on them.

Their backward rearranges the gradient the opposite way.
"""

from __future__ import annotations

from ..autograd.function import Op
from .reduce import normalize_dims

__all__ = ['reshape', 'view', 'expand', 'permute', 'transpose', 't', 'unsqueeze', 'squeeze', 'flatten', 'view_as', 'reshape_as', 'expand_as', 'swapaxes', 'swapdims']


def _shape_arg(shape) -> tuple:
    """``view(2, 3)``, ``view((2, 3))`` and ``view([2, 3])`` all mean (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _resolve_shape(shape: tuple, size: int, op: str, in_shape: tuple) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got shape {list(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"{op}: invalid shape dimension {s} in {list(shape)}")
            known *= s
    if -1 in shape:
        if known == 0 or size % known:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {size}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    elif known != size:
        raise RuntimeError(
            f"{op}: shape '{list(shape)}' is invalid for input of size {size} (input shape {list(in_shape)})"
        )
    return shape


class Reshape(Op):
    label = "reshape"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        if shape != x.shape:
            shape = _resolve_shape(shape, x.size, "reshape", x.shape)
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return Reshape.apply(grad, ctx.in_shape), None


class Expand(Op):
    label = "expand"

    @staticmethod
    def forward(ctx, x, shape):
        from ..backend import get_array_module

        ctx.in_shape = x.shape
        lead = len(shape) - x.ndim
        if lead < 0:
            raise RuntimeError(
                f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to the "
                f"number of dimensions in the tensor ({x.ndim})"
            )
        target = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
        for i, s in enumerate(x.shape):
            if s != 1 and s != target[i + lead]:
                raise RuntimeError(
                    f"expand: the expanded size of the tensor ({target[i + lead]}) must match the existing "
                    f"size ({s}) at non-singleton dimension {i + lead}. Target sizes: {list(shape)}. "
                    f"Tensor sizes: {list(x.shape)}"
                )
        return get_array_module(x).broadcast_to(x, target)

    @staticmethod
    def backward(ctx, grad):
        from .broadcast import sum_to

        return sum_to(grad, ctx.in_shape), None


class Permute(Op):
    label = "permute"

    @staticmethod
    def forward(ctx, x, dims):
        dims = tuple(d % max(x.ndim, 1) for d in dims)
        if sorted(dims) != list(range(x.ndim)):
            raise RuntimeError(
                f"permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                f"of the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not equal to "
                f"len(dims) = {len(dims)}" if len(dims) != x.ndim else
                f"permute: repeated dim in {list(dims)}: each dimension must appear once"
            )
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return Permute.apply(grad, tuple(inverse)), None


def reshape(input, *shape):
    return Reshape.apply(input, _shape_arg(shape))


def view(input, *shape):
    return Reshape.apply(input, _shape_arg(shape))


def expand(input, *sizes):
    return Expand.apply(input, _shape_arg(sizes))


def permute(input, *dims):
    return Permute.apply(input, _shape_arg(dims))


def transpose(input, dim0: int, dim1: int):
    n = input.array.ndim
    if n == 0:
        return input
    d0, d1 = normalize_dims((dim0,), n, "transpose")[0], normalize_dims((dim1,), n, "transpose")[0]
    order = list(range(n))
    order[d0], order[d1] = order[d1], order[d0]
    return Permute.apply(input, tuple(order))


swapaxes = swapdims = transpose


def t(input):
    if input.array.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.array.ndim}D")
    return transpose(input, 0, 1) if input.array.ndim == 2 else input


def unsqueeze(input, dim: int):
    n = input.array.ndim + 1
    if not -n <= dim < n:
        raise IndexError(
            f"unsqueeze: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    dim %= n
    shape = input.array.shape
    return Reshape.apply(input, shape[:dim] + (1,) + shape[dim:])


def squeeze(input, dim=None):
    shape = input.array.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = normalize_dims(dim, input.array.ndim, "squeeze")
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return Reshape.apply(input, new) if new != shape else input


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    shape = input.array.shape
    if not shape:
        return Reshape.apply(input, (1,))
    s, e = normalize_dims((start_dim,), len(shape), "flatten")[0], normalize_dims((end_dim,), len(shape),
                                                                                    "flatten")[0]
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    size = 1
    for d in shape[s:e + 1]:
        size *= d
    return Reshape.apply(input, shape[:s] + (size,) + shape[e + 1:])


def view_as(input, other):
    return Reshape.apply(input, other.array.shape)


def reshape_as(input, other):
    return Reshape.apply(input, other.array.shape)


def expand_as(input, other):
    return Expand.apply(input, other.array.shape)


TENSOR_METHODS = {
    "reshape": reshape, "view": view, "expand": expand, "permute": permute, "transpose": transpose,
    "swapaxes": transpose, "swapdims": transpose, "t": t, "unsqueeze": unsqueeze, "squeeze": squeeze,
    "flatten": flatten, "view_as": view_as, "reshape_as": reshape_as, "expand_as": expand_as,
}
