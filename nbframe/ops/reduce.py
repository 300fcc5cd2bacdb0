"""Reductions: ``sum``, ``mean``, ``prod``, ``max``/``min``, ``var``/``std``, ``norm``, scans and tests.

``dim`` may be an int, a tuple of ints or None (all dimensions); ``keepdim``
keeps the reduced dimensions with size 1, as in PyTorch. ``max``, ``min`` and
``median`` with a ``dim`` return PyTorch's named tuple ``(values, indices)``.
Where several elements tie for the selected value (``amax``, ``max()`` with no
dim, ``median()``), the gradient is split evenly among them, as in PyTorch.
"""

from __future__ import annotations

import builtins
import collections
import math

import numpy as np

from .. import dtypes
from ..autograd import function as _function
from ..autograd.function import Op
from ..backend import get_array_module

__all__ = ['sum', 'mean', 'prod', 'max', 'min', 'amax', 'amin', 'argmax', 'argmin', 'var', 'std',
           'var_mean', 'std_mean', 'logsumexp', 'norm', 'cumsum', 'cumprod', 'all', 'any', 'median',
           'count_nonzero']


_add_reduce, _empty, _prod = np.add.reduce, np.empty, math.prod  # Sum's hot path, bound once
_ALL_DIMS = [tuple(range(n)) for n in range(65)]  # dim=None: every axis (NumPy allows 64)


