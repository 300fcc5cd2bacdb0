"""Operand preparation for ops: PyTorch's dtype promotion and device checks, on raw arrays.

NumPy's own promotion differs from PyTorch's (an int64 array plus 0.5 gives
float64 there, float32 here; a 0-d float64 array widens a float32 one there, not
here), so binary ops pass their operands through ``promote`` first. The common
cases — same dtype, or a float array with a Python number — cost two checks.

A Python int that an integer result dtype can't hold wraps around, as PyTorch's
cast does (``uint8 tensor - 3`` and ``+ -1`` are modulo 256, ``int8 + 200`` is
``+ -56``); NumPy would raise OverflowError instead.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes

_ndarray = np.ndarray
_PY_NUMBERS = (int, float)  # by exact type: bool and NumPy scalars take the general path


def promote(a, b, op: str):
    """Cast two operands (arrays or Python numbers) to their PyTorch result dtype."""
    ta = type(a)
    if ta is _ndarray:
        # The hot cases first, decided by identity: two NumPy arrays of one dtype (NumPy's builtin
        # dtypes are singletons), or a float array and a Python number (weak: keeps the array's dtype).
        tb = type(b)
        if (tb is _ndarray and a.dtype is b.dtype) or (tb in _PY_NUMBERS and a.dtype.kind == "f"):
            return a, b
    da = getattr(a, "dtype", None)
    db = getattr(b, "dtype", None)
    if da is not None and db is not None:
        if type(a) is not type(b) and not (isinstance(a, np.generic) or isinstance(b, np.generic)):
            _device_mismatch(a, b, op)
        if da == db:
            return a, b
    elif da is not None and da.kind == "f" and not isinstance(a, np.generic):
        return a, _pyscalar(b)
    elif db is not None and db.kind == "f" and not isinstance(b, np.generic):
        return _pyscalar(a), b
    a, b = _pyscalar(a), _pyscalar(b)
    target = dtypes.to_numpy(dtypes.result_type(a, b))
    return _cast(a, target), _cast(b, target)


def promote_to_float(a, b, op: str):
    """Like ``promote`` but the result is floating (true division: int / int -> float32)."""
    a, b = promote(a, b, op)
    kind = getattr(a, "dtype", getattr(b, "dtype", None))
    if kind is not None and kind.kind != "f":
        target = dtypes.get_default_dtype().numpy
        a, b = _cast(a, target), _cast(b, target)
    return a, b


def as_floating(x):
    """Integer and bool inputs of float-valued functions (exp, sqrt, ...) become the default float."""
    if x.dtype.kind == "f":
        return x
    return x.astype(dtypes.get_default_dtype().numpy)


def _pyscalar(x):
    if isinstance(x, np.generic):
        return x.item()
    return x


def _cast(x, target):
    if hasattr(x, "dtype"):
        return x.astype(target) if x.dtype != target else x
    if type(x) is int and target.kind in "iu":
        return wrap_int(x, target)
    return x


def wrap_int(value: int, target) -> int:
    """``value`` as the NumPy integer dtype ``target`` would hold it: modulo 2**bits, in its range."""
    _check_64_bits(value)
    return _modulo(value, target)


def _modulo(value: int, target) -> int:
    """``value`` wrapped into ``target``'s range, whatever its size (a product of two 64-bit ints)."""
    info = np.iinfo(target)
    if info.min <= value <= info.max:
        return value
    span = info.max - info.min + 1
    return (value - info.min) % span + info.min


def _check_64_bits(value: int) -> None:
    """PyTorch reads a Python int as a 64-bit integer (signed, or unsigned when positive)."""
    if value >= 2**64:
        raise OverflowError("int too big to convert")
    if value < -(2**63):
        raise OverflowError("can't convert negative int to unsigned")


_C_NAMES = {"int32": "int"}


def fill_scalar(value, target):
    """A Python number to write into an array of dtype ``target`` (``fill_``), converted as PyTorch does.

    An integer dtype takes the values it can hold, and uint8 also negative ints (wrapped: -1 is 255);
    anything else raises PyTorch's overflow error instead of NumPy's OverflowError.
    """
    if target.kind not in "iu" or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    info = np.iinfo(target)
    low = -(2**63) + 1 if target == np.uint8 and isinstance(value, int) else info.min
    if not low <= value <= info.max:
        name = _C_NAMES.get(target.name, f"{target.name}_t")
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")
    return wrap_int(value, target) if isinstance(value, int) else value


def times_alpha(a, b, alpha):
    """``b * alpha`` for ``add``/``sub`` (after ``promote(a, b)``), as PyTorch computes it.

    With an integer result, ``alpha`` must be an int the dtype can hold (``fill_scalar``'s rule) and a
    Python-int ``b`` times it wraps like any out-of-range int (``add(uint8, -1, alpha=2)`` subtracts 2).
    """
    if type(alpha) is int:
        _check_64_bits(alpha)
    dtype = a.dtype if hasattr(a, "dtype") else getattr(b, "dtype", None)
    if dtype is None or dtype.kind not in "iub":
        return b * alpha
    if isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    alpha = fill_scalar(alpha, dtype)
    if type(b) is int and dtype.kind != "b":
        return _modulo(b * alpha, dtype)
    return b * alpha


def _device_mismatch(a, b, op: str) -> None:
    from ..backend import device_of

    da, db = device_of(a), device_of(b)
    if da != db:
        raise RuntimeError(
            f"{op}: Expected all tensors to be on the same device, but found at least two devices, "
            f"{da} and {db}! Move one with .to({str(da)!r}) or .to({str(db)!r})."
        )


def broadcast_error(op: str, a, b) -> RuntimeError:
    """The error for operands whose shapes don't broadcast, naming the op and both shapes."""
    sa = list(getattr(a, "shape", ()))
    sb = list(getattr(b, "shape", ()))
    return RuntimeError(
        f"{op}: the shapes {sa} and {sb} can't be broadcast together: sizes must match, or be 1, "
        "dimension by dimension from the right"
    )
