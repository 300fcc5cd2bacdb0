"""Image transforms with torchvision's names: ``Compose``, ``ToTensor``, ``Normalize``, ``RandomCrop``,
``RandomHorizontalFlip``, ``Lambda``.

An image is either a NumPy array ``H x W`` or ``H x W x C`` (what the MNIST
datasets return, standing in for a PIL image; a PIL image is accepted too) or a
tensor ``(..., C, H, W)``. Random transforms draw from nbframe's global generator,
so ``nf.manual_seed`` makes augmentation reproducible. Crops and flips work on
the raw arrays and give tensors without a graph; ``Normalize`` uses tensor ops.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..backend import get_array_module
from ..random import rng_for
from ..tensor import Tensor, _wrap

__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip", "Lambda"]


class Compose:
    """Apply several transforms one after the other."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """``H x W (x C)`` array or PIL image -> ``C x H x W`` tensor; ``uint8`` scaled to float32 in [0, 1]."""

    def __call__(self, pic) -> Tensor:
        if isinstance(pic, Tensor):
            raise TypeError("pic should be PIL Image or ndarray. Got a Tensor (it already is one: drop "
                            "ToTensor "
                            "from the transforms, as for nbframe.datasets.Digits)")
        if not isinstance(pic, np.ndarray):
            if not hasattr(pic, "__array_interface__"):
                raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
            pic = np.asarray(pic)
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic[:, :, None]
        chw = np.ascontiguousarray(pic.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            chw = chw.astype(np.float32)
            chw /= 255.0
        elif chw.dtype == np.bool_:
            chw = chw.astype(np.float32)
        return _wrap(chw, False, None, 0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize:
    """``(image - mean) / std`` per channel of a ``(..., C, H, W)`` float tensor."""

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float, inplace: bool = False):
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(tensor)} (apply ToTensor first)")
        if not tensor.is_floating_point():
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if tensor.dim() < 3:
            raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got "
                             f"tensor.size() = {tuple(tensor.shape)}.")
        xp = get_array_module(tensor.array)
        dtype = tensor.array.dtype
        mean = xp.asarray(self.mean, dtype=dtype).reshape(-1, 1, 1)
        std = xp.asarray(self.std, dtype=dtype).reshape(-1, 1, 1)
        if bool((std == 0).any()):
            raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to division "
                             f"by zero.")
        channels = tensor.shape[-3]
        if mean.shape[0] not in (1, channels) or std.shape[0] not in (1, channels):
            raise ValueError(f"Normalize: the image has {channels} channels but mean has {mean.shape[0]} "
                             f"values and std {std.shape[0]}")
        mean_t, std_t = _wrap(mean, False, None, 0), _wrap(std, False, None, 0)
        if self.inplace:
            return tensor.sub_(mean_t).div_(std_t)
        return (tensor - mean_t) / std_t

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _axes(img) -> tuple[int, int]:
    """The (height, width) axes: the last two of a tensor, the first two of an H x W (x C) array."""
    return (-2, -1) if isinstance(img, Tensor) else (0, 1)


def _raw(img):
    if isinstance(img, Tensor):
        return img.array
    if isinstance(img, np.ndarray):
        return img
    if hasattr(img, "__array_interface__"):
        return np.asarray(img)
    raise TypeError(f"img should be a Tensor, a NumPy array or a PIL Image. Got {type(img)}")


def _like(img, array):
    return _wrap(array, False, None, 0) if isinstance(img, Tensor) else array


def _pad_widths(padding) -> tuple[int, int, int, int]:
    """torchvision's padding: one number, (left/right, top/bottom), or (left, top, right, bottom)."""
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return p, p, p, p
    padding = tuple(int(p) for p in padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} "
                     f"element tuple")


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def _pad(img, left: int, top: int, right: int, bottom: int, fill: Any, mode: str):
    array = _raw(img)
    xp = get_array_module(array)
    h_axis, w_axis = _axes(img)
    widths = [(0, 0)] * array.ndim
    widths[h_axis] = (top, bottom)
    widths[w_axis] = (left, right)
    kwargs = {"constant_values": fill} if mode == "constant" else {}
    return _like(img, xp.pad(array, widths, mode=mode, **kwargs))


class RandomCrop:
    """Cut a random ``size`` window, after optional padding (``padding_mode``: constant, edge, reflect,
    symmetric); ``pad_if_needed`` pads images smaller than the window."""

    def __init__(self, size: int | Sequence[int], padding=None, pad_if_needed: bool = False, fill: Any = 0,
                 padding_mode: str = "constant"):
        if isinstance(size, numbers.Number):
            size = (size, size)
        self.size = tuple(int(s) for s in size)
        if len(self.size) == 1:
            self.size = (self.size[0], self.size[0])
        if len(self.size) != 2:
            raise ValueError("Please provide only two dimensions (h, w) for size.")
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"Padding mode should be either constant, edge, reflect or symmetric, got "
                             f"{padding_mode}")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, img):
        if self.padding is not None:
            img = _pad(img, *_pad_widths(self.padding), self.fill, self.padding_mode)
        h_axis, w_axis = _axes(img)
        shape = _raw(img).shape
        h, w = shape[h_axis], shape[w_axis]
        th, tw = self.size
        if self.pad_if_needed and (w < tw or h < th):
            dw, dh = max(tw - w, 0), max(th - h, 0)
            img = _pad(img, dw, dh, dw, dh, self.fill, self.padding_mode)
            shape = _raw(img).shape
            h, w = shape[h_axis], shape[w_axis]
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        rng = rng_for(None)
        top = int(rng.integers(0, h - th + 1))
        left = int(rng.integers(0, w - tw + 1))
        index = [slice(None)] * len(shape)
        index[h_axis] = slice(top, top + th)
        index[w_axis] = slice(left, left + tw)
        return _like(img, _raw(img)[tuple(index)].copy())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, img):
        if rng_for(None).random() < self.p:
            array = _raw(img)
            xp = get_array_module(array)
            return _like(img, xp.ascontiguousarray(xp.flip(array, axis=_axes(img)[1])))
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class Lambda:
    """Apply a user function as a transform."""

    def __init__(self, lambd: Callable):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
