"""Functions that make tensors: ``tensor``, ``zeros``, ``arange``, ``rand`` and friends."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import dtypes as _dtypes
from .backend import array_types, as_device, device_of, xp_for
from .random import rng_for
from .tensor import Tensor, _wrap

__all__ = [
    "tensor",
    "as_tensor",
    "from_numpy",
    "zeros",
    "ones",
    "full",
    "empty",
    "arange",
    "linspace",
    "logspace",
    "eye",
    "rand",
    "randn",
    "randint",
    "randperm",
    "zeros_like",
    "ones_like",
    "full_like",
    "empty_like",
    "rand_like",
    "randn_like",
    "randint_like",
    "normal",
    "bernoulli",
]


def _size(size) -> tuple:
    """Accept ``zeros(2, 3)``, ``zeros((2, 3))``, ``zeros([2, 3])`` and ``zeros(Size)``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"a size must be a sequence of integers, got {type(s).__name__} ({s!r})")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _size_or_keyword(args: tuple, size, op: str) -> tuple:
    """The shape from ``zeros(2, 3)`` / ``zeros((2, 3))`` or from the keyword ``zeros(size=(2, 3))``."""
    if size is None:
        return args
    if args:
        raise TypeError(f"{op}() got the size twice: positionally {args} and as size={size!r}; give one")
    return (size,) if isinstance(size, (tuple, list)) else (size,)


def _infer_dtype(data) -> _dtypes.dtype:
    """PyTorch's inference for Python data: any float -> default float, else int64, else bool."""
    kinds = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, Tensor):
            kinds.add(item.dtype)
        elif isinstance(item, np.ndarray):
            kinds.add(_dtypes.from_numpy(item.dtype))
        elif isinstance(item, (bool, np.bool_)):
            kinds.add(_dtypes.bool_)
        elif isinstance(item, (int, np.integer)):
            kinds.add(_dtypes.int64)
        elif isinstance(item, (float, np.floating)):
            kinds.add(
                _dtypes.get_default_dtype() if isinstance(item, float) else _dtypes.from_numpy(item.dtype)
            )
        elif isinstance(item, complex):
            raise TypeError("nbframe has no complex dtypes")
        else:
            raise TypeError(
                f"tensor(): could not make a tensor from an element of type {type(item).__name__} "
                f"({item!r}); expected numbers, nested lists of numbers, NumPy arrays or Tensors"
            )
    result = None
    for k in kinds:
        result = k if result is None else _dtypes.promote_types(result, k)
    return result or _dtypes.get_default_dtype()


def _nested_to_numpy(data):
    if isinstance(data, Tensor):
        return data.array if type(data.array) is np.ndarray else data.array.get()
    if isinstance(data, (list, tuple)):
        return [_nested_to_numpy(d) for d in data]
    return data


def _to_array(data, dtype, device=None):
    """Convert Python data, NumPy/CuPy arrays or Tensors into an array of ``dtype`` on ``device``."""
    dev = as_device(device) if device is not None else None
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, array_types()):
        target = _dtypes.to_numpy(_dtypes.as_dtype(dtype)) if dtype is not None else data.dtype
        _dtypes.from_numpy(target)
        src_dev = device_of(data)
        if dev is not None and dev != src_dev:
            data = data.get() if src_dev.type == "cuda" else data
            xp = xp_for(dev)
            return xp.array(data, dtype=target)
        return data.astype(target, copy=True)
    if isinstance(data, np.generic):
        data = data.item() if dtype is None and data.dtype.kind != "f" else np.asarray(data)
    if isinstance(data, np.ndarray):
        d = _dtypes.as_dtype(dtype) if dtype is not None else _dtypes.from_numpy(data.dtype)
        arr = np.array(data, dtype=_dtypes.to_numpy(d))
    else:
        d = _dtypes.as_dtype(dtype) if dtype is not None else _infer_dtype(data)
        nested = _nested_to_numpy(data)
        try:
            arr = np.array(nested, dtype=_dtypes.to_numpy(d))
        except ValueError as exc:
            raise ValueError(
                f"tensor(): the nested lists must be rectangular (every row the same length): {exc}"
            ) from None
    if dev is not None and dev.type != "cpu":
        arr = xp_for(dev).asarray(arr)
    return arr


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, NumPy arrays or Tensors)."""
    return _leaf(_to_array(data, dtype, device), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when it can."""
    if (
        isinstance(data, Tensor)
        and (dtype is None or _dtypes.as_dtype(dtype) == data.dtype)
        and (device is None or as_device(device) == data.device)
    ):
        return data
    if (
        isinstance(data, np.ndarray)
        and device is None
        and (dtype is None or _dtypes.to_numpy(_dtypes.as_dtype(dtype)) == data.dtype)
    ):
        _dtypes.from_numpy(data.dtype)
        return _wrap(data, False, None, 0)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expected a numpy.ndarray, got {type(array).__name__}")
    _dtypes.from_numpy(array.dtype)
    return _wrap(array, False, None, 0)


