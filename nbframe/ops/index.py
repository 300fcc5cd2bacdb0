"""Indexing: ``tensor[index]``, ``tensor[index] = value`` and the ops that pick or place by index.

An index may hold ints, slices (positive steps, as in PyTorch), ``None``,
``...``, integer tensors and boolean masks. A read with only ints, slices,
``None`` and ``...`` is a view (it shares memory and the version counter).
The gradient of a read is the gradient placed back into zeros, adding where
an index repeats; ``gather``/``scatter_add`` and ``index_select``/``index_add``
are each other's backward in the same way.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import dtypes
from ..autograd.function import Op, on_arrays
from ..backend import get_array_module
from .broadcast import sum_to, sum_to_array
from .elementwise import _type_name
from .promotion import fill_scalar
from .shape import Expand, Reshape, _dim

__all__ = ['getitem', 'setitem', 'index_put', 'gather', 'scatter', 'scatter_add', 'index_select',
           'index_add', 'index_fill', 'masked_fill', 'masked_select', 'take_along_dim', 'take', 'select',
           'sort', 'argsort', 'topk', 'nonzero', 'argwhere']

#: PyTorch's ``torch.return_types.sort`` / ``topk``: (values, indices) named tuples.
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])


# --------------------------------------------------------------------------- converting an index
def _convert_index(index):
    """The index as a tuple NumPy/CuPy understand, and whether it is basic (so the read is a view)."""
    from ..tensor import Tensor

    items = index if isinstance(index, tuple) else (index,)
    out = []
    basic = True
    for item in items:
        kind = type(item)
        if kind is int or item is None or item is Ellipsis:  # the common cases first: no conversion
            out.append(item)
            continue
        if kind is slice and _plain_slice(item):
            out.append(item)
            continue
        if isinstance(item, Tensor):
            kind = item.array.dtype.kind
            if kind not in "iub":
                raise IndexError(
                    f"tensors used as indices must be long, int, byte or bool tensors, got {item.dtype}"
                )
            if kind != "b" and item.array.ndim == 0:
                item = int(item.item())  # a 0-d integer tensor indexes like an int (a view)
            else:
                item = item.array
                basic = False
        elif isinstance(item, slice):
            if item.step is not None and _as_int(item.step) <= 0:
                raise ValueError("step must be greater than zero")
            item = slice(*(_as_int(v) if v is not None else None for v in (item.start, item.stop, item.step)))
        elif isinstance(item, (list, tuple)):
            item = np.asarray([i.item() if isinstance(i, Tensor) else i for i in item])
            if item.size == 0:
                item = item.astype(np.int64)
            if item.dtype.kind not in "iub":
                raise IndexError(f"a list used as an index must hold integers or bools, got {item.dtype}")
            basic = False
        elif isinstance(item, bool) or isinstance(item, np.ndarray):
            basic = False
        elif isinstance(item, float):
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
                f"indices (got float {item})"
            )
        elif not (item is None or item is Ellipsis or isinstance(item, (int, np.integer))):
            raise IndexError(
                f"an index must be an int, slice, None, ..., list or tensor, not {type(item).__name__}"
            )
        out.append(item)
    if basic and Ellipsis not in out:
        out.append(Ellipsis)  # x[0, 1] stays a 0-d view instead of a NumPy scalar
    return tuple(out), basic


def _plain_slice(item: slice) -> bool:
    """A slice of Python ints (or None) with a positive step needs no conversion."""
    start, stop, step = item.start, item.stop, item.step
    return ((start is None or type(start) is int) and (stop is None or type(stop) is int)
            and (step is None or (type(step) is int and step > 0)))


def _as_int(v):
    from ..tensor import Tensor

    return int(v.item()) if isinstance(v, Tensor) else int(v)


def _index_error(exc, index, shape) -> IndexError:
    message = str(exc).replace("axis", "dimension").replace("array", "tensor")
    return IndexError(f"{message} (indexing a tensor of shape {list(shape)} with {_describe_index(index)})")


def _describe_index(index) -> str:
    parts = []
    for i in index:
        if isinstance(i, slice):
            text = f"{'' if i.start is None else i.start}:{'' if i.stop is None else i.stop}"
            parts.append(text + (f":{i.step}" if i.step is not None else ""))
        elif i is Ellipsis:
            parts.append("...")
        elif hasattr(i, "shape"):
            parts.append(f"<{i.dtype} tensor of shape {list(i.shape)}>")
        else:
            parts.append(repr(i))
    return "[" + ", ".join(parts) + "]"


def _has_integer_arrays(index) -> bool:
    return any(hasattr(i, "dtype") and i.dtype.kind != "b" for i in index)


def _accumulate(out, index, values) -> None:
    """``out[index] += values``, adding once per occurrence where ``index`` repeats a position."""
    if type(out) is np.ndarray:
        np.add.at(out, index, values)
    else:
        import cupyx

        cupyx.scatter_add(out, index, values)


# --------------------------------------------------------------------------- [] and []=
class GetItem(Op):
    label = "getitem"
    _is_view = True

    @staticmethod
    def forward(ctx, x, index, basic=False):
        ctx.in_shape, ctx.index = x.shape, index
        ctx._is_view = basic
        try:
            return x[index]
        except IndexError as exc:
            raise _index_error(exc, index, x.shape) from None

    @staticmethod
    def backward(ctx, grad):
        return IndexBackward.apply(grad, ctx.in_shape, ctx.index), None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return on_arrays(IndexBackward, grad, ctx.in_shape, ctx.index), None, None


class IndexBackward(Op):
    """Place a gradient into zeros at ``index`` (adding at repeated positions)."""

    label = "index_backward"

    @staticmethod
    def forward(ctx, grad, shape, index):
        ctx.index = index
        out = get_array_module(grad).zeros(shape, dtype=grad.dtype)
        if _has_integer_arrays(index):
            _accumulate(out, index, grad)
        else:
            out[index] = grad
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.index), None, None


class IndexPut(Op):
    """``x`` with ``x[index] = value`` (or ``+= value`` with ``accumulate``), out of place."""

    label = "index_put"

    @staticmethod
    def forward(ctx, x, value, index, accumulate=False):
        ctx.index, ctx.accumulate = index, accumulate
        ctx.value_shape = getattr(value, "shape", ())
        out = x.copy()
        try:
            if accumulate:
                _accumulate(out, index, value)
            else:
                out[index] = value
        except IndexError as exc:
            raise _index_error(exc, index, x.shape) from None
        except ValueError:
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {list(ctx.value_shape)} cannot be broadcast to "
                f"indexing result of shape {list(x[index].shape)} (tensor of shape {list(x.shape)}, index "
                f"{_describe_index(index)})"
            ) from None
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = grad if ctx.accumulate else IndexPut.apply(grad, 0.0, ctx.index, False)
        if ctx.needs_input_grad[1]:
            gv = sum_to(GetItem.apply(grad, ctx.index), ctx.value_shape)
        return gx, gv, None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = grad if ctx.accumulate else on_arrays(IndexPut, grad, 0.0, ctx.index, False)
        if ctx.needs_input_grad[1]:
            gv = sum_to_array(grad[ctx.index], ctx.value_shape)
        return gx, gv, None, None


def getitem(input, index):
    idx, basic = _convert_index(index)
    if not basic:
        split = _split_integers(idx)
        if split is not None:
            # PyTorch selects with the ints first, then applies the advanced indices to what is
            # left; NumPy would count the ints as advanced and move the result's dims.
            first, rest = split
            return GetItem.apply(GetItem.apply(input, first, True), rest, False)
    return GetItem.apply(input, idx, basic)


def _split_integers(idx: tuple):
    """(the ints alone, the rest without them) for an advanced index that mixes in ints, else None."""
    if not any(type(i) is int or isinstance(i, np.integer) for i in idx):
        return None
    first, rest = [], []
    for item in idx:
        if type(item) is int or isinstance(item, np.integer):
            first.append(item)
        elif item is None:
            rest.append(item)
        elif item is Ellipsis:
            first.append(item)
            rest.append(item)
        else:
            consumed = item.ndim if getattr(item, "dtype", None) is not None and item.dtype.kind == "b" else 1
            first.extend([slice(None)] * consumed)
            rest.append(item)
    if Ellipsis not in first:
        first.append(Ellipsis)
    return tuple(first), tuple(rest)


def _value_for(input, value):
    """A Tensor value in the target's dtype (PyTorch casts what is assigned); a Python number converted
    as PyTorch does (``fill_scalar``: -1 into uint8 is 255, 300 raises its overflow error)."""
    from ..tensor import Tensor

    if isinstance(value, Tensor):
        if value.array.dtype != input.array.dtype:
            value = value.to(input.dtype)
        return value
    return fill_scalar(value, input.array.dtype)


def setitem(input, index, value) -> None:
    from .inplace import apply_inplace

    idx, _ = _convert_index(index)
    value = _value_for(input, value)
    apply_inplace(input, lambda x: IndexPut.apply(x, value, idx, False), "setitem")


def index_put(input, indices, values, accumulate: bool = False):
    """``input`` with ``input[indices] = values`` (``+=`` with ``accumulate``, adding at repeats)."""
    if hasattr(values, "array") and values.array.dtype != input.array.dtype:  # (setitem casts; this does not)
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{_type_name(input.array)} for the destination and {_type_name(values.array)} for the source."
        )
    idx, _ = _convert_index(tuple(indices))
    return IndexPut.apply(input, _value_for(input, values), idx, accumulate)


def index_put_(input, indices, values, accumulate: bool = False):
    from .inplace import apply_inplace

    return apply_inplace(input, lambda x: index_put(x, indices, values, accumulate), "index_put_")


def select(input, dim: int, index: int):
    """The view ``input[..., index, ...]`` at ``dim`` (that dimension removed)."""
    n = input.array.ndim
    if n == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = _dim(dim, n, "select")
    size = input.array.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} "
                         f"at dimension {dim}")
    return GetItem.apply(input, (slice(None),) * dim + (int(index), Ellipsis), True)


# --------------------------------------------------------------------------- gather / scatter
def _gather_index(xp, index, dim: int) -> tuple:
    """The advanced index that reads, at every position of ``index``, element ``index[pos]`` along ``dim``."""
    parts = []
    for d, n in enumerate(index.shape):
        if d == dim:
            parts.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            parts.append(xp.arange(n).reshape(shape))
    return tuple(parts)


def _corner(shape) -> tuple:
    return tuple(slice(0, n) for n in shape)


def _check_index_tensor(op: str, x_shape, dim: int, index, src_shape=None) -> None:
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {dtypes.from_numpy(index.dtype)}")
    if index.ndim != len(x_shape) and index.size:
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as self tensor "
            f"(index has {index.ndim}, self has {len(x_shape)})"
        )
    for d in range(index.ndim):
        too_big = d != dim and index.shape[d] > x_shape[d]
        if too_big or src_shape is not None and index.shape[d] > src_shape[d]:
            against_src = "" if src_shape is None else f" and to be smaller size than src {list(src_shape)}"
            raise RuntimeError(
                f"{op}(): Size does not match at dimension {d}: expected index {list(index.shape)} to be "
                f"smaller than self {list(x_shape)} apart from dimension {dim}{against_src}"
            )
    if index.size:
        low, high = int(index.min()), int(index.max())
        size = x_shape[dim] if x_shape else 1
        if low < 0 or high >= size:
            bad = low if low < 0 else high
            raise RuntimeError(f"{op}(): index {bad} is out of bounds for dimension {dim} with size {size}")


class Gather(Op):
    label = "gather"

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.in_shape, ctx.dim, ctx.index = x.shape, dim, index
        if x.ndim == 0:
            return x.copy()
        return x[_gather_index(get_array_module(x), index, dim)]

    @staticmethod
    def backward(ctx, grad):
        return GatherBackward.apply(grad, ctx.in_shape, ctx.dim, ctx.index), None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return on_arrays(GatherBackward, grad, ctx.in_shape, ctx.dim, ctx.index), None, None


class GatherBackward(Op):
    """Add ``grad`` into zeros of ``shape`` at the positions ``gather`` read (``scatter_add`` into zeros)."""

    label = "gather_backward"

    @staticmethod
    def forward(ctx, grad, shape, dim, index):
        ctx.dim, ctx.index = dim, index
        if not shape:
            return grad.copy()
        out = get_array_module(grad).zeros(shape, dtype=grad.dtype)
        _accumulate(out, _gather_index(get_array_module(grad), index, dim), grad)
        return out

    @staticmethod
    def backward(ctx, grad):
        return Gather.apply(grad, ctx.dim, ctx.index), None, None, None


def _source_backward(grad, dim, index, src_shape):
    """The gradient of a scatter's ``src``: what was read from it, placed in zeros of its own shape."""
    picked = Gather.apply(grad, dim, index)
    if picked.array.shape == tuple(src_shape):
        return picked
    from ..creation import zeros_for

    zeros = zeros_for(src_shape, picked.array.dtype, get_array_module(picked.array))
    return IndexPut.apply(zeros, picked, _corner(picked.array.shape), False)


