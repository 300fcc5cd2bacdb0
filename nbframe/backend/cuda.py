"""The CUDA backend: CuPy, loaded only when a CUDA device is first used.

Importing this module never imports CuPy, so ``import nbframe`` works on any
machine. Asking for a CUDA device without CuPy or a GPU raises an error that
says what is missing and how to get it.

The kernel wrappers below are called from one dispatch line per op, taken when
``has_kernel_dtype(x)`` (a CUDA float16/32/64 array); everything else stays on
the shared NumPy/CuPy code path:

- softmax / log_softmax over the last dim: ``ops.nnops._softmax``, ``_SoftmaxOp.backward``
- cross_entropy with class indices: ``ops.losses.cross_entropy`` -> ``ops.fused.FusedCrossEntropy``
- layer_norm: ``ops.nnops.layer_norm`` -> ``ops.fused.FusedLayerNorm``
- dropout (elementwise masks): ``ops.nnops._dropout`` -> ``ops.fused.FusedDropout``
- max pooling: ``ops.pool._max_pool_values_and_indices``, ``ops.pool.PlaneScatter``
- im2col / col2im: ``ops.conv._im2col``, ``ops.conv.col2im_unpadded`` (conv, fold, avg-pool backward)
- embedding backward: ``ops.nnops.EmbeddingBackward``
- SGD, Adam, AdamW steps: ``optim.sgd.sgd_update``, ``optim.adam.adam_update`` (one launch per parameter)
- elementwise fusion: ``jit.passes.fusion.FusedElementwise``
"""

from __future__ import annotations

import numpy as np

from .device import device

ARRAY_TYPES: tuple = (np.ndarray,)
_cupy = None
_cupy_error: str | None = None

INSTALL_HINT = 'install the CUDA extra: pip install "nbframe[cuda]" (CuPy for CUDA 13)'


def _load():
    """Import CuPy once; remember why it failed so every later call can say so cheaply."""
    global _cupy, _cupy_error, ARRAY_TYPES
    if _cupy is not None or _cupy_error is not None:
        return _cupy
    try:
        import cupy
    except Exception as exc:  # ImportError, or CuPy failing to find CUDA
        _cupy_error = f"CuPy could not be imported ({exc.__class__.__name__}: {exc})"
        return None
    _cupy = cupy
    ARRAY_TYPES = (np.ndarray, cupy.ndarray)
    _install_peak_tracker(cupy)
    return cupy


_device_count: int | None = None  # asked of the driver once per process, as PyTorch does


def is_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    global _device_count
    cupy = _load()
    if cupy is None:
        return False
    if _device_count is None:
        try:
            _device_count = cupy.cuda.runtime.getDeviceCount()
        except Exception:
            _device_count = 0
    return _device_count > 0


def cupy_module():
    """CuPy, or a RuntimeError that says why a CUDA device can't be used here.

    Every kernel wrapper calls this first: once a device was found it costs two global reads.
    """
    if _cupy is not None and _device_count:
        return _cupy
    cupy = _load()
    if cupy is None:
        raise RuntimeError(f"a CUDA device was asked for, but {_cupy_error}; {INSTALL_HINT}")
    if not is_available():
        raise RuntimeError(
            "a CUDA device was asked for, but CuPy sees no CUDA GPU on this machine "
            "(no driver, or no device visible); use device='cpu'"
        )
    return cupy


def is_cuda(array) -> bool:
    """True for a CuPy array (cheap: False whenever CuPy was never loaded)."""
    return _cupy is not None and isinstance(array, _cupy.ndarray)


def has_kernel_dtype(array) -> bool:
    """True for a CUDA array of a dtype the fused kernels are built for (float16/32/64).

    The ops' single dispatch test: ``if cuda.has_kernel_dtype(x): <kernel> else: <NumPy/CuPy path>``.
    """
    return is_cuda(array) and array.dtype.name in _FLOAT_KINDS


def array_module_of(array):
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return np


def device_of(array) -> device:
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return device("cuda", array.device.id)
    return device.CPU


# --------------------------------------------------------------------------- memory statistics
_peak_bytes: dict[int, int] = {}


