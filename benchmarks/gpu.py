"""nbframe on a GPU side by side with PyTorch on the same GPU, in one run.

1. Each fused kernel (kernels/*.cu): the median time over repeated launches (CUDA events), and the
   achieved bandwidth — counting only the bytes the op must read and write once — as a share of the
   card's peak memory bandwidth; next to PyTorch's own kernel for the same op.
2. Training steps per second (zero_grad, forward, cross-entropy, backward, SGD with momentum) of
   an MLP 784-512-256-10 (batch 128), LeNet-5 on 1x28x28 (batch 64) and ResNet-18 for CIFAR
   (3x3 stem, no max pool, 3x32x32, batch 128), the same architecture built in both frameworks.

PyTorch's columns are filled when a CUDA build of torch is installed. Run with
``python benchmarks/gpu.py`` (``--skip-training`` or ``--skip-kernels`` to do half). Nothing is
asserted. Without a GPU it says so and exits with status 1.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

# Peak DRAM bandwidth in GB/s by card name, for when the driver does not report the memory clock.
KNOWN_PEAKS = {"H200": 4800, "H100 SXM": 3350, "H100 80GB HBM3": 3350, "H100 PCIe": 2000, "H100": 3350,
               "A100-SXM4-80GB": 2039, "A100": 1555, "L4": 300, "A10": 600, "T4": 320}


def _peak_gbs(cupy) -> tuple[float, str]:
    """The card's peak memory bandwidth: 2 (DDR) x memory clock x bus width, or the known figure."""
    runtime = cupy.cuda.runtime
    device = cupy.cuda.Device().id
    name = runtime.getDeviceProperties(device)["name"]
    name = name.decode() if isinstance(name, bytes) else name
    try:
        clock_khz = runtime.deviceGetAttribute(runtime.cudaDevAttrMemoryClockRate, device)
        bus_bits = runtime.deviceGetAttribute(runtime.cudaDevAttrGlobalMemoryBusWidth, device)
    except Exception:
        clock_khz = bus_bits = 0
    if clock_khz and bus_bits:
        return 2 * clock_khz * 1e3 * bus_bits / 8 / 1e9, name
    for key, peak in KNOWN_PEAKS.items():
        if key in name:
            return float(peak), name
    return float("nan"), name


def _time_ms(cupy, fn, repeats: int = 50) -> float:
    """Median milliseconds of ``fn`` between CUDA events (PyTorch's kernels run on the same stream)."""
    for _ in range(3):
        fn()
    start, stop = cupy.cuda.Event(), cupy.cuda.Event()
    times = []
    for _ in range(repeats):
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, stop))
    return float(np.median(times))


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


# --------------------------------------------------------------------------- 1. kernels
SHAPES = {  # the problem sizes: large enough that each op is bound by memory bandwidth
    "rows": (8192, 4096), "logits": (4096, 32000), "layer_norm": (16384, 1024), "optimizer": 1 << 24,
    "dropout": 1 << 26, "pool": (64, 64, 112, 112), "conv_input": (64, 64, 56, 56),
    "embedding": (64, 512, 768, 30000),
}


def _label(shape) -> str:
    return "x".join(map(str, shape)) if isinstance(shape, tuple) else f"{shape / 2**20:g}M"


