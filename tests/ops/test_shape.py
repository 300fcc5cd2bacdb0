"""Shape ops against PyTorch (values and gradients) and gradcheck; errors; views sharing versions."""

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, check_forward

rng = np.random.default_rng(0)
A = rng.standard_normal((2, 3, 4))
B = rng.standard_normal((2, 5, 4))
M = rng.standard_normal((3, 4))


@pytest.mark.parametrize("fn", [
    lambda m, a: a.reshape(4, -1),
    lambda m, a: a.view(6, 4),
    lambda m, a: a.permute(2, 0, 1).reshape(-1),
    lambda m, a: a.transpose(0, 2),
    lambda m, a: a.flatten(1),
    lambda m, a: a.unsqueeze(-1).squeeze(),
    lambda m, a: a[:, :1].expand(2, 3, 4) * 1,
    lambda m, a: a.unflatten(2, (2, -1)),
    lambda m, a: a.movedim(0, -1),
    lambda m, a: m.movedim(a, (0, 1), (2, 0)),
    lambda m, a: m.moveaxis(a, 2, 0),
    lambda m, a: a.narrow(1, -2, 2),
    lambda m, a: m.narrow(a, 2, 1, 3),
    lambda m, a: a.ravel(),
])
def test_views_and_reshapes_match_torch(fn):
    check(fn, A)


@pytest.mark.parametrize("fn", [
    lambda m, a: a.repeat(2, 1, 3),
    lambda m, a: a.repeat(2, 1, 1, 2),
    lambda m, a: a.tile((2,)),
    lambda m, a: m.tile(a, (2, 1, 1, 1)),
    lambda m, a: a.flip(0, 2),
    lambda m, a: m.flip(a, dims=(1,)),
    lambda m, a: m.flip(a, [-1]),
    lambda m, a: m.fliplr(a),
    lambda m, a: m.flipud(a),
    lambda m, a: a.roll(1),
    lambda m, a: a.roll((1, -2), (0, 2)),
    lambda m, a: m.roll(a, 5, 1),
])
def test_copying_rearrangements_match_torch(fn):
    check(fn, A)


@pytest.mark.parametrize("fn", [
    lambda m, a, b: m.cat([a, b], 1),
    lambda m, a, b: m.cat((a, b * 2), dim=-2),
    lambda m, a, b: m.concat([a, a, b], 1),
    lambda m, a, b: m.concatenate([b, a], 1),
    lambda m, a, b: m.stack([a, a * 3]),
    lambda m, a, b: m.stack([a, a], dim=-1),
    lambda m, a, b: m.stack([a, a], 2),
])
def test_joining_matches_torch(fn):
    check(fn, A, B)


def test_cat_skips_legacy_empty_1d_tensors():
    check(lambda m, a, e: m.cat([e, a, e], 0), M, np.zeros((0,)))


def test_cat_promotes_dtypes_and_returns_gradients_in_each_dtype():
    a = nf.ones(2, dtype=nf.float32, requires_grad=True)
    b = nf.ones(2, dtype=nf.float64, requires_grad=True)
    c = nf.tensor([1, 2])
    out = nf.cat([a, b, c])
    assert out.dtype == nf.float64
    out.sum().backward()
    assert a.grad.dtype == nf.float32 and b.grad.dtype == nf.float64


@pytest.mark.parametrize("fn", [
    lambda m, a: a.split(2, 2),
    lambda m, a: m.split(a, [1, 2], dim=1),
    lambda m, a: a.split(3, -1),
    lambda m, a: a.chunk(3, 2),
    lambda m, a: m.chunk(a, 2, 1),
    lambda m, a: a.unbind(1),
    lambda m, a: m.unbind(a, -1),
])
def test_splitting_matches_torch(fn):
    check(fn, A)


def test_split_pieces_without_gradient_get_zeros():
    x = nf.tensor(A, requires_grad=True)
    first, _ = x.split([1, 2], 1)
    (first * 2).sum().backward()
    expected = np.zeros_like(A)
    expected[:, :1] = 2
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_chunk_can_return_fewer_pieces_like_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(5.0)
    assert [c.shape[0] for c in nf.tensor(x).chunk(4)] == [c.shape[0] for c in torch.tensor(x).chunk(4)]


def test_shape_ops_work_on_integer_tensors():
    check_forward(lambda m, a: m.cat([a, a.flip(0)], 0).roll(1).repeat(2, 1), np.arange(6).reshape(2, 3))


def test_double_backward_through_cat_and_split():
    x = nf.tensor(M, requires_grad=True)
    y = nf.cat([x * x, x], 1).split(2, 1)[0].sum()
    (g,) = nf.autograd.grad(y, x, create_graph=True)
    (gg,) = nf.autograd.grad(g.sum(), x)
    expected = np.zeros_like(M)
    expected[:, :2] = 2
    np.testing.assert_allclose(gg.numpy(), expected)


# --------------------------------------------------------------------------- view semantics
def test_view_of_non_contiguous_tensor_raises_and_suggests_reshape():
    x = nf.tensor(M).t()
    with pytest.raises(RuntimeError, match=r"view size is not compatible.*Use \.reshape\(\.\.\.\) instead"):
        x.view(12)
    np.testing.assert_array_equal(x.reshape(12).numpy(), M.T.reshape(12))


def test_view_of_non_contiguous_tensor_works_where_strides_allow():
    x = nf.tensor(A).transpose(0, 1)  # (3, 2, 4): the last dimension is still contiguous
    np.testing.assert_array_equal(x.view(3, 2, 2, 2).numpy(), A.transpose(1, 0, 2).reshape(3, 2, 2, 2))