def _make(fill, size, dtype, device, requires_grad, kind: str) -> Tensor:
    d = _dtypes.as_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()
    xp = xp_for(as_device(device))
    shape = _size(size)
    npd = _dtypes.to_numpy(d)
    if kind == "full":
        arr = xp.full(shape, fill, dtype=npd)
    elif kind == "zeros":
        arr = xp.zeros(shape, dtype=npd)
    else:
        arr = xp.empty(shape, dtype=npd)
    return _leaf(arr, requires_grad)


def zeros(
    *args, size=None, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False
) -> Tensor:
    return _make(0, _size_or_keyword(args, size, "zeros"), dtype, device, requires_grad, "zeros")


def ones(
    *args, size=None, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False
) -> Tensor:
    return _make(1, _size_or_keyword(args, size, "ones"), dtype, device, requires_grad, "full")


def empty(
    *args, size=None, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
    memory_format=None,
) -> Tensor:
    return _make(0, _size_or_keyword(args, size, "empty"), dtype, device, requires_grad, "empty")


def full(
    size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False
) -> Tensor:
    from .ops.promotion import fill_scalar

    if dtype is None:
        dtype = _dtypes.result_type(fill_value) if not isinstance(fill_value, Tensor) else fill_value.dtype
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    # An int the dtype can't hold raises PyTorch's error (uint8 takes negative ones, wrapped).
    fill_value = fill_scalar(fill_value, _dtypes.to_numpy(_dtypes.as_dtype(dtype)))
    return _make(
        fill_value,
        (size,) if isinstance(size, (tuple, list)) else (size,),
        dtype,
        device,
        requires_grad,
        "full",
    )


def arange(
    start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False
) -> Tensor:
    """``arange(end)`` or ``arange(start, end, step)``: int64 for integers, else the default float."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in values)
        dtype = _dtypes.int64 if is_int else _dtypes.get_default_dtype()
    d = _dtypes.as_dtype(dtype)
    xp = xp_for(as_device(device))
    arr = xp.arange(values[0], values[1], values[2], dtype=np.float64 if d.is_floating_point else None)
    return _leaf(arr.astype(_dtypes.to_numpy(d)), requires_grad)


def linspace(
    start, end, steps: int, *, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False
) -> Tensor:
    d = _dtypes.as_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()
    xp = xp_for(as_device(device))
    return _leaf(xp.linspace(start, end, steps).astype(_dtypes.to_numpy(d)), requires_grad)


def logspace(
    start, end, steps: int, base: float = 10.0, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    d = _dtypes.as_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()
    xp = xp_for(as_device(device))
    return _leaf(xp.logspace(start, end, steps, base=base).astype(_dtypes.to_numpy(d)), requires_grad)


def eye(
    n: int,
    m: int | None = None,
    *,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    d = _dtypes.as_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()
    xp = xp_for(as_device(device))
    return _leaf(xp.eye(n, m, dtype=_dtypes.to_numpy(d)), requires_grad)


def _random(size, dtype, device, requires_grad, generator, draw) -> Tensor:
    d = _dtypes.as_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()
    if not d.is_floating_point:
        raise TypeError(f"random floats can't be drawn as {d}; use a floating dtype")
    shape = _size(size)
    arr = draw(rng_for(generator), shape, _dtypes.to_numpy(d))
    dev = as_device(device)
    if dev.type != "cpu":
        arr = xp_for(dev).asarray(arr)
    return _leaf(arr, requires_grad)


def _uniform(rng, shape, npd):
    if npd in (np.float32, np.float64):
        return rng.random(shape, dtype=npd)
    return rng.random(shape, dtype=np.float32).astype(npd)


def _normal(rng, shape, npd):
    if npd in (np.float32, np.float64):
        return rng.standard_normal(shape, dtype=npd)
    return rng.standard_normal(shape, dtype=np.float32).astype(npd)


def rand(
    *args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _random(_size_or_keyword(args, size, "rand"), dtype, device, requires_grad, generator, _uniform)


def randn(
    *args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal samples."""
    return _random(_size_or_keyword(args, size, "randn"), dtype, device, requires_grad, generator, _normal)


