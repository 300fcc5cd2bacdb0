"""Eager vs traced vs ``compile_step`` training steps, side by side with PyTorch eager, in one run.

Workloads: the MLP 784-512-256-10 and LeNet-5 (from ``benchmarks/train.py``), each at batch 32
(dispatch-bound) and 512 (compute-bound); one step is zero_grad, forward, cross-entropy, backward
and SGD with momentum. "traced" runs the forward through ``nf.jit.trace`` (backward by the usual
engine); "compile_step" runs ``nf.jit.compile_step``. For the MLP, "numpy" is the same step written
by hand in plain NumPy with no framework at all (same math: one GEMM per product, log-softmax, SGD
with momentum): the floor that no nbframe step, compiled or not, can go below. The figure is the
median of several rounds of milliseconds per step, the variants interleaved so that background load
hits all alike.

Run with ``python benchmarks/jit.py``; ``--steps``/``--rounds`` change the effort. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
import types

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402  (the shared model and batch builders)


def nbframe_steps(workload: str, batch: int) -> dict:
    import nbframe as nf

    steps = {}
    for variant in ("eager", "traced", "compile_step"):
        nf.manual_seed(0)
        model = train.build(nf, workload)
        optimizer = nf.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = nf.nn.functional.cross_entropy
        data = train.batches(nf, workload, batch=batch)
        forward = nf.jit.trace(model, data[0][0]) if variant == "traced" else model
        compiled = nf.jit.compile_step(model, loss_fn, optimizer) if variant == "compile_step" else None
        steps[f"nbframe {variant}"] = _stepper(data, forward, loss_fn, optimizer, compiled)
    return steps


def torch_steps(workload: str, batch: int) -> dict:
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        return {}
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    torch.manual_seed(0)
    model = train.build(torch, workload)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    data = train.batches(torch, workload, batch=batch)
    return {"torch eager": _stepper(data, model, torch.nn.functional.cross_entropy, optimizer, None)}


def numpy_steps(workload: str, batch: int) -> dict:
    """The MLP's training step by hand in NumPy (the floor under every framework step); {} for LeNet."""
    if workload != "mlp":
        return {}
    rng = np.random.default_rng(0)
    sizes = [(512, 784), (256, 512), (10, 256)]
    weights = [(rng.uniform(-1, 1, s) / np.sqrt(s[1])).astype(np.float32) for s in sizes]
    biases = [np.zeros(s[0], np.float32) for s in sizes]
    params = weights + biases
    buffers = [np.zeros_like(p) for p in params]
    data = train.batches(types.SimpleNamespace(tensor=np.asarray), "mlp", batch=batch)  # the same arrays
    state = {"i": 0}

    def step():
        x, y = data[state["i"] % len(data)]
        state["i"] += 1
        activations = [x]
        for i, (w, b) in enumerate(zip(weights, biases)):
            z = x @ w.T
            z += b
            x = np.maximum(z, 0) if i < 2 else z
            activations.append(x)
        shifted = x - x.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(len(y))
        loss = -logp[rows, y].mean()
        g = np.exp(logp)
        g[rows, y] -= 1
        g /= len(y)
        grads = [None] * 6
        for i in (2, 1, 0):
            grads[i], grads[3 + i] = g.T @ activations[i], g.sum(axis=0)
            if i:
                g = (g @ weights[i]) * (activations[i] > 0)
        for p, g, buf in zip(params, grads, buffers):
            buf *= 0.9
            buf += g
            p += buf * -0.01
        return loss

    return {"numpy": step}


def _stepper(data, forward, loss_fn, optimizer, compiled):
    state = {"i": 0}

    def step():
        x, y = data[state["i"] % len(data)]
        state["i"] += 1
        if compiled is not None:
            return compiled(x, y)
        optimizer.zero_grad()
        loss = loss_fn(forward(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def measure(steps: dict, count: int, rounds: int) -> dict:
    for step in steps.values():
        for _ in range(3):
            step()
    times: dict = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(count):
                step()
            times[name].append((time.perf_counter() - start) / count * 1e3)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="steps per round (batch 32: 5x this)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    columns = ("nbframe eager", "nbframe traced", "nbframe compile_step", "torch eager", "numpy")
    print(f"{'workload':<10}{'batch':>6}  " + "  ".join(f"{n:>21}" for n in columns) + "   step/eager")
    for workload in ("mlp", "lenet"):
        for batch in (32, 512):
            steps = {**nbframe_steps(workload, batch), **torch_steps(workload, batch),
                     **numpy_steps(workload, batch)}
            count = args.steps * (5 if batch == 32 else 1)
            result = measure(steps, count, args.rounds)
            cells = [f"{result[n]:>18.3f} ms" if n in result else f"{'-':>21}" for n in columns]
            speedup = result["nbframe eager"] / result["nbframe compile_step"]
            print(f"{workload:<10}{batch:>6}  " + "  ".join(cells) + f"   {speedup:9.2f}x")


if __name__ == "__main__":
    main()
