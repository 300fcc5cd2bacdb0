"""``out=``: write a linalg function's result into tensors the caller gave, as PyTorch does.

The out tensors take the result's shape (resized when it differs) and must
have its dtype; like PyTorch, ``out=`` refuses inputs that require grad.
"""

from __future__ import annotations

import functools

from ..autograd import grad_mode


def store_out(op: str, result, out):
    """``result`` (a Tensor or a named tuple of them) written into ``out``; returns what PyTorch returns."""
    if out is None:
        return result
    from ..tensor import Tensor

    results = tuple(result) if isinstance(result, tuple) else (result,)
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or not all(isinstance(o, Tensor) for o in out):
            raise TypeError(
                f"linalg.{op}(): argument 'out' must be tuple of Tensors, not {type(out).__name__}"
            )
        if len(out) != len(results):
            raise TypeError(f"linalg.{op}(): expected tuple of {len(results)} elements but got {len(out)}")
        outs = tuple(out)
    else:
        if not isinstance(out, Tensor):
            raise TypeError(f"linalg.{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
        outs = (out,)
    if grad_mode.is_grad_enabled() and any(r.requires_grad for r in results):
        raise RuntimeError(
            f"linalg.{op}(): functions with out=... arguments don't support automatic differentiation, but "
            "one of the arguments requires grad."
        )
    for value, target in zip(results, outs):
        if target.dtype != value.dtype:
            raise RuntimeError(
                f"linalg.{op}(): Expected out tensor to have dtype {value.dtype.name}, but got "
                f"{target.dtype.name} instead"
            )
    for value, target in zip(results, outs):
        if target.array.shape == value.array.shape:
            target.array[...] = value.array
        else:
            target.array = value.array.copy()  # resized, as PyTorch resizes an out tensor
        target._version[0] += 1
    return type(result)(*outs) if isinstance(result, tuple) else out


def accepts_out(op: str):
    """Give a linalg function PyTorch's keyword-only ``out=`` (see ``store_out``)."""

    def decorate(fn):
        @functools.wraps(fn)
        def call(*args, out=None, **kwargs):
            return store_out(op, fn(*args, **kwargs), out)

        return call

    return decorate
