"""Autograd behaviours, each checked the way PyTorch behaves."""

import gc
import threading
import weakref

import numpy as np
import pytest

import nbframe as nf
from nbframe.autograd import Function, observers


def test_backward_with_explicit_gradient_weights_each_output():
    x = nf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(nf.tensor([1.0, 0.5, 0.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 0.0])


def test_backward_on_non_scalar_without_gradient_says_what_to_pass():
    x = nf.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\[2, 3\].*gradient="):
        (x * 2).backward()


def test_backward_through_tensor_without_grad_names_the_problem():
    with pytest.raises(RuntimeError, match="does not require grad"):
        nf.ones(3).sum().backward()


def test_second_backward_through_freed_graph_raises_pytorchs_error():
    x = nf.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = nf.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_create_graph_gives_second_derivatives():
    x = nf.tensor([2.0], requires_grad=True)
    y = x**3
    (g,) = nf.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [12.0])
    (h,) = nf.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [12.0])


def test_hessian_vector_product_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.array([0.3, -1.2, 0.7])
    v = np.array([1.0, 2.0, -1.0])
    results = []
    for m in (nf, torch):
        x = m.tensor(values, requires_grad=True)
        f = (x.exp() * x).sum() + (x * x * x).sum()
        (g,) = m.autograd.grad(f, x, create_graph=True)
        (hv,) = m.autograd.grad((g * m.tensor(v)).sum(), x)
        results.append(hv.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10)


def test_grad_with_unused_input_needs_allow_unused():
    x = nf.tensor([1.0], requires_grad=True)
    z = nf.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        nf.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = nf.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None and gx.item() == 2.0


def test_autograd_grad_does_not_touch_leaf_grads():
    x = nf.tensor([1.0, 2.0], requires_grad=True)
    nf.autograd.grad((x * x).sum(), x)
    assert x.grad is None


def test_grad_of_an_intermediate_tensor():
    x = nf.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = nf.autograd.grad(y, h)
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])


def test_retain_grad_keeps_gradient_of_non_leaf():
    x = nf.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    assert h.retains_grad


def test_hooks_on_leaf_and_non_leaf_can_replace_the_gradient():
    x = nf.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    handle = x.register_hook(lambda g: g + 1)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [11.0, 11.0])
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_detach_shares_memory_but_not_the_graph():
    x = nf.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None


def test_requires_grad_on_integer_tensor_is_refused():
    with pytest.raises(RuntimeError, match="floating point"):
        nf.tensor([1, 2]).requires_grad_()


def test_no_grad_enable_grad_and_set_grad_enabled():
    x = nf.ones(2, requires_grad=True)
    with nf.no_grad():
        assert not (x * 2).requires_grad
        with nf.enable_grad():
            assert (x * 2).requires_grad
    with nf.set_grad_enabled(False):
        assert not nf.is_grad_enabled()
    assert nf.is_grad_enabled()

    @nf.no_grad()
    def f():
        return x * 2

    assert not f().requires_grad
    nf.set_grad_enabled(False)
    assert not nf.is_grad_enabled()
    nf.set_grad_enabled(True)


def test_grad_mode_is_thread_local():
    seen = []
    with nf.no_grad():
        thread = threading.Thread(target=lambda: seen.append(nf.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


def test_inplace_change_of_saved_tensor_raises_version_error():
    x = nf.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = h.exp()
    y.mul_(2)  # exp saved its output y; changing it in place invalidates the backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*version 1; expected version 0"):
        y.sum().backward()


def test_inplace_on_leaf_requiring_grad_is_refused():
    x = nf.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with nf.no_grad():
        x.add_(1)
    assert x.item() == 2.0


def test_inplace_op_in_graph_gives_correct_gradient():
    torch = pytest.importorskip("torch")
    grads = []
    for m in (nf, torch):
        x = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        h = x * 2
        h.add_(1)
        h.mul_(3)
        (h * h).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])


def test_setitem_gradient_flows_to_target_and_value():
    torch = pytest.importorskip("torch")
    grads = []
    for m in (nf, torch):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        v = m.tensor(5.0, requires_grad=True)
        h = x * 1
        h[1] = v * 2
        (h * m.tensor([1.0, 2.0, 3.0])).sum().backward()
        grads.append((x.grad.numpy(), v.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0])
    np.testing.assert_allclose(grads[0][1], grads[1][1])


class _Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x**3 * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2 * ctx.scale, None


def test_custom_function_forward_backward_and_double_backward():
    x = nf.tensor([1.0, 2.0], dtype=nf.float64, requires_grad=True)
    y = _Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "_CubeBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 24.0])
    assert nf.autograd.gradcheck(lambda t: _Cube.apply(t, 2.0), (x,))
    assert nf.autograd.gradgradcheck(lambda t: _Cube.apply(t, 2.0), (x,))


class _SortWithIndices(Function):
    @staticmethod
    def forward(ctx, x):
        order = nf.tensor(np.argsort(x.detach().numpy()))
        ctx.mark_non_differentiable(order)
        ctx.save_for_backward(order)
        return x[order], order

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (order,) = ctx.saved_tensors
        g = nf.zeros_like(grad_values)
        g[order] = grad_values
        return g


def test_custom_function_non_differentiable_output_and_needs_input_grad():
    x = nf.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, order = _SortWithIndices.apply(x)
    assert not order.requires_grad and values.requires_grad
    (values * nf.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 1.0, 2.0])


def test_gradcheck_catches_a_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return grad  # should be 2x * grad

    x = nf.tensor([1.5, 2.0], dtype=nf.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        nf.autograd.gradcheck(Wrong.apply, (x,))
    assert not nf.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


def test_detect_anomaly_names_the_op_and_the_users_line():
    x = nf.tensor([-1.0, 1.0], requires_grad=True)
    with nf.autograd.detect_anomaly():
        y = x.sqrt()  # the line to be named
        with pytest.raises(RuntimeError) as info:
            (y * 0).sum().backward()
    message = str(info.value)
    assert "SqrtBackward0" in message and "nan" in message
    assert "y = x.sqrt()" in message and "test_autograd.py" in message


def test_a_chain_of_100000_ops_backpropagates_without_recursion():
    x = nf.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_graph_and_saved_arrays_are_freed_after_backward():
    x = nf.tensor(np.ones(1000), requires_grad=True)
    h = x.exp()
    node_ref = weakref.ref(h.grad_fn)
    y = (h * h).sum()
    mul_node = weakref.ref(y.grad_fn.next_edges[0][0])
    y.backward()
    assert mul_node()._freed and mul_node()._saved is None
    del h, y
    gc.collect()
    assert node_ref() is None


def test_observers_see_every_op_and_cost_nothing_when_empty():
    seen = []
    with observers.add_op_observer(lambda op, inputs, outputs: seen.append((op.label, outputs[0].shape))):
        x = nf.ones(2, 3)
        (x * 2).sum()
    assert [s[0] for s in seen] == ["mul", "sum"]
    assert seen[0][1] == (2, 3)
    (x * 2).sum()
    assert len(seen) == 2 and observers.OBSERVERS == []


def test_gradient_reaching_two_leaves_is_not_shared():
    a = nf.tensor([1.0, 2.0], requires_grad=True)
    b = nf.tensor([1.0, 2.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.mul_(5)
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_mixed_dtype_gradient_matches_leaf_dtype():
    x = nf.tensor([1.0, 2.0], dtype=nf.float32, requires_grad=True)
    (x * nf.tensor(2.0, dtype=nf.float64)).sum().backward()
    assert x.grad.dtype == nf.float32