def normalize_dims(dim, ndim: int, op: str) -> tuple:
    """``dim`` as a sorted tuple of non-negative axes, with PyTorch's error for one out of range."""
    if dim is None:
        return _ALL_DIMS[ndim]
    if isinstance(dim, (list, tuple)):
        dims = dim
    else:
        dims = (dim,)
    n = builtins.max(ndim, 1)
    out = []
    for d in dims:
        d = int(d)
        if not -n <= d < n:
            raise IndexError(
                f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
        out.append(d % n)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {list(dims)} appears multiple times in the list of dims")
    return tuple(sorted(out)) if ndim else ()


_SMALL = 4096  # elements: below this, filling an array beats NumPy's broadcast_to


def expand_reduced(grad, in_shape: tuple, dims: tuple, keepdim: bool):
    """Broadcast a reduced gradient back to the input's shape (the backward of every reduction)."""
    # Reduced leading dims come back by broadcasting alone; others need their size-1 slot first.
    regroup = not keepdim and dims and dims[-1] != len(dims) - 1
    if not _function._state.enabled and not _function._OBSERVERS and math.prod(in_shape) <= _SMALL:
        # No graph recorded, no observer to tell (%%watch shows backward's ops), a small input.
        return _function._wrap(expand_reduced_array(grad.array, in_shape, dims, keepdim), False, None, 0)
    from .shape import Expand, Reshape

    if regroup:
        grad = Reshape.apply(grad, _kept_shape(in_shape, dims))
    if grad.array.shape != in_shape:
        grad = Expand.apply(grad, in_shape)
    return grad


def expand_reduced_array(array, in_shape: tuple, dims: tuple, keepdim: bool):
    """``expand_reduced`` on a raw array (backward_arrays of the reductions)."""
    if not keepdim and dims and dims[-1] != len(dims) - 1:
        array = array.reshape(_kept_shape(in_shape, dims))
    xp = get_array_module(array)  # NumPy for a NumPy scalar (0-d arithmetic gives those)
    if math.prod(in_shape) <= _SMALL:
        # Fill a fresh array: xp.broadcast_to costs ~2 µs of Python, ten times this; at these sizes
        # the copy is cheaper than the view.
        out = xp.empty(in_shape, array.dtype)
        out[...] = array
        return out
    return xp.broadcast_to(array, in_shape)  # a read-only view: the engine copies before a leaf keeps it


def _kept_shape(in_shape: tuple, dims: tuple) -> tuple:
    """The shape of a ``keepdim=True`` result: ``in_shape`` with the reduced dims set to 1."""
    kept = list(in_shape)
    for d in dims:
        kept[d] = 1
    return tuple(kept)


def _keepdims(array, in_shape: tuple, dims: tuple, keepdim: bool):
    """A reduced array reshaped to broadcast against the input (a no-op when keepdim)."""
    return array if keepdim else array.reshape(_kept_shape(in_shape, dims))


def _const(array):
    """A Tensor that is a constant of the graph (masks, weights)."""
    return _function._wrap(array, False, None, 0)


def _quiet():
    return np.errstate(all="ignore")


def _require_float(x, op: str, message: str | None = None) -> None:
    if x.dtype.kind != "f":
        name = dtypes.from_numpy(x.dtype).name
        raise RuntimeError(message or f"{op}(): expected a floating point tensor as input, got {name}")


def _sum_dtype(x):
    # PyTorch sums and multiplies bool and integer tensors as int64.
    return x.dtype if x.dtype.kind == "f" else dtypes.int64.numpy


def _target_dtype(x, dtype):
    return dtypes.to_numpy(dtypes.as_dtype(dtype)) if dtype is not None else _sum_dtype(x)


def _count(shape: tuple, dims: tuple) -> int:
    count = 1
    for d in dims:
        count *= shape[d]
    return count


def _return_type(name: str):
    """PyTorch's ``torch.return_types.<name>``: a named tuple ``(values, indices)``."""
    cls = collections.namedtuple(name, ("values", "indices"))
    cls.__module__ = "nbframe.return_types"
    cls.__repr__ = lambda self: (
        f"nbframe.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"
    )
    return cls


return_types = type("return_types", (), {n: _return_type(n) for n in ("max", "min", "median")})


# --------------------------------------------------------------------------- sum, mean, prod
class Sum(Op):
    label = "sum"
    _small_ctx = True  # see Node._small_ctx

    @staticmethod
    def forward(ctx, x, dim, keepdim, dtype=None):
        ndim = x.ndim
        dims = normalize_dims(dim, ndim, "sum")
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        x_dtype = x.dtype
        if dtype is None and x_dtype.kind == "f":
            if type(x) is np.ndarray and not keepdim and len(dims) == ndim:
                # A 0-d result: reduce straight into a 0-d array (NumPy would return a scalar that the
                # Tensor then converts back; a float dtype= argument alone costs NumPy 0.2 µs).
                return _add_reduce(x, None, None, _empty((), x_dtype), False)
            return x.sum(axis=dims, keepdims=keepdim)
        # The array method skips np.sum's Python wrapper (about twice as fast on small arrays).
        return x.sum(axis=dims, keepdims=keepdim, dtype=_target_dtype(x, dtype))

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(grad, ctx.in_shape, ctx.dims, ctx.keepdim), None, None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        in_shape = ctx.in_shape
        if type(grad) is np.ndarray and not grad.ndim and _prod(in_shape) <= _SMALL:
            # A full sum of a small array (a loss): expand_reduced_array's case inlined (~1.5k instructions).
            out = _empty(in_shape, grad.dtype)
            out[...] = grad
            return out, None, None, None
        return expand_reduced_array(grad, in_shape, ctx.dims, ctx.keepdim), None, None, None


class Mean(Op):
    label = "mean"
    _small_ctx = True  # see Node._small_ctx

    @staticmethod
    def forward(ctx, x, dim, keepdim, dtype=None):
        if dtype is None and x.dtype.kind != "f":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                f"complex dtype. Got: {dtypes.from_numpy(x.dtype).name.capitalize()}"
            )
        dims = normalize_dims(dim, x.ndim, "mean")
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.count = _count(x.shape, dims)
        xp = get_array_module(x)
        target = dtypes.to_numpy(dtypes.as_dtype(dtype)) if dtype is not None else x.dtype
        with _quiet():
            return xp.asarray(xp.mean(x, axis=dims, keepdims=keepdim, dtype=target))

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(grad / ctx.count, ctx.in_shape, ctx.dims, ctx.keepdim), None, None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return expand_reduced_array(grad / ctx.count, ctx.in_shape, ctx.dims, ctx.keepdim), None, None, None


