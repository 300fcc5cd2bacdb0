"""Scatter reductions: ``scatter_reduce``, ``index_reduce``, ``index_copy`` and ``scatter(reduce=...)``.

Every element of ``src`` is combined into ``input`` at the position its index
names along ``dim`` ("sum", "prod", "mean", "amax" or "amin"; with
``include_self=False`` the old value at a position that receives anything is
left out). ``index_reduce`` and ``index_copy`` place whole slices; each is the
scatter of its ``index`` expanded to the source's shape, so one op serves all.

The gradients follow PyTorch's rules exactly: "mean" divides by the count at
each position, "amax"/"amin" share the gradient evenly among every value equal
to the result (ties), and "prod" divides the product by the input element
unless that element is the one zero of its group (its gradient is then the
product of the others).
"""

from __future__ import annotations

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Op
from ..backend import get_array_module
from .index import Gather, GetItem, Scatter, _check_index_tensor, _corner, _gather_index, scatter
from .inplace import inplace_method
from .shape import Reshape, _dim

__all__ = ["scatter_reduce", "index_reduce", "index_copy"]

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_NUMPY_UFUNCS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


# --------------------------------------------------------------------------- the forward kernel
def _identity(reduce: str, dtype):
    """The value that leaves a reduction unchanged (where ``include_self=False`` drops the old one)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _flat_positions(xp, shape, index, dim: int):
    """Where each element of ``index`` lands in the flattened output (C order)."""
    strides = np.cumprod((1,) + tuple(shape[:0:-1]))[::-1]
    positions = index.astype(np.int64) * int(strides[dim])  # a new array, added to in place
    for d, n in enumerate(index.shape):
        if d != dim:
            along = [1] * index.ndim
            along[d] = n
            positions += (xp.arange(n, dtype=np.int64) * int(strides[d])).reshape(along)
    return positions.reshape(-1)


def _multiply_at(xp, flat, positions, values) -> None:
    """``flat[positions] *= values`` with repeats multiplying in, for array modules without ``multiply.at``.

    Sorting groups the repeats; the k-th repeat of every position is applied in round k, and no
    round writes one position twice, so plain fancy-index assignment is exact.
    """
    order = xp.argsort(positions, kind="stable")
    ordered = positions[order]
    rank = xp.arange(ordered.size) - xp.searchsorted(ordered, ordered, side="left")
    for k in range(int(rank.max()) + 1 if rank.size else 0):
        chosen = order[rank == k]
        flat[positions[chosen]] *= values[chosen]


def _combine_at(reduce: str, flat, positions, values) -> None:
    """``flat[positions] (op)= values`` element by element, repeated positions combining."""
    if type(flat) is np.ndarray:
        with np.errstate(invalid="ignore"):  # NaN propagates through amax/amin, as in PyTorch
            _NUMPY_UFUNCS[reduce].at(flat, positions, values)
        return
    import cupy
    import cupyx

    if reduce == "prod":
        _multiply_at(cupy, flat, positions, values)
    else:
        combine = {"amax": cupyx.scatter_max, "amin": cupyx.scatter_min}.get(reduce, cupyx.scatter_add)
        combine(flat, positions, values)


def scatter_reduce_array(x, dim: int, index, src, reduce: str, include_self: bool):
    """The forward on raw arrays; ``src`` has ``index``'s shape."""
    xp = get_array_module(x)
    out = x.copy()
    if index.size == 0:
        return out
    flat = out.reshape(-1)
    positions = _flat_positions(xp, x.shape, index, dim)
    values = src.reshape(-1)
    if not include_self:
        flat[positions] = _identity(reduce, x.dtype)
    _combine_at(reduce, flat, positions, values)
    if reduce == "mean":
        counts = _counts(x.shape, positions, include_self, x.dtype)
        if x.dtype.kind == "f":
            out /= counts
        else:
            out //= counts  # integers: PyTorch floors the mean
    return out


def _added_at(base, positions, values):
    """``base`` (a fresh array) with ``values`` added at the flat ``positions``, repeats adding up."""
    _combine_at("sum", base.reshape(-1), positions, values.reshape(-1))
    return base