def _kernel_cases(cupy, torch):
    """(name, bytes the op must move, nbframe call, torch call or None).

    The calls are closures: each section keeps its own variable names, since a later rebinding
    would change what an earlier lambda runs.
    """
    from nbframe.backend import cuda as gpu

    f32 = cupy.float32
    rng = cupy.random.default_rng(0)
    host = np.random.default_rng(0)
    t = (lambda a: torch.as_tensor(a, device="cuda")) if torch else None  # noqa: E731 (shares memory)
    aten = torch.ops.aten if torch else None
    cases = []

    def case(name, nbytes, ours, theirs=None):
        cases.append((name, nbytes, ours, theirs if torch else None))

    shape = SHAPES["rows"]
    x = rng.standard_normal(shape, dtype=f32)
    y = gpu.softmax_forward(x)
    dy = rng.standard_normal(x.shape, dtype=f32)
    tx, ty, tdy = (t(x), t(y), t(dy)) if torch else (None,) * 3
    case(f"softmax fwd {_label(shape)} f32", 2 * x.nbytes, lambda: gpu.softmax_forward(x),
         lambda: torch.softmax(tx, -1))
    case(f"log_softmax fwd {_label(shape)} f32", 2 * x.nbytes, lambda: gpu.softmax_forward(x, log=True),
         lambda: torch.log_softmax(tx, -1))
    case(f"softmax bwd {_label(shape)} f32", 3 * x.nbytes, lambda: gpu.softmax_backward(y, dy),
         lambda: aten._softmax_backward_data(tdy, ty, -1, torch.float32))
    xh = x.astype(cupy.float16)
    txh = t(xh) if torch else None
    case(f"softmax fwd {_label(shape)} f16", 2 * xh.nbytes, lambda: gpu.softmax_forward(xh),
         lambda: torch.softmax(txh, -1))

    (rows, classes) = shape = SHAPES["logits"]
    logits = rng.standard_normal(shape, dtype=f32)
    target = cupy.asarray(host.integers(0, classes, rows))
    tl, tt = (t(logits), t(target)) if torch else (None, None)
    case(f"cross_entropy fwd {_label(shape)} f32", logits.nbytes,
         lambda: gpu.cross_entropy_forward(logits, target),
         lambda: torch.nn.functional.cross_entropy(tl, tt, reduction="none"))
    _, _, lse = gpu.cross_entropy_forward(logits, target)
    grad_loss = cupy.full(rows, 1 / rows, f32)
    if torch:
        tlg = tl.detach().requires_grad_()
        tloss = torch.nn.functional.cross_entropy(tlg, tt)
    case(f"cross_entropy bwd {_label(shape)} f32", 2 * logits.nbytes,
         lambda: gpu.cross_entropy_backward(logits, target, lse, grad_loss),
         lambda: torch.autograd.grad(tloss, tlg, retain_graph=True))

    (_, features) = shape = SHAPES["layer_norm"]
    z = rng.standard_normal(shape, dtype=f32)
    w, b = cupy.ones(features, f32), cupy.zeros(features, f32)
    tz, tw, tb = (t(z), t(w), t(b)) if torch else (None,) * 3
    case(f"layer_norm fwd {_label(shape)} f32", 2 * z.nbytes, lambda: gpu.layer_norm_forward(z, w, b),
         lambda: aten.native_layer_norm(tz, [features], tw, tb, 1e-5))
    _, mean, rstd = gpu.layer_norm_forward(z, w, b)
    if torch:
        _, tmean, trstd = aten.native_layer_norm(tz, [features], tw, tb, 1e-5)
    case(f"layer_norm bwd {_label(shape)} f32", 3 * z.nbytes,
         lambda: gpu.layer_norm_backward(z, z, mean, rstd, w),
         lambda: aten.native_layer_norm_backward(tz, tz, [features], tmean, trstd, tw, tb, [True] * 3))

    n = SHAPES["optimizer"]
    p, g, m, v = (rng.standard_normal(n, dtype=f32) for _ in range(4))
    v = cupy.abs(v)
    case(f"adamw step {_label(n)} f32", 7 * p.nbytes,
         lambda: gpu.adam_step(p, g, m, v, None, 10, 1e-3, 0.9, 0.999, 1e-8, 0.01, True),
         _torch_optimizer(torch, n, "AdamW", lr=1e-3))
    buf = gpu.sgd_step(p, g, None, 0.0, momentum=0.9)
    case(f"sgd momentum step {_label(n)} f32", 5 * p.nbytes,
         lambda: gpu.sgd_step(p, g, buf, 1e-3, momentum=0.9),
         _torch_optimizer(torch, n, "SGD", lr=1e-3, momentum=0.9))

    n = SHAPES["dropout"]
    d = rng.standard_normal(n, dtype=f32)
    td = t(d) if torch else None
    _, mask = gpu.dropout_forward(d, 0.1)
    if torch:
        _, tmask = aten.native_dropout(td, 0.1, True)
    case(f"dropout fwd {_label(n)} f32", 2 * d.nbytes + d.size, lambda: gpu.dropout_forward(d, 0.1),
         lambda: aten.native_dropout(td, 0.1, True))
    case(f"dropout bwd {_label(n)} f32", 2 * d.nbytes + d.size, lambda: gpu.dropout_backward(d, mask, 0.1),
         lambda: aten.native_dropout_backward(td, tmask, 1 / 0.9))

    shape = SHAPES["pool"]
    img = rng.standard_normal(shape, dtype=f32)
    timg = t(img) if torch else None
    pooled, index = gpu.maxpool2d_forward(img, (3, 3), (2, 2), (1, 1), (1, 1))
    moved = img.nbytes + pooled.nbytes + index.nbytes
    if torch:
        tpooled, tindex = torch.nn.functional.max_pool2d(timg, 3, 2, 1, return_indices=True)
    case(f"maxpool2d fwd {_label(shape)} k3s2p1", moved,
         lambda: gpu.maxpool2d_forward(img, (3, 3), (2, 2), (1, 1), (1, 1)),
         lambda: torch.nn.functional.max_pool2d(timg, 3, 2, 1, return_indices=True))
    case(f"maxpool2d bwd {_label(shape)} k3s2p1", moved,
         lambda: gpu.maxpool2d_backward(pooled, index, img.shape),
         lambda: aten.max_pool2d_with_indices_backward(tpooled, timg, [3, 3], [2, 2], [1, 1], [1, 1], False,
                                                       tindex))

    (cn, cc, ch, cw) = shape = SHAPES["conv_input"]
    fmap = rng.standard_normal((cn, cc, ch + 2, cw + 2), dtype=f32)  # padded by 1
    tfmap = t(fmap) if torch else None
    columns = gpu.im2col(fmap, (3, 3), (1, 1), (1, 1))
    case(f"im2col {_label(shape)} k3 f32", fmap.nbytes + columns.nbytes,
         lambda: gpu.im2col(fmap, (3, 3), (1, 1), (1, 1)), lambda: torch.nn.functional.unfold(tfmap, 3))
    cols6 = columns.reshape(cc, 3, 3, cn, ch, cw).transpose(3, 0, 1, 2, 4, 5)
    tcols = torch.nn.functional.unfold(tfmap, 3) if torch else None
    case(f"col2im {_label(shape)} k3 f32", fmap.nbytes + columns.nbytes,
         lambda: gpu.col2im(cols6, fmap.shape, (1, 1), (1, 1)),
         lambda: torch.nn.functional.fold(tcols, (ch + 2, cw + 2), 3))

    batch, length, dim, vocab = SHAPES["embedding"]
    idx = cupy.asarray(host.integers(0, vocab, (batch, length)))
    gout = rng.standard_normal((batch, length, dim), dtype=f32)
    tidx, tgout = (t(idx), t(gout)) if torch else (None, None)
    moved = gout.nbytes + idx.nbytes + vocab * dim * 4
    case(f"embedding bwd {batch * length}x{dim} into {vocab} rows", moved,
         lambda: gpu.embedding_backward(idx, gout, vocab),
         lambda: aten.embedding_dense_backward(tgout, tidx, vocab, -1, False))
    return cases