class Prod(Op):
    label = "prod"

    @staticmethod
    def forward(ctx, x, dim, keepdim, dtype=None):
        dims = normalize_dims(dim, x.ndim, "prod")
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        out = get_array_module(x).asarray(x.prod(axis=dims, keepdims=keepdim, dtype=_target_dtype(x, dtype)))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, dims, keepdim = ctx.in_shape, ctx.dims, ctx.keepdim
        if x.array.all():
            # d prod / d x_i = prod / x_i when no element is zero.
            return expand_reduced(grad * out, shape, dims, keepdim) / x, None, None, None
        # With zeros, the product of the *other* elements, computed without dividing.
        return expand_reduced(grad, shape, dims, keepdim) * _ProdOfOthers.apply(x, dims), None, None, None


class _ProdOfOthers(Op):
    """For each element, the product of the other elements of its reduced slice (exact with zeros)."""

    label = "prod_of_others"

    @staticmethod
    def forward(ctx, x, dims):
        xp = get_array_module(x)
        # Gather the reduced dims at the end and flatten them into one axis.
        kept = [d for d in range(x.ndim) if d not in dims]
        moved = xp.transpose(x, kept + list(dims))
        flat = moved.reshape(moved.shape[:len(kept)] + (-1,))
        ones = xp.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
        before = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = xp.cumprod(xp.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (before * after).reshape(moved.shape)
        return xp.ascontiguousarray(xp.transpose(others, np.argsort(kept + list(dims))))

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError(
            "prod: the second derivative of prod over a slice that contains a zero is not implemented"
        )


# --------------------------------------------------------------------------- max, min and their kin
class _TieSplit(Op):
    """A reduction that selects a value; its gradient is split evenly among the elements equal to it."""

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        xv = x.array
        selected = _keepdims(out.array, ctx.in_shape, ctx.dims, ctx.keepdim)
        xp = get_array_module(xv)
        mask = xv == selected
        if xv.dtype.kind == "f":
            mask |= xp.isnan(xv) & xp.isnan(selected)
        weight = mask / mask.sum(axis=ctx.dims, keepdims=True)
        return expand_reduced(grad, ctx.in_shape, ctx.dims, ctx.keepdim) * _const(weight.astype(xv.dtype)), \
            None, None


def _check_nonempty(x, dims, op: str, explicit_dim: bool) -> None:
    if x.size == 0:
        if not explicit_dim:
            raise RuntimeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        for d in dims:
            if x.shape[d] == 0:
                raise RuntimeError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


class Amax(_TieSplit):
    label = "amax"
    fn = "max"

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        dims = normalize_dims(dim, x.ndim, cls.label)
        _check_nonempty(x, dims, cls.label, dim is not None and dim != ())
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        out = get_array_module(x).asarray(getattr(x, cls.fn)(axis=dims, keepdims=keepdim))
        ctx.save_for_backward(x, out)
        return out


class Amin(Amax):
    label = "amin"
    fn = "min"


class Median(_TieSplit):
    """The lower of the two middle values of all elements (PyTorch does not average them)."""

    label = "median"

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        _check_nonempty(x, (), "median", False)
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, tuple(range(x.ndim)), False
        xp = get_array_module(x)
        flat = x.reshape(-1)
        if x.dtype.kind == "f" and xp.isnan(flat).any():
            out = xp.asarray(xp.nan, dtype=x.dtype)
        else:
            out = xp.asarray(xp.partition(flat, (flat.size - 1) // 2)[(flat.size - 1) // 2])
        ctx.save_for_backward(x, out)
        return out


class _Select(Op):
    """A reduction along one dim that returns ``(values, indices)``; the gradient goes to the index."""

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        (d,) = normalize_dims(dim, x.ndim, cls.label) or (0,)
        xp = get_array_module(x)
        work = x if x.ndim else x.reshape(1)
        _check_nonempty(work, (d,), cls.label, True)
        indices = cls.indices(xp, work, d)
        values = xp.take_along_axis(work, indices, axis=d)
        ctx.in_shape, ctx.indices, ctx.dim = x.shape, indices, d
        if not keepdim or x.ndim == 0:
            values, indices = values.squeeze(d) if x.ndim else values.reshape(()), \
                indices.squeeze(d) if x.ndim else indices.reshape(())
        return values, indices.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        shape, index, d = ctx.in_shape, ctx.indices, ctx.dim
        if len(shape) == 0:
            return grad, None, None
        grad = grad.reshape(index.shape) if grad.array.shape != index.shape else grad
        return _PutAlongDim.apply(grad, index, d, shape), None, None


def _first_nan_or(xp, x, d, indices):
    """PyTorch's max/min/median return a NaN (and its index) when the slice holds one."""
    if x.dtype.kind != "f":
        return indices
    nan = xp.isnan(x)
    return xp.where(nan.any(axis=d, keepdims=True), xp.argmax(nan, axis=d, keepdims=True), indices)


class Max(_Select):
    label = "max"

    @staticmethod
    def indices(xp, x, d):
        return xp.argmax(x, axis=d, keepdims=True)


class Min(_Select):
    label = "min"

    @staticmethod
    def indices(xp, x, d):
        return xp.argmin(x, axis=d, keepdims=True)


class MedianDim(_Select):
    label = "median"

    @staticmethod
    def indices(xp, x, d):
        k = (x.shape[d] - 1) // 2
        order = xp.argsort(x, axis=d, kind="stable")
        return _first_nan_or(xp, x, d, xp.take(order, [k], axis=d))


class _PutAlongDim(Op):
    """Zeros of ``shape`` with ``grad`` written at ``indices`` along ``dim`` (one index per slice)."""

    label = "put_along_dim"

    @staticmethod
    def forward(ctx, grad, indices, dim, shape):
        ctx.indices, ctx.dim = indices, dim
        xp = get_array_module(grad)
        out = xp.zeros(shape, dtype=grad.dtype)
        xp.put_along_axis(out, indices, grad, axis=dim)
        return out

    @staticmethod
    def backward(ctx, grad):
        return _TakeAlongDim.apply(grad, ctx.indices, ctx.dim), None, None, None


class _TakeAlongDim(Op):
    label = "take_along_dim"

    @staticmethod
    def forward(ctx, x, indices, dim):
        ctx.indices, ctx.dim, ctx.in_shape = indices, dim, x.shape
        return get_array_module(x).take_along_axis(x, indices, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return _PutAlongDim.apply(grad, ctx.indices, ctx.dim, ctx.in_shape), None, None


class _NoGradient(Op):
    """Reductions whose results are integers or bools (argmax, all, ...): no gradient flows."""

    @staticmethod
    def backward(ctx, *grads):
        return (None,) * len(ctx.next_edges)


class Argmax(_NoGradient):
    label = "argmax"
    fn = "argmax"

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        xp = get_array_module(x)
        if dim is None:
            _check_nonempty(x, (), cls.label, False)
            index = getattr(xp, cls.fn)(x.reshape(-1))
            return xp.asarray(index, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ())
        (d,) = normalize_dims(dim, x.ndim, cls.label) or (0,)
        if x.ndim == 0:
            return xp.zeros((), dtype=np.int64)
        _check_nonempty(x, (d,), cls.label, True)
        return getattr(xp, cls.fn)(x, axis=d, keepdims=keepdim).astype(np.int64, copy=False)


class Argmin(Argmax):
    label = "argmin"
    fn = "argmin"


class All(_NoGradient):
    label = "all"
    fn = "all"

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        dims = normalize_dims(dim, x.ndim, cls.label)
        return get_array_module(x).asarray(getattr(x, cls.fn)(axis=dims, keepdims=keepdim))


class Any(All):
    label = "any"
    fn = "any"


class CountNonzero(_NoGradient):
    label = "count_nonzero"

    @staticmethod
    def forward(ctx, x, dim):
        dims = normalize_dims(dim, x.ndim, "count_nonzero")
        return get_array_module(x).asarray((x != 0).sum(axis=dims, dtype=np.int64))


# --------------------------------------------------------------------------- statistics
class Var(Op):
    """Variance with Bessel's ``correction`` (1: unbiased); ``Std`` is its square root."""

    label = "var"
    root = False

    @classmethod
    def forward(cls, ctx, x, dim, correction, keepdim):
        _require_float(x, cls.label, "std and var only support floating point and complex dtypes")
        dims = normalize_dims(dim, x.ndim, cls.label)
        count = _count(x.shape, dims)
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        # PyTorch divides by max(0, N - correction): inf or NaN past it, never a negative variance.
        ctx.divisor = builtins.max(0, count - correction)
        xp = get_array_module(x)
        with _quiet():
            out = xp.asarray(xp.var(x, axis=dims, ddof=builtins.min(correction, count), keepdims=keepdim))
            if cls.root:
                out = xp.sqrt(out)
        ctx.save_for_backward(x, out if cls.root else None)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        x, out = ctx.saved_tensors
        if cls.root:
            # d std = d var / (2 std); zero where std is zero (a constant slice), as in PyTorch.
            nonzero = _const(out.array != 0)
            from .elementwise import Where

            grad = Where.apply(nonzero, grad / (out * 2), 0.0)
        scale = 2.0 / ctx.divisor if ctx.divisor else math.inf
        centred = x - Mean.apply(x, ctx.dims, True, None)
        return expand_reduced(grad * scale, ctx.in_shape, ctx.dims, ctx.keepdim) * centred, None, None, None


class Std(Var):
    label = "std"
    root = True


class LogSumExp(Op):
    """``log(sum(exp(x)))`` computed stably: the maximum is taken out before exponentiating."""

    label = "logsumexp"

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        from .promotion import as_floating

        x = as_floating(x)
        dims = normalize_dims(dim, x.ndim, "logsumexp")
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        xp = get_array_module(x)
        if x.size == 0:
            out = xp.full(xp.sum(x, axis=dims, keepdims=keepdim).shape, -xp.inf, dtype=x.dtype)
        else:
            shift = xp.max(x, axis=dims, keepdims=True)
            shift = xp.where(xp.isfinite(shift), shift, 0)
            with _quiet():
                total = xp.sum(xp.exp(x - shift), axis=dims, keepdims=True)
                out = xp.log(total) + shift
            out = xp.asarray(out if keepdim else out.reshape(xp.sum(x, axis=dims).shape))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, dims, keepdim = ctx.in_shape, ctx.dims, ctx.keepdim
        # The gradient is softmax(x) along dims: exp(x - logsumexp(x)).
        from .elementwise import Exp

        weights = Exp.apply(x - expand_reduced(out, shape, dims, keepdim))
        return expand_reduced(grad, shape, dims, keepdim) * weights, None, None


class Norm(Op):
    """Vector p-norm over ``dims``: 2 ('fro'), 1, inf, -inf, 0 or any other number."""

    label = "norm"

    @staticmethod
    def forward(ctx, x, p, dim, keepdim):
        _require_float(x, "norm", "linalg.vector_norm: Expected a floating point or complex tensor as input. "
                       f"Got {dtypes.from_numpy(x.dtype).name.capitalize()}")
        dims = normalize_dims(dim, x.ndim, "norm")
        ctx.in_shape, ctx.dims, ctx.keepdim, ctx.p = x.shape, dims, keepdim, p
        xp = get_array_module(x)
        with _quiet():
            if p == 2:
                out = xp.sqrt(xp.sum(x * x, axis=dims, keepdims=keepdim))
            elif p == 1:
                out = xp.sum(xp.abs(x), axis=dims, keepdims=keepdim)
            elif p == math.inf or p == -math.inf:
                _check_nonempty(x, dims, "linalg.vector_norm", True)
                pick = xp.max if p > 0 else xp.min
                out = pick(xp.abs(x), axis=dims, keepdims=keepdim)
            elif p == 0:
                out = xp.sum(x != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
            else:
                out = xp.sum(xp.abs(x) ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
        out = xp.asarray(out)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import Abs, Mul, Pow, Where

        x, out = ctx.saved_tensors
        shape, dims, keepdim, p = ctx.in_shape, ctx.dims, ctx.keepdim, ctx.p
        xv = x.array
        xp = get_array_module(xv)
        if p == 0:
            return _const(xp.zeros_like(xv)), None, None, None
        if p == 1:
            return expand_reduced(grad, shape, dims, keepdim) * _const(xp.sign(xv)), None, None, None
        if p == math.inf or p == -math.inf:
            # Like amax of |x|: split among ties, times the sign of each.
            abs_x = xp.abs(xv)
            mask = abs_x == _keepdims(out.array, shape, dims, keepdim)
            weight = xp.sign(xv) * mask / mask.sum(axis=dims, keepdims=True)
            weight = _const(weight.astype(xv.dtype))
            return expand_reduced(grad, shape, dims, keepdim) * weight, None, None, None
        # d||x||_p / dx = x |x|^(p-2) / ||x||^(p-1); zero where the norm is zero, as in PyTorch.
        nonzero = _const(out.array != 0)
        if p == 2:
            scale = Where.apply(nonzero, grad / out, 0.0)
            return Mul.apply(x, expand_reduced(scale, shape, dims, keepdim)), None, None, None
        scale = Where.apply(nonzero, grad / Pow.apply(out, p - 1), 0.0)
        factor = x * Pow.apply(Abs.apply(x), p - 2)
        return factor * expand_reduced(scale, shape, dims, keepdim), None, None, None


# --------------------------------------------------------------------------- scans
class Cumsum(Op):
    """Running sum along ``dim``; ``reverse`` sums from the end (that is cumsum's own backward)."""

    label = "cumsum"

    @staticmethod
    def forward(ctx, x, dim, dtype=None, reverse=False):
        (d,) = normalize_dims(dim, x.ndim, "cumsum") or (None,)
        ctx.dim, ctx.reverse = dim, reverse
        xp = get_array_module(x)
        target = _target_dtype(x, dtype)
        if x.ndim == 0:
            return x.astype(target)
        if reverse:
            return xp.ascontiguousarray(xp.flip(xp.cumsum(xp.flip(x, d), axis=d, dtype=target), d))
        return xp.cumsum(x, axis=d, dtype=target)

    @staticmethod
    def backward(ctx, grad):
        return Cumsum.apply(grad, ctx.dim, None, not ctx.reverse), None, None, None


class Cumprod(Op):
    label = "cumprod"

    @staticmethod
    def forward(ctx, x, dim, dtype=None):
        (d,) = normalize_dims(dim, x.ndim, "cumprod") or (None,)
        ctx.dim = dim
        target = _target_dtype(x, dtype)
        out = x.astype(target) if x.ndim == 0 else get_array_module(x).cumprod(x, axis=d, dtype=target)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        if x.array.ndim == 0:
            return grad, None, None
        if x.array.all():
            # d out_k / d x_i = out_k / x_i for k >= i: a reversed running sum, divided by x.
            return Cumsum.apply(grad * out, ctx.dim, None, True) / x, None, None
        return _CumprodGradWithZeros.apply(grad, x, ctx.dim), None, None


class _CumprodGradWithZeros(Op):
    """cumprod's gradient when the input holds zeros, without dividing by them.

    grad_x_i = (prod_{j<i} x_j) * S_i with S_i = sum_{k>=i} g_k prod_{i<j<=k} x_j,
    and S follows the recurrence S_i = g_i + x_{i+1} S_{i+1}, run from the end.
    """

    label = "cumprod_backward"

    @staticmethod
    def forward(ctx, grad, x, dim):
        xp = get_array_module(x)
        d = dim % x.ndim
        g, v = xp.moveaxis(grad, d, 0), xp.moveaxis(x, d, 0)
        n = v.shape[0]
        before = xp.cumprod(xp.concatenate([xp.ones_like(v[:1]), v[:-1]]), axis=0)
        running = xp.empty_like(g)
        running[n - 1] = g[n - 1]
        for i in range(n - 2, -1, -1):
            running[i] = g[i] + v[i + 1] * running[i + 1]
        return xp.ascontiguousarray(xp.moveaxis(before * running, 0, d))

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError(
            "cumprod: the second derivative over a slice that contains a zero is not implemented"
        )


# --------------------------------------------------------------------------- functions
def sum(input, dim=None, keepdim: bool = False, *, dtype=None):
    return Sum.apply1(input, dim, keepdim, dtype)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None):
    return Mean.apply(input, dim, keepdim, dtype)


def prod(input, dim: int | None = None, keepdim: bool = False, *, dtype=None):
    if isinstance(dim, (tuple, list)):
        raise TypeError("prod(): dim must be a single int (PyTorch reduces one dim at a time), "
                        f"got {dim!r}")
    return Prod.apply(input, dim, keepdim, dtype)


def _max_min(op, select, elementwise, input, dim, keepdim, other):
    from ..tensor import Tensor

    if isinstance(dim, Tensor) or other is not None:
        return elementwise(input, dim if other is None else other)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}(): keepdim needs a dim to reduce (got keepdim=True without dim)")
        return (Amax if op == "max" else Amin).apply(input, None, False)
    values, indices = select.apply(input, dim, keepdim)
    return getattr(return_types, op)(values, indices)


def max(input, dim=None, keepdim: bool = False, *, other=None):
    """``max(x)``: the largest element; ``max(x, dim)``: ``(values, indices)``; ``max(x, y)``: maximum."""
    from .elementwise import maximum

    return _max_min("max", Max, maximum, input, dim, keepdim, other)


def min(input, dim=None, keepdim: bool = False, *, other=None):
    """``min(x)``: the smallest element; ``min(x, dim)``: ``(values, indices)``; ``min(x, y)``: minimum."""
    from .elementwise import minimum

    return _max_min("min", Min, minimum, input, dim, keepdim, other)


def amax(input, dim=(), keepdim: bool = False):
    return Amax.apply(input, None if dim == () else dim, keepdim)


def amin(input, dim=(), keepdim: bool = False):
    return Amin.apply(input, None if dim == () else dim, keepdim)


def argmax(input, dim: int | None = None, keepdim: bool = False):
    return Argmax.apply(input, dim, keepdim)


def argmin(input, dim: int | None = None, keepdim: bool = False):
    return Argmin.apply(input, dim, keepdim)


def median(input, dim: int | None = None, keepdim: bool = False):
    """``median(x)``: the lower middle value; ``median(x, dim)``: ``(values, indices)``."""
    if dim is None:
        return Median.apply(input, None, False)
    values, indices = MedianDim.apply(input, dim, keepdim)
    return return_types.median(values, indices)


def _correction(dim, unbiased, correction, op: str):
    """PyTorch's var/std overloads: ``(dim, unbiased, keepdim)``, ``(unbiased)``, ``(dim, correction=)``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass either unbiased or correction, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


def var(input, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None):
    dim, correction = _correction(dim, unbiased, correction, "var")
    return Var.apply(input, dim, correction, keepdim)


def std(input, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None):
    dim, correction = _correction(dim, unbiased, correction, "std")
    return Std.apply(input, dim, correction, keepdim)


def var_mean(input, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None):
    dim, correction = _correction(dim, unbiased, correction, "var_mean")
    return Var.apply(input, dim, correction, keepdim), Mean.apply(input, dim, keepdim, None)


def std_mean(input, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None):
    dim, correction = _correction(dim, unbiased, correction, "std_mean")
    return Std.apply(input, dim, correction, keepdim), Mean.apply(input, dim, keepdim, None)


def logsumexp(input, dim=None, keepdim: bool = False):
    return LogSumExp.apply(input, dim, keepdim)


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """Vector norm over ``dim`` (all elements by default); ``p`` is 'fro' (2), a number, or ±inf."""
    if p == "fro" or p is None:
        p = 2
    elif isinstance(p, str):
        raise NotImplementedError(f"norm: p={p!r} is not implemented in nbframe (use 'fro', a number or inf)")
    if dtype is not None:
        input = input.to(dtype)
    return Norm.apply(input, float(p), dim, keepdim)


def cumsum(input, dim: int, *, dtype=None):
    return Cumsum.apply(input, dim, dtype, False)


def cumprod(input, dim: int, *, dtype=None):
    return Cumprod.apply(input, dim, dtype)


def all(input, dim=None, keepdim: bool = False):
    return All.apply(input, dim, keepdim)


def any(input, dim=None, keepdim: bool = False):
    return Any.apply(input, dim, keepdim)


def count_nonzero(input, dim=None):
    return CountNonzero.apply(input, dim)


TENSOR_METHODS = {name: globals()[name] for name in __all__ if name not in ("var_mean", "std_mean")}
