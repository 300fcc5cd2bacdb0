"""Pooling and resampling: max and average pooling, adaptive pooling, ``interpolate``.

- Max pooling finds each window's argmax on a strided view of the input (no
  copy of the windows beyond one reshape) and keeps the indices; the values are
  a gather at those indices, whose backward scatters the gradient back.
  Gather and scatter are each other's backward, so double backward works.
- Average pooling sums windows with one strided add per kernel position; its
  backward spreads the gradient back with col2im. The two are adjoint.
- Adaptive average pooling and ``interpolate`` (nearest, linear, bilinear) are
  separable linear maps: one small matrix along the height, one along the width.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Op, on_arrays
from ..backend import cpu, get_array_module
from ..backend import cuda as _cuda
from .conv import col2im_unpadded, ntuple

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d"]


# --------------------------------------------------------------------------- gather / scatter by plane index
class PlaneGather(Op):
    """``out[n, c, k] = x[n, c].flat[index[n, c, k]]``: the values of a max pool."""

    label = "max_pool"

    @staticmethod
    def forward(ctx, x, index, unique, values=None):
        """``values`` may be the gathered result already (max pooling finds it with the indices)."""
        n, c, h, w = x.shape
        ctx.in_shape, ctx.index, ctx.unique = x.shape, index, unique
        if values is not None:
            return values
        flat = get_array_module(x).take_along_axis(x.reshape(n, c, h * w), index.reshape(n, c, -1), axis=2)
        return flat.reshape(index.shape)

    @staticmethod
    def backward(ctx, grad):
        return PlaneScatter.apply(grad, ctx.index, ctx.in_shape, ctx.unique), None, None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return on_arrays(PlaneScatter, grad, ctx.index, ctx.in_shape, ctx.unique), None, None, None


class PlaneScatter(Op):
    """The adjoint of ``PlaneGather``: add each value back at its index (max-pool backward)."""

    label = "max_pool_backward"

    @staticmethod
    def forward(ctx, values, index, in_shape, unique):
        n, c, h, w = in_shape
        ctx.index, ctx.unique = index, unique
        if _cuda.has_kernel_dtype(values):  # kernels/maxpool.cu
            return _cuda.maxpool2d_backward(values.reshape(n, c, 1, -1), index.reshape(n, c, 1, -1), in_shape)
        out = cpu.scatter_add_planes(values.reshape(n, c, -1), index.reshape(n, c, -1), h * w, unique)
        return out.reshape(in_shape)

    @staticmethod
    def backward(ctx, grad):
        return PlaneGather.apply(grad, ctx.index, ctx.unique, None), None, None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return on_arrays(PlaneGather, grad, ctx.index, ctx.unique, None), None, None, None


# --------------------------------------------------------------------------- window geometry
def _pool_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size; with ceil_mode a last window starting in the padding is dropped."""
    span = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = span // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


class _Window:
    """Kernel, stride, padding, dilation and the output size of a 2-d pooling of one input shape."""

    def __init__(self, fname, in_hw, kernel_size, stride, padding, dilation, ceil_mode, effective: bool):
        self.kernel = _positive(ntuple(kernel_size, 2, "kernel_size", fname), "kernel_size", fname)
        self.stride = self.kernel if stride is None or stride == [] or stride == () else \
            _positive(ntuple(stride, 2, "stride", fname), "stride", fname)
        self.padding = ntuple(padding, 2, "padding", fname)
        self.dilation = _positive(ntuple(dilation, 2, "dilation", fname), "dilation", fname)
        for p, k, d in zip(self.padding, self.kernel, self.dilation):
            _check_half_padding(p, k, d, fname, effective)
        self.out = tuple(_pool_size(s, k, st, p, d, ceil_mode) for s, k, st, p, d in
                         zip(in_hw, self.kernel, self.stride, self.padding, self.dilation))
        if any(o < 1 for o in self.out):
            raise RuntimeError(
                f"{fname}: Given input size: ({'x'.join(map(str, in_hw))}). Calculated output size: "
                f"({'x'.join(map(str, self.out))}). Output size is too small")
        self.in_hw = tuple(in_hw)
        # Padding after the input: enough for the last window (ceil_mode may need more than `padding`).
        self.after = tuple(max(p, (o - 1) * s + d * (k - 1) + 1 - i - p) for o, s, d, k, i, p in
                           zip(self.out, self.stride, self.dilation, self.kernel, in_hw, self.padding))

    @property
    def sides(self) -> tuple:
        return (self.padding[0], self.after[0], self.padding[1], self.after[1])

    def non_overlapping(self) -> bool:
        return all(s >= d * (k - 1) + 1 for s, d, k in zip(self.stride, self.dilation, self.kernel))

    def divisor(self, xp, dtype, count_include_pad: bool):
        """The number each window sum is divided by (PyTorch's avg_pool rule), shape ``(OH, OW)``."""
        per_dim = []
        for o, s, k, p, size in zip(self.out, self.stride, self.kernel, self.padding, self.in_hw):
            start = np.arange(o) * s - p
            end = np.minimum(start + k, size + p)
            if count_include_pad:
                per_dim.append(end - start)
            else:
                per_dim.append(np.minimum(end, size) - np.maximum(start, 0))
        return xp.asarray(np.outer(per_dim[0], per_dim[1]).astype(dtype))


