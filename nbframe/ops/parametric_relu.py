"""``prelu``: leaky ReLU whose negative slope is learned, one slope per channel (dimension 1) or shared.

A composition of ``where`` and a broadcasting multiply, so the gradients of both the input and the
slopes (and their second derivatives) come from those ops. At ``input == 0`` the slope side is taken,
as in PyTorch (the input's gradient there is the slope).
"""

from __future__ import annotations

from .elementwise import _type_name, where

__all__ = ["prelu"]


def _check(input, weight) -> None:
    if weight.ndim > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}"
        )
    channels = input.shape[1] if input.ndim >= 2 else 1
    count = weight.numel()
    if count != 1 and count != channels:
        raise RuntimeError(
            "Mismatch of parameter numbers and input channel size. "
            f"Found parameter numbers = {count} and channel size = {channels}."
        )
    if input.dtype != weight.dtype:
        names = f"{_type_name(input.array)} and {_type_name(weight.array)}"
        raise RuntimeError(f"prelu: Type promoting not supported. Got {names}")
    if not input.is_floating_point():
        raise NotImplementedError(f'"prelu_cpu" not implemented for \'{_type_name(input.array)}\'')


def prelu(input, weight):
    """``input`` where positive, ``weight * input`` elsewhere; ``weight`` has 1 or C (= dim 1) slopes."""
    _check(input, weight)
    if weight.numel() == 1:
        slope = weight.reshape(())
    else:  # one slope per channel: (C,) -> (C, 1, ..., 1), broadcast against (N, C, ...)
        slope = weight.reshape((-1,) + (1,) * (input.ndim - 2))
    return where(input > 0, input, slope * input)


TENSOR_METHODS = {"prelu": prelu}
