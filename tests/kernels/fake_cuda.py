"""A stand-in CUDA device, so that the GPU dispatch is tested on machines without one.

- ``FakeCudaArray``: a NumPy array that nbframe's backend takes for a CuPy array on cuda:0
  (reductions give 0-d arrays and ``.get()`` copies to the host, as CuPy does).
- ``FakeCupy``: the parts of the ``cupy`` module the backend calls, NumPy underneath.
- ``FakeKernel``: stands in for a compiled ``cupy.RawKernel``. Every launch is checked against
  the kernel's C signature, read from ``kernels/*.cu`` (each pointer a contiguous device array of
  the element type, each scalar a NumPy scalar of exactly the C type: a raw kernel reads the bytes
  it is given), and the launch shape is checked (block at most 1024 threads, rows covered).
  Then the NumPy reference in ``nbframe.backend.cpu`` computes the outputs in place.

This checks the Python side — which kernel an op picks, and with which arguments — not the
CUDA code itself; that is what tests/kernels/test_gpu_kernels.py does on a real GPU.
"""

from __future__ import annotations

import math
import re
import types
from dataclasses import dataclass, field

import numpy as np
from nbframe.kernels import loader

from nbframe.backend import cpu


# --------------------------------------------------------------------------- arrays and module
class _Device:
    """``cupy.cuda.Device``: always cuda:0, 132 SMs (an H100's count)."""

    id = 0
    attributes = {"MultiProcessorCount": 132}

    def __init__(self, index: int | None = None):
        pass

    def use(self):
        pass

    def synchronize(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class FakeCudaArray(np.ndarray):
    """An ndarray that ``nbframe.backend.cuda.is_cuda`` accepts while the fake device is installed."""

    @property
    def device(self):
        return _Device()

    def get(self):
        return np.array(self.view(np.ndarray))

    def __array_wrap__(self, array, context=None, return_scalar=False):
        return super().__array_wrap__(array, context, False)  # CuPy: reductions give 0-d arrays


def _to_device(value):
    if type(value) is np.ndarray:
        return value.view(FakeCudaArray)
    if isinstance(value, np.generic) and not isinstance(value, np.bool_):
        return np.asarray(value).view(FakeCudaArray)
    if isinstance(value, tuple):
        return tuple(_to_device(v) for v in value)
    return value


def _on_device(fn):
    def call(*args, **kwargs):
        return _to_device(fn(*args, **kwargs))

    return call


class _DeviceGenerator:
    """``cupy.random.default_rng``'s generator: NumPy's, its arrays on the fake device."""

    def __init__(self, generator):
        self.generator = generator

    def __getattr__(self, name):
        return _on_device(getattr(self.generator, name))


class FakeCupy(types.ModuleType):
    """``cupy``, as far as nbframe uses it: NumPy's functions whose arrays come back on the fake device."""

    ndarray = FakeCudaArray

    def __init__(self):
        super().__init__("fake_cupy")
        self.cuda = types.SimpleNamespace(Device=_Device,
                                          runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
        generator = np.random.default_rng(0)
        self.random = types.SimpleNamespace(
            seed=lambda seed: None,
            random_sample=lambda shape, dtype=np.float64: _to_device(generator.random(shape, dtype=dtype)),
            default_rng=lambda seed=None: _DeviceGenerator(np.random.default_rng(seed)))

    def __getattr__(self, name):
        attr = getattr(np, name)
        if callable(attr) and not isinstance(attr, type) and not isinstance(attr, np.ufunc):
            return _on_device(attr)
        return attr

    def ascontiguousarray(self, a, dtype=None):
        out = np.ascontiguousarray(a, dtype=dtype)
        return out if type(out) is FakeCudaArray else out.view(FakeCudaArray)


def on_fake_device(array) -> FakeCudaArray:
    """A copy of a NumPy array on the fake device."""
    return np.array(array).view(FakeCudaArray)


# --------------------------------------------------------------------------- kernel signatures
_C_TYPES = {"float": np.float32, "double": np.float64, "nbf_half": np.float16, "long long": np.int64,
            "int": np.int32, "unsigned int": np.uint32, "unsigned long long": np.uint64,
            "unsigned char": np.uint8}


@dataclass
class Parameter:
    name: str
    dtype: type
    pointer: bool


def kernel_signature(stem: str, expression: str) -> list[Parameter]:
    """The parameters of the ``__global__`` function instantiated by ``expression``, from its .cu source."""
    name, _, template_args = expression.partition("<")
    args = [a.strip() for a in template_args.rstrip(">").split(",")] if template_args else []
    source = loader.kernel_source(stem)
    match = re.search(r"template\s*<([^>]*)>\s*__global__\s+void\s+" + name + r"\s*\(([^)]*)\)", source)
    assert match, f"no __global__ {name} in kernels/{stem}.cu"
    names = [p.split()[-1] for p in match.group(1).split(",")]
    bound = dict(zip(names, args))
    params = []
    for raw in match.group(2).split(","):
        text = re.sub(r"\b(const|__restrict__)\b", " ", raw)
        pointer = "*" in text
        words = text.replace("*", " ").split()
        ctype = " ".join(words[:-1])
        if ctype == "typename Acc<T>::type":
            ctype = loader.ACCUMULATOR_TYPES[bound["T"]]
        ctype = bound.get(ctype, ctype)
        params.append(Parameter(words[-1], _C_TYPES[ctype], pointer))
    return params


# --------------------------------------------------------------------------- fake kernels
@dataclass
class Launch:
    """One recorded launch: which kernel, grid, block and the arguments by parameter name."""

    stem: str
    expression: str
    grid: tuple
    block: tuple
    args: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.expression.partition("<")[0]


class FakeKernel:
    def __init__(self, stem: str, expression: str, launches: list, fused: str | None = None):
        self.stem, self.expression, self.launches, self.fused = stem, expression, launches, fused
        self.signature = kernel_signature(stem, expression)

    def __call__(self, grid, block, args):
        launch = Launch(self.stem, self.expression, tuple(grid), tuple(block))
        _check_launch_shape(launch)
        assert len(args) == len(self.signature), (
            f"{self.expression}: {len(args)} arguments for {len(self.signature)} parameters")
        for param, value in zip(self.signature, args):
            launch.args[param.name] = _check_argument(self.expression, param, value)
        self.launches.append(launch)
        if self.fused is not None:
            launch.args["expression"] = self.fused
        _REFERENCES[launch.name](launch, **launch.args)


def _check_launch_shape(launch: Launch) -> None:
    where = launch.expression
    assert 1 <= len(launch.grid) <= 3 and 1 <= len(launch.block) <= 3, where
    assert all(isinstance(v, (int, np.integer)) and v >= 1 for v in launch.grid + launch.block), where
    assert math.prod(launch.block) <= 1024, f"{where}: {launch.block} is more than 1024 threads"
    assert launch.grid[0] <= 2**31 - 1 and all(g <= 65535 for g in launch.grid[1:]), where


def _check_argument(where: str, param: Parameter, value, array_type=FakeCudaArray):
    if param.pointer:
        name = f"{where}: {param.name}"
        assert type(value) is array_type, f"{name} must be a device array, got {type(value)}"
        assert value.flags.c_contiguous, f"{name} is not contiguous"
        assert value.dtype == param.dtype, f"{name} is {value.dtype}, the kernel reads {param.dtype}"
        return value.view(np.ndarray) if array_type is FakeCudaArray else value
    assert type(value) is param.dtype, (
        f"{where}: scalar {param.name} is {type(value).__name__}, the kernel reads {np.dtype(param.dtype)}")
    return value.item()


def _row_kernel(launch: Launch, rows: int) -> None:
    """A row kernel's layout: a warp per row (32, k) or a block per row (32m, 1), every row covered."""
    bx = launch.block[0]
    by = launch.block[1] if len(launch.block) > 1 else 1
    assert bx % 32 == 0 and (bx == 32 or by == 1), f"{launch.expression}: block {launch.block}"
    assert launch.grid[0] * by >= rows, f"{launch.expression}: grid {launch.grid} x {by} misses rows"


def _template_flag(launch: Launch) -> bool:
    return launch.expression.endswith("true>")


def _softmax_forward(launch, x, y, rows, cols):
    _row_kernel(launch, rows)
    y.reshape(rows, cols)[...] = cpu.softmax_forward(x.reshape(rows, cols), log=_template_flag(launch))


def _softmax_backward(launch, y, dy, dx, rows, cols):
    _row_kernel(launch, rows)
    dx.reshape(rows, cols)[...] = cpu.softmax_backward(y.reshape(rows, cols), dy.reshape(rows, cols),
                                                       log=_template_flag(launch))


def _valid_targets(target, classes, ignore_index):
    bad = (target != ignore_index) & ((target < 0) | (target >= classes))
    return np.where(bad, ignore_index, target), bool(bad.any())


def _cross_entropy_forward(launch, logits, target, weight, wsum, loss, row_weight, lse_out, bad_target, rows,
                           classes, ignore_index, smoothing):
    _row_kernel(launch, rows)
    np.testing.assert_allclose(wsum, weight.astype(np.float64).sum(), rtol=1e-3)
    t, bad = _valid_targets(target, classes, ignore_index)
    if bad:
        bad_target[0] = 1
    loss[...], row_weight[...], lse_out[...] = cpu.cross_entropy_forward(logits, t, weight, ignore_index,
                                                                         smoothing)


def _cross_entropy_backward(launch, logits, target, weight, wsum, lse, grad_loss, grad_logits, rows, classes,
                            ignore_index, smoothing):
    _row_kernel(launch, rows)
    t, _ = _valid_targets(target, classes, ignore_index)
    grad_logits[...] = cpu.cross_entropy_backward(logits, t, lse, grad_loss, weight, ignore_index, smoothing)


def _layer_norm_forward(launch, x, weight, bias, y, mean_out, rstd_out, rows, cols, eps, affine):
    _row_kernel(launch, rows)
    out, mean, rstd = cpu.layer_norm_forward(x.reshape(rows, cols), weight if affine else None,
                                             bias if affine else None, eps)
    y.reshape(rows, cols)[...] = out
    mean_out.reshape(rows)[...], rstd_out.reshape(rows)[...] = mean, rstd


def _layer_norm_backward_input(launch, x, dy, weight, mean, rstd, dx, rows, cols, affine):
    _row_kernel(launch, rows)
    dx.reshape(rows, cols)[...] = cpu.layer_norm_backward(
        x.reshape(rows, cols), dy.reshape(rows, cols), mean.reshape(rows), rstd.reshape(rows),
        weight if affine else None)[0]


def _layer_norm_backward_params(launch, x, dy, mean, rstd, dweight_partial, dbias_partial, rows, cols,
                                rows_per_chunk):
    chunks = launch.grid[1]
    assert launch.grid[0] * launch.block[0] >= cols and chunks * rows_per_chunk >= rows, launch
    assert dweight_partial.shape == (chunks, cols), launch
    x2, g2 = x.reshape(rows, cols), dy.reshape(rows, cols)
    xhat = (x2 - mean.reshape(rows, 1)) * rstd.reshape(rows, 1)
    for k in range(chunks):
        part = slice(k * rows_per_chunk, (k + 1) * rows_per_chunk)
        dweight_partial[k] = (g2[part] * xhat[part]).sum(axis=0)
        dbias_partial[k] = g2[part].sum(axis=0)


def _sgd_step(launch, param, grad, momentum_buffer, n, lr, momentum, dampening, weight_decay, nesterov,
              maximize, first_step):
    assert n == param.size
    buf = None if first_step else momentum_buffer
    out = cpu.sgd_step(param, grad, buf, lr, momentum, dampening, weight_decay, bool(nesterov),
                       bool(maximize))
    if momentum:
        momentum_buffer[...] = out


def _adam_step(launch, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1, beta2, eps,
               weight_decay, decoupled, amsgrad, maximize, bias_correction1, bias_correction2):
    assert n == param.size
    step = round(math.log(1 - bias_correction1) / math.log(beta1))  # the host's step, recovered
    assert math.isclose(bias_correction2, 1 - beta2 ** step, rel_tol=1e-3), (bias_correction2, step)
    cpu.adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq if amsgrad else None, step, lr, beta1,
                  beta2, eps, weight_decay, bool(decoupled), bool(amsgrad), bool(maximize))


def _im2col(launch, x, col, N, C, H, W, KH, KW, SH, SW, DH, DW, OH, OW):
    assert ((H - DH * (KH - 1) - 1) // SH + 1, (W - DW * (KW - 1) - 1) // SW + 1) == (OH, OW), launch
    col.reshape(-1)[...] = cpu.im2col(x.reshape(N, C, H, W), (KH, KW), (SH, SW), (DH, DW)).reshape(-1)


def _col2im(launch, col, x, N, C, H, W, KH, KW, SH, SW, DH, DW, OH, OW):
    cols = col.reshape(C, KH, KW, N, OH, OW).transpose(3, 0, 1, 2, 4, 5)
    x.reshape(N, C, H, W)[...] = cpu.col2im(cols, (N, C, H, W), (SH, SW), (DH, DW))


def _maxpool2d_forward(launch, x, y, indices, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    values, index = cpu.maxpool2d_forward(x.reshape(N, C, H, W), (KH, KW), (SH, SW), (PH, PW), (DH, DW),
                                          (OH, OW))
    y.reshape(N, C, OH, OW)[...], indices.reshape(N, C, OH, OW)[...] = values, index


def _maxpool2d_backward(launch, dy, indices, grad_x, planes, HW, OHW):
    assert indices.min() >= 0 and indices.max() < HW, "a saved max-pool index is outside its plane"
    added = cpu.maxpool2d_backward(dy.reshape(planes, 1, 1, OHW), indices.reshape(planes, 1, 1, OHW),
                                   (planes, 1, 1, HW))
    grad_x.reshape(planes, HW)[...] += added.reshape(planes, HW)


def _dropout_forward(launch, x, y, mask, n, threshold, scale, seed, offset):
    keep = cpu.dropout_keep(n, threshold, seed, offset)
    mask.reshape(-1)[...] = keep
    y.reshape(-1)[...] = np.where(keep, x.reshape(-1) * scale, 0)


def _dropout_backward(launch, dy, mask, dx, n, scale):
    dx.reshape(-1)[...] = np.where(mask.reshape(-1) != 0, dy.reshape(-1) * scale, 0)


def _embedding_backward(launch, indices, grad_output, grad_weight, n, dim, padding_idx):
    grad_weight[...] += cpu.embedding_backward(
        indices.reshape(n), grad_output.reshape(n, dim), grad_weight.shape[0],
        None if padding_idx == -(2**63) else padding_idx)


def _fused_elementwise(launch, in0, in1, in2, in3, in4, in5, in6, in7, out, n, expression):
    """The generated C expression evaluated with NumPy (casts ``(A)`` dropped, C math names mapped)."""
    inputs = (in0, in1, in2, in3, in4, in5, in6, in7)
    names = {f"a{i}": a.reshape(-1)[:n].astype(np.float64) for i, a in enumerate(inputs)}
    names.update(exp=np.exp, log=np.log, sqrt=np.sqrt, tanh=np.tanh)
    assert "?" not in expression, "the fake evaluates expressions without the ternary operator"
    with np.errstate(all="ignore"):
        out.reshape(-1)[...] = eval(expression.replace("(A)", ""), {"__builtins__": {}}, names)


_REFERENCES = {
    "softmax_forward": _softmax_forward, "softmax_backward": _softmax_backward,
    "cross_entropy_forward": _cross_entropy_forward, "cross_entropy_backward": _cross_entropy_backward,
    "layer_norm_forward": _layer_norm_forward, "layer_norm_backward_input": _layer_norm_backward_input,
    "layer_norm_backward_params": _layer_norm_backward_params, "sgd_step": _sgd_step, "adam_step": _adam_step,
    "im2col": _im2col, "col2im": _col2im, "maxpool2d_forward": _maxpool2d_forward,
    "maxpool2d_backward": _maxpool2d_backward, "dropout_forward": _dropout_forward,
    "dropout_backward": _dropout_backward, "embedding_backward": _embedding_backward,
    "fused_elementwise": _fused_elementwise,
}


def _expression(stem: str, template: str, dtype) -> str:
    element = loader.element_type(dtype)
    expression = template.format(T=element, A=loader.ACCUMULATOR_TYPES[element])
    assert expression in loader.name_expressions(stem), f"{expression} is not compiled from {stem}.cu"
    return expression


def record_real_kernels(monkeypatch, array_type=None) -> list[Launch]:
    """On a real GPU: launch the compiled kernels, recording and checking each launch as the fake does.

    ``array_type`` is what a pointer argument must be: ``cupy.ndarray`` unless given (the tests of
    this recorder wrap the fake kernels, with ``FakeCudaArray``).
    """
    from nbframe.backend import cuda

    if array_type is None:
        import cupy

        array_type = cupy.ndarray

    launches: list[Launch] = []
    compiled, compiled_fused = cuda._kernel, loader.get_fused_kernel

    def recorded(real, stem: str, expression: str):
        signature = kernel_signature(stem, expression)

        def launch(grid, block, args):
            record = Launch(stem, expression, tuple(grid), tuple(block))
            _check_launch_shape(record)
            assert len(args) == len(signature), expression
            for param, value in zip(signature, args):
                record.args[param.name] = _check_argument(expression, param, value, array_type)
            launches.append(record)
            real(grid, block, args)

        return launch

    def kernel(stem: str, template: str, dtype):
        return recorded(compiled(stem, template, dtype), stem, _expression(stem, template, dtype))

    def fused(expression: str, arity: int, dtype):
        return recorded(compiled_fused(expression, arity, dtype), "elementwise_fusion",
                        f"fused_elementwise<{loader.element_type(dtype)}>")

    monkeypatch.setattr(cuda, "_kernel", kernel)
    monkeypatch.setattr(loader, "get_fused_kernel", fused)
    return launches


def _fake_fused(launches):
    def get_fused_kernel(expression: str, arity: int, dtype):
        loader.fused_prelude(expression, arity)  # its checks of the arity
        expr = f"fused_elementwise<{loader.element_type(dtype)}>"
        return FakeKernel("elementwise_fusion", expr, launches, fused=expression)

    return get_fused_kernel


def install(monkeypatch) -> list[Launch]:
    """Put the fake device in place of CuPy and the fake kernels in place of the compiled ones.

    Returns the list every launch is recorded into.
    """
    from nbframe.backend import cuda

    launches: list[Launch] = []
    fake = FakeCupy()
    monkeypatch.setattr(cuda, "_cupy", fake)
    monkeypatch.setattr(cuda, "_cupy_error", None)
    monkeypatch.setattr(cuda, "_device_count", 1)
    monkeypatch.setattr(cuda, "ARRAY_TYPES", (np.ndarray, FakeCudaArray))
    monkeypatch.setattr(cuda, "_sm_counts", {})
    monkeypatch.setattr(cuda, "_philox", {})

    def kernel(stem: str, template: str, dtype):
        return FakeKernel(stem, _expression(stem, template, dtype), launches)

    monkeypatch.setattr(cuda, "_kernel", kernel)
    monkeypatch.setattr(loader, "get_fused_kernel", _fake_fused(launches))
    return launches
