"""How an in-place op keeps autograd right: the old values its backward needs, versions, zero gradients."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from nbframe.autograd.function import Op
from nbframe.ops.inplace import apply_inplace
from tests.oracle import check, torch_or_skip

X = [0.3, -1.2, 2.5]


def _value_grad_and_second_grad(m, build):
    """``build(m, x)``'s value, its gradient and the gradient of that gradient's squared norm."""
    x = m.tensor(X, dtype=m.float64, requires_grad=True)
    out = build(m, x)
    (g,) = m.autograd.grad(out.sum(), x, create_graph=True)
    (gg,) = m.autograd.grad((g * g).sum(), x)
    return out.detach().numpy(), g.detach().numpy(), gg.numpy()


def _same_as_torch(build):
    torch = torch_or_skip()
    for got, want in zip(_value_grad_and_second_grad(nf, build), _value_grad_and_second_grad(torch, build)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_sin_in_place_on_non_leaf_backpropagates_through_the_old_values():
    torch = torch_or_skip()
    grads = []
    for m in (nf, torch):
        x = m.tensor(X, dtype=m.float64, requires_grad=True)
        y = x * 2
        y.sin_()
        y.sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
    np.testing.assert_allclose(grads[0], 2 * np.cos(2 * np.array(X)), rtol=1e-12)


def test_chain_of_in_place_ops_gives_torch_gradients_and_second_derivatives():
    def build(m, x):
        y = x * 2
        y.sin_().cos_()
        y.mul_(x)
        y.pow_(2)
        return y

    _same_as_torch(build)


def test_in_place_division_then_clamp_gives_torch_gradients_and_second_derivatives():
    def build(m, x):
        y = x * 1
        y.div_(x * 3 + 10)
        y.clamp_(-0.05, 0.05)
        return y

    _same_as_torch(build)


def test_tensor_times_itself_in_place_uses_its_old_values_twice():
    """PyTorch refuses this one (the second operand is the changed tensor); the answer is still defined."""
    x = nf.tensor(X, dtype=nf.float64, requires_grad=True)
    y = x * 2
    y.mul_(y)
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), 4 * np.array(X) ** 2)
    np.testing.assert_allclose(x.grad.numpy(), 8 * np.array(X))


def test_another_op_that_saved_the_tensor_still_raises_the_version_error():
    x = nf.tensor(X, requires_grad=True)
    y = x * 2
    z = y.sin()  # saved y at version 0
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*version 1; expected version 0"):
        z.sum().backward()


def test_in_place_op_under_no_grad_is_not_recorded_and_invalidates_saved_values():
    x = nf.tensor(X, requires_grad=True)
    y = x * 2
    z = y.sin()
    with nf.no_grad():
        y.add_(1)
    assert y.grad_fn is not None and y.grad_fn.name() == "MulBackward0"
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


class _KeepsInputOnCtx(Op):
    """Squares its input, keeping the input array as a ctx attribute rather than saving it."""

    label = "square_on_ctx"

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x * x

    @staticmethod
    def backward(ctx, grad):
        return grad * nf.tensor(2 * ctx.x)


class _SavesAViewOfItsInput(Op):
    """Squares its input, saving a reshaped view of it (not the input itself)."""

    label = "square_saving_view"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x.reshape(-1))
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (flat,) = ctx.saved_tensors
        return grad * 2 * flat.reshape(grad.shape)


@pytest.mark.parametrize("op", [_KeepsInputOnCtx, _SavesAViewOfItsInput])
def test_old_values_kept_any_way_by_the_op_survive_the_overwrite(op):
    x = nf.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=nf.float64, requires_grad=True)
    y = x * 1
    apply_inplace(y, op.apply, "square_")
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())


def test_op_that_keeps_nothing_of_the_input_makes_no_copy():
    x = nf.tensor(X, requires_grad=True)
    y = x * 2
    y.add_(1)
    y.exp_()  # saves its output, a new array
    assert all(entry[1] is not y for entry in y.grad_fn._saved)
    assert not any(isinstance(v, np.ndarray) for v in vars(y.grad_fn).values())


def test_copy_from_broadcast_source_sums_its_gradient_and_zeroes_the_old_history():
    torch = torch_or_skip()
    grads = []
    for m in (nf, torch):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float64, requires_grad=True)
        src = m.tensor([5.0, 6.0], dtype=m.float64, requires_grad=True)
        y = x * 1
        y.copy_(src)
        (y * m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float64)).sum().backward()
        grads.append((y.detach().numpy(), x.grad.numpy(), src.grad.numpy()))
    for got, want in zip(*grads):
        np.testing.assert_array_equal(got, want)


def test_copy_of_a_source_that_does_not_broadcast_names_both_shapes():
    y = nf.tensor(X, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match=r"copy_: the source's shape \[2\] can't be broadcast to .* \[3\]"):
        y.copy_(nf.tensor([1.0, 2.0]))


def test_fill_with_a_zero_dim_tensor_on_non_leaf_matches_torch():
    torch = torch_or_skip()
    results = []
    for m in (nf, torch):
        x = m.tensor(X, dtype=m.float64, requires_grad=True)
        y = x * 1
        y.fill_(m.tensor(1.5))
        (y * 3).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy(), y.requires_grad))
    assert results[0][2] and results[1][2]
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_transpose_in_place_changes_shape_and_gradient_flows_back():
    torch = torch_or_skip()
    grads = []
    for m in (nf, torch):
        x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=m.float64, requires_grad=True)
        y = x * 1
        y.t_()
        assert tuple(y.shape) == (3, 2)
        y.unsqueeze_(0).squeeze_(0)
        (y * m.arange(6, dtype=m.float64).reshape(3, 2)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


# --------------------------------------------------------------------------- views
# Each case changes a view of ``base = x * 1`` in place and returns what the loss is computed from.
def _row_of_base(m, x):
    """PyTorch's CopySlices case: a row changed in place, the base used afterwards."""
    base = x * 1
    base[0].mul_(2)
    return base


