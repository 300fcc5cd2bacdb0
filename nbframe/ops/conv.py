"""Convolution: ``conv1d``, ``conv2d``, ``conv_transpose2d``, ``unfold`` and ``fold``.

A convolution is im2col + one GEMM: a strided view of every input window
(no copy), one contiguous copy of it as the column matrix, and one matrix
product with the weights (batched over groups). Its two gradients are again
convolutions, which is what makes double backward work:

- the input gradient is a transposed convolution (``ConvInputGrad``: GEMM, then
  col2im, which adds each window back with one strided add per kernel position);
- the weight gradient is a correlation of the input with the output gradient
  (``ConvWeightGrad``: GEMM against the column matrix).

Each of the three ops' backward is written with the other two, once: applied as
graph nodes in ``backward`` and as their forwards on raw arrays in
``backward_arrays`` (plain ``loss.backward()``). Convolutions in one dimension
run as two-dimensional ones of height 1.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..autograd.function import Op, on_arrays
from ..backend import cpu, get_array_module
from ..backend import cuda as _cuda

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


class ConvGeometry(NamedTuple):
    """Everything about a 2-d convolution except its tensors; padding is (top, bottom, left, right)."""

    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int


# --------------------------------------------------------------------------- array kernels
def _grouped_matmul(a, b):
    """``a @ b`` over a leading group axis: a single 2-d GEMM when there is one group."""
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    return get_array_module(a).matmul(a, b)


def _padded(x, geo: ConvGeometry):
    return cpu.pad_planes(x, geo.padding)


def _batch_last(out_width: int, x) -> bool:
    """Order the column matrix (output row, output column, sample) when output rows are short.

    im2col and col2im then copy runs of OW * N numbers instead of OW, several times faster for
    the small feature maps of deeper layers; for wide maps the usual order avoids two transposes.
    On the GPU the kernels (kernels/im2col.cu) use the usual order, coalesced either way.
    """
    return out_width < 16 and not _cuda.has_kernel_dtype(x)


def _im2col(x, kernel: tuple, geo: ConvGeometry, batch_last: bool, out=None):
    """The column matrix of the padded ``x``: kernels/im2col.cu on the GPU, strided copies on the CPU
    (into ``out`` when given)."""
    padded = _padded(x, geo)
    if _cuda.has_kernel_dtype(x):
        return _cuda.im2col(padded, kernel, geo.stride, geo.dilation, geo.groups)
    return cpu.im2col(padded, kernel, geo.stride, geo.dilation, geo.groups, batch_last, out)


def _output_grad_matrix(gy, groups: int, batch_last: bool):
    """The output gradient ``(N, O, OH, OW)`` as ``(G, O/G, columns)``, in im2col's column order."""
    n, o, oh, ow = gy.shape
    gy = gy.reshape(n, groups, o // groups, oh * ow)
    gy = gy.transpose(1, 2, 3, 0) if batch_last else gy.transpose(1, 2, 0, 3)
    return get_array_module(gy).ascontiguousarray(gy).reshape(groups, o // groups, n * oh * ow)


def _output_size(in_hw: tuple, kernel: tuple, geo: ConvGeometry) -> tuple:
    """``(OH, OW)``: how many windows of the dilated ``kernel`` fit, ``stride`` apart, in the padded input."""
    top, bottom, left, right = geo.padding
    padded = (in_hw[0] + top + bottom, in_hw[1] + left + right)
    return tuple((p - d * (k - 1) - 1) // s + 1
                 for p, d, k, s in zip(padded, geo.dilation, kernel, geo.stride))


def col2im_unpadded(cols, in_shape: tuple, sides: tuple, stride: tuple, dilation: tuple,
                    batch_last: bool = False):
    """Add the windows ``cols`` back into the padded ``(N, C, H, W)`` input, then crop ``sides`` off.

    The adjoint of pad-then-window: convolution's input gradient, ``fold`` and average pooling's backward.
    """
    n, c, h, w = in_shape
    top, bottom, left, right = sides
    padded = (n, c, h + top + bottom, w + left + right)
    if _cuda.has_kernel_dtype(cols):  # kernels/im2col.cu
        out = _cuda.col2im(cols, padded, stride, dilation)
    else:
        out = cpu.col2im(cols, padded, stride, dilation, batch_last)
    return out[:, :, top:top + h, left:left + w]


def conv_columns(x, kernel: tuple, geo: ConvGeometry, reuse: dict | None = None):
    """The column matrix a convolution of ``x`` uses (forward and weight gradient alike).

    With ``reuse`` (a dict the caller keeps), a NumPy result is written into the array it holds for
    this shape and dtype, made on first use: no fresh memory, so no page faults, on every call.
    """
    oh, ow = _output_size(x.shape[2:], kernel, geo)
    out = None
    if reuse is not None and type(x) is np.ndarray:
        shape = (geo.groups, x.shape[1] // geo.groups * kernel[0] * kernel[1], x.shape[0] * oh * ow)
        out = reuse.get((shape, x.dtype))
        if out is None:
            out = reuse[(shape, x.dtype)] = np.empty(shape, x.dtype)
    return _im2col(x, kernel, geo, _batch_last(ow, x), out)


def conv_forward_array(x, w, b, geo: ConvGeometry, col=None):
    """``(N, C, H, W) * (O, C/G, kh, kw) -> (N, O, OH, OW)``: im2col (unless given ``col``) and a GEMM."""
    xp = get_array_module(x)
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    g = geo.groups
    oh, ow = _output_size(x.shape[2:], (kh, kw), geo)
    batch_last = _batch_last(ow, x)
    if col is None:
        col = _im2col(x, (kh, kw), geo, batch_last)
    out = _grouped_matmul(w.reshape(g, o // g, cg * kh * kw), col)  # (G, O/G, columns)
    if batch_last:
        y = out.reshape(o, oh, ow, n).transpose(3, 0, 1, 2)
    else:
        y = out.reshape(o, n, oh, ow).transpose(1, 0, 2, 3)
    y = xp.ascontiguousarray(y)
    if b is not None:
        y += b.reshape(1, o, 1, 1)
    return y


def conv_input_grad_array(gy, w, in_shape: tuple, geo: ConvGeometry):
    """The adjoint of the convolution in its input (a transposed convolution): ``gy -> (N, C, H, W)``."""
    n, c = in_shape[:2]
    o, cg, kh, kw = w.shape
    g = geo.groups
    _, _, oh, ow = gy.shape
    batch_last = _batch_last(ow, gy)
    wm = w.reshape(g, o // g, cg * kh * kw).transpose(0, 2, 1)
    cols = _grouped_matmul(wm, _output_grad_matrix(gy, g, batch_last))  # (G, C/G*kh*kw, columns)
    if batch_last:
        cols = cols.reshape(c, kh, kw, oh, ow, n)
    else:
        cols = cols.reshape(g, cg, kh, kw, n, oh, ow).transpose(4, 0, 1, 2, 3, 5, 6)
        cols = cols.reshape(n, c, kh, kw, oh, ow)
    out = col2im_unpadded(cols, in_shape, geo.padding, geo.stride, geo.dilation, batch_last)
    return get_array_module(out).ascontiguousarray(out)


def conv_weight_grad_array(x, gy, w_shape: tuple, geo: ConvGeometry, col=None):
    """The gradient of the convolution in its weight: the output gradient times the column matrix
    (``x``'s, rebuilt unless the forward's is given as ``col``)."""
    o, cg, kh, kw = w_shape
    batch_last = _batch_last(gy.shape[3], x)
    if col is None:
        col = _im2col(x, (kh, kw), geo, batch_last)
    gw = _grouped_matmul(_output_grad_matrix(gy, geo.groups, batch_last), col.transpose(0, 2, 1))
    return gw.reshape(w_shape)


# --------------------------------------------------------------------------- ops
class Conv2dOp(Op):
    """``y = conv(x, w) + b``."""

    label = "conv2d"
    #: The column matrix is rebuilt in backward rather than kept: it is kh*kw times the input, and
    #: keeping it would put peak memory well above PyTorch's. A subclass that sets this to a dict
    #: (nbframe.jit's compiled training step) keeps it for the weight gradient instead, in memory
    #: reused from call to call (``conv_columns``' ``reuse``): memory for speed.
    keep_columns: dict | None = None
    columns = None

    @staticmethod
    def forward(ctx, x, w, b, geo):
        _check_dtypes(x, w, b)
        ctx.save_for_backward(x, w)
        ctx.geo = geo
        if ctx.keep_columns is not None and ctx.needs_input_grad[1]:
            ctx.columns = conv_columns(x, w.shape[2:], geo, ctx.keep_columns)
        return conv_forward_array(x, w, b, geo, ctx.columns)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        return _conv_grads(ctx, recorded, gy, x, w)

    @staticmethod
    def backward_arrays(ctx, gy):
        x, w = ctx.saved_arrays
        return _conv_grads(ctx, on_arrays, gy, x, w)


class ConvInputGrad(Op):
    """The input gradient of a convolution, and the forward of a transposed convolution."""

    label = "conv_transpose2d"

    @staticmethod
    def forward(ctx, gy, w, in_shape, geo):
        _check_dtypes(gy, w, None)
        ctx.save_for_backward(gy, w)
        ctx.geo = geo
        return conv_input_grad_array(gy, w, in_shape, geo)

    @staticmethod
    def backward(ctx, grad):
        gy, w = ctx.saved_tensors
        return _conv_input_grad_grads(ctx, recorded, grad, gy, w)

    @staticmethod
    def backward_arrays(ctx, grad):
        gy, w = ctx.saved_arrays
        return _conv_input_grad_grads(ctx, on_arrays, grad, gy, w)


class ConvWeightGrad(Op):
    """The weight gradient of a convolution (a correlation of its input with its output gradient)."""

    label = "conv2d_weight_grad"

    @staticmethod
    def forward(ctx, x, gy, w_shape, geo, col=None):
        ctx.save_for_backward(x, gy)
        ctx.geo = geo
        return conv_weight_grad_array(x, gy, w_shape, geo, col)

    @staticmethod
    def backward(ctx, grad):
        x, gy = ctx.saved_tensors
        return _conv_weight_grad_grads(ctx, recorded, grad, x, gy)

    @staticmethod
    def backward_arrays(ctx, grad):
        x, gy = ctx.saved_arrays
        return _conv_weight_grad_grads(ctx, on_arrays, grad, x, gy)


# Each gradient written once; ``run(op, *args)`` is ``recorded`` in backward (Tensors, differentiable
# again) and ``on_arrays`` in backward_arrays (plain ``loss.backward()``: no node, no Tensor).
def recorded(op, *args):
    """``op`` applied as a node of the graph: a backward's step in Tensor ops."""
    return op.apply(*args)


def _conv_grads(ctx, run, gy, x, w):
    need = ctx.needs_input_grad
    gx = run(ConvInputGrad, gy, w, tuple(x.shape), ctx.geo) if need[0] else None
    gw = run(ConvWeightGrad, x, gy, tuple(w.shape), ctx.geo, ctx.columns) if need[1] else None
    gb = gy.sum((0, 2, 3)) if need[2] else None
    return gx, gw, gb, None


def _conv_input_grad_grads(ctx, run, grad, gy, w):
    need = ctx.needs_input_grad
    d_gy = run(Conv2dOp, grad, w, None, ctx.geo) if need[0] else None
    d_w = run(ConvWeightGrad, grad, gy, tuple(w.shape), ctx.geo) if need[1] else None
    return d_gy, d_w, None, None


def _conv_weight_grad_grads(ctx, run, grad, x, gy):
    need = ctx.needs_input_grad
    d_x = run(ConvInputGrad, gy, grad, tuple(x.shape), ctx.geo) if need[0] else None
    d_gy = run(Conv2dOp, x, grad, None, ctx.geo) if need[1] else None
    return d_x, d_gy, None, None, None


class Unfold(Op):
    """im2col in PyTorch's layout: ``(N, C, H, W) -> (N, C * kh * kw, L)``."""

    label = "unfold"

    @staticmethod
    def forward(ctx, x, kernel, geo):
        ctx.in_shape, ctx.kernel, ctx.geo = x.shape, kernel, geo
        win = cpu.window_view(_padded(x, geo), kernel, geo.stride, geo.dilation)
        n, c, oh, ow, kh, kw = win.shape
        return get_array_module(x).ascontiguousarray(win.transpose(0, 1, 4, 5, 2, 3)).reshape(
            n, c * kh * kw, oh * ow)

    @staticmethod
    def backward(ctx, grad):
        return Fold.apply(grad, ctx.in_shape, ctx.kernel, ctx.geo), None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return on_arrays(Fold, grad, ctx.in_shape, ctx.kernel, ctx.geo), None, None


class Fold(Op):
    """col2im: ``(N, C * kh * kw, L) -> (N, C, H, W)``, overlapping windows summed."""

    label = "fold"

    @staticmethod
    def forward(ctx, cols, out_shape, kernel, geo):
        ctx.kernel, ctx.geo = kernel, geo
        n, c, h, w = out_shape
        (kh, kw), (oh, ow) = kernel, _output_size((h, w), kernel, geo)
        return col2im_unpadded(cols.reshape(n, c, kh, kw, oh, ow), out_shape, geo.padding, geo.stride,
                               geo.dilation)

    @staticmethod
    def backward(ctx, grad):
        return Unfold.apply(grad, ctx.kernel, ctx.geo), None, None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return on_arrays(Unfold, grad, ctx.kernel, ctx.geo), None, None, None


def _check_dtypes(x, w, b) -> None:
    if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
        what = f"weight type ({w.dtype})" if x.dtype != w.dtype else f"bias type ({b.dtype})"
        raise RuntimeError(f"Input type ({x.dtype}) and {what} should be the same")


# --------------------------------------------------------------------------- argument checks
def ntuple(value, n: int, name: str, fname: str) -> tuple:
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints, with an error naming the argument."""
    if isinstance(value, (list, tuple)):
        if len(value) != n or not all(isinstance(v, int) for v in value):
            raise ValueError(f"{fname}: {name} must be an int or a tuple of {n} ints, got {value!r}")
        return tuple(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{fname}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return (value,) * n


def _positive(values: tuple, name: str, fname: str, minimum: int = 1) -> tuple:
    if any(v < minimum for v in values):
        what = "positive" if minimum == 1 else "non-negative"
        raise RuntimeError(f"{fname}: {name} should be {what}, got {list(values)}")
    return values


def _conv_padding(padding, kernel: tuple, dilation: tuple, stride: tuple, fname: str) -> tuple:
    """Per-side padding (before, after) per spatial dim; 'same' puts the odd pixel after, as PyTorch."""
    if isinstance(padding, str):
        if padding == "valid":
            return tuple((0, 0) for _ in kernel)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{fname}: padding='same' is not supported for strided convolutions")
            sides = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                sides.append((total // 2, total - total // 2))
            return tuple(sides)
        raise ValueError(f"{fname}: Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
    pad = _positive(ntuple(padding, len(kernel), "padding", fname), "padding", fname, minimum=0)
    return tuple((p, p) for p in pad)


def _check_input(input, weight, dims: int, fname: str):
    from ..tensor import Tensor

    for name, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{fname}(): argument '{name}' must be Tensor, not {type(value).__name__}")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {fname}, but got input of "
            f"size: {list(input.shape)}")
    if weight.ndim != dims + 2:
        raise RuntimeError(f"{fname}: weight should be {dims + 2}-D, got weight of size {list(weight.shape)}")
    return input.ndim == dims + 1


def _as_2d(t, dims: int):
    """A 1-d convolution's tensor with a height-1 axis inserted, so it runs as a 2-d one."""
    return t.unsqueeze(-2) if dims == 1 else t


def _from_2d(t, dims: int):
    return t.squeeze(-2) if dims == 1 else t


def _geometry_2d(stride, padding, dilation, groups, dims: int) -> ConvGeometry:
    if dims == 1:
        return ConvGeometry((1, stride[0]), (0, 0) + padding[0], (1, dilation[0]), groups)
    return ConvGeometry(stride, padding[0] + padding[1], dilation, groups)


def _convnd(input, weight, bias, stride, padding, dilation, groups, dims: int, fname: str):
    unbatched = _check_input(input, weight, dims, fname)
    if unbatched:
        input = input.unsqueeze(0)
    kernel = tuple(weight.shape[2:])
    stride = _positive(ntuple(stride, dims, "stride", fname), "stride", fname)
    dilation = _positive(ntuple(dilation, dims, "dilation", fname), "dilation", fname)
    if not isinstance(groups, int) or groups < 1:
        raise RuntimeError(f"{fname}: non-positive groups is not supported (got groups={groups})")
    sides = _conv_padding(padding, kernel, dilation, stride, fname)
    channels = input.shape[1]
    if weight.shape[0] % groups:
        raise RuntimeError(f"{fname}: Given groups={groups}, expected weight to be divisible by {groups} at "
                           f"dimension 0, but got weight of size {list(weight.shape)} instead")
    if channels != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{list(input.shape)} "
            f"to have {weight.shape[1] * groups} channels, but got {channels} channels instead")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(
            f"{fname}: Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional "
            f"with {weight.shape[0]} elements, but got bias of size {list(bias.shape)} instead")
    padded = tuple(s + a + b for s, (a, b) in zip(input.shape[2:], sides))
    dilated = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < k for p, k in zip(padded, dilated)):
        raise RuntimeError(
            f"{fname}: Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, dilated))}). "
            f"Kernel size can't be greater than actual input size")
    geo = _geometry_2d(stride, sides, dilation, groups, dims)
    out = Conv2dOp.apply(_as_2d(input, dims), _as_2d(weight, dims), bias, geo)
    out = _from_2d(out, dims)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """1-d convolution (cross-correlation) over ``(N, C, L)``, as ``torch.nn.functional.conv1d``."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-d convolution (cross-correlation) over ``(N, C, H, W)``, as ``torch.nn.functional.conv2d``.

    ``padding`` is an int, a pair, ``'valid'`` or ``'same'`` (stride 1 only).
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, dims, fname,
                      output_size=None):
    unbatched = _check_input(input, weight, dims, fname)
    if unbatched:
        input = input.unsqueeze(0)
    stride = _positive(ntuple(stride, dims, "stride", fname), "stride", fname)
    dilation = _positive(ntuple(dilation, dims, "dilation", fname), "dilation", fname)
    pad = _positive(ntuple(padding, dims, "padding", fname), "padding", fname, minimum=0)
    out_pad = _positive(ntuple(output_padding, dims, "output_padding", fname), "output_padding", fname, 0)
    if any(op >= s and op >= d for op, s, d in zip(out_pad, stride, dilation)):
        raise RuntimeError(
            f"{fname}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding={list(out_pad)}, stride={list(stride)}, dilation={list(dilation)}")
    if input.shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(input.shape)} "
            f"to have {weight.shape[0]} channels, but got {input.shape[1]} channels instead")
    if not isinstance(groups, int) or groups < 1 or weight.shape[0] % groups:
        raise RuntimeError(
            f"{fname}: groups={groups} must be positive and divide the {weight.shape[0]} input "
            f"channels")
    kernel = tuple(weight.shape[2:])
    sizes = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, s, p, d, k, op in
                  zip(input.shape[2:], stride, pad, dilation, kernel, out_pad))
    if any(s <= 0 for s in sizes):
        raise RuntimeError(
            f"{fname}: the output size {list(sizes)} is too small for input {list(input.shape)}")
    out_shape = (input.shape[0], weight.shape[1] * groups) + ((1,) if dims == 1 else ()) + sizes
    geo = _geometry_2d(stride, tuple((p, p) for p in pad), dilation, groups, dims)
    out = ConvInputGrad.apply(_as_2d(input, dims), _as_2d(weight, dims), out_shape, geo)
    if bias is not None:
        out = out + bias.reshape((1, -1) + (1,) * (out.ndim - 2))
    out = _from_2d(out, dims)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1):
    """1-d transposed convolution, as ``torch.nn.functional.conv_transpose1d``."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                             "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1):
    """2-d transposed convolution (the input gradient of conv2d), as ``torch.nn.functional.conv_transpose2d``.

    ``weight`` is ``(in_channels, out_channels / groups, kh, kw)``.
    """
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                             "conv_transpose2d")


def _window_args(kernel_size, dilation, padding, stride, fname: str):
    kernel = _positive(ntuple(kernel_size, 2, "kernel_size", fname), "kernel_size", fname)
    dilation = _positive(ntuple(dilation, 2, "dilation", fname), "dilation", fname)
    pad = _positive(ntuple(padding, 2, "padding", fname), "padding", fname, minimum=0)
    stride = _positive(ntuple(stride, 2, "stride", fname), "stride", fname)
    return kernel, ConvGeometry(stride, (pad[0], pad[0], pad[1], pad[1]), dilation, 1)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding windows: ``(N, C, H, W) -> (N, C * kh * kw, L)``, as ``torch.nn.functional.unfold``."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)")
    kernel, geo = _window_args(kernel_size, dilation, padding, stride, "unfold")
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    padded = (x.shape[2] + 2 * geo.padding[0], x.shape[3] + 2 * geo.padding[2])
    if any(p < geo.dilation[i] * (kernel[i] - 1) + 1 for i, p in enumerate(padded)):
        raise RuntimeError(
            f"unfold: the dilated kernel {list(kernel)} (dilation {list(geo.dilation)}) does not fit "
            f"in the padded input of size {list(padded)}")
    out = Unfold.apply(x, kernel, geo)
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding windows back into an image: ``(N, C * kh * kw, L) -> (N, C, H, W)``; unfold's adjoint."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                           f"(got {input.ndim}D)")
    kernel, geo = _window_args(kernel_size, dilation, padding, stride, "fold")
    size = ntuple(output_size, 2, "output_size", "fold")
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    n, ckk, length = x.shape
    blocks = _output_size(size, kernel, geo)
    if ckk % (kernel[0] * kernel[1]):
        raise RuntimeError(f"fold: Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={ckk} and kernel_size={kernel}")
    if blocks[0] * blocks[1] != length:
        raise RuntimeError(
            f"fold: Given output_size={size}, kernel_size={kernel}, dilation={geo.dilation}, "
            f"padding={(geo.padding[0], geo.padding[2])}, stride={geo.stride}, expected size of "
            f"input's dimension 2 to match the calculated number of sliding blocks "
            f"{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)={length}.")
    out = Fold.apply(x, (n, ckk // (kernel[0] * kernel[1])) + size, kernel, geo)
    return out.squeeze(0) if unbatched else out
