"""Copies and conversions: ``to`` (dtype and device), ``clone``, ``contiguous``."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..autograd.function import Op
from ..backend import as_device, device_of, get_array_module, xp_for

__all__ = ['to', 'clone', 'contiguous']


class Cast(Op):
    label = "to"

    @staticmethod
    def forward(ctx, x, target):
        ctx.source = x.dtype
        return x.astype(target)

    @staticmethod
    def backward(ctx, grad):
        return Cast.apply(grad, ctx.source), None

    @staticmethod
    def backward_arrays(ctx, grad):
        # An integer or bool source cannot require grad: no gradient goes back to it.
        source = ctx.source
        if source.kind not in "fc":
            return None, None
        return grad.astype(source), None


class ToDevice(Op):
    label = "to_device"

    @staticmethod
    def forward(ctx, x, target):
        ctx.source = device_of(x)
        if target.type == "cpu":
            return x.get()
        xp = xp_for(target)
        with xp.cuda.Device(target.index or 0):
            return xp.asarray(x)

    @staticmethod
    def backward(ctx, grad):
        return ToDevice.apply(grad, ctx.source), None


class Clone(Op):
    label = "clone"

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad

    backward_arrays = backward  # the identity on arrays as on Tensors


class Contiguous(Op):
    label = "contiguous"

    @staticmethod
    def forward(ctx, x):
        return get_array_module(x).ascontiguousarray(x)

    @staticmethod
    def backward(ctx, grad):
        return grad

    backward_arrays = backward  # the identity on arrays as on Tensors


def _parse_to(tensor, args, kwargs):
    from ..tensor import Tensor

    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dev, dtype = a.device, a.dtype
        elif isinstance(a, dtypes.dtype) or (isinstance(a, type) and a in (float, int, bool)) or (
            isinstance(a, np.dtype)
        ):
            dtype = a
        elif isinstance(a, bool):
            copy = a
        elif a is not None:
            dev = a
    return dev, dtype, copy


def to(tensor, *args, **kwargs):
    """``Tensor.to``: move and/or cast; returns ``tensor`` itself when nothing changes (unless copy)."""
    dev, dtype, copy = _parse_to(tensor, args, dict(kwargs))
    out = tensor
    if dev is not None:
        target = as_device(dev)
        current = device_of(tensor.array)
        if target.type == "cuda" and target.index is None:
            target = as_device(("cuda:" + str(current.index)) if current.type == "cuda" else "cuda:0")
        if target != current:
            if target.type == "cuda":
                xp_for(target)  # raises the helpful error when CUDA is not there
            out = ToDevice.apply(out, target)
    if dtype is not None:
        target_dtype = dtypes.to_numpy(dtypes.as_dtype(dtype))
        if out.array.dtype != target_dtype:
            out = Cast.apply(out, target_dtype)
    if copy and out is tensor:
        out = Clone.apply(tensor)
    return out


def clone(input, *, memory_format=None):
    return Clone.apply(input)


def contiguous(input):
    if input.array.flags.c_contiguous:
        return input
    return Contiguous.apply(input)


TENSOR_METHODS = {}