class Scatter(Op):
    """``x`` with ``x[..., index[pos], ...] = src[pos]`` along ``dim`` (``src`` may be a number)."""

    label = "scatter"

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.index = dim, index
        ctx.src_shape = getattr(src, "shape", None)
        out = x.copy()
        if x.ndim == 0:
            out[...] = src
            return out
        values = src[_corner(index.shape)] if ctx.src_shape is not None else src
        out[_gather_index(get_array_module(x), index, dim)] = values
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = Scatter.apply(grad, ctx.dim, ctx.index, 0.0)
        if ctx.needs_input_grad[3]:
            gs = _source_backward(grad, ctx.dim, ctx.index, ctx.src_shape)
        return gx, None, None, gs


class ScatterAdd(Op):
    """``x`` plus ``src[pos]`` added at ``index[pos]`` along ``dim`` (repeats add up)."""

    label = "scatter_add"

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.index, ctx.src_shape = dim, index, src.shape
        out = x.copy()
        if x.ndim == 0:
            out += src
            return out
        _accumulate(out, _gather_index(get_array_module(x), index, dim), src[_corner(index.shape)])
        return out

    @staticmethod
    def backward(ctx, grad):
        gs = _source_backward(grad, ctx.dim, ctx.index, ctx.src_shape) if ctx.needs_input_grad[3] else None
        return grad, None, None, gs


