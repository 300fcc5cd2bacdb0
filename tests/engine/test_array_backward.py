"""Plain ``loss.backward()`` passes gradients between nodes as raw arrays (engine.run_backward_arrays).

It must give exactly what the general, Tensor-passing engine gives (``autograd.grad`` always takes that
one), with hooks, ``retain_grad``, several-output ops, ops without ``backward_arrays`` and user Functions
mixed in, and leave every leaf a ``.grad`` of its own.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nbframe as nf
from nbframe.autograd import engine


class _Square(nf.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x


def _mixed(a, b):
    """A graph with array ops, Tensor-only ops (sin, cumsum), a multi-output op and a user Function."""
    h = (a * b + a).relu() * 2 - b.exp() / 3
    first, second = h.split(2, dim=1)
    g = first.sin().cumsum(0) + _Square.apply(second).tanh() + a.log1p().mean(1, keepdim=True)
    return (g.sigmoid() * b[:, :2].sqrt()).sum() + h.mean()


def _leaves(seed=0):
    rng = np.random.default_rng(seed)
    a = nf.tensor(rng.random((3, 4)) + 0.1, requires_grad=True)
    b = nf.tensor(rng.random((3, 4)) + 0.1, requires_grad=True)
    return a, b


def test_plain_backward_matches_the_general_engine():
    a, b = _leaves()
    ga, gb = nf.autograd.grad(_mixed(a, b), (a, b))
    _mixed(a, b).backward()
    np.testing.assert_allclose(a.grad.numpy(), ga.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), gb.numpy(), rtol=1e-12)


def test_plain_backward_is_the_array_path(monkeypatch):
    calls = []
    original = engine.run_backward_arrays
    monkeypatch.setattr(engine, "run_backward_arrays", lambda *a: calls.append(1) or original(*a))
    monkeypatch.setattr(nf.autograd, "run_backward_arrays", engine.run_backward_arrays)
    a, b = _leaves()
    _mixed(a, b).backward()
    assert calls == [1]
    _mixed(a, b).backward(create_graph=True)  # create_graph takes the Tensor path
    assert calls == [1]


def test_hooks_and_retain_grad_see_tensors_on_the_array_path():
    a, b = _leaves()
    seen = []
    a.register_hook(lambda g: seen.append(type(g)) or g * 2)
    h = a * b
    h.retain_grad()
    h.register_hook(lambda g: seen.append(type(g)))
    node_calls = []
    h.grad_fn.register_hook(lambda grad_inputs, grad_outputs: node_calls.append(len(grad_inputs)))
    (h * 3).sum().backward()
    assert seen == [nf.Tensor, nf.Tensor]
    assert node_calls == [2]
    np.testing.assert_allclose(h.grad.numpy(), np.full((3, 4), 3.0))
    np.testing.assert_allclose(a.grad.numpy(), 2 * 3 * b.detach().numpy())


def test_each_leaf_owns_a_writeable_gradient():
    a, b = _leaves()
    (a + b).sum().backward()  # add passes one array to both leaves
    assert a.grad.array is not b.grad.array
    a.grad.add_(1)  # a broadcast view from sum's backward would refuse this
    np.testing.assert_allclose(b.grad.numpy(), np.ones((3, 4)))


def test_gradients_accumulate_across_backward_calls():
    a, b = _leaves()
    for _ in range(3):
        (a * b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 3 * b.detach().numpy())


def test_zero_dim_chain_gives_array_gradients():
    x = nf.tensor(2.0, requires_grad=True)
    (((x * 3).exp() - x) / 4).mean().backward()  # NumPy gives scalars, not arrays, for 0-d arithmetic
    assert isinstance(x.grad.array, np.ndarray)
    np.testing.assert_allclose(x.grad.item(), (3 * np.exp(6.0) - 1) / 4)


def test_a_gradient_to_a_leaf_of_another_dtype_is_cast():
    x = nf.tensor([1.0, 2.0], dtype=nf.float32, requires_grad=True)
    y = nf.tensor([3.0, 4.0], dtype=nf.float64)
    (x * y).sum().backward()  # promote gives float64: the gradient reaching x is float64
    assert x.grad.dtype == nf.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


def test_division_by_zero_in_backward_is_a_value_not_a_warning():
    x = nf.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.log().sum().backward()
    assert np.isinf(x.grad.numpy()[0])


def test_second_backward_without_retain_graph_raises():
    a, b = _leaves()
    loss = (a * b).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_a_non_scalar_root_still_asks_for_a_gradient():
    a, _ = _leaves()
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (a * 2).backward()


def test_a_broadcast_gradient_counts_as_shared_without_a_writeable_flag():
    """CuPy arrays have no ``flags.writeable``: a zero stride (a broadcast view) is what marks them shared."""

    class Flags:
        c_contiguous = True

    class DeviceArrayLike:
        flags = Flags()

        def __init__(self, strides, size):
            self.strides, self.size = strides, size

    assert engine._writeable(DeviceArrayLike((0,), 8)) is False
    assert engine._writeable(DeviceArrayLike((4,), 8)) is True
    assert engine._writeable(DeviceArrayLike((0,), 1)) is True
    assert engine._writeable(np.broadcast_to(np.ones(1), (3,))) is False


def test_the_shared_gradient_of_a_loss_never_becomes_a_leaf_gradient():
    x = nf.tensor(2.0, requires_grad=True)
    (x + 0).backward()  # add passes the loss's shared 0-d ones straight to the leaf
    x.grad.add_(5)  # must not change the ones the next backward starts from
    y = nf.tensor(3.0, requires_grad=True)
    (y * 1).backward()
    assert y.grad.item() == 1.0


class _SplitHalves(nf.autograd.function.Op):
    """Two outputs, with a backward on arrays too: the halves of a 1-d array."""

    label = "split_halves"

    @staticmethod
    def forward(ctx, x):
        n = x.shape[0] // 2
        return x[:n].copy(), x[n:].copy()

    @staticmethod
    def backward(ctx, first, second):
        return nf.cat([first, second])

    @staticmethod
    def backward_arrays(ctx, first, second):
        _SplitHalves.seen.append((first.copy(), second.copy()))
        return np.concatenate([first, second])

    seen: list = []


@pytest.mark.parametrize("use_second", [True, False])
def test_a_node_with_several_outputs_gets_its_gradients_as_arrays(use_second):
    _SplitHalves.seen.clear()
    x = nf.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    first, second = _SplitHalves.apply(x * 1)
    loss = (first * 3).sum() + ((second * second).sum() if use_second else 0)
    loss.backward()
    (received_first, received_second), = _SplitHalves.seen
    np.testing.assert_array_equal(received_first, [3.0, 3.0])
    # an output that no gradient reached gets zeros, as the Tensor backward does
    np.testing.assert_array_equal(received_second, [6.0, 8.0] if use_second else [0.0, 0.0])
    expected = [3.0, 3.0, 6.0, 8.0] if use_second else [3.0, 3.0, 0.0, 0.0]
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_a_node_with_several_outputs_and_a_hook_takes_the_tensor_path():
    _SplitHalves.seen.clear()
    x = nf.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    first, second = _SplitHalves.apply(x * 1)
    first.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 10,))
    ((first + second) * 1).sum().backward()
    assert _SplitHalves.seen == []
    np.testing.assert_array_equal(x.grad.numpy(), [10.0] * 4)
