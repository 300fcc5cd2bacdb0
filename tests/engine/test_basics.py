"""The first behaviours of the engine: a tiny graph's values and gradients, against PyTorch."""

import numpy as np

import nbframe as nf
from tests.oracle import check


def test_issue_benchmark_graph_matches_torch(rng):
    a, b = rng.standard_normal(8), rng.standard_normal(8)
    check(lambda m, a, b: ((a * b + a).relu() * 2).sum(), a, b)


def test_matmul_chain_matches_torch(rng):
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    check(lambda m, x, w: (x @ w).exp().mean(), x, w)


def test_gradient_accumulates_in_leaves():
    x = nf.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
