"""``pow``'s gradient at a zero base or a zero exponent: PyTorch's values (0, ±inf, not NaN), no warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nbframe as nf

torch = pytest.importorskip("torch")

BASES = [0.0, 0.0, 2.0, 0.0, 3.0, 0.0, 1.5, 0.0]
EXPONENTS = [0.0, 1.0, 0.0, 2.0, -1.0, 0.5, 0.0, -0.5]


def _grads(m, fn, *values):
    leaves = [m.tensor(v, dtype=m.float64, requires_grad=True) for v in values]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn(*leaves).sum().backward()
    return [leaf.grad.numpy() if m is nf else leaf.grad.detach().numpy() for leaf in leaves]


@pytest.mark.parametrize(
    "fn",
    [lambda x, y: x**y, lambda x, y: x**x * y, lambda x, y: 0.0**y + x, lambda x, y: 2.0**y * x],
    ids=["x**y", "x**x", "0**y", "2**y"],
)
def test_pow_gradient_at_zero_matches_torch(fn):
    ours = _grads(nf, fn, BASES, EXPONENTS)
    theirs = _grads(torch, fn, BASES, EXPONENTS)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_pow_second_derivative_at_zero_matches_torch():
    results = []
    for m in (nf, torch):
        x = m.tensor([0.0, 2.0], dtype=m.float64, requires_grad=True)
        y = m.tensor([0.0, 3.0], dtype=m.float64, requires_grad=True)
        (gx,) = m.autograd.grad((x**y).sum(), x, create_graph=True)
        with np.errstate(all="ignore"):
            gx.sum().backward()
        results.append((gx.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)  # [0, 12] and [nan, 12] in both