def _column_sin(m, x):
    base = x * 1
    base[:, 1].sin_()
    return base


def _transposed_view_of_a_view(m, x):
    base = x * 1
    base.t()[1][0:2].add_(x[0, 0:2] ** 2)
    return base


def _reshaped_then_stepped(m, x):
    base = x * 1
    base.view(-1)[::2].mul_(x.view(-1)[1::2])
    return base


def _fill_and_copy(m, x):
    base = x * 1
    base[0, :2].fill_(1.5)
    base[1, 1:].copy_(x[0, :2])
    return base


def _view_used_after(m, x):
    """The changed view used again: its own history now goes through the base's."""
    base = x * 1
    row = base[0]
    row.mul_(x[1])
    row.exp_()
    return row * base[1]


def _overlapping_sibling(m, x):
    """A view taken before its (overlapping) sibling was changed, used after: it sees the new values."""
    base = x * 1
    left, right = base[:, 0:2], base[:, 1:3]
    left.mul_(3)
    return right * 1


def _view_of_base_changed(m, x):
    """A view taken before its base was changed in place, used after."""
    base = x * 1
    first = base[0:1]
    base.sin_()
    return first * 1


def _rows_changed_one_by_one(m, x):
    """Each row changed through its own view, every view used after all the changes."""
    base = x * 1
    rows = [base[i] for i in range(base.shape[0])]
    for i, row in enumerate(rows):
        row.mul_(x[i - 1])
    return m.stack([row * (i + 1) for i, row in enumerate(rows)]) + base


VIEW_CASES = {fn.__name__[1:]: fn for fn in (
    _row_of_base, _column_sin, _transposed_view_of_a_view, _reshaped_then_stepped, _fill_and_copy,
    _view_used_after, _overlapping_sibling, _view_of_base_changed, _rows_changed_one_by_one,
)}


def _value_and_grad(m, build):
    x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=m.float64, requires_grad=True)
    out = build(m, x)
    weights = m.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)) + 1)
    (out * weights).sum().backward()
    return out.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("name", sorted(VIEW_CASES))
def test_in_place_change_of_a_view_in_a_graph_gives_torch_values_and_gradients(name):
    torch = torch_or_skip()
    got, want = (_value_and_grad(m, VIEW_CASES[name]) for m in (nf, torch))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)


@pytest.mark.parametrize("name", ["row_of_base", "column_sin", "view_used_after", "overlapping_sibling"])
def test_in_place_change_of_a_view_passes_gradcheck_and_gradgradcheck(name):
    x = nf.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=nf.float64, requires_grad=True)
    fn = lambda x: VIEW_CASES[name](nf, x)  # noqa: E731
    assert nf.autograd.gradcheck(fn, [x])
    assert nf.autograd.gradgradcheck(fn, [x])


def test_base_history_after_a_view_change_is_copy_slices():
    x = nf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = x * 1
    view = base[0:2]
    view.mul_(2)
    assert base.grad_fn.name() == "CopySlicesBackward0"
    assert view.grad_fn.name() == "AsStridedBackward0"
    assert view._version is base._version and base._version[0] == 1


def test_in_place_change_of_a_view_of_a_leaf_requiring_grad_is_refused():
    x = nf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used"):
        x[0:2].mul_(2)
    with nf.no_grad():
        x[0:2].mul_(2)
    np.testing.assert_array_equal(x.detach().numpy(), [2.0, 4.0, 3.0])


def test_other_savers_of_the_base_still_raise_after_a_view_change():
    x = nf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = x * 1
    z = base.exp()  # saves its output, not base; base * base saves base
    w = base * base
    base[1:].add_(1)
    (z.sum()).backward()  # exp's saved output is a different array: fine
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()


def test_in_place_change_of_one_of_several_views_from_one_op_is_refused_as_in_torch():
    torch = torch_or_skip()
    messages = []
    for m in (nf, torch):
        base = m.tensor([[1.0, 2.0, 3.0]], requires_grad=True) * 1
        with pytest.raises(RuntimeError, match="returns multiple views") as error:
            base.unbind(1)[2].mul_(2)
        messages.append(str(error.value))
    assert messages[0].startswith(messages[1])


def test_in_place_change_of_a_view_after_backward_freed_its_graph_works_as_in_torch():
    torch = torch_or_skip()
    for m in (nf, torch):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        base = x * 1
        view = base[0:2]
        view.sum().backward()
        view.mul_(2)  # the view knows its base after backward too
        assert base.detach().tolist() == [2.0, 4.0, 3.0]
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            base.sum().backward()


def test_in_place_changes_through_views_leave_nothing_on_the_base():
    x = nf.tensor(np.ones(64), requires_grad=True)
    base = x * 1
    for i in range(64):
        base[i:i + 1].mul_(1.0)  # each view dies after its statement; its successors follow lazily
    assert not base.__dict__


@pytest.mark.parametrize("name, index, source", [("scatter_reduce_", 0, 3.0), ("index_reduce_", [0], 3.0)])
@pytest.mark.filterwarnings("ignore:index_reduce.. is in beta")
def test_in_place_reduce_on_a_0d_non_leaf_matches_torch(name, index, source):
    """The 0-d case reshapes the tensor before the op, whose node then saves a view of it."""
    def fn(m, x, s):
        y = x * 2
        getattr(y, name)(0, m.tensor(index), s, "prod")
        return y * 3

    check(fn, np.array(1.5), np.array(source))
