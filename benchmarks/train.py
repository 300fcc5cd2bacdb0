"""Training-step speed and peak memory of nbframe side by side with PyTorch, in one run.

Three workloads, each one full step (zero_grad, forward, cross-entropy, backward, SGD with
momentum) on a fixed set of random batches:
- MLP 784-512-256-10, batch 128 (issue 3);
- LeNet-5 (conv 6@5x5 pad 2, max pool, conv 16@5x5, max pool, 120, 84, 10) on 1x28x28, batch 64 (issue 3);
- LSTM(32, 64), one layer, batch_first, on 20 steps, batch 16, its last step classified by Linear(64, 10)
  (the recurrent layers' time loop at a small size, where per-op overhead dominates).

Speed: the median of several timed rounds, frameworks interleaved so that background load hits
both alike. Memory: each framework and workload runs in a fresh subprocess, which reports its peak
resident-set growth (peak RSS, VmHWM, minus the RSS before the model was built) for both frameworks;
nbframe's NumPy allocations are also traced with ``tracemalloc`` (peak bytes during the steps).

Run with ``python benchmarks/train.py``; ``--steps`` and ``--rounds`` change the effort, ``--workloads``
picks some of them. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

WORKLOADS = {"mlp": (128, (784,)), "lenet": (64, (1, 28, 28)), "lstm": (16, (20, 32))}
NAMES = {"mlp": "MLP 784-512-256-10, b128", "lenet": "LeNet-5 1x28x28, b64", "lstm": "LSTM 32-64, T20, b16"}


def build(m, workload: str):
    """The same model in nbframe or torch (``m`` is the framework module)."""
    nn = m.nn
    if workload == "lstm":
        return _lstm_classifier(m)
    if workload == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                             nn.Linear(256, 10))
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def _lstm_classifier(m):
    """LSTM(32, 64) over (batch, 20, 32), then Linear(64, 10) on the last step's output."""
    nn = m.nn

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(32, 64, batch_first=True)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1])

    return LSTMClassifier()


def batches(m, workload: str, count: int = 8, batch: int | None = None):
    batch, shape = batch or WORKLOADS[workload][0], WORKLOADS[workload][1]
    rng = np.random.default_rng(0)
    return [(m.tensor(rng.standard_normal((batch, *shape)).astype(np.float32)),
             m.tensor(rng.integers(0, 10, batch))) for _ in range(count)]


def trainer(m, workload: str, batch: int | None = None):
    """A function that runs one training step on the next batch."""
    m.manual_seed(0)
    model = build(m, workload)
    optimizer = m.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = m.nn.functional.cross_entropy
    data = batches(m, workload, batch=batch)
    state = {"i": 0}

    def step():
        x, y = data[state["i"] % len(data)]
        state["i"] += 1
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def time_steps(step, steps: int) -> float:
    """Milliseconds per step over ``steps`` steps."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1e3


def _status_kib(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in KiB.

    VmHWM belongs to the process's own address space, unlike ``ru_maxrss``, which Linux carries over
    from the parent through fork and exec (it would report the parent's peak).
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(framework: str, workload: str, steps: int) -> dict:
    """Run in a fresh process: peak RSS growth, and (nbframe) tracemalloc's peak, in MiB."""
    import gc

    m = importlib.import_module(framework)
    warm_up = trainer(m, workload, batch=1)  # loads every lazily imported module with tiny arrays
    warm_up(), warm_up()
    del warm_up
    gc.collect()
    before = _status_kib("VmRSS")
    step = trainer(m, workload)
    result = {}
    if framework == "nbframe":
        import tracemalloc

        tracemalloc.start()
        for _ in range(steps):
            step()
        result["traced_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    else:
        for _ in range(steps):
            step()
    result["rss_mib"] = (_status_kib("VmHWM") - before) / 1024
    return result


def measure_memory(framework: str, workload: str, steps: int) -> dict:
    command = [sys.executable, __file__, "--memory-child", framework, workload, "--steps", str(steps)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per framework and workload")
    parser.add_argument("--memory-child", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS),
                        help="which workloads to run (default: all)")
    args = parser.parse_args()
    if args.memory_child:
        print(json.dumps(memory_child(*args.memory_child, min(args.steps, 20))))
        return

    import torch

    import nbframe as nf

    frameworks = {"nbframe": nf, "torch": torch}
    print(f"nbframe {nf.__version__}  torch {torch.__version__} ({torch.get_num_threads()} threads)  "
          f"numpy {np.__version__}  cores {os.cpu_count()}")
    rows = []
    for workload in args.workloads:
        steps = {name: trainer(m, workload) for name, m in frameworks.items()}
        for step in steps.values():  # warm up: first-call costs, allocator, BLAS threads
            time_steps(step, 10)
        times = {name: [] for name in frameworks}
        for _ in range(args.rounds):
            for name, step in steps.items():
                times[name].append(time_steps(step, args.steps))
        ms = {name: statistics.median(t) for name, t in times.items()}
        memory = {name: measure_memory(name, workload, args.steps) for name in frameworks}
        rows.append((workload, ms, memory))

    print()
    print(f"{'workload':<28}{'nbframe ms/step':>16}{'torch ms/step':>15}{'ratio':>8}"
          f"{'nbframe MiB':>13}{'torch MiB':>11}{'ratio':>8}{'nbframe traced':>16}")
    for workload, ms, memory in rows:
        nf_mem, th_mem = memory["nbframe"]["rss_mib"], memory["torch"]["rss_mib"]
        print(f"{NAMES[workload]:<28}{ms['nbframe']:>16.2f}{ms['torch']:>15.2f}"
              f"{ms['nbframe'] / ms['torch']:>7.2f}x{nf_mem:>13.1f}{th_mem:>11.1f}"
              f"{nf_mem / max(th_mem, 1e-9):>7.2f}x"
              f"{memory['nbframe']['traced_mib']:>15.1f}M")
    print()
    print("ms/step: median over rounds of a full SGD step (zero_grad, forward, cross-entropy, backward,")
    print("step). MiB: peak resident-set growth (VmHWM minus RSS before building the model, after a")
    print("batch-1 warm-up that loads lazy imports) in a fresh process, the same measure for both")
    print("frameworks; 'nbframe traced' is tracemalloc's peak of the NumPy allocations during the steps.")
    print("Targets (issue 3): MLP <= 1.0x, LeNet <= 1.5x torch's time; peak memory <= 1.3x torch's.")


if __name__ == "__main__":
    main()