def _torch_optimizer(torch, n: int, name: str, **options):
    """One step of PyTorch's fused (else foreach) optimiser over one parameter of ``n`` floats."""
    if torch is None:
        return None
    param = torch.nn.Parameter(torch.randn(n, device="cuda"))
    param.grad = torch.randn(n, device="cuda")
    cls = getattr(torch.optim, name)
    try:
        return cls([param], fused=True, **options).step
    except (RuntimeError, TypeError, ValueError):
        return cls([param], foreach=True, **options).step


def benchmark_kernels(cupy, torch, peak: float) -> None:
    print(f"{'kernel':42s} {'nbframe ms':>10s} {'GB/s':>7s} {'% peak':>7s} {'torch ms':>9s} {'% peak':>7s} "
          f"{'torch/nf':>8s}")
    for label, nbytes, ours, theirs in _kernel_cases(cupy, torch):
        ms = _time_ms(cupy, ours)
        row = f"{label:42s} {ms:10.3f} {nbytes / ms / 1e6:7.0f} {100 * nbytes / ms / 1e6 / peak:6.0f}%"
        if theirs:
            tms = _time_ms(cupy, theirs)
            row += f" {tms:9.3f} {100 * nbytes / tms / 1e6 / peak:6.0f}% {tms / ms:8.2f}"
        print(row, flush=True)


