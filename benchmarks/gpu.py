"""nbframe's fused CUDA kernels side by side with PyTorch's own kernels on the same GPU.

For each kernel: the median time over repeated launches (CUDA events) and the achieved bandwidth,
counting only the bytes the op must read and write once, as a share of the card's peak memory
bandwidth. PyTorch's column is filled when a CUDA build of torch is installed.

Run with ``python benchmarks/gpu.py``. Nothing here is asserted. Exits with a message without a GPU.
"""

from __future__ import annotations

import sys

import numpy as np

# Peak DRAM bandwidth in GB/s by card name, for drivers whose attributes don't give the memory clock.
KNOWN_PEAKS = {"H200": 4800, "H100 SXM": 3350, "H100 80GB HBM3": 3350, "H100 PCIe": 2000, "H100": 3350,
               "A100-SXM4-80GB": 2039, "A100": 1555, "L4": 300, "A10": 600, "T4": 320}


def _peak_gbs(cupy) -> tuple[float, str]:
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    clock_khz, bus_bits = props.get("memoryClockRate", 0), props.get("memoryBusWidth", 0)
    if clock_khz and bus_bits:
        return 2 * clock_khz * 1e3 * bus_bits / 8 / 1e9, name
    for key, peak in KNOWN_PEAKS.items():
        if key in name:
            return float(peak), name
    return float("nan"), name


def _time_ms(cupy, fn, repeats: int = 50) -> float:
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