def test_view_shares_memory_and_reshape_copies_only_when_needed():
    x = nf.zeros(2, 3)
    x.view(6)[0] = 5
    assert x[0, 0].item() == 5
    y = x.t().reshape(6)  # a copy
    y[1] = 7
    assert x.numpy().max() == 5


@pytest.mark.parametrize("make_view", [
    lambda x: x.view(6), lambda x: x.t(), lambda x: x.permute(1, 0), lambda x: x.unsqueeze(0),
    lambda x: x.narrow(1, 0, 2), lambda x: x.split(1)[0], lambda x: x.unbind(0)[1], lambda x: x[0],
    lambda x: x[:, 1:], lambda x: x.expand(4, 2, 3), lambda x: x.flatten(), lambda x: x.movedim(0, 1),
])
def test_views_share_the_version_counter_of_their_base(make_view):
    x = nf.zeros(2, 3)
    v = make_view(x)
    x.add_(1)
    assert v._version[0] == x._version[0] == 1


def test_copies_do_not_share_the_version_counter():
    x = nf.zeros(2, 3)
    for copy in (x.t().reshape(6), x.flip(0), x.roll(1), x.repeat(1, 1), nf.cat([x, x])):
        x.add_(1)
        assert copy._version[0] == 0


def test_in_place_change_through_a_view_is_caught_by_backward():
    x = nf.tensor(M, requires_grad=True)
    y = x * 1
    z = y * y  # saves y
    with nf.no_grad():
        y.view(-1).mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_in_place_change_of_a_view_inside_a_graph_rebases_the_base_history():
    # (More cases against torch: tests/ops/test_inplace_autograd.py.)
    x = nf.tensor(M, requires_grad=True)
    y = x * 1
    y.view(-1).mul_(2)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(np.shape(M), 2.0))


def test_view_dtype_reinterprets_the_bytes():
    x = nf.tensor([1.0, 2.0])
    np.testing.assert_array_equal(x.view(nf.int32).numpy(), np.array([1.0, 2.0], np.float32).view(np.int32))


# --------------------------------------------------------------------------- errors
def test_cat_mismatched_shapes_names_tensor_and_dimension():
    expected = ("Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 "
                "for tensor number 1 in the list")
    with pytest.raises(RuntimeError, match=expected):
        nf.cat([nf.zeros(2, 4), nf.zeros(3, 4)], 1)


@pytest.mark.parametrize("tensors, dim, error, match", [
    ([], 0, RuntimeError, "expected a non-empty list of Tensors"),
    ([nf.zeros(2, 3), nf.zeros(2)], 0, RuntimeError, "must have same number of dimensions: got 2 and 1"),
    ([nf.tensor(1.0)], 0, RuntimeError, r"zero-dimensional tensor \(at position 0\) cannot be concatenated"),
    ([nf.zeros(2)], 1, IndexError, "Dimension out of range"),
    ([nf.zeros(2), 3], 0, TypeError, "expected Tensor as element 1"),
])
def test_cat_errors(tensors, dim, error, match):
    with pytest.raises(error, match=match):
        nf.cat(tensors, dim)


def test_stack_errors():
    expected = r"stack expects each tensor to be equal size, but got \[2\] at entry 0 and \[3\] at entry 1"
    with pytest.raises(RuntimeError, match=expected):
        nf.stack([nf.zeros(2), nf.zeros(3)])
    with pytest.raises(RuntimeError, match="non-empty"):
        nf.stack([])


@pytest.mark.parametrize("call, error, match", [
    (lambda x: x.split([1, 1]), RuntimeError, "split_with_sizes expects split_sizes to sum exactly to 3"),
    (lambda x: x.split(0), RuntimeError, "split_size can only be 0 if dimension size is 0"),
    (lambda x: x.chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0"),
    (lambda x: x.repeat(2), RuntimeError, "Number of dimensions of repeat dims can not be smaller"),
    (lambda x: x.narrow(0, 2, 2), RuntimeError, r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)"),
    (lambda x: x.narrow(0, 5, 1), IndexError, "start out of range"),
    (lambda x: x.unflatten(1, (3, 3)), RuntimeError, r"\[3, 3\] don't multiply up to the size of dim 1"),
    (lambda x: x.movedim((0, 1), 0), RuntimeError, "should contain the same number of dims"),
    (lambda x: x.movedim((0, 0), (0, 1)), RuntimeError, "repeated dim in `source`"),
    (lambda x: x.roll((1, 2), 0), RuntimeError, "shifts and dimensions must align"),
    (lambda x: x.flip(0, 0), RuntimeError, "appears multiple times"),
    (lambda x: x.permute(0, 0), RuntimeError, "duplicate dims"),
    (lambda x: x.permute(0, 2), IndexError, "Dimension out of range"),
    (lambda x: x.permute(0), RuntimeError, "does not match the length"),
    (lambda x: x.reshape(5, -1), RuntimeError, r"shape '\[5, -1\]' is invalid for input of size 12"),
    (lambda x: x.unsqueeze(3), IndexError, r"expected to be in range of \[-3, 2\]"),
    (lambda x: x.expand(3, 5), RuntimeError, "must match the existing size"),
    (lambda x: x.expand(-1, 3, 4), RuntimeError, "isn't allowed in a leading, non-existing dimension 0"),
])
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(nf.zeros(3, 4))


def test_unbind_of_a_scalar_raises():
    with pytest.raises(IndexError, match="tensor has no dimensions"):
        nf.tensor(1.0).unbind()
