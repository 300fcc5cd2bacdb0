"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``.

Parameters are named, shaped and initialised as in PyTorch (``weight`` is
``(out, in / groups, *kernel)``, or ``(in, out / groups, *kernel)`` for the
transposed layers; Kaiming-uniform with ``a=sqrt(5)``, bias uniform in
``±1/sqrt(fan_in)``), so a PyTorch state_dict loads by name.
"""

from __future__ import annotations

import math

from ... import creation
from ...ops import conv as _conv
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What every convolution layer shares: arguments, parameters, initialisation, repr."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", output_padding=0,
                 device=None, dtype=None) -> None:
        super().__init__()
        name, dims = type(self).__name__, self._dims
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(
                f"{name}: in_channels must be divisible by groups (got {in_channels} and {groups})")
        if out_channels % groups:
            raise ValueError(
                f"{name}: out_channels must be divisible by groups (got {out_channels} and {groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _conv.ntuple(kernel_size, dims, "kernel_size", name)
        self.stride = _conv.ntuple(stride, dims, "stride", name)
        self.dilation = _conv.ntuple(dilation, dims, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string '{padding}', should be one of ['valid', 'same']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _conv.ntuple(padding, dims, "padding", name)
        self.output_padding = _conv.ntuple(output_padding, dims, "output_padding", name)
        self.groups, self.padding_mode, self.transposed = groups, padding_mode, self._transposed
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(creation.empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty((out_channels,), device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _pad_explicitly(self, input):
        """Non-zero padding modes pad the input first (``F.pad``), then convolve without padding."""
        padding = self.padding
        if padding == "valid":
            return input
        if padding == "same":
            sides = []
            for k, d in zip(self.kernel_size, self.dilation):
                total = d * (k - 1)
                sides.append((total // 2, total - total // 2))
        else:
            sides = [(p, p) for p in padding]
        if not hasattr(F, "pad"):
            raise NotImplementedError(f"{type(self).__name__}: padding_mode='{self.padding_mode}' needs "
                                      f"nn.functional.pad, which nbframe does not have yet")
        reversed_sides = tuple(v for pair in reversed(sides) for v in pair)
        return F.pad(input, reversed_sides, mode=self.padding_mode)

    def extra_repr(self) -> str:
        dims = self._dims
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, device, dtype)

    def _conv_forward(self, input, weight, bias):
        conv = F.conv1d if self._dims == 1 else F.conv2d
        if self.padding_mode != "zeros":
            return conv(self._pad_explicitly(input), weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-d convolution over ``(N, C_in, L)`` (PyTorch's ``nn.Conv1d``)."""

    _dims = 1


class Conv2d(_Conv):
    """2-d convolution over ``(N, C_in, H, W)`` (PyTorch's ``nn.Conv2d``).

    ``padding`` may be an int, a pair, ``'valid'`` or ``'same'``; ``groups`` splits the channels
    (``groups=in_channels`` is a depthwise convolution).
    """

    _dims = 2


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, not {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device, dtype)

    def _output_padding(self, input, output_size) -> tuple:
        """The output_padding that gives ``output_size`` (PyTorch's rule), or the layer's own."""
        if output_size is None:
            return self.output_padding
        dims = self._dims
        size = list(output_size)[-dims:] if len(output_size) in (dims + 1, dims + 2) else list(output_size)
        if len(size) != dims:
            raise ValueError(
                f"ConvTranspose{dims}D: for {input.ndim}D input, output_size must have {dims} or "
                f"{dims + 2} elements (got {len(output_size)})")
        result = []
        for i in range(dims):
            in_size = input.shape[input.ndim - dims + i]
            smallest = ((in_size - 1) * self.stride[i] - 2 * self.padding[i]
                        + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            largest = smallest + self.stride[i] - 1
            if not smallest <= size[i] <= largest:
                raise ValueError(
                    f"requested an output size of {size}, but valid sizes range from {smallest} to "
                    f"{largest} (for an input of {list(input.shape[-dims:])})")
            result.append(size[i] - smallest)
        return tuple(result)

    def forward(self, input, output_size=None):
        conv = F.conv_transpose1d if self._dims == 1 else F.conv_transpose2d
        return conv(input, self.weight, self.bias, self.stride, self.padding,
                    self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-d transposed convolution (PyTorch's ``nn.ConvTranspose1d``)."""

    _dims = 1


class ConvTranspose2d(_ConvTranspose):
    """2-d transposed convolution, the gradient of Conv2d as a layer (PyTorch's ``nn.ConvTranspose2d``).

    ``output_padding`` (or ``output_size`` in forward) picks among the sizes a strided layer could produce.
    """

    _dims = 2