def _same_dtype(op: str, input, other) -> None:
    if input.array.dtype != other.array.dtype:
        raise RuntimeError(
            f"{op}(): Expected self.dtype to be equal to src.dtype (got {input.dtype} and {other.dtype})"
        )


def gather(input, dim: int, index, *, sparse_grad: bool = False):
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` (and likewise for other dims)."""
    dim = _dim(dim, input.array.ndim, "gather")
    _check_index_tensor("gather", input.array.shape, dim, index.array)
    return Gather.apply(input, dim, index)


def scatter(input, dim: int, index, src=None, *, value=None, reduce: str | None = None):
    """``input`` with ``src`` (a tensor or a number) written at ``index`` along ``dim``."""
    from ..tensor import Tensor

    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): expected a `src` tensor or a `value`")
    if reduce is not None:
        from .scattering import scatter_with_reduce

        return scatter_with_reduce(input, dim, index, src, reduce)
    dim = _dim(dim, input.array.ndim, "scatter")
    if isinstance(src, Tensor):
        if src.array.ndim == 0 and index.array.ndim != 0:
            src = src.item()
        else:
            _same_dtype("scatter", input, src)
    _check_index_tensor("scatter", input.array.shape, dim, index.array,
                        src.array.shape if isinstance(src, Tensor) else None)
    return Scatter.apply(input, dim, index, src)


def scatter_add(input, dim: int, index, src):
    """``input`` with ``src`` added at ``index`` along ``dim``; repeated indices add up."""
    dim = _dim(dim, input.array.ndim, "scatter_add")
    _same_dtype("scatter_add", input, src)
    _check_index_tensor("scatter_add", input.array.shape, dim, index.array, src.array.shape)
    return ScatterAdd.apply(input, dim, index, src)


def take_along_dim(input, indices, dim: int | None = None):
    """``gather`` with both broadcast against each other (except along ``dim``); flat tensors if None."""
    if dim is None:
        return gather(Reshape.apply(input, (-1,)), 0, Reshape.apply(indices, (-1,)))
    n = input.array.ndim
    if indices.array.ndim != n:
        raise RuntimeError(
            f"take_along_dim(): input and indices should have the same number of dimensions, but got {n} "
            f"dimensions for input, and {indices.array.ndim} dimensions for indices"
        )
    dim = _dim(dim, n, "take_along_dim")
    xs, js = list(input.array.shape), list(indices.array.shape)
    xs[dim] = js[dim] = 1
    try:
        common = np.broadcast_shapes(tuple(xs), tuple(js))
    except ValueError:
        raise RuntimeError(
            f"take_along_dim(): shapes {list(input.shape)} and {list(indices.shape)} can't be broadcast "
            f"together apart from dimension {dim}"
        ) from None
    x_target = common[:dim] + (input.array.shape[dim],) + common[dim + 1:]
    j_target = common[:dim] + (indices.array.shape[dim],) + common[dim + 1:]
    if input.array.shape != x_target:
        input = Expand.apply(input, x_target)
    if indices.array.shape != j_target:
        indices = Expand.apply(indices, j_target)
    return gather(input, dim, indices)


def take(input, index):
    """Elements of the flattened ``input`` at ``index`` (in ``index``'s shape)."""
    return getitem(Reshape.apply(input, (-1,)), index)


# --------------------------------------------------------------------------- index_select / index_add
def _check_dim_index(op: str, input, dim: int, index, dtypes=(np.int32, np.int64)):
    if index.array.dtype not in dtypes:
        expected = "int32/int64" if len(dtypes) > 1 else "int64"
        raise IndexError(f"{op}(): Expected dtype {expected} for index, got {index.dtype}")
    if index.array.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector (got {index.array.ndim} dimensions)")
    n = input.array.ndim
    dim = _dim(dim, n, op)
    idx = index.array.reshape(-1)
    size = input.array.shape[dim] if n else 1
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= size):
        raise IndexError(f"{op}(): index out of range in self (an index outside [0, {size}) along dimension "
                         f"{dim} of a tensor of shape {list(input.shape)})")
    return dim, idx


class IndexSelect(Op):
    label = "index_select"

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.in_shape, ctx.dim, ctx.index = x.shape, dim, index
        return get_array_module(x).take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return IndexSelectBackward.apply(grad, ctx.in_shape, ctx.dim, ctx.index), None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        gx = on_arrays(IndexSelectBackward, grad, ctx.in_shape, ctx.dim, ctx.index)
        return gx, None, None


class IndexSelectBackward(Op):
    """Add slices of ``grad`` into zeros of ``shape`` at ``index`` along ``dim``."""

    label = "index_select_backward"

    @staticmethod
    def forward(ctx, grad, shape, dim, index):
        ctx.dim, ctx.index = dim, index
        out = get_array_module(grad).zeros(shape, dtype=grad.dtype)
        _accumulate(out, (slice(None),) * dim + (index, Ellipsis), grad)
        return out

    @staticmethod
    def backward(ctx, grad):
        return IndexSelect.apply(grad, ctx.dim, ctx.index), None, None, None


class IndexAdd(Op):
    label = "index_add"

    @staticmethod
    def forward(ctx, x, dim, index, source, alpha):
        ctx.dim, ctx.index, ctx.alpha = dim, index, alpha
        out = x.copy()
        _accumulate(out, (slice(None),) * dim + (index, Ellipsis), source if alpha == 1 else source * alpha)
        return out

    @staticmethod
    def backward(ctx, grad):
        gs = None
        if ctx.needs_input_grad[3]:
            gs = IndexSelect.apply(grad, ctx.dim, ctx.index)
            if ctx.alpha != 1:
                gs = gs * ctx.alpha
        return grad, None, None, gs, None

    @staticmethod
    def backward_arrays(ctx, grad):
        gs = None
        if ctx.needs_input_grad[3]:
            gs = on_arrays(IndexSelect, grad, ctx.dim, ctx.index)
            if ctx.alpha != 1:
                gs = gs * ctx.alpha
        return grad, None, None, gs, None


def index_select(input, dim: int, index):
    """The slices of ``input`` at the positions ``index`` (a vector) along ``dim``."""
    dim, idx = _check_dim_index("index_select", input, dim, index)
    if input.array.ndim == 0:
        return GetItem.apply(input, (Ellipsis,), True) if idx.size else Reshape.apply(input, (1,))[:0]
    return IndexSelect.apply(input, dim, idx)


def index_add(input, dim: int, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` slices added at ``index`` along ``dim`` (repeats add up)."""
    dim, idx = _check_dim_index("index_add", input, dim, index)
    if input.array.dtype != source.array.dtype:
        raise RuntimeError(
            f"index_add_(): self ({input.dtype}) and source ({source.dtype}) must have the same scalar type"
        )
    expected = list(input.array.shape)
    if expected:
        expected[dim] = idx.size
    if list(source.array.shape) != expected and source.array.size != idx.size:
        raise RuntimeError(
            f"index_add_(): source of shape {list(source.shape)} doesn't match the indexed slices: expected "
            f"{expected} (input of shape {list(input.shape)} with {idx.size} indices along dimension {dim})"
        )
    return IndexAdd.apply(input, dim, idx, source, alpha)


def index_fill(input, dim: int, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (a number or 0-d tensor)."""
    from ..tensor import Tensor

    dim, idx = _check_dim_index("index_fill", input, dim, index, (np.int64,))
    if isinstance(value, Tensor) and not value.requires_grad:
        value = value.item()  # a number, converted as one
    return IndexPut.apply(input, _value_for(input, value), (slice(None),) * dim + (idx, Ellipsis), False)