# --------------------------------------------------------------------------- 2. training steps
def _mlp(m):
    nn = m.nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def _lenet(m):
    nn = m.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def _resnet18_cifar(m):
    """ResNet-18 for 32x32 images (3x3 stem, no max pool), written once for either framework."""
    nn = m.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                projection = nn.Conv2d(cin, cout, 1, stride, bias=False)
                self.shortcut = nn.Sequential(projection, nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn1(self.conv1(x)).relu()
            return (self.bn2(self.conv2(out)) + self.shortcut(x)).relu()

    layers = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10)]
    return nn.Sequential(*layers)


WORKLOADS = {  # name: (builder, batch, input shape, timed steps)
    "MLP 784-512-256-10, b128": (_mlp, 128, (784,), 200),
    "LeNet-5 1x28x28, b64": (_lenet, 64, (1, 28, 28), 200),
    "ResNet-18 CIFAR 3x32x32, b128": (_resnet18_cifar, 128, (3, 32, 32), 30),
}


def _steps_per_second(m, synchronize, builder, batch: int, shape: tuple, steps: int) -> float:
    m.manual_seed(0)
    model = builder(m).to("cuda")
    optimizer = m.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    data = [(m.tensor(rng.standard_normal((batch, *shape)).astype(np.float32)).to("cuda"),
             m.tensor(rng.integers(0, 10, batch)).to("cuda")) for _ in range(4)]

    def step(i: int) -> None:
        x, y = data[i % len(data)]
        optimizer.zero_grad()
        m.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    for i in range(5):  # compiles the kernels, fills the memory pool
        step(i)
    synchronize()
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    synchronize()
    return steps / (time.perf_counter() - start)


def benchmark_training(torch) -> None:
    import nbframe as nf

    print(f"\n{'training step (SGD momentum)':36s} {'nbframe/s':>10s} {'torch/s':>9s} {'torch/nf':>9s}")
    for name, (builder, batch, shape, steps) in WORKLOADS.items():
        ours = _steps_per_second(nf, nf.cuda.synchronize, builder, batch, shape, steps)
        row = f"{name:36s} {ours:10.1f}"
        if torch:
            theirs = _steps_per_second(torch, torch.cuda.synchronize, builder, batch, shape, steps)
            row += f" {theirs:9.1f} {theirs / ours:9.2f}"
        print(row, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-kernels", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args(argv)
    from nbframe.backend import cuda

    try:
        cupy = cuda.cupy_module()
    except RuntimeError as exc:
        print(f"benchmarks/gpu.py needs a CUDA GPU, and there is none here: {exc}")
        return 1
    peak, name = _peak_gbs(cupy)
    torch = _torch_cuda()
    print(f"{name}: peak memory bandwidth {peak:.0f} GB/s; PyTorch on this GPU: "
          f"{torch.__version__ if torch else 'not installed with CUDA'}\n")
    if not args.skip_kernels:
        benchmark_kernels(cupy, torch, peak)
    if not args.skip_training:
        benchmark_training(torch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