def _check_half_padding(p: int, k: int, d: int, fname: str, effective: bool) -> None:
    """PyTorch's rule: padding at most half the (dilated, for max pooling) kernel."""
    if p < 0:
        raise RuntimeError(f"{fname}: padding must be non-negative, but got pad={p}")
    if effective and p > (d * (k - 1) + 1) // 2:
        raise RuntimeError(f"{fname}: pad should be at most half of effective kernel size, but got pad={p}, "
                           f"kernel_size={k} and dilation={d}")
    if not effective and p > k // 2:
        raise RuntimeError(f"{fname}: pad should be at most half of kernel size, but got pad={p} and "
                           f"kernel_size={k}")


def _positive(values: tuple, name: str, fname: str) -> tuple:
    if any(v < 1 for v in values):
        raise RuntimeError(f"{fname}: {name} must be greater than zero, but got {list(values)}")
    return values


def _check_pool_input(input, dims: int, fname: str) -> bool:
    """True for an unbatched input; PyTorch's error for a wrong number of dimensions."""
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"{fname}: Expected {dims + 1}D or {dims + 2}D (batch mode) tensor for input, but got "
            f"input of size: {list(input.shape)}")
    if any(s == 0 for s in input.shape[1:]):
        raise RuntimeError(
            f"{fname}: Expected input's non-batch dimensions to have positive length, but input "
            f"has a shape of {list(input.shape)}")
    return input.ndim == dims + 1


def _to_4d(input, dims: int, unbatched: bool):
    x = input.unsqueeze(0) if unbatched else input
    return x.unsqueeze(-2) if dims == 1 else x


def _from_4d(out, dims: int, unbatched: bool):
    out = out.squeeze(-2) if dims == 1 else out
    return out.squeeze(0) if unbatched else out


def _pair_1d(value, dims: int, fill: int):
    """A 1-d pooling argument as the 2-d one of a height-1 input."""
    if dims == 2 or value is None:
        return value
    (v,) = ntuple(value, 1, "argument", "pool1d")
    return (fill, v)


# --------------------------------------------------------------------------- max pooling
def _max_pool_values_and_indices(x, win: _Window):
    """Each window's max, and the flat index into the (unpadded) input plane where it is."""
    if _cuda.has_kernel_dtype(x):  # kernels/maxpool.cu
        return _cuda.maxpool2d_forward(x, win.kernel, win.stride, win.padding, win.dilation, win.out)
    xp = get_array_module(x)
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    padded = cpu.pad_planes(x, win.sides, fill)
    values, local = cpu.window_max(padded, win.kernel, win.stride, win.dilation, win.out)
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = win.kernel, win.stride, win.dilation, win.padding
    (oh, ow), width = win.out, win.in_hw[1]
    base = (xp.arange(oh) * sh - ph).reshape(-1, 1) * width + (xp.arange(ow) * sw - pw)
    offsets = (xp.arange(kh) * dh * width).reshape(-1, 1) + xp.arange(kw) * dw
    return values, base + offsets.ravel()[local]


