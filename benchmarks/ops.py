"""Per-op cost of nbframe side by side with PyTorch (and mygrad, Chainer, tinygrad if installed).

Two measurements, each the best of several repeats of a timed loop:
- dispatch: microseconds per op for the tiny graph of issue 2,
  ``y = ((a*b + a).relu() * 2).sum(); y.backward()`` on 8-element float32 tensors (5 ops);
- bandwidth: milliseconds for large element-wise work (1M floats), forward + backward.

Run with ``python benchmarks/ops.py`` (``make bench``). Nothing here is asserted.
"""

from __future__ import annotations

import importlib
import time

import numpy as np

TINY_OPS = 5


def _best(fn, repeats: int = 5, number: int = 2000) -> float:
    for _ in range(max(1, number // 10)):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def _torch_like(module_name: str):
    """(make a leaf, relu) for the frameworks with PyTorch-style APIs, or None if not installed."""
    try:
        m = importlib.import_module(module_name)
    except Exception:
        return None
    if module_name in ("nbframe", "torch"):
        return m, (lambda a: m.tensor(a, requires_grad=True)), (lambda x: x.relu()), (lambda y: y.backward())
    if module_name == "floor_autograd":  # benchmarks/floor_autograd.py: the least any Python autograd pays
        return m, m.leaf, (lambda x: x.relu()), (lambda y: y.backward())
    if module_name == "mygrad":
        return m, (lambda a: m.tensor(a)), (lambda x: m.maximum(x, 0)), (lambda y: y.backward())
    if module_name == "chainer":
        import chainer.functions as F

        return m, (lambda a: m.Variable(a)), F.relu, (lambda y: y.backward())
    if module_name == "tinygrad":  # lazy: backward only describes the gradients until they are realized
        return m, (lambda a: m.Tensor(a).requires_grad_()), (lambda x: x.relu()), _tinygrad_backward
    return None


def _tinygrad_backward(y):
    y.backward()
    for leaf in y.tinygrad_leaves:
        leaf.grad.realize()


def tiny_graph(module_name: str):
    found = _torch_like(module_name)
    if found is None:
        return None
    m, leaf, relu, backward = found
    rng = np.random.default_rng(0)
    a = leaf(rng.random(8, dtype=np.float32))
    b = leaf(rng.random(8, dtype=np.float32))

    def step():
        y = relu(a * b + a) * 2
        y = y.sum() if module_name != "chainer" else __import__("chainer.functions").functions.sum(y)
        if module_name == "tinygrad":
            y.tinygrad_leaves = (a, b)
        backward(y)

    return _best(step) / TINY_OPS * 1e6


def large_elementwise(module_name: str, n: int = 1_000_000):
    found = _torch_like(module_name)
    if found is None or module_name not in ("nbframe", "torch"):
        return None
    m, leaf, relu, backward = found
    rng = np.random.default_rng(0)
    a = leaf(rng.random(n, dtype=np.float32))
    b = leaf(rng.random(n, dtype=np.float32))

    def step():
        y = ((a * b + a).exp() * 0.5).sum()
        y.backward()

    return _best(step, repeats=3, number=20) * 1e3


def main() -> None:
    frameworks = ["nbframe", "torch", "floor_autograd", "mygrad", "chainer", "tinygrad"]
    print(f"{'framework':<14} {'tiny graph µs/op (fwd+bwd)':>28} {'1M-element fwd+bwd ms':>24}")
    results = {}
    for name in frameworks:
        try:
            tiny = tiny_graph(name)
            big = large_elementwise(name) if tiny is not None else None
        except Exception as error:  # installed but unusable here (tinygrad without a compiler)
            print(f"{name:<14} skipped: {type(error).__name__}: {error}")
            continue
        if tiny is None:
            continue
        results[name] = tiny
        big_text = f"{big:24.2f}" if big is not None else f"{'-':>24}"
        print(f"{name:<14} {tiny:28.2f} {big_text}")
    if "torch" in results:
        print(
            f"\nnbframe / PyTorch, tiny graph: {results['nbframe'] / results['torch']:.2f}x (target <= 0.7x)"
        )
    if "floor_autograd" in results:
        print(
            f"nbframe / floor, tiny graph: {results['nbframe'] / results['floor_autograd']:.2f}x "
            "(floor_autograd: slots, closures and a topological sort; none of a complete engine's checks)"
        )


if __name__ == "__main__":
    main()