def randint(
    low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high), int64 by default."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() needs a size: randint(high, size) or randint(low, high, size)")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low} and high={high}")
    d = _dtypes.as_dtype(dtype) if dtype is not None else _dtypes.int64
    arr = (
        rng_for(generator)
        .integers(low, high, size=_size((size,)), dtype=np.int64)
        .astype(_dtypes.to_numpy(d))
    )
    dev = as_device(device)
    if dev.type != "cpu":
        arr = xp_for(dev).asarray(arr)
    return _wrap(arr, False, None, 0)


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    d = _dtypes.as_dtype(dtype) if dtype is not None else _dtypes.int64
    arr = rng_for(generator).permutation(n).astype(_dtypes.to_numpy(d))
    dev = as_device(device)
    if dev.type != "cpu":
        arr = xp_for(dev).asarray(arr)
    return _wrap(arr, False, None, 0)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Normal samples: scalars with ``size``, or element-wise from ``mean``/``std`` tensors."""
    if size is not None:
        return randn(*_size((size,)), generator=generator, dtype=dtype, device=device) * std + mean
    ref = mean if isinstance(mean, Tensor) else std
    noise = randn(*ref.shape, generator=generator, dtype=ref.dtype, device=ref.device)
    return noise * std + mean


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    probs = input.array if p is None else np.full(input.shape, p)
    if type(probs) is not np.ndarray:
        probs = probs.get()
    draw = rng_for(generator).random(probs.shape) < probs
    arr = draw.astype(input.array.dtype)
    if input.is_cuda:
        arr = xp_for(input.device).asarray(arr)
    return _wrap(arr, False, None, 0)


def _like(input: Tensor, dtype, device):
    return (
        input.shape,
        dtype if dtype is not None else input.dtype,
        device if device is not None else input.device,
    )


def _like_function(make, name: str):
    """``zeros_like`` and friends: ``make`` with the shape, dtype and device of ``input``."""

    def like(
        input: Tensor,
        *,
        dtype=None,
        layout=None,
        device=None,
        requires_grad: bool = False,
        memory_format=None,
    ) -> Tensor:
        shape, dtype, device = _like(input, dtype, device)
        return make(shape, dtype=dtype, device=device, requires_grad=requires_grad)

    like.__name__ = like.__qualname__ = name
    like.__doc__ = f"``{make.__name__}`` with the shape, dtype and device of ``input`` (unless given)."
    return like


zeros_like = _like_function(zeros, "zeros_like")
ones_like = _like_function(ones, "ones_like")
empty_like = _like_function(empty, "empty_like")
rand_like = _like_function(rand, "rand_like")
randn_like = _like_function(randn, "randn_like")


def full_like(
    input: Tensor,
    fill_value,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
    memory_format=None,
) -> Tensor:
    shape, dtype, device = _like(input, dtype, device)
    return full(shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def randint_like(
    input: Tensor,
    low=0,
    high=None,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
    memory_format=None,
) -> Tensor:
    shape, dtype, device = _like(input, dtype, device)
    return randint(low, high, shape, dtype=dtype, device=device)


def _leaf(array, requires_grad: bool) -> Tensor:
    """A new leaf tensor around ``array``."""
    t = _wrap(array, False, None, 0)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros_for(shape: Sequence[int], npdtype, xp) -> Tensor:
    """Zeros of a node output's shape, NumPy dtype and array module (the engine's materialised grads)."""
    return _wrap(xp.zeros(shape, dtype=npdtype), False, None, 0)