# --------------------------------------------------------------------------- masks
def _check_mask(op: str, mask):
    if mask.array.dtype.kind != "b":
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {mask.dtype}")


class MaskedFill(Op):
    """Where ``mask`` holds, ``value``; elsewhere ``x`` (broadcasting ``x`` and ``mask``)."""

    label = "masked_fill"

    @staticmethod
    def forward(ctx, x, mask, value):
        xp = get_array_module(x)
        ctx.mask, ctx.shapes = mask, (x.shape, getattr(value, "shape", None))
        try:
            return xp.where(mask, xp.asarray(value, dtype=x.dtype), x)
        except ValueError:
            raise RuntimeError(
                f"masked_fill: the mask of shape {list(mask.shape)} can't be broadcast to the input of shape "
                f"{list(x.shape)}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        from ..tensor import _wrap

        x_shape, value_shape = ctx.shapes
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = sum_to(MaskedFill.apply(grad, ctx.mask, 0.0), x_shape)
        if ctx.needs_input_grad[2]:
            gv = MaskedFill.apply(grad, _wrap(~ctx.mask, False, None, 0), 0.0).sum().reshape(value_shape)
        return gx, None, gv

    @staticmethod
    def backward_arrays(ctx, grad):
        x_shape, value_shape = ctx.shapes
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = sum_to_array(on_arrays(MaskedFill, grad, ctx.mask, 0.0), x_shape)
        if ctx.needs_input_grad[2]:
            kept = on_arrays(MaskedFill, grad, ~ctx.mask, 0.0)
            # (asarray: a full sum gives a NumPy scalar; the value's gradient is an array)
            gv = get_array_module(grad).asarray(kept.sum()).reshape(value_shape)
        return gx, None, gv


def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or a 0-d tensor) where ``mask`` is True."""
    from ..tensor import Tensor

    _check_mask("masked_fill_", mask)
    if isinstance(value, Tensor):
        if value.array.ndim:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.array.ndim} dimension(s)."
            )
        if value.requires_grad:
            return MaskedFill.apply(input, mask, _value_for(input, value))
        value = value.item()
    return MaskedFill.apply(input, mask, fill_scalar(value, input.array.dtype))


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (the two broadcast)."""
    _check_mask("masked_select:", mask)
    try:
        shape = np.broadcast_shapes(input.array.shape, mask.array.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_select: the shape of the mask {list(mask.shape)} must be broadcastable with the shape "
            f"of the input tensor {list(input.shape)}"
        ) from None
    if input.array.shape != shape:
        input = Expand.apply(input, shape)
    m = mask.array
    if m.shape != shape:
        m = get_array_module(m).broadcast_to(m, shape)
    return GetItem.apply(input, (m,), False)