def _install_peak_tracker(cupy) -> None:
    """Route CuPy's allocations through its default pool, noting the pool's peak use per device.

    CuPy's pool knows its current use but not its peak; one Python call per allocation records it.
    """
    pool = cupy.get_default_memory_pool()

    def malloc(size: int):
        memory = pool.malloc(size)
        device = memory.device_id
        used = pool.used_bytes()
        if used > _peak_bytes.get(device, 0):
            _peak_bytes[device] = used
        return memory

    cupy.cuda.set_allocator(malloc)


def peak_bytes(device: int) -> int:
    return _peak_bytes.get(device, 0)


def reset_peak_bytes(device: int, current: int) -> None:
    _peak_bytes[device] = current


# --------------------------------------------------------------------------- the dropout RNG state
# Philox is counter-based: a (seed, offset) pair per device fixes every mask; each launch takes the
# next offset, so successive calls draw independent masks and re-seeding replays them exactly.
DEFAULT_PHILOX_SEED = 67280421310721
_philox: dict[int, list[int]] = {}


def philox_manual_seed(seed: int, device: int | None = None) -> None:
    """Seed one device's dropout generator, or every device's (``device=None``)."""
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    if device is None:
        _philox.clear()
        _philox[-1] = [seed, 0]  # the default for devices not seeded yet
    else:
        _philox[device] = [seed, 0]


def philox_next(device: int) -> tuple[int, int]:
    """``(seed, offset)`` for the next launch on ``device``; advances the offset."""
    state = _philox.get(device)
    if state is None:
        state = _philox[device] = [_philox.get(-1, [DEFAULT_PHILOX_SEED, 0])[0], 0]
    seed, offset = state
    state[1] = offset + 1
    return seed, offset


# --------------------------------------------------------------------------- kernel launch helpers
# A raw kernel checks nothing: each wrapper below checks dtype, shape, contiguity and device first.
_FLOAT_KINDS = ("float16", "float32", "float64")


def _check_array(where: str, name: str, array, dtype=None, ndim: int | None = None):
    """``array`` as a C-contiguous CuPy float array (a copy if it was strided), or a clear error."""
    cupy = cupy_module()
    if not isinstance(array, cupy.ndarray):
        raise TypeError(f"{where}: {name} must be a CUDA (CuPy) array, got {type(array).__name__}")
    if dtype is None and array.dtype.name not in _FLOAT_KINDS:
        raise TypeError(f"{where}: {name} must be float16, float32 or float64, got {array.dtype}")
    if dtype is not None and array.dtype != dtype:
        raise TypeError(f"{where}: {name} must have dtype {np.dtype(dtype)}, got {array.dtype}")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{where}: {name} must be {ndim}-D, got shape {tuple(array.shape)}")
    if array.device.id != cupy.cuda.Device().id:
        raise RuntimeError(f"{where}: {name} is on cuda:{array.device.id} but the current device is "
                           f"cuda:{cupy.cuda.Device().id}")
    return cupy.ascontiguousarray(array)


def _same(where: str, reference, name: str, array, shape: tuple | None = None, dtype=None):
    """Check ``array`` against ``reference``'s dtype (or ``dtype``) and shape (or ``shape``)."""
    array = _check_array(where, name, array, reference.dtype if dtype is None else dtype)
    want = tuple(reference.shape) if shape is None else tuple(shape)
    if tuple(array.shape) != want:
        raise ValueError(f"{where}: {name} must have shape {want}, got {tuple(array.shape)}")
    return array


def _in_place(where: str, name: str, array, reference):
    """An array the kernel writes in place: must already be contiguous, same dtype and shape."""
    if array is None:
        return None
    if not array.flags.c_contiguous:
        raise ValueError(f"{where}: {name} must be contiguous to be updated in place")
    return _same(where, reference, name, array)


def _kernel(stem: str, template: str, dtype):
    from nbframe.kernels import loader

    element = loader.element_type(dtype)
    return loader.get_kernel(stem, template.format(T=element, A=loader.ACCUMULATOR_TYPES[element]))


def _accumulator(dtype):
    return np.float64 if dtype == np.float64 else np.float32


def _scalar(dtype, value):
    """A kernel's hyper-parameter in its accumulator type (``typename Acc<T>::type`` in the .cu file)."""
    return _accumulator(dtype)(value)


_INT32_MAX = 2**31 - 1


