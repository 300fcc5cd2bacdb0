# %% [markdown]
# # 08 · The GPU
#
# A graphics card (GPU) has thousands of simple cores that run the same instruction on many
# numbers at once. Deep learning is mostly that — multiply big matrices, apply the same function
# to every element — so a GPU can run it tens of times faster than a CPU. nbframe runs on NVIDIA
# GPUs through **CuPy** (NumPy's API on the GPU), plus a few kernels of its own.
#
# In this notebook: finding the GPU, moving models and data to it, what nbframe's own kernels do
# and why they exist, and timing the CPU against the GPU.
#
# **No GPU?** Everything here still runs: each GPU step says it is skipped and the CPU side is
# measured. If the outputs you are reading show CPU numbers only, this copy was last run on a
# machine without a GPU; run it on one (or on Colab) to fill in the GPU column.

# %%
import time

import numpy as np

import nbframe as nf
from nbframe import nn
from nbframe.nn import functional as F

%load_ext nbframe

# %%
has_gpu = nf.cuda.is_available()
device = "cuda" if has_gpu else "cpu"
if has_gpu:
    print(f"GPU found: {nf.cuda.get_device_name()} ({nf.cuda.device_count()} device(s))")
else:
    print("No CUDA GPU here: the GPU steps below are skipped and only the CPU is timed.")
print("this notebook uses:", device)

# %% [markdown]
# `pip install "nbframe[cuda]"` adds CuPy; `%nbframe info` shows what was found.
#
# ## Moving models and data
#
# Tensors live on one device, and an operation needs all its inputs on the same one. The rule is
# simple: move the model once, and each batch as it arrives. `model.to(device)` moves every
# parameter and buffer in place; `tensor.to(device)` returns a copy on the device.

# %%
nf.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(128, 10),
).to(device)
images = nf.stack([image for image, _ in nf.datasets.Digits(train=False)][:8]).to(device)
scores = model(images)
print("parameters on:", next(model.parameters()).device, "  scores on:", scores.device)

# %% [markdown]
# Results stay on the device until you bring them back: `.item()`, `.tolist()`, `.cpu()` and
# `.numpy()` (which needs a CPU tensor: `tensor.cpu().numpy()`) copy to the host. Each copy
# crosses the PCI bus and makes the CPU wait for the GPU, so inside a training loop keep
# everything on the device and call `.item()` only on what you print.
#
# Mixing devices is the classic first error; nbframe names both devices:

# %%
if has_gpu:
    try:
        model(nf.zeros(1, 1, 8, 8))           # a CPU tensor into a GPU model
    except RuntimeError as error:
        print("RuntimeError:", str(error).splitlines()[0])
else:
    print("skipped (no GPU): a CPU tensor given to a GPU model raises an error naming both devices")

# %% [markdown]
# `nf.fit(..., device=device)` moves the model and every batch for you.
#
# ## What runs on the GPU
#
# Most operations are one CuPy call each (CuPy's element-wise kernels, and **cuBLAS** for
# matrix products — the vendor library, never a hand-written matrix multiply). Where a common
# operation would take several CuPy calls, each reading and writing all of memory, nbframe has
# its own CUDA kernel doing it in one pass. They are plain `.cu` files, compiled on first use:

# %%
import nbframe.kernels  # noqa: E402

print(nbframe.kernels.kernel_files())

# %% [markdown]
# - **softmax / cross-entropy**: the row's maximum, the sum of exponentials and the result in
#   one kernel per row, instead of four full passes over the scores (and the numerically safe
#   form of tutorial 06, subtracting the maximum);
# - **layer norm**: mean, variance and normalisation of each row together;
# - **optimisers**: an Adam step updates the parameter and both running averages in a single
#   pass, instead of about ten element-wise operations each allocating a temporary;
# - **im2col** and **max-pool**: rearranging image patches for convolution-as-matrix-product;
# - **dropout**: random masks from a counter-based generator (Philox), so `nf.manual_seed`
#   makes GPU runs repeatable;
# - **elementwise_fusion**: the template behind tutorial 07's fusion pass: a chain of element-wise
#   operations compiled into one kernel.
#
# Here is the heart of the softmax kernel. Each row is handled by a group of threads: they find
# the maximum together (`row_reduce`), then the sum of exponentials, then write the results.

