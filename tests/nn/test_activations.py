"""Activations and softmax against PyTorch: values, input gradients, gradcheck and double backward."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, torch_or_skip

# Values spread over every branch (negative, around the kinks, large); none exactly on a kink.
X = np.array([[-25.0, -3.1, -1.2, -0.4, -0.05], [0.03, 0.7, 1.3, 5.9, 6.2], [25.0, -6.2, 2.4, -0.9, 0.999]])

ACTIVATIONS = {
    "relu": lambda F, x: F.relu(x),
    "relu6": lambda F, x: F.relu6(x),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.2),
    "elu": lambda F, x: F.elu(x, 0.7),
    "gelu": lambda F, x: F.gelu(x),
    "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "silu": lambda F, x: F.silu(x),
    "mish": lambda F, x: F.mish(x),
    "softplus": lambda F, x: F.softplus(x),
    "softplus_beta": lambda F, x: F.softplus(x, beta=2.0, threshold=3.0),
    "hardtanh": lambda F, x: F.hardtanh(x, -2.0, 1.5),
    "tanh": lambda F, x: F.tanh(x),
    "sigmoid": lambda F, x: F.sigmoid(x),
    "logsigmoid": lambda F, x: F.logsigmoid(x),
}


def _functional(m):
    return nf.nn.functional if m is nf else m.nn.functional


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_matches_torch_and_gradcheck(name):
    fn = ACTIVATIONS[name]
    check(lambda m, x: fn(_functional(m), x), X)


@pytest.mark.parametrize("name", ["elu", "gelu", "gelu_tanh", "silu", "mish", "softplus"])
def test_activation_second_derivative_matches_torch(name):
    torch = torch_or_skip()
    fn = ACTIVATIONS[name]
    results = []
    for m in (nf, torch):
        x = m.tensor(X, requires_grad=True)
        (g,) = m.autograd.grad(fn(_functional(m), x).sum(), x, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), x)
        results.append(gg.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [nf.float32, nf.float64])
def test_activation_keeps_dtype(dtype):
    x = nf.tensor(X, dtype=dtype, requires_grad=True)
    y = nf.nn.functional.gelu(x)
    y.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype


def test_inplace_activation_changes_input_and_backprops():
    F = nf.nn.functional
    a = nf.tensor(X, requires_grad=True)
    h = a * 1.0
    out = F.leaky_relu(h, 0.1, inplace=True)
    assert out is h
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.where(X > 0, 1.0, 0.1))


def test_softmax_rows_sum_to_one_even_for_huge_logits():
    x = nf.tensor([[1000.0, 1000.0, -1000.0]])
    p = nf.softmax(x, dim=1)
    np.testing.assert_allclose(p.numpy(), [[0.5, 0.5, 0.0]])
    assert np.isfinite(nf.log_softmax(x, 1).numpy()).all()


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_match_torch(dim):
    x = np.random.default_rng(1).normal(size=(3, 4, 2))
    F = nf.nn.functional
    check(lambda m, t: _functional(m).softmax(t, dim=dim), x)
    check(lambda m, t: _functional(m).log_softmax(t, dim=dim), x)
    assert nf.tensor(x).softmax(dim).shape == (3, 4, 2) and F.softmax is not None


def test_softmax_double_backward_matches_torch():
    torch = torch_or_skip()
    x0 = np.random.default_rng(2).normal(size=(2, 5))
    w = np.random.default_rng(3).normal(size=(2, 5))
    out = []
    for m in (nf, torch):
        x = m.tensor(x0, requires_grad=True)
        for f in (m.softmax, m.log_softmax):
            (g,) = m.autograd.grad((f(x, 1) * m.tensor(w)).sum(), x, create_graph=True)
            (gg,) = m.autograd.grad((g * g).sum(), x)
            out.append(gg.numpy())
    np.testing.assert_allclose(out[0], out[2], rtol=1e-6)
    np.testing.assert_allclose(out[1], out[3], rtol=1e-6)


def test_softmax_bad_dim_names_the_range():
    with pytest.raises(IndexError, match="Dimension out of range"):
        nf.softmax(nf.ones(2, 3), dim=2)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        nf.nn.functional.gelu(nf.ones(2), approximate="fast")