def _cases(cupy, torch):
    """(name, bytes moved, nbframe call, torch call or None)."""
    from nbframe.backend import cuda as gpu

    f32 = cupy.float32
    rng = cupy.random.default_rng(0)
    t = (lambda a: torch.as_tensor(a, device="cuda")) if torch else None  # noqa: E731 (shares memory)
    cases = []

    x = rng.standard_normal((8192, 4096), dtype=f32)
    y = gpu.softmax_forward(x)
    dy = rng.standard_normal(x.shape, dtype=f32)
    tx, ty, tdy = (t(x), t(y), t(dy)) if torch else (None,) * 3
    cases.append(("softmax fwd 8192x4096 f32", 2 * x.nbytes, lambda: gpu.softmax_forward(x),
                  torch and (lambda: torch.softmax(tx, -1))))
    cases.append(("log_softmax fwd 8192x4096 f32", 2 * x.nbytes, lambda: gpu.softmax_forward(x, log=True),
                  torch and (lambda: torch.log_softmax(tx, -1))))
    cases.append(("softmax bwd 8192x4096 f32", 3 * x.nbytes, lambda: gpu.softmax_backward(y, dy),
                  torch and (lambda: torch._softmax_backward_data(tdy, ty, -1, torch.float32))))

    xh = x.astype(cupy.float16)
    txh = t(xh) if torch else None
    cases.append(("softmax fwd 8192x4096 f16", 2 * xh.nbytes, lambda: gpu.softmax_forward(xh),
                  torch and (lambda: torch.softmax(txh, -1))))

    logits = rng.standard_normal((4096, 32000), dtype=f32)
    target = cupy.asarray(np.random.default_rng(0).integers(0, 32000, 4096))
    tl, tt = (t(logits), t(target)) if torch else (None, None)
    cases.append(("cross_entropy fwd 4096x32000 f32", logits.nbytes,
                  lambda: gpu.cross_entropy_forward(logits, target),
                  torch and (lambda: torch.nn.functional.cross_entropy(tl, tt, reduction="none"))))
    _, _, lse = gpu.cross_entropy_forward(logits, target)
    grad_loss = cupy.full(4096, 1 / 4096, f32)
    cases.append(("cross_entropy bwd 4096x32000 f32", 2 * logits.nbytes,
                  lambda: gpu.cross_entropy_backward(logits, target, lse, grad_loss), None))

    z = rng.standard_normal((16384, 1024), dtype=f32)
    w, b = cupy.ones(1024, f32), cupy.zeros(1024, f32)
    tz, tw, tb = (t(z), t(w), t(b)) if torch else (None,) * 3
    cases.append(("layer_norm fwd 16384x1024 f32", 2 * z.nbytes, lambda: gpu.layer_norm_forward(z, w, b),
                  torch and (lambda: torch.nn.functional.layer_norm(tz, (1024,), tw, tb))))
    _, mean, rstd = gpu.layer_norm_forward(z, w, b)
    cases.append(("layer_norm bwd 16384x1024 f32", 3 * z.nbytes,
                  lambda: gpu.layer_norm_backward(z, z, mean, rstd, w), None))

    n = 1 << 24
    p, g, m, v = (rng.standard_normal(n, dtype=f32) for _ in range(4))
    v = cupy.abs(v)
    cases.append(("adamw step 16M f32", 7 * p.nbytes,
                  lambda: gpu.adam_step(p, g, m, v, None, 10, 1e-3, 0.9, 0.999, 1e-8, 0.01, True),
                  _torch_adam(torch, n)))
    buf = gpu.sgd_step(p, g, None, 0.0, momentum=0.9)
    cases.append(("sgd momentum step 16M f32", 5 * p.nbytes,
                  lambda: gpu.sgd_step(p, g, buf, 1e-3, momentum=0.9), None))

    d = rng.standard_normal(1 << 26, dtype=f32)
    td = t(d) if torch else None
    cases.append(("dropout fwd 64M f32", 2 * d.nbytes + d.size, lambda: gpu.dropout_forward(d, 0.1),
                  torch and (lambda: torch.nn.functional.dropout(td, 0.1))))

    img = rng.standard_normal((64, 64, 112, 112), dtype=f32)
    timg = t(img) if torch else None
    out = img.nbytes // 4
    cases.append(("maxpool2d fwd 64x64x112x112 k3s2p1", img.nbytes + out * 3,
                  lambda: gpu.maxpool2d_forward(img, (3, 3), (2, 2), (1, 1), (1, 1)),
                  torch and (lambda: torch.nn.functional.max_pool2d(timg, 3, 2, 1, return_indices=True))))

    idx = cupy.asarray(np.random.default_rng(0).integers(0, 30000, (64, 512)))
    gout = rng.standard_normal((64, 512, 768), dtype=f32)
    cases.append(("embedding bwd 32768x768 into 30000 rows", gout.nbytes + 30000 * 768 * 4,
                  lambda: gpu.embedding_backward(idx, gout, 30000), None))
    return cases


def _torch_adam(torch, n):
    if torch is None:
        return None
    param = torch.nn.Parameter(torch.randn(n, device="cuda"))
    param.grad = torch.randn(n, device="cuda")
    opt = torch.optim.AdamW([param], lr=1e-3, fused=True)
    return opt.step


def main() -> int:
    from nbframe.backend import cuda

    try:
        cupy = cuda.cupy_module()
    except RuntimeError as exc:
        print(f"benchmarks/gpu.py needs a CUDA GPU: {exc}")
        return 1
    peak, name = _peak_gbs(cupy)
    torch = _torch_cuda()
    print(f"{name}: peak memory bandwidth {peak:.0f} GB/s; PyTorch on GPU: "
          f"{torch.__version__ if torch else 'not installed with CUDA'}")
    print(f"{'kernel':42s} {'nbframe ms':>10s} {'GB/s':>7s} {'% peak':>7s} {'torch ms':>9s} {'% peak':>7s}")
    for label, nbytes, ours, theirs in _cases(cupy, torch):
        ms = _time_ms(cupy, ours)
        row = f"{label:42s} {ms:10.3f} {nbytes / ms / 1e6:7.0f} {100 * nbytes / ms / 1e6 / peak:6.0f}%"
        if theirs:
            tms = _time_ms(cupy, theirs)
            row += f" {tms:9.3f} {100 * nbytes / tms / 1e6 / peak:6.0f}%"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