# %%
source = nbframe.kernels.kernel_source("softmax")
start = source.index("template <typename T, bool LOG>")
print(source[start:source.index("// softmax:", start)])

# %% [markdown]
# Every kernel has a NumPy twin in `nbframe.backend.cpu` that computes the same thing; the test
# suite compares the two on GPUs, and the CPU uses the twin. For instance:

# %%
from nbframe.backend import cpu  # noqa: E402

x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
print("NumPy twin == F.softmax:", np.allclose(cpu.softmax_forward(x), F.softmax(nf.tensor(x), dim=1).numpy()))

# %% [markdown]
# ## Timing the CPU against the GPU
#
# GPU work is **asynchronous**: a call returns as soon as the kernel is queued. To time it, wait
# for the GPU to finish (`nf.cuda.synchronize()`) before reading the clock, and run once first to
# exclude the one-time compilation and memory allocation.

# %%
def seconds_per_call(fn, on_gpu, repeats=5):
    fn()                                      # warm-up: compile kernels, allocate memory
    if on_gpu:
        nf.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if on_gpu:
        nf.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


print(f"{'matrix size':>12} {'CPU ms':>10} {'GPU ms':>10}")
for n in (64, 256, 1024):
    a_cpu, b_cpu = nf.randn(n, n), nf.randn(n, n)
    cpu_ms = seconds_per_call(lambda: a_cpu @ b_cpu, on_gpu=False) * 1e3
    if has_gpu:
        a_gpu, b_gpu = a_cpu.to("cuda"), b_cpu.to("cuda")
        gpu_ms = f"{seconds_per_call(lambda: a_gpu @ b_gpu, on_gpu=True) * 1e3:10.3f}"
    else:
        gpu_ms = f"{'—':>10}"
    print(f"{n:>12} {cpu_ms:10.3f} {gpu_ms}")

# %% [markdown]
# Small work is not faster on a GPU: launching a kernel costs a few microseconds whatever it
# does, and a 64×64 product is over before the GPU gets going. The GPU wins as the work grows —
# big matrices, big batches, big images.
#
# The same for a training step of the network above, at two batch sizes:

# %%
def training_step_time(batch_size, on):
    nf.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 10),
    ).to(on)
    optimizer = nf.optim.Adam(net.parameters(), lr=0.01)
    x, y = nf.randn(batch_size, 1, 8, 8, device=on), nf.randint(0, 10, (batch_size,), device=on)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(net(x), y).backward()
        optimizer.step()

    return seconds_per_call(step, on_gpu=on == "cuda", repeats=3)


print(f"{'batch':>6} {'CPU images/s':>14} {'GPU images/s':>14}")
for batch_size in (32, 512):
    cpu_rate = batch_size / training_step_time(batch_size, "cpu")
    gpu_rate = f"{batch_size / training_step_time(batch_size, 'cuda'):14,.0f}" if has_gpu else f"{'—':>14}"
    print(f"{batch_size:>6} {cpu_rate:14,.0f} {gpu_rate}")

# %% [markdown]
# On the GPU, memory is the scarce resource. `nf.cuda.memory_allocated()` and
# `nf.cuda.max_memory_allocated()` tell you how much your tensors use; a batch too large for the
# card fails with an out-of-memory error, and the cure is a smaller batch.

# %%
if has_gpu:
    print(f"GPU memory in use: {nf.cuda.memory_allocated() / 2**20:.1f} MiB, "
          f"peak {nf.cuda.max_memory_allocated() / 2**20:.1f} MiB")
else:
    print("skipped (no GPU)")

# %% [markdown]
# ## Exercise
#
# Throughput (images per second) usually grows with the batch size until the hardware is busy.
# Measure it on this machine's device for batch sizes 16, 64, 256 and 1024 with
# `training_step_time`, and find where it stops growing much.

# %% [solution]
for batch_size in (16, 64, 256, 1024):
    rate = batch_size / training_step_time(batch_size, device)
    print(f"batch {batch_size:5}: {rate:10,.0f} images/s on {device}")