def _max_poolnd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, dims, fname):
    unbatched = _check_pool_input(input, dims, fname)
    x = _to_4d(input, dims, unbatched)
    win = _Window(fname, x.shape[2:], _pair_1d(kernel_size, dims, 1), _pair_1d(stride, dims, 1),
                  _pair_1d(padding, dims, 0), _pair_1d(dilation, dims, 1), ceil_mode, True)
    from ..tensor import _wrap

    values, index = _max_pool_values_and_indices(x.array, win)
    out = _from_4d(PlaneGather.apply(x, index, win.non_overlapping(), values), dims, unbatched)
    if return_indices:
        return out, _from_4d(_wrap(index, False, None, 0), dims, unbatched)
    return out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over sliding windows of ``(N, C, L)``, as ``torch.nn.functional.max_pool1d``."""
    return _max_poolnd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1,
                       "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over sliding windows of ``(N, C, H, W)``, as ``torch.nn.functional.max_pool2d``.

    With ``return_indices`` also returns, per output, the flat index of the max in its input plane.
    """
    return _max_poolnd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2,
                       "max_pool2d")


# --------------------------------------------------------------------------- average pooling
class AvgPool2dOp(Op):
    """Window sums of the zero-padded input divided by ``divisor`` (an ``(OH, OW)`` array)."""

    label = "avg_pool2d"

    @staticmethod
    def forward(ctx, x, win, divisor):
        ctx.win, ctx.divisor, ctx.in_shape = win, divisor, x.shape
        padded = cpu.pad_planes(x, win.sides)
        return cpu.window_sum(padded, win.kernel, win.stride, win.out) / divisor

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2dAdjoint.apply(grad, ctx.win, ctx.divisor, ctx.in_shape), None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return on_arrays(AvgPool2dAdjoint, grad, ctx.win, ctx.divisor, ctx.in_shape), None, None


class AvgPool2dAdjoint(Op):
    """Average-pool backward: spread each output's gradient evenly over its window (col2im)."""

    label = "avg_pool2d_backward"

    @staticmethod
    def forward(ctx, grad, win, divisor, in_shape):
        ctx.win, ctx.divisor = win, divisor
        n, c = in_shape[:2]
        (kh, kw), (oh, ow) = win.kernel, win.out
        share = (grad / divisor)[:, :, None, None]
        spread = get_array_module(grad).broadcast_to(share, (n, c, kh, kw, oh, ow))
        return col2im_unpadded(spread, in_shape, win.sides, win.stride, (1, 1))

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2dOp.apply(grad, ctx.win, ctx.divisor), None, None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return on_arrays(AvgPool2dOp, grad, ctx.win, ctx.divisor), None, None, None


