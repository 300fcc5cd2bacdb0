"""Div's gradients: true division on arrays and Tensors alike, and the zero gradient of a rounded quotient."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("mode", ["floor", "trunc"])
@pytest.mark.parametrize("divisor", ["number", "tensor", "tensor without grad"])
def test_a_rounded_quotient_has_a_zero_gradient_as_in_pytorch(mode, divisor):
    values = np.array([1.5, -2.5, 7.0])
    grads = []
    for m in (nf, torch):
        x = m.tensor(values, requires_grad=True)
        d = 2.0 if divisor == "number" else m.tensor([2.0, 3.0, -4.0], requires_grad=divisor == "tensor")
        (x.div(d, rounding_mode=mode) * x).sum().backward()
        grads.append((x.grad.numpy(), None if divisor != "tensor" else d.grad.numpy()))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    if divisor == "tensor":
        np.testing.assert_array_equal(grads[0][1], grads[1][1])


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((3, 4), ())])
def test_plain_backward_gives_the_tensor_engines_gradients(shapes):
    rng = np.random.default_rng(0)
    x = nf.tensor(rng.standard_normal(shapes[0]), requires_grad=True)
    y = nf.tensor(rng.standard_normal(shapes[1]) + 3, requires_grad=True)
    reference = nf.autograd.grad(((x / y) ** 2).sum(), (x, y))  # the Tensor engine
    ((x / y) ** 2).sum().backward()  # the array engine
    np.testing.assert_array_equal(x.grad.numpy(), reference[0].numpy())
    np.testing.assert_array_equal(y.grad.numpy(), reference[1].numpy())
    inputs = (x.detach().requires_grad_(), y.detach().requires_grad_())
    assert nf.autograd.gradcheck(lambda a, b: a / b, inputs)


def test_division_by_zero_in_backward_is_a_value_without_a_warning():
    x = nf.tensor([1.0], requires_grad=True)
    y = nf.tensor([0.0], requires_grad=True)
    loss = (x / y).sum()  # inf
    with np.errstate(all="raise"):  # backward must divide with NumPy's warnings off
        loss.backward()
    assert np.isposinf(x.grad.numpy()).all() and np.isneginf(y.grad.numpy()).all()