def _check_int32(where: str, **sizes: int) -> None:
    """Sizes the kernels take as ``int`` must fit in 32 bits (totals are computed in 64)."""
    for name, value in sizes.items():
        if value > _INT32_MAX:
            raise ValueError(f"{where}: {name}={value} is too large for the kernel (at most {_INT32_MAX})")


def _row_launch(rows: int, cols: int) -> tuple[tuple, tuple]:
    """Grid and block for a row kernel: one row per warp for short rows, one per block for long ones."""
    if cols <= 256:
        per_block = 8
        return (max(1, -(-rows // per_block)),), (32, per_block)
    threads = 1 << max(6, min(10, (cols // 8 - 1).bit_length()))
    return (max(1, rows),), (threads, 1)


def _flat_launch(n: int, threads: int = 256) -> tuple[tuple, tuple]:
    """Grid and block for a grid-stride kernel: enough blocks to fill the GPU, no more."""
    return (max(1, min(-(-n // threads), _multiprocessors() * 32)),), (threads,)


_sm_counts: dict[int, int] = {}


def _multiprocessors() -> int:
    """The current device's SM count (cached: building Device.attributes costs a driver call per field)."""
    device = cupy_module().cuda.Device()
    if device.id not in _sm_counts:
        _sm_counts[device.id] = device.attributes["MultiProcessorCount"]
    return _sm_counts[device.id]


def _rows(x):
    cols = x.shape[-1] if x.ndim else 1
    return x.size // max(cols, 1), cols


# --------------------------------------------------------------------------- softmax
def softmax_forward(x, log: bool = False):
    """Softmax (``log=True``: log-softmax) over the last axis (kernels/softmax.cu)."""
    x = _check_array("softmax_forward", "x", x)
    y = cupy_module().empty_like(x)
    rows, cols = _rows(x)
    if x.size:
        grid, block = _row_launch(rows, cols)
        _check_int32("softmax_forward", cols=cols)
        kernel = _kernel("softmax", "softmax_forward<{T}, %s>" % ("true" if log else "false"), x.dtype)
        kernel(grid, block, (x, y, np.int64(rows), np.int32(cols)))
    return y


def softmax_backward(y, dy, log: bool = False):
    """The input gradient of softmax/log-softmax from its output ``y`` and output gradient ``dy``."""
    y = _check_array("softmax_backward", "y", y)
    dy = _same("softmax_backward", y, "dy", dy)
    dx = cupy_module().empty_like(y)
    rows, cols = _rows(y)
    if y.size:
        grid, block = _row_launch(rows, cols)
        kernel = _kernel("softmax", "softmax_backward<{T}, %s>" % ("true" if log else "false"), y.dtype)
        kernel(grid, block, (y, dy, dx, np.int64(rows), np.int32(cols)))
    return dx


# --------------------------------------------------------------------------- cross-entropy
def _class_weight(where: str, logits, weight):
    cupy = cupy_module()
    classes = logits.shape[1]
    if weight is None:
        weight = cupy.ones(classes, logits.dtype)
    weight = _same(where, logits, "weight", weight, shape=(classes,))
    return weight, weight.astype(_accumulator(logits.dtype)).sum()


def _targets(where: str, logits, target):
    target = _check_array(where, "target", target, dtype=np.int64, ndim=1)
    if target.shape[0] != logits.shape[0]:
        raise ValueError(f"{where}: Expected input batch_size ({logits.shape[0]}) to match target batch_size "
                         f"({target.shape[0]}).")
    return target


def cross_entropy_forward(logits, target, weight=None, ignore_index: int = -100,
                          label_smoothing: float = 0.0):
    """Per-row loss, ``weight[target]`` and logsumexp of ``(rows, classes)`` logits, in one pass.

    Raises IndexError for a target outside ``[0, classes)`` that is not ``ignore_index``.
    """
    where = "cross_entropy_forward"
    cupy = cupy_module()
    logits = _check_array(where, "logits", logits, ndim=2)
    target = _targets(where, logits, target)
    weight, wsum = _class_weight(where, logits, weight)
    rows, classes = logits.shape
    _check_int32(where, classes=classes)
    acc = _accumulator(logits.dtype)
    loss, row_weight, lse = (cupy.empty(rows, acc) for _ in range(3))
    bad = cupy.zeros(1, np.int32)
    if rows:
        grid, block = _row_launch(rows, classes)
        _kernel("cross_entropy", "cross_entropy_forward<{T}>", logits.dtype)(
            grid, block, (logits, target, weight, wsum, loss, row_weight, lse, bad, np.int64(rows),
                          np.int32(classes), np.int64(ignore_index), _scalar(logits.dtype, label_smoothing)))
        if int(bad[0]):  # the same message as the CPU path's
            valid = (target == ignore_index) | ((target >= 0) & (target < classes))
            raise IndexError(
                f"cross_entropy: Target {int(target[~valid][0])} is out of bounds: class indices must be in "
                f"[0, {classes - 1}] (or equal ignore_index={ignore_index})")
    return loss, row_weight, lse


def cross_entropy_backward(logits, target, lse, grad_loss, weight=None, ignore_index: int = -100,
                           label_smoothing: float = 0.0):
    """The logits' gradient given ``grad_loss`` = d(result)/d(loss_i) per row (reduction folded in)."""
    where = "cross_entropy_backward"
    logits = _check_array(where, "logits", logits, ndim=2)
    target = _targets(where, logits, target)
    weight, wsum = _class_weight(where, logits, weight)
    rows, classes = logits.shape
    acc = _accumulator(logits.dtype)
    lse = _same(where, logits, "lse", lse, shape=(rows,), dtype=acc)
    grad_loss = _same(where, logits, "grad_loss", grad_loss, shape=(rows,), dtype=acc)
    grad = cupy_module().empty_like(logits)
    if rows:
        grid, block = _row_launch(rows, classes)
        _kernel("cross_entropy", "cross_entropy_backward<{T}>", logits.dtype)(
            grid, block, (logits, target, weight, wsum, lse, grad_loss, grad, np.int64(rows),
                          np.int32(classes), np.int64(ignore_index), _scalar(logits.dtype, label_smoothing)))
    return grad


# --------------------------------------------------------------------------- layer norm
def _affine(where: str, x, weight, bias):
    """``(weight, bias, affine)`` for the kernel: a missing one of the two becomes ones or zeros."""
    if weight is None and bias is None:
        return x, x, 0  # never read
    cupy = cupy_module()
    cols = x.shape[-1]
    weight = cupy.ones(cols, x.dtype) if weight is None else weight
    bias = cupy.zeros(cols, x.dtype) if bias is None else bias
    return _same(where, x, "weight", weight, shape=(cols,)), _same(where, x, "bias", bias, shape=(cols,)), 1


def layer_norm_forward(x, weight=None, bias=None, eps: float = 1e-5):
    """``(y, mean, rstd)`` of layer norm over the last axis; mean and rstd in the accumulator dtype."""
    where = "layer_norm_forward"
    cupy = cupy_module()
    x = _check_array(where, "x", x)
    if x.ndim == 0:
        raise ValueError(f"{where}: x must have at least one dimension (the one normalised over)")
    weight, bias, affine = _affine(where, x, weight, bias)
    rows, cols = _rows(x)
    _check_int32(where, cols=cols)
    y = cupy.empty_like(x)
    acc = _accumulator(x.dtype)
    mean, rstd = cupy.empty(x.shape[:-1], acc), cupy.empty(x.shape[:-1], acc)
    if x.size:
        grid, block = _row_launch(rows, cols)
        _kernel("layer_norm", "layer_norm_forward<{T}>", x.dtype)(
            grid, block, (x, weight, bias, y, mean, rstd, np.int64(rows), np.int32(cols),
                          _scalar(x.dtype, eps), np.int32(affine)))
    return y, mean, rstd


def layer_norm_backward(x, dy, mean, rstd, weight=None):
    """``(dx, dweight, dbias)``; the parameter gradients are None without ``weight``."""
    where = "layer_norm_backward"
    cupy = cupy_module()
    x = _check_array(where, "x", x)
    dy = _same(where, x, "dy", dy)
    acc = _accumulator(x.dtype)
    mean = _same(where, x, "mean", mean, shape=x.shape[:-1], dtype=acc)
    rstd = _same(where, x, "rstd", rstd, shape=x.shape[:-1], dtype=acc)
    affine = weight is not None
    weight = _same(where, x, "weight", weight, shape=x.shape[-1:]) if affine else x
    rows, cols = _rows(x)
    dx = cupy.empty_like(x)
    if x.size:
        grid, block = _row_launch(rows, cols)
        _kernel("layer_norm", "layer_norm_backward_input<{T}>", x.dtype)(
            grid, block, (x, dy, weight, mean, rstd, dx, np.int64(rows), np.int32(cols), np.int32(affine)))
    if not affine:
        return dx, None, None
    # Rows per chunk: 64 gives enough chunks to fill the GPU with few partial sums; more when the
    # chunks would outnumber what gridDim.y allows (65535).
    chunk = max(64, -(-rows // 65535))
    chunks = max(1, -(-rows // chunk))
    dw_part, db_part = cupy.zeros((chunks, cols), acc), cupy.zeros((chunks, cols), acc)
    if x.size:
        _kernel("layer_norm", "layer_norm_backward_params<{T}>", x.dtype)(
            (-(-cols // 128), chunks), (128,),
            (x, dy, mean, rstd, dw_part, db_part, np.int64(rows), np.int32(cols), np.int64(chunk)))
    return dx, dw_part.sum(axis=0).astype(x.dtype), db_part.sum(axis=0).astype(x.dtype)


# --------------------------------------------------------------------------- optimisers
def sgd_step(param, grad, momentum_buffer, lr: float, momentum: float = 0.0, dampening: float = 0.0,
             weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False):
    """One fused torch.optim.SGD step on ``param`` in place; returns the momentum buffer.

    ``momentum_buffer=None`` on the first step (with momentum, a new buffer is returned).
    """
    where = "sgd_step"
    param = _in_place(where, "param", param, _check_array(where, "param", param))
    grad = _same(where, param, "grad", grad)
    first = momentum_buffer is None
    if momentum and first:
        momentum_buffer = cupy_module().empty_like(param)
    buffer = _in_place(where, "momentum_buffer", momentum_buffer, param) if momentum else param
    if param.size:
        grid, block = _flat_launch(param.size)
        _kernel("optimizers", "sgd_step<{T}>", param.dtype)(
            grid, block, (param, grad, buffer, np.int64(param.size),
                          *(_scalar(param.dtype, v) for v in (lr, momentum, dampening, weight_decay)),
                          np.int32(nesterov), np.int32(maximize), np.int32(first)))
    return momentum_buffer if momentum else None


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step: int, lr: float, beta1: float,
              beta2: float, eps: float, weight_decay: float = 0.0, decoupled: bool = False,
              amsgrad: bool = False, maximize: bool = False) -> None:
    """One fused Adam (``decoupled=False``) or AdamW step, in place; ``step`` counts from 1."""
    where = "adam_step"
    param = _in_place(where, "param", param, _check_array(where, "param", param))
    grad = _same(where, param, "grad", grad)
    exp_avg = _in_place(where, "exp_avg", exp_avg, param)
    exp_avg_sq = _in_place(where, "exp_avg_sq", exp_avg_sq, param)
    if amsgrad and max_exp_avg_sq is None:
        raise ValueError(f"{where}: amsgrad=True needs max_exp_avg_sq")
    max_sq = _in_place(where, "max_exp_avg_sq", max_exp_avg_sq, param) if amsgrad else param
    if param.size:
        grid, block = _flat_launch(param.size)
        _kernel("optimizers", "adam_step<{T}>", param.dtype)(
            grid, block, (param, grad, exp_avg, exp_avg_sq, max_sq, np.int64(param.size),
                          *(_scalar(param.dtype, v) for v in (lr, beta1, beta2, eps, weight_decay)),
                          np.int32(decoupled), np.int32(amsgrad), np.int32(maximize),
                          _scalar(param.dtype, 1 - beta1 ** step), _scalar(param.dtype, 1 - beta2 ** step)))


# --------------------------------------------------------------------------- im2col / col2im
def _out_size(size: int, kernel: int, stride: int, dilation: int) -> int:
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def im2col(x, kernel: tuple, stride: tuple, dilation: tuple, groups: int = 1):
    """``(G, C/G * kh * kw, N * OH * OW)`` columns of an already padded ``(N, C, H, W)`` input.

    Same layout as ``nbframe.backend.cpu.im2col``.
    """
    x = _check_array("im2col", "x", x, ndim=4)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = _out_size(h, kh, sh, dh), _out_size(w, kw, sw, dw)
    if c % groups:
        raise ValueError(f"im2col: {c} channels do not split into {groups} groups")
    col = cupy_module().empty((c * kh * kw, n * oh * ow), x.dtype)
    if col.size:
        grid, block = _flat_launch(col.size)
        _kernel("im2col", "im2col<{T}>", x.dtype)(
            grid, block, (x, col, *map(np.int32, (n, c, h, w, kh, kw, sh, sw, dh, dw, oh, ow))))
    return col.reshape(groups, c // groups * kh * kw, n * oh * ow)


def col2im(cols, padded_shape: tuple, stride: tuple, dilation: tuple):
    """The adjoint of im2col: ``cols`` ``(N, C, kh, kw, OH, OW)``, any strides, summed to ``padded_shape``."""
    cupy = cupy_module()
    if not isinstance(cols, cupy.ndarray) or cols.ndim != 6:
        raise ValueError("col2im: cols must be a 6-D CUDA array (N, C, kh, kw, OH, OW)")
    n, c, kh, kw, oh, ow = cols.shape
    col = _check_array("col2im", "cols", cols.transpose(1, 2, 3, 0, 4, 5))  # free after a GEMM
    if tuple(padded_shape[:2]) != (n, c):
        raise ValueError(f"col2im: padded_shape {tuple(padded_shape)} does not fit cols {tuple(cols.shape)}")
    h, w = padded_shape[2:]
    (sh, sw), (dh, dw) = stride, dilation
    x = cupy.empty(tuple(padded_shape), cols.dtype)
    if x.size:
        grid, block = _flat_launch(x.size)
        _kernel("im2col", "col2im<{T}>", cols.dtype)(
            grid, block, (col, x, *map(np.int32, (n, c, h, w, kh, kw, sh, sw, dh, dw, oh, ow))))
    return x


# --------------------------------------------------------------------------- max-pool
def maxpool2d_forward(x, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                      out_size: tuple | None = None):
    """Values and flat ``h * W + w`` indices (int64) of 2-D max pooling over ``(N, C, H, W)``.

    ``out_size`` (OH, OW) may ask for one more window per axis than fits (PyTorch's ceil_mode); by
    default, as many as fit.
    """
    cupy = cupy_module()
    x = _check_array("maxpool2d_forward", "x", x, ndim=4)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    oh, ow = out_size or (_out_size(h + 2 * ph, kh, sh, dh), _out_size(w + 2 * pw, kw, sw, dw))
    if oh <= 0 or ow <= 0:
        raise ValueError(f"maxpool2d_forward: output size {oh}x{ow} is too small for input {h}x{w}")
    y, index = cupy.empty((n, c, oh, ow), x.dtype), cupy.empty((n, c, oh, ow), np.int64)
    if y.size:
        grid, block = _flat_launch(y.size)
        _kernel("maxpool", "maxpool2d_forward<{T}>", x.dtype)(
            grid, block, (x, y, index, *map(np.int32, (n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow))))
    return y, index


def maxpool2d_backward(grad_output, indices, input_shape: tuple):
    """The input gradient of max pooling: each output gradient added at its saved index."""
    cupy = cupy_module()
    where = "maxpool2d_backward"
    dy = _check_array(where, "grad_output", grad_output, ndim=4)
    indices = _same(where, dy, "indices", indices, dtype=np.int64)
    n, c, h, w = input_shape
    if dy.shape[:2] != (n, c):
        raise ValueError(f"{where}: grad_output {tuple(dy.shape)} does not fit input_shape "
                         f"{tuple(input_shape)}")
    _check_int32(where, plane=h * w, outputs_per_plane=dy.shape[2] * dy.shape[3])
    acc = cupy.zeros(tuple(input_shape), _accumulator(dy.dtype))
    if dy.size:
        grid, block = _flat_launch(dy.size)
        _kernel("maxpool", "maxpool2d_backward<{T}, {A}>", dy.dtype)(
            grid, block, (dy, indices, acc, np.int64(n * c), np.int32(h * w),
                          np.int32(dy.shape[2] * dy.shape[3])))
    return acc.astype(dy.dtype, copy=False)


# --------------------------------------------------------------------------- dropout
def dropout_forward(x, p: float, seed: int | None = None, offset: int | None = None):
    """``(y, mask)``: elements kept with probability ``1 - p`` and scaled by ``1 / (1 - p)``.

    ``seed``/``offset`` default to the device's Philox state (``nf.cuda.manual_seed``), which advances.
    """
    from .cpu import dropout_threshold

    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    cupy = cupy_module()
    x = _check_array("dropout_forward", "x", x)
    if seed is None or offset is None:
        seed, offset = philox_next(x.device.id)
    y, mask = cupy.empty_like(x), cupy.empty(x.shape, np.uint8)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    if x.size:
        grid, block = _flat_launch(-(-x.size // 4))
        _kernel("dropout", "dropout_forward<{T}>", x.dtype)(
            grid, block, (x, y, mask, np.int64(x.size), np.uint32(dropout_threshold(p)),
                          _scalar(x.dtype, scale), np.uint64(seed), np.uint64(offset)))
    return y, mask


def dropout_backward(dy, mask, p: float):
    """``dy * mask / (1 - p)``."""
    cupy = cupy_module()
    dy = _check_array("dropout_backward", "dy", dy)
    mask = _same("dropout_backward", dy, "mask", mask, dtype=np.uint8)
    dx = cupy.empty_like(dy)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    if dy.size:
        grid, block = _flat_launch(dy.size)
        _kernel("dropout", "dropout_backward<{T}>", dy.dtype)(
            grid, block, (dy, mask, dx, np.int64(dy.size), _scalar(dy.dtype, scale)))
    return dx


# --------------------------------------------------------------------------- embedding
def embedding_backward(indices, grad_output, num_embeddings: int, padding_idx: int | None = None):
    """``(num_embeddings, dim)`` weight gradient: ``grad_output`` rows added at ``indices`` (atomics)."""
    cupy = cupy_module()
    where = "embedding_backward"
    if is_cuda(indices) and indices.dtype.kind in "iu" and indices.dtype != np.int64:
        indices = indices.astype(np.int64)  # int32 indices are fine for embedding(), as in PyTorch
    indices = _check_array(where, "indices", indices, dtype=np.int64)
    dy = _check_array(where, "grad_output", grad_output)
    dim = dy.shape[-1] if dy.ndim else 0
    if tuple(dy.shape[:-1]) != tuple(indices.shape):
        raise ValueError(f"{where}: grad_output shape {tuple(dy.shape)} does not match indices "
                         f"{tuple(indices.shape)} + (embedding_dim,)")
    acc = cupy.zeros((num_embeddings, dim), _accumulator(dy.dtype))
    if dy.size:
        grid, block = _flat_launch(dy.size)
        _kernel("embedding", "embedding_backward<{T}, {A}>", dy.dtype)(
            grid, block, (indices, dy, acc, np.int64(indices.size), np.int32(dim),
                          np.int64(-(2**63) if padding_idx is None else padding_idx)))
    return acc.astype(dy.dtype, copy=False)


# --------------------------------------------------------------------------- elementwise fusion
def fused_elementwise(expression: str, *inputs):
    """Evaluate a generated C expression over ``a0 .. a{k-1}`` (broadcast inputs) in one kernel."""
    from nbframe.kernels import loader

    cupy = cupy_module()
    if not 1 <= len(inputs) <= 8:
        raise ValueError(f"fused_elementwise takes 1 to 8 inputs, got {len(inputs)}")
    first = _check_array("fused_elementwise", "a0", inputs[0])
    shape = np.broadcast_shapes(*(a.shape for a in inputs))
    arrays = [_same("fused_elementwise", first, f"a{i}", cupy.broadcast_to(a, shape), shape=shape)
              for i, a in enumerate(inputs)]
    out = cupy.empty(shape, first.dtype)
    if out.size:
        grid, block = _flat_launch(out.size)
        kernel = loader.get_fused_kernel(expression, len(arrays), first.dtype)
        padded = arrays + [arrays[0]] * (8 - len(arrays))
        kernel(grid, block, (*padded, out, np.int64(out.size)))
    return out
