"""``default_collate``: turn a list of samples into one batch.

Tensors, NumPy arrays and numbers are stacked into one tensor with a new first
dimension (one ``xp.stack`` of the raw arrays: no per-sample tensor ops);
tuples, lists, dicts and named tuples are collated field by field; strings are
kept as a list. ``default_convert`` (for ``batch_size=None``) only turns NumPy
arrays into tensors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...backend import get_array_module
from ...tensor import Tensor, _wrap

__all__ = ["default_collate", "default_convert"]


def _stack(arrays: list, what: str) -> Tensor:
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != first:
            raise RuntimeError(f"default_collate: stack expects each {what} to be equal size, but got "
                               f"{list(first)} at entry 0 and {list(a.shape)} at entry {i}")
    return _wrap(get_array_module(arrays[0]).stack(arrays), False, None, 0)


def _check_numpy_dtype(array: np.ndarray) -> None:
    if array.dtype.kind in "OSUV":
        raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                        f"lists; "
                        f"found a numpy array of dtype {array.dtype}")


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch, recursing into tuples, lists and dicts (PyTorch's rules)."""
    if len(batch) == 0:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([b.array for b in batch], "tensor")
    if isinstance(elem, np.ndarray):
        _check_numpy_dtype(elem)
        return _stack([np.asarray(b) for b in batch], "numpy array")
    if isinstance(elem, np.generic):
        _check_numpy_dtype(np.asarray(elem))
        return _wrap(np.array(batch, dtype=elem.dtype), False, None, 0)
    if isinstance(elem, bool):
        return _wrap(np.array(batch, dtype=np.bool_), False, None, 0)
    if isinstance(elem, int):
        return _wrap(np.array(batch, dtype=np.int64), False, None, 0)
    if isinstance(elem, float):
        return _wrap(np.array(batch, dtype=np.float64), False, None, 0)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(elem).__name__}")


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays (also inside tuples, lists and dicts) into tensors; leave the rest alone."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OSUV" else _wrap(data, False, None, 0)
    if isinstance(data, np.generic):
        return _wrap(np.asarray(data), False, None, 0)
    if isinstance(data, Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return data
