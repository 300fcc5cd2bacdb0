"""Counting values: ``unique``, ``bincount`` and ``histc``.

Their results are counts and positions, so only ``bincount``'s weights carry a
gradient: a weighted count adds each weight into its value's bin, which is the
backward of ``index_select``, and so ``index_select`` is its backward.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..backend import get_array_module
from .index import IndexSelectBackward, _int_tensor
from .shape import _dim

__all__ = ["unique", "bincount", "histc"]


def unique(input, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None):
    """The distinct values of ``input`` (or distinct slices along ``dim``), always in ascending order.

    ``return_inverse`` adds where each element (slice) of ``input`` went in the result, and
    ``return_counts`` how often each distinct value occurs. ``sorted=False`` allows any order in
    PyTorch; here the result is sorted either way.
    """
    x = input.array
    xp = get_array_module(x)
    axis = None if dim is None else _dim(dim, x.ndim, "unique")
    values, inverse, counts = xp.unique(x, return_inverse=True, return_counts=True, axis=axis)
    inverse = inverse.reshape(x.shape if axis is None else (-1,)).astype(np.int64, copy=False)
    out = _int_tensor(values)
    extras = [_int_tensor(inverse)] if return_inverse else []
    if return_counts:
        extras.append(_int_tensor(counts.astype(np.int64, copy=False)))
    return (out, *extras) if extras else out


def bincount(input, weights=None, minlength: int = 0):
    """How often each value 0, 1, ..., max(input) occurs in the 1-D integer tensor ``input``.

    With ``weights`` (one per element), each element adds its weight to its bin instead of one:
    the result is differentiable in the weights.
    """
    from ..creation import zeros

    x = input.array
    xp = get_array_module(x)
    if x.ndim != 1 or x.dtype.kind not in "iub" or (x.size and int(x.min()) < 0):
        raise RuntimeError(
            "bincount only supports 1-d non-negative integral inputs. "
            f"Got a {x.ndim}-d tensor of dtype {input.dtype}"
            + (f" with minimum {int(x.min())}" if x.size and x.dtype.kind in "iu" else "")
        )
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    if weights is not None and (weights.array.ndim != 1 or weights.array.shape[0] != x.shape[0]):
        raise RuntimeError(
            "weights should be 1-d and have the same length as input: "
            f"got weights of shape {list(weights.shape)} for input of shape {list(input.shape)}"
        )
    length = max(int(x.max()) + 1 if x.size else 0, int(minlength))
    if weights is None or x.size == 0:  # PyTorch counts as int64 when there is nothing to weigh
        return _int_tensor(xp.bincount(x.astype(np.int64), minlength=length)) if x.size else zeros(
            length, dtype=dtypes.int64, device=input.device)
    if not weights.is_floating_point():
        weights = weights.to(dtypes.float64)
    return IndexSelectBackward.apply(weights, (length,), 0, x.astype(np.int64))


def histc(input, bins: int = 100, min: float = 0, max: float = 0):
    """A histogram of ``input`` with ``bins`` equal bins over [min, max] (the data's range when both are 0).

    Values outside the range are left out; the last bin includes ``max``. Not differentiable.
    """
    x = input.array
    xp = get_array_module(x)
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f"histc: \"histogram_cpu\" not implemented for '{input.dtype}'; histc needs a floating tensor"
        )
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    low, high = float(min), float(max)
    if low == high and x.size:
        low, high = float(x.min()), float(x.max())
    if low == high:  # PyTorch widens an empty range by one on each side
        low, high = low - 1, high + 1
    if low > high:
        raise RuntimeError(f"torch.histc: max must be larger than min (got min={min}, max={max})")
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{low}, {high}] is not finite")
    flat = x.reshape(-1)
    inside = flat[(flat >= low) & (flat <= high)]
    position = ((inside - low) * (bins / (high - low))).astype(np.int64)
    counts = xp.bincount(xp.minimum(position, bins - 1), minlength=bins)
    return _int_tensor(counts.astype(x.dtype))


TENSOR_METHODS = {"unique": unique, "bincount": bincount, "histc": histc}