def _counts(shape, positions, include_self: bool, dtype):
    """How many values the mean averages at each position (at least 1, so untouched ones divide by 1)."""
    xp = get_array_module(positions)
    counts = _added_at(xp.full(shape, 1 if include_self else 0, dtype=dtype), positions,
                       xp.ones(positions.shape, dtype=dtype))
    return xp.maximum(counts, 1)


# --------------------------------------------------------------------------- the op
def _constant(array):
    """A raw array as a Tensor outside the graph (masks and counts the gradient formulas use)."""
    from ..tensor import _wrap

    return _wrap(array, False, None, 0)


class ScatterReduce(Op):
    """``input`` with each ``src[pos]`` combined in at ``index[pos]`` along ``dim``."""

    label = "scatter_reduce"

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce, include_self):
        ctx.dim, ctx.index, ctx.reduce, ctx.include_self = dim, index, reduce, include_self
        out = scatter_reduce_array(x, dim, index, src, reduce, include_self)
        ctx.save_for_backward(x, src, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, src, out = ctx.saved_tensors
        dim, index, reduce, include_self = ctx.dim, ctx.index, ctx.reduce, ctx.include_self
        needs_src = ctx.needs_input_grad[3]
        grad_x, grad_src = _BACKWARDS[reduce](grad, x, dim, index, src, out, include_self, needs_src)
        if not ctx.needs_input_grad[0]:
            grad_x = None
        elif not include_self:
            grad_x = Scatter.apply(grad_x, dim, index, 0.0)  # the old values took no part
        return grad_x, None, None, grad_src if needs_src else None, None, None


# Each returns (the gradient of input, that of src or None when ``needs_src`` is False).
def _sum_backward(grad, x, dim, index, src, out, include_self, needs_src):
    return grad, Gather.apply(grad, dim, index) if needs_src else None


def _mean_backward(grad, x, dim, index, src, out, include_self, needs_src):
    positions = _flat_positions(get_array_module(index), x.array.shape, index, dim)
    shared = grad / _constant(_counts(x.array.shape, positions, include_self, grad.array.dtype))
    return shared, Gather.apply(shared, dim, index) if needs_src else None


def _extremum_backward(grad, x, dim, index, src, out, include_self, needs_src):
    # As PyTorch: every value equal to the result shares the gradient evenly. The old value is
    # counted among them even with include_self=False (its own gradient is zeroed afterwards).
    xp = get_array_module(grad.array)
    dtype = grad.array.dtype
    x_is_result = (x.array == out.array).astype(dtype)
    src_is_result = (src.array == out.array[_gather_index(xp, index, dim)]).astype(dtype)
    ties = _added_at(x_is_result.copy(), _flat_positions(xp, x.array.shape, index, dim), src_is_result)
    shared = grad / _constant(ties)
    grad_src = Gather.apply(shared, dim, index) * _constant(src_is_result) if needs_src else None
    return shared * _constant(x_is_result), grad_src


def _prod_backward(grad, x, dim, index, src, out, include_self, needs_src):
    xp = get_array_module(grad.array)
    # The input: the product of everything else, found by redoing the product with its zeros set to 1.
    x_ones = x.masked_fill(_constant(x.array == 0), 1.0)
    grad_x = grad * ScatterReduce.apply(x_ones, dim, index, src, "prod", include_self) / x_ones
    if not needs_src:
        return grad_x, None
    # src: out / src, except for the single zero of a group, whose gradient is the product of the others.
    src_zero = src.array == 0
    positions = _flat_positions(xp, x.array.shape, index, dim)
    zeros_there = _added_at(xp.zeros(x.array.shape, dtype=np.int64), positions, src_zero.astype(np.int64))
    zeros_in_group = zeros_there[_gather_index(xp, index, dim)]
    if grad_mode.is_grad_enabled() and bool((zeros_in_group > 1).any()):
        raise RuntimeError(
            "scatter_reduce(): Double backward is unsupported for src when >1 zeros in src are scattered to "
            "the same position. Note: if the gradient of src is not needed, detach it "
            "(src.detach()) before calling scatter_reduce"
        )
    single_zero = _constant(src_zero & (zeros_in_group == 1))
    others = ScatterReduce.apply(x, dim, index, src.masked_fill(single_zero, 1.0), "prod", include_self)
    through_quotient = Gather.apply(grad * out, dim, index) / src.masked_fill(_constant(src_zero), 1.0)
    grad_src = Gather.apply(grad * others, dim, index).where(single_zero, through_quotient)
    return grad_x, grad_src


_BACKWARDS = {"sum": _sum_backward, "mean": _mean_backward, "prod": _prod_backward,
              "amax": _extremum_backward, "amin": _extremum_backward}


# --------------------------------------------------------------------------- checks
def _check_reduce(op: str, reduce, allowed=REDUCTIONS) -> None:
    if reduce not in allowed:
        names = ", ".join(allowed[:-1]) + f" or {allowed[-1]}"
        raise RuntimeError(f"{op}(): reduce argument must be either {names}, got {reduce!r}")


def _check_tensor(op: str, name: str, value) -> None:
    from ..tensor import Tensor

    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")


def _check_same_dtype(op: str, input, source, name: str = "src") -> None:
    if input.array.dtype != source.array.dtype:
        raise RuntimeError(
            f"{op}(): Expected self.dtype to be equal to {name}.dtype (got {input.dtype} for self and "
            f"{source.dtype} for {name})"
        )


def _check_index_dtype(op: str, index, allowed=(np.int32, np.int64)) -> None:
    _check_tensor(op, "index", index)
    if index.array.dtype not in allowed:
        expected = "int32/int64" if len(allowed) > 1 else "int64"
        raise RuntimeError(f"{op}(): Expected dtype {expected} for index, got {index.dtype}")


def _on_scalars(input, index, src):
    """A 0-d ``input`` scatters like a one-element vector; give every tensor at least one dimension."""
    return tuple(Reshape.apply(t, (-1,)) if t.array.ndim == 0 else t for t in (input, index, src))


# --------------------------------------------------------------------------- public functions
def scatter_reduce(input, dim: int, index, src, reduce: str, *, include_self: bool = True):
    """``input`` with ``src`` combined in at ``index`` along ``dim`` by ``reduce``.

    ``reduce`` is "sum", "prod", "mean", "amax" or "amin"; with ``include_self=False`` the values
    of ``input`` at the positions that receive something take no part in the reduction.
    """
    op = "scatter_reduce"
    _check_reduce(op, reduce)
    _check_tensor(op, "src", src)
    _check_index_dtype(op, index)
    _check_same_dtype(op, input, src)
    scalar = input.array.ndim == 0
    x, index, src = _on_scalars(input, index, src) if scalar else (input, index, src)
    dim = _dim(dim, input.array.ndim, op)
    _check_index_tensor(op, x.array.shape, dim, index.array, src.array.shape)
    if src.array.shape != index.array.shape:
        src = GetItem.apply(src, _corner(index.array.shape) + (Ellipsis,), True)  # only what index covers
    out = ScatterReduce.apply(x, dim, index, src, reduce, bool(include_self))
    return Reshape.apply(out, ()) if scalar else out


def scatter_with_reduce(input, dim: int, index, src, reduce: str):
    """The legacy ``scatter(dim, index, src, reduce='add'|'multiply')``; ``src`` may be a number."""
    from ..creation import full
    from ..tensor import Tensor

    if reduce not in ("add", "multiply"):
        raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")
    _check_index_dtype("scatter", index)
    if not isinstance(src, Tensor):
        src = full(tuple(index.array.shape), src, dtype=input.dtype, device=input.device)
    elif src.array.ndim == 0 and index.array.ndim:
        src = src.expand(tuple(index.array.shape))
    _check_same_dtype("scatter", input, src)
    return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")


def _slices_as_scatter(op: str, input, dim: int, index, source, index_dtypes):
    """(input, dim, index expanded to ``source``'s shape, source, 0-d?) after PyTorch's checks for
    the ops that place whole slices."""
    _check_tensor(op, "source", source)
    _check_index_dtype(op, index, index_dtypes)
    if index.array.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, but got dim: {index.array.ndim} "
                         f"with size {list(index.shape)}")
    _check_same_dtype(op, input, source, "source")
    dim = _dim(dim, input.array.ndim, op)
    scalar = input.array.ndim == 0
    if scalar:
        input, index, source = _on_scalars(input, index, source)
    if source.array.ndim != input.array.ndim:
        raise IndexError(
            f"{op}(): source tensor shape must match self tensor shape, excluding the specified dimension. "
            f"Got self.shape = {list(input.shape)} source.shape = {list(source.shape)}"
        )
    count = index.array.size
    x_shape, s_shape = list(input.array.shape), list(source.array.shape)
    if [n for d, n in enumerate(x_shape) if d != dim] != [n for d, n in enumerate(s_shape) if d != dim]:
        raise RuntimeError(
            f"{op}(): source tensor shape must match self tensor shape, excluding the specified dimension. "
            f"Got self.shape = {x_shape} source.shape = {s_shape}"
        )
    if s_shape[dim] != count:
        raise RuntimeError(f"{op}(): Number of indices ({count}) should be equal to source.size(dim) "
                           f"({s_shape[dim]}), for dim: {dim}")
    idx = index.array.reshape(-1)
    if count and (int(idx.min()) < 0 or int(idx.max()) >= x_shape[dim]):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise IndexError(f"{op}(): index {bad} is out of bounds for dimension {dim} with size {x_shape[dim]}")
    along = [1] * len(s_shape)
    along[dim] = count
    xp = get_array_module(idx)
    expanded = xp.broadcast_to(idx.astype(np.int64).reshape(along), tuple(s_shape))
    return input, dim, expanded, source, scalar