# --------------------------------------------------------------------------- sorting
def _argsort(xp, x, dim: int, descending: bool):
    """Stable sort order; NaN counts as the largest value, as in PyTorch."""
    if not descending:
        order = xp.argsort(x, axis=dim, kind="stable")
    else:
        # Ascending on the reversed data keeps equal values in reverse order; reversing back restores theirs.
        order = xp.argsort(xp.flip(x, axis=dim), axis=dim, kind="stable")
        order = (x.shape[dim] - 1) - xp.flip(order, axis=dim)
    return order.astype(np.int64, copy=False)


def _int_tensor(array):
    from ..tensor import _wrap

    return _wrap(array, False, None, 0)


def argsort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """The indices that sort ``input`` along ``dim`` (always stable here)."""
    x = input.array
    if x.ndim == 0:
        return _int_tensor(get_array_module(x).zeros((), dtype=np.int64))
    return _int_tensor(_argsort(get_array_module(x), x, _dim(dim, x.ndim, "sort"), descending))


def sort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """``(values, indices)`` sorted along ``dim``; equal values keep their order (always stable here)."""
    if input.array.ndim == 0:
        return sort_result(input.clone(), argsort(input))
    dim = _dim(dim, input.array.ndim, "sort")
    indices = argsort(input, dim, descending)
    return sort_result(Gather.apply(input, dim, indices), indices)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, largest first."""
    x = input.array
    dim = _dim(dim, x.ndim, "topk")
    size = x.shape[dim] if x.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"selected index k out of range: k = {k} but dimension {dim} has size {size}")
    if x.ndim == 0:
        return topk_result(input.clone(), argsort(input))
    order = _argsort(get_array_module(x), x, dim, largest)
    indices = _int_tensor(order[(slice(None),) * dim + (slice(0, k), Ellipsis)])
    return topk_result(Gather.apply(input, dim, indices), indices)


def nonzero(input, *, as_tuple: bool = False):
    """Indices of the non-zero elements: an (n, ndim) tensor, or one index tensor per dimension."""
    x = input.array
    xp = get_array_module(x)
    flat = x.reshape(1) if x.ndim == 0 else x
    parts = [p.astype(np.int64, copy=False) for p in xp.nonzero(flat)]
    if as_tuple:
        return tuple(_int_tensor(p) for p in parts)
    if x.ndim == 0:
        return _int_tensor(xp.zeros((parts[0].size, 0), dtype=np.int64))
    return _int_tensor(xp.stack(parts, axis=1))


def argwhere(input):
    return nonzero(input)


def index_add_(input, dim: int, index, source, *, alpha=1):
    from .inplace import apply_inplace

    return apply_inplace(input, lambda x: index_add(x, dim, index, source, alpha=alpha), "index_add_")


TENSOR_METHODS = {
    "gather": gather, "scatter": scatter, "scatter_add": scatter_add, "index_select": index_select,
    "index_add": index_add, "index_fill": index_fill, "masked_fill": masked_fill,
    "masked_select": masked_select,
    "take_along_dim": take_along_dim, "take": take, "select": select, "sort": sort, "argsort": argsort,
    "topk": topk, "nonzero": nonzero, "argwhere": argwhere, "index_put": index_put, "index_put_": index_put_,
    "index_add_": index_add_,
}