def _avg_poolnd(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, dims,
                fname):
    unbatched = _check_pool_input(input, dims, fname)
    x = _to_4d(input, dims, unbatched)
    win = _Window(fname, x.shape[2:], _pair_1d(kernel_size, dims, 1), _pair_1d(stride, dims, 1),
                  _pair_1d(padding, dims, 0), 1, ceil_mode, False)
    xp = get_array_module(x.array)
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError(f"{fname}: divisor must be not zero")
        divisor = xp.asarray(divisor_override, dtype=x.array.dtype)
    else:
        divisor = win.divisor(xp, x.array.dtype, count_include_pad)
    return _from_4d(AvgPool2dOp.apply(x, win, divisor), dims, unbatched)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True):
    """Mean over sliding windows of ``(N, C, L)``, as ``torch.nn.functional.avg_pool1d``."""
    return _avg_poolnd(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1,
                       "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """Mean over sliding windows of ``(N, C, H, W)``, as ``torch.nn.functional.avg_pool2d``.

    ``count_include_pad`` counts the zero padding in each window's divisor; ``divisor_override`` replaces it.
    """
    return _avg_poolnd(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                       "avg_pool2d")


# --------------------------------------------------------------------------- separable linear maps
class SeparableLinear2d(Op):
    """``out[n, c] = rows @ x[n, c] @ cols.T``: adaptive average pooling and interpolation."""

    label = "resample2d"

    @staticmethod
    def forward(ctx, x, rows, cols):
        ctx.rows, ctx.cols = rows, cols
        n, c, h, w = x.shape
        xp = get_array_module(x)
        along_w = (x.reshape(-1, w) @ cols.T).reshape(n * c, h, cols.shape[0])
        return xp.matmul(rows, along_w).reshape(n, c, rows.shape[0], cols.shape[0])

    @staticmethod
    def backward(ctx, grad):
        return SeparableLinear2d.apply(grad, ctx.rows.T, ctx.cols.T), None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return on_arrays(SeparableLinear2d, grad, ctx.rows.T, ctx.cols.T), None, None


def _adaptive_ranges(size: int, out: int):
    """PyTorch's adaptive pooling windows: [floor(i * size / out), ceil((i + 1) * size / out))."""
    starts = [(i * size) // out for i in range(out)]
    ends = [-((-(i + 1) * size) // out) for i in range(out)]
    return starts, ends


def _adaptive_matrix(size: int, out: int, xp, dtype):
    matrix = np.zeros((out, size))
    for i, (s, e) in enumerate(zip(*_adaptive_ranges(size, out))):
        matrix[i, s:e] = 1.0 / (e - s)
    return xp.asarray(matrix.astype(dtype))


def _adaptive_output_size(output_size, in_hw: tuple, dims: int, fname: str) -> tuple:
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != dims:
            raise ValueError(f"{fname}: output_size must be an int or a tuple of {dims}, got {output_size!r}")
        size = tuple(in_hw[i] if v is None else v for i, v in enumerate(output_size))
    else:
        size = (output_size,) * dims
    if any(not isinstance(s, int) or s < 0 for s in size):
        raise ValueError(f"{fname}: output_size must be non-negative ints (or None to keep a size), "
                         f"got {output_size!r}")
    return size


def _adaptive_avg_poolnd(input, output_size, dims: int, fname: str):
    unbatched = _check_pool_input(input, dims, fname)
    x = _to_4d(input, dims, unbatched)
    xp, dtype = get_array_module(x.array), x.array.dtype
    out_hw = (1,) * (2 - dims) + _adaptive_output_size(output_size, x.shape[4 - dims:], dims, fname)
    rows = _adaptive_matrix(x.shape[2], out_hw[0], xp, dtype)
    cols = _adaptive_matrix(x.shape[3], out_hw[1], xp, dtype)
    return _from_4d(SeparableLinear2d.apply(x, rows, cols), dims, unbatched)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of ``(N, C, L)`` to a fixed length, as ``torch.nn.functional.adaptive_avg_pool1d``."""
    return _adaptive_avg_poolnd(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """Average pooling of ``(N, C, H, W)`` to a fixed size, as ``torch.nn.functional.adaptive_avg_pool2d``."""
    return _adaptive_avg_poolnd(input, output_size, 2, "adaptive_avg_pool2d")


def _adaptive_max_poolnd(input, output_size, return_indices: bool, dims: int, fname: str):
    unbatched = _check_pool_input(input, dims, fname)
    x = _to_4d(input, dims, unbatched)
    n, c, h, w = x.shape
    xp = get_array_module(x.array)
    out_hw = (1,) * (2 - dims) + _adaptive_output_size(output_size, x.shape[4 - dims:], dims, fname)
    (hs, he), (ws, we) = _adaptive_ranges(h, out_hw[0]), _adaptive_ranges(w, out_hw[1])
    index = xp.empty((n, c) + out_hw, dtype=np.int64)
    for i in range(out_hw[0]):  # one vectorised argmax per output cell; adaptive max pooling is rare
        for j in range(out_hw[1]):
            region = x.array[:, :, hs[i]:he[i], ws[j]:we[j]]
            local = cpu.window_argmax(region)
            width = we[j] - ws[j]
            index[:, :, i, j] = (hs[i] + local // width) * w + ws[j] + local % width
    from ..tensor import _wrap

    out = _from_4d(PlaneGather.apply(x, index, False, None), dims, unbatched)
    if return_indices:
        return out, _from_4d(_wrap(index, False, None, 0), dims, unbatched)
    return out


def adaptive_max_pool1d(input, output_size, return_indices: bool = False):
    """Max pooling of ``(N, C, L)`` to a fixed length, as ``torch.nn.functional.adaptive_max_pool1d``."""
    return _adaptive_max_poolnd(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices: bool = False):
    """Max pooling of ``(N, C, H, W)`` to a fixed size, as ``torch.nn.functional.adaptive_max_pool2d``."""
    return _adaptive_max_poolnd(input, output_size, return_indices, 2, "adaptive_max_pool2d")


# --------------------------------------------------------------------------- interpolate
_LINEAR = {"linear": 1, "bilinear": 2}


def _nearest_matrix(size: int, out: int, scale, xp, dtype):
    """PyTorch's 'nearest': source index floor(dst * scale) in float32, clamped to the input."""
    step = np.float32(1.0 / scale) if scale else np.float32(size / out)
    src = np.minimum(np.floor(np.arange(out, dtype=np.float32) * step).astype(np.int64), size - 1)
    matrix = np.zeros((out, size))
    matrix[np.arange(out), src] = 1.0
    return xp.asarray(matrix.astype(dtype))


def _linear_matrix(size: int, out: int, scale, align_corners: bool, xp, dtype):
    """PyTorch's linear interpolation weights along one axis (align_corners or half-pixel centres)."""
    dst = np.arange(out, dtype=np.float64)
    if align_corners:
        src = dst * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        step = 1.0 / scale if scale else size / out
        src = np.maximum((dst + 0.5) * step - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(np.int64), size - 1)
    high = np.minimum(low + 1, size - 1)
    frac = src - low
    matrix = np.zeros((out, size))
    np.add.at(matrix, (np.arange(out), low), 1.0 - frac)
    np.add.at(matrix, (np.arange(out), high), frac)
    return xp.asarray(matrix.astype(dtype))


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False):
    """Resize ``(N, C, L)`` or ``(N, C, H, W)``, as ``torch.nn.functional.interpolate``.

    Modes 'nearest', 'linear' (3-d input) and 'bilinear' (4-d input); ``align_corners`` as in PyTorch.
    """
    dims = input.ndim - 2
    if mode not in ("nearest", "linear", "bilinear"):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported by nbframe yet "
                                  f"(supported: 'nearest', 'linear', 'bilinear')")
    if dims not in (1, 2):
        raise NotImplementedError(
            f"interpolate: {input.ndim}-D input is not supported; expected 3-D (N, C, L) "
            f"or 4-D (N, C, H, W)")
    if mode in _LINEAR and _LINEAR[mode] != dims:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_LINEAR[mode] + 2}D input")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by nbframe yet")
    in_sizes = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        out_sizes = tuple(size) if isinstance(size, (list, tuple)) else (size,) * dims
        if len(out_sizes) != dims:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions, but got input "
                f"with spatial dimensions of {list(in_sizes)} and output size of {list(out_sizes)}. "
                f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                f"(o1, o2, ...,oK) format.")
        scales = (None,) * dims
    else:
        scales = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else (scale_factor,) * dims
        if len(scales) != dims:
            raise ValueError(f"interpolate: scale_factor needs {dims} values for a {input.ndim}-D input, "
                             f"got {scale_factor!r}")
        out_sizes = tuple(int(math.floor(s * f)) for s, f in zip(in_sizes, scales))
        if recompute_scale_factor:
            scales = (None,) * dims
    if any(o < 1 for o in out_sizes):
        raise ValueError(f"interpolate: the output size {list(out_sizes)} must be positive")
    x = input.unsqueeze(-2) if dims == 1 else input
    xp, dtype = get_array_module(x.array), x.array.dtype
    full_in = (1,) * (2 - dims) + in_sizes
    full_out = (1,) * (2 - dims) + out_sizes
    full_scales = (None,) * (2 - dims) + scales
    if mode == "nearest":
        mats = [_nearest_matrix(i, o, s, xp, dtype) for i, o, s in zip(full_in, full_out, full_scales)]
    else:
        mats = [_linear_matrix(i, o, s, bool(align_corners), xp, dtype)
                for i, o, s in zip(full_in, full_out, full_scales)]
    out = SeparableLinear2d.apply(x, mats[0], mats[1])
    return out.squeeze(-2) if dims == 1 else out