def index_reduce(input, dim: int, index, source, reduce: str, *, include_self: bool = True):
    """``input`` with the slices of ``source`` combined in at ``index`` (a vector) along ``dim``.

    ``reduce`` is "prod", "mean", "amax" or "amin" (PyTorch has no "sum" here: use ``index_add``).
    """
    op = "index_reduce"
    _check_reduce(op, reduce, ("prod", "mean", "amax", "amin"))
    x, dim, expanded, source, scalar = _slices_as_scatter(op, input, dim, index, source, (np.int32, np.int64))
    out = ScatterReduce.apply(x, dim, expanded, source, reduce, bool(include_self))
    return Reshape.apply(out, ()) if scalar else out


def index_copy(input, dim: int, index, source):
    """``input`` with its slices at ``index`` (a vector of int64) along ``dim`` replaced by ``source``'s."""
    op = "index_copy"
    x, dim, expanded, source, scalar = _slices_as_scatter(op, input, dim, index, source, (np.int64,))
    out = Scatter.apply(x, dim, expanded, source)
    return Reshape.apply(out, ()) if scalar else out


def _scalar_cloned(fn):
    """``fn`` on a clone of a 0-d ``input`` that requires grad: these ops reshape it first, so the old
    values their backward reads are saved by an inner node, which ``apply_inplace`` does not see (it
    keeps a copy of what the result's own node saved: PyTorch's original ``self``). One element."""

    def run(input, *args, **kwargs):
        if input.array.ndim == 0 and input.requires_grad:
            input = input.clone()
        return fn(input, *args, **kwargs)

    run.__name__ = fn.__name__
    return run


TENSOR_METHODS = {
    "scatter_": inplace_method(_scalar_cloned(scatter), "scatter_"),
    "scatter_reduce": scatter_reduce,
    "scatter_reduce_": inplace_method(_scalar_cloned(scatter_reduce), "scatter_reduce_"),
    "index_reduce": index_reduce,
    "index_reduce_": inplace_method(_scalar_cloned(index_reduce), "index_reduce_"),
    "index_copy": index_copy, "index_copy_": inplace_method(index_copy, "index_copy_"),
}
