"""In-place activations (``relu_``, ``ReLU(inplace=True)``, ``F.elu(..., inplace=True)``, dropout):
PyTorch's values and gradients, and no second array where the op's backward reads only its result."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, torch_or_skip

rng = np.random.default_rng(3)
X = rng.standard_normal((3, 4))
W = rng.standard_normal((3, 4))

INPLACE = {
    "relu": lambda F, y: F.relu(y, inplace=True),
    "relu_method": lambda F, y: y.relu_(),
    "relu6": lambda F, y: F.relu6(y, inplace=True),
    "leaky_relu": lambda F, y: F.leaky_relu(y, 0.2, inplace=True),
    "elu": lambda F, y: F.elu(y, 0.7, inplace=True),
    "hardtanh": lambda F, y: F.hardtanh(y, -0.5, 0.5, inplace=True),
    "silu": lambda F, y: F.silu(y, inplace=True),
    "mish": lambda F, y: F.mish(y, inplace=True),
    "sigmoid_method": lambda F, y: y.sigmoid_(),
}


def _functional(m):
    return m.nn.functional


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_in_place_activation_on_a_non_leaf_followed_by_other_ops_matches_torch(name):
    def fn(m, x, w):
        y = x * 2 - 0.3
        out = INPLACE[name](_functional(m), y)
        assert out is y
        return (y * w).exp() + y

    check(fn, X, W)


def test_relu_in_place_keeps_the_tensor_itself_for_backward_not_a_second_array():
    x = nf.tensor(X, requires_grad=True)
    y = x * 1
    y.relu_()
    (saved,) = y.grad_fn.saved_arrays
    assert saved is y.array


def test_change_after_relu_in_place_raises_the_version_error_as_in_torch():
    torch = torch_or_skip()
    for m in (nf, torch):
        y = m.tensor(X, requires_grad=True) * 1
        y.relu_()
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_silu_in_place_keeps_the_old_values_its_backward_reads():
    x = nf.tensor(X, requires_grad=True)
    y = x * 1
    before = y.detach().numpy().copy()
    nf.nn.functional.silu(y, inplace=True)
    (saved,) = y.grad_fn.saved_arrays
    assert saved is not y.array
    np.testing.assert_array_equal(saved, before)


def test_dropout_in_place_matches_dropout_out_of_place_with_the_same_seed():
    F = nf.nn.functional
    grads = []
    for inplace in (False, True):
        nf.manual_seed(0)
        x = nf.tensor(X, requires_grad=True)
        y = x * 1
        out = F.dropout(y, 0.5, training=True, inplace=inplace)
        assert (out is y) == inplace
        (out * nf.tensor(W)).sum().backward()
        grads.append((out.detach().numpy().copy(), x.grad.numpy()))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def _sequential(m, weights):
    model = m.nn.Sequential(
        m.nn.Linear(4, 5), m.nn.ReLU(inplace=True),
        m.nn.Linear(5, 3), m.nn.ReLU(inplace=True),
        m.nn.Linear(3, 2),
    ).double()
    with m.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(m.tensor(w))
    return model


def test_sequential_with_relu_in_place_gives_torch_values_and_parameter_gradients():
    torch = torch_or_skip()
    shapes = [(5, 4), (5,), (3, 5), (3,), (2, 3), (2,)]
    weights = [rng.standard_normal(s) for s in shapes]
    results = []
    for m in (nf, torch):
        model = _sequential(m, weights)
        x = m.tensor(X, requires_grad=True)
        out = model(x)
        (out * m.tensor(np.cos(np.arange(6.0)).reshape(3, 2))).sum().backward()
        results.append([out.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_sequential_with_relu_in_place_passes_gradcheck():
    shapes = [(5, 4), (5,), (3, 5), (3,), (2, 3), (2,)]
    model = _sequential(nf, [rng.standard_normal(s) for s in shapes])
    x = nf.tensor(X, requires_grad=True)
    assert nf.autograd.gradcheck(model, [x])
