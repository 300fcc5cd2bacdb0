"""Data types and PyTorch's type-promotion rules.

A ``dtype`` wraps a NumPy dtype (CuPy uses the same ones). Promotion follows
PyTorch, not NumPy: categories rank bool < integer < floating; a tensor with
dimensions outranks a zero-dimensional one, which outranks a Python number,
and a lower rank only changes the result when it brings a higher category.
"""

from __future__ import annotations

import numpy as np


class dtype:
    """A tensor element type, printed like PyTorch's (``nbframe.float32``)."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_signed", "itemsize", "category")

    def __init__(self, name: str, numpy_dtype, category: int):
        self.name = name
        self.numpy = np.dtype(numpy_dtype) if numpy_dtype is not None else None
        self.category = category  # 0 bool, 1 integer, 2 floating
        self.is_floating_point = category == 2
        self.is_signed = category == 2 or (self.numpy is not None and self.numpy.kind == "i")
        self.itemsize = self.numpy.itemsize if self.numpy is not None else 2

    def __repr__(self) -> str:
        return f"nbframe.{self.name}"

    def __reduce__(self):
        return self.name

    def to_real(self) -> dtype:
        return self


bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
# NumPy has no bfloat16: the name exists so code that mentions it imports, and
# asking for it on the CPU says so (CuPy has none either; see backend).
bfloat16 = dtype("bfloat16", None, 2)

# PyTorch's aliases
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
bool = bool_

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64, bfloat16)
_BY_NUMPY = {d.numpy: d for d in ALL if d.numpy is not None}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)

_default_float = float32


def get_default_dtype() -> dtype:
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Set the dtype that Python floats and ``zeros``/``rand``/... produce (float32 at start)."""
    global _default_float
    d = as_dtype(d)
    if not d.is_floating_point or d is bfloat16:
        raise TypeError(f"set_default_dtype: only float16, float32 or float64 can be the default, got {d}")
    _default_float = d


def from_numpy(npdtype) -> dtype:
    """The nbframe dtype of a NumPy dtype; an unsupported one raises a clear TypeError."""
    try:
        return _BY_NUMPY[npdtype]
    except KeyError:
        pass
    try:
        return _BY_NUMPY[np.dtype(npdtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"nbframe has no dtype for NumPy's {npdtype!r}; supported: "
            + ", ".join(d.name for d in ALL if d.numpy is not None)
        ) from None


def as_dtype(d) -> dtype:
    """Accept an nbframe dtype, a NumPy dtype or type, a Python type, or a name."""
    if type(d) is dtype:
        return d
    if d is None:
        return _default_float
    if d is builtins_float:
        return _default_float
    if d is builtins_int:
        return int64
    if d is builtins_bool:
        return bool_
    if isinstance(d, str):
        name = d[len("torch.") :] if d.startswith("torch.") else d
        name = name[len("nbframe.") :] if name.startswith("nbframe.") else name
        if name in _BY_NAME:
            return _BY_NAME[name]
    return from_numpy(d)


def to_numpy(d: dtype):
    if d.numpy is None:
        raise NotImplementedError(
            f"{d} has no NumPy equivalent, so it can't be used on the CPU; use float16 or float32"
        )
    return d.numpy


import builtins as _builtins  # noqa: E402

builtins_float, builtins_int, builtins_bool = _builtins.float, _builtins.int, _builtins.bool


def promote_types(a: dtype, b: dtype) -> dtype:
    """PyTorch's ``promote_types``: the higher category wins outright; within one, widen."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if {a, b} == {bfloat16, float16}:
        return float32
    if a is bfloat16 or b is bfloat16:
        other = b if a is bfloat16 else a
        return bfloat16 if other.itemsize <= 2 else other
    return _BY_NUMPY[np.promote_types(a.numpy, b.numpy)]


def _scalar_dtype(value) -> dtype:
    if isinstance(value, _builtins.bool):
        return bool_
    if isinstance(value, _builtins.int):
        return int64
    return _default_float


def result_type(*operands) -> dtype:
    """The dtype of an op over tensors (or their arrays) and Python numbers, by PyTorch's rules."""
    from .tensor import Tensor

    dim = zero = wrapped = None
    for x in operands:
        if isinstance(x, Tensor):
            x = x.array
        if hasattr(x, "ndim") and not isinstance(x, np.generic):
            d = from_numpy(x.dtype)
            if x.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        elif isinstance(x, np.generic):
            d = _scalar_dtype(x.item())
            wrapped = d if wrapped is None else promote_types(wrapped, d)
        elif x is not None:
            d = _scalar_dtype(x)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    result = dim
    for other in (zero, wrapped):
        if other is None:
            continue
        if result is None:
            result = other
        elif other.category > result.category:
            result = promote_types(result, other) if other is zero else _category_default(other, result)
    return result if result is not None else _default_float


def _category_default(scalar: dtype, tensor: dtype) -> dtype:
    # A Python number of a higher category than the tensors: its category's default dtype.
    if scalar.category == 2:
        return _default_float
    return promote_types(tensor, scalar)


def finfo(type: dtype | None = None):  # noqa: A002  (PyTorch's argument name)
    """Limits of a floating dtype (``eps``, ``max``, ``min``, ``tiny``, ``resolution``, ``bits``).

    The default dtype when none is given, as in PyTorch; NumPy's ``finfo`` holds the numbers.
    """
    d = as_dtype(type) if type is not None else get_default_dtype()
    if not d.is_floating_point:
        raise TypeError(f"torch.finfo() requires a floating point input type, got {d}; use iinfo for ints")
    if d is bfloat16:  # NumPy has no bfloat16: its limits, from its 8 exponent and 7 mantissa bits
        return _BFloat16Info()
    return np.finfo(to_numpy(d))


def iinfo(type: dtype):  # noqa: A002
    """Limits of an integer dtype (``min``, ``max``, ``bits``), NumPy's ``iinfo``."""
    d = as_dtype(type)
    if d.is_floating_point:
        raise TypeError(f"torch.iinfo() requires an integer input type, got {d}; use finfo for floats")
    return np.iinfo(to_numpy(d))


class _BFloat16Info:
    bits, eps, max, min = 16, 2.0 ** -7, 3.3895313892515355e38, -3.3895313892515355e38
    tiny = smallest_normal = 2.0 ** -126
    resolution = 0.01
    dtype = "bfloat16"
