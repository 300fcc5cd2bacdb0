"""Indexing and index-based ops against PyTorch (values and gradients) and gradcheck; errors."""

import hypothesis
import hypothesis.strategies as st
import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, check_forward, torch_or_skip

rng = np.random.default_rng(1)
A = rng.standard_normal((3, 4, 5))
M = rng.standard_normal((3, 4))
V = rng.standard_normal(5)


def _long(m, values):
    return m.tensor(values, dtype=m.int64)


# --------------------------------------------------------------------------- reading: x[index]
@pytest.mark.parametrize("fn", [
    lambda m, a: a[1],
    lambda m, a: a[-1],
    lambda m, a: a[0, -2, 3],
    lambda m, a: a[1:],
    lambda m, a: a[:, 1:3],
    lambda m, a: a[::2, :, 1::3],
    lambda m, a: a[-2:, :-1],
    lambda m, a: a[5:],
    lambda m, a: a[None],
    lambda m, a: a[:, None, 1],
    lambda m, a: a[...],
    lambda m, a: a[..., 2],
    lambda m, a: a[1, ..., None],
    lambda m, a: a[[0, 2]],
    lambda m, a: a[[0, 0, 2, 0]],
    lambda m, a: a[_long(m, [[1, 1], [0, 2]])],
    lambda m, a: a[_long(m, [0, 1]), _long(m, [2, 2])],
    lambda m, a: a[:, _long(m, [3, 3, 0])],
    lambda m, a: a[_long(m, [2, 0]), :, _long(m, [1, 4])],
    lambda m, a: a[1:, [0, 0], 2],
    lambda m, a: a[None, [1, 2], ..., ::2],
    lambda m, a: a[a > 0],
    lambda m, a: a[a[:, :, 0] > 0],
    lambda m, a: a[:, a[0, :, 0] > 0],
    lambda m, a: a[[True, False, True]],
    lambda m, a: a[_long(m, 2)],
])
def test_getitem_matches_torch(fn):
    check(fn, A)


def test_repeated_indices_accumulate_gradient():
    x = nf.tensor(V, requires_grad=True)
    x[[0, 0, 0, 3]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 0, 0, 1, 0])


def test_integer_index_of_integer_tensor():
    check_forward(lambda m, a: a[1:, [0, 2]], np.arange(12).reshape(3, 4))


def test_basic_read_is_a_view_sharing_memory_and_advanced_read_is_a_copy():
    x = nf.zeros(3, 4)
    x[1][2] = 5  # through a view
    x[[0]][0, 0] = 7  # into a copy: no effect
    assert x[1, 2].item() == 5 and x[0, 0].item() == 0


def test_negative_step_raises_torch_error():
    with pytest.raises(ValueError, match="step must be greater than zero"):
        nf.zeros(5)[::-1]


@pytest.mark.parametrize("index, match", [
    (5, "index 5 is out of bounds for dimension 0 with size 3"),
    ((0, -6), "index -6 is out of bounds for dimension 1 with size 4"),
    ((0, 0, 0), "too many indices for tensor"),
    ([0, 3], "index 3 is out of bounds"),
    (1.5, "only integers, slices"),
])
def test_bad_index_raises_index_error(index, match):
    with pytest.raises(IndexError, match=match):
        nf.zeros(3, 4)[index]


def test_float_tensor_index_raises():
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        nf.zeros(3)[nf.tensor([0.0])]


# --------------------------------------------------------------------------- writing: x[index] = value
def _assign(index, value_fn):
    def fn(m, a, v):
        out = a * 1
        out[index] = value_fn(v)
        return out
    return fn


@pytest.mark.parametrize("fn", [
    _assign(0, lambda v: v[0, 0, 0]),
    _assign((1, slice(None), 2), lambda v: v[0, :, 0]),
    _assign((slice(None), 1), lambda v: v[:, 0]),
    _assign((slice(None), 1), lambda v: v[0, 0]),  # broadcast
    _assign(([0, 2],), lambda v: v[:2, :, :] * 2),
    _assign((Ellipsis, 0), lambda v: v.sum(-1)),
])
def test_setitem_gradient_flows_to_target_and_value(fn):
    check(fn, A, A[:, :, ::-1].copy())


def test_setitem_with_a_scalar_and_a_mask():
    check(lambda m, a: _masked_set(a), M)


def _masked_set(a):
    out = a * 1
    out[out > 0] = 0.5
    out[0, 1:3] = -1
    return out


def test_setitem_casts_the_value_to_the_target_dtype():
    x = nf.zeros(3, dtype=nf.int64)
    x[1] = nf.tensor(2.7)
    x[2] = 3.9
    assert x.tolist() == [0, 2, 3] and x.dtype == nf.int64


def test_setitem_on_a_leaf_that_requires_grad_raises():
    x = nf.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 1.0


def test_setitem_shape_mismatch_raises():
    with pytest.raises(RuntimeError, match=r"shape mismatch: value tensor of shape \[3\]"):
        nf.zeros(2, 4)[0] = nf.ones(3)


def _assign_through_views(m, x, v):
    """``y[0][1] = v`` and friends: assignments into views of a tensor inside a graph."""
    y = x * 1
    y[0][1] = v[0] * 2
    positive = v.detach()[:4] > 0
    y[1][positive] = v[:4][positive]
    y[:, 2][0:2] = v[1:3] ** 2
    y.t()[3][2] = 5.0
    y[2].index_put_((m.tensor([0, 1]),), v[:2], accumulate=True)
    return y


def test_setitem_into_a_view_inside_a_graph_matches_torch_values_and_gradients():
    check(_assign_through_views, M, V)


def test_setitem_into_a_view_gives_its_base_the_history():
    y = nf.ones(3, 4, requires_grad=True) * 1
    y[0][1] = 5.0
    assert y.grad_fn.name() == "CopySlicesBackward0" and y[0, 1].item() == 5.0


def test_setitem_bumps_the_version():
    x = nf.zeros(3)
    x[0] = 1
    assert x._version[0] == 1


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_matches_torch(accumulate):
    check(lambda m, a, v: a.index_put((_long(m, [0, 2, 1]), _long(m, [1, 1, 3])), v, accumulate=accumulate),
          M, V[:3])


def test_index_put_accumulates_repeated_indices():
    check(lambda m, a, v: a.index_put((_long(m, [0, 2, 0]), _long(m, [1, 1, 1])), v, accumulate=True),
          M, V[:3])


# --------------------------------------------------------------------------- gather / scatter
G = np.array([[0, 2, 1, 2], [1, 1, 0, 0]])


@pytest.mark.parametrize("fn", [
    lambda m, a: a.gather(0, _long(m, G)),
    lambda m, a: m.gather(a, 1, _long(m, G)),
    lambda m, a: a.gather(-1, _long(m, [[3], [0], [0]])),
    lambda m, a: m.take_along_dim(a, _long(m, [[0, 3, 3]]).t(), dim=1),
    lambda m, a: m.take_along_dim(a, _long(m, [[2], [1]]), dim=0),
    lambda m, a: m.take_along_dim(a, _long(m, [5, 0, 0])),
    lambda m, a: m.take(a, _long(m, [[11, 0], [0, 4]])),
    lambda m, a: a.index_select(1, _long(m, [3, 0, 3])),
    lambda m, a: m.index_select(a, 0, _long(m, 2)),
    lambda m, a: a.select(1, -1),
])
def test_gathering_ops_match_torch(fn):
    check(fn, M)


@pytest.mark.parametrize("fn", [
    lambda m, a, s: a.scatter(0, _long(m, G), s[:2]),
    lambda m, a, s: m.scatter(a, 1, _long(m, [[0], [3], [1]]), s[:, :1]),
    lambda m, a, s: a.scatter(1, _long(m, G), 2.5),
    lambda m, a, s: a.scatter(1, _long(m, G), value=-1.0),
    lambda m, a, s: a.scatter_add(0, _long(m, G), s[:2]),
    lambda m, a, s: m.scatter_add(a, 1, _long(m, [[0, 0, 0], [3, 3, 1]]), s[:2, :3]),
    lambda m, a, s: a.index_add(1, _long(m, [1, 1, 0, 3]), s[:3]),
    lambda m, a, s: m.index_add(a, 0, _long(m, [2, 2]), s[:2], alpha=0.5),
    lambda m, a, s: a.index_fill(1, _long(m, [0, 2]), -2.0),
])
def test_scattering_ops_match_torch(fn):
    check(fn, M, M * 3)


def test_scatter_reads_only_the_part_of_a_larger_src_that_index_covers():
    # PyTorch computes this but refuses its gradient; ours is checked by finite differences.
    check_forward(lambda m, a, s: a.scatter(0, _long(m, G), s).scatter_add(1, _long(m, G), s), M, M * 3)
    assert nf.autograd.gradcheck(lambda a, s: a.scatter(0, nf.tensor(G), s).scatter_add(1, nf.tensor(G), s),
                                 [nf.tensor(M, requires_grad=True), nf.tensor(M * 3, requires_grad=True)])


def test_scatter_add_and_index_add_accumulate_repeated_indices():
    out = nf.zeros(3).scatter_add(0, nf.tensor([0, 0, 2, 0]), nf.ones(4))
    assert out.tolist() == [3.0, 0.0, 1.0]
    out = nf.zeros(3, 2).index_add(0, nf.tensor([1, 1]), nf.ones(2, 2))
    assert out.tolist() == [[0, 0], [2, 2], [0, 0]]


def test_in_place_scatter_and_index_variants():
    x = nf.zeros(2, 3)
    x.scatter_(1, nf.tensor([[2], [0]]), 1.0)
    x.index_add_(0, nf.tensor([0]), nf.ones(1, 3))
    x.masked_fill_(x > 1.5, 9.0)
    x.index_fill_(1, nf.tensor([1]), -1.0)
    assert x.tolist() == [[1, -1, 9], [1, -1, 0]]


def test_double_backward_through_gather():
    x = nf.tensor(M, requires_grad=True)
    y = (x.gather(1, nf.tensor(G.T[:3, :])) ** 2).sum()
    (g,) = nf.autograd.grad(y, x, create_graph=True)
    assert nf.autograd.gradcheck(lambda t: t.gather(1, nf.tensor(G.T[:3, :])) ** 2,
                                 [nf.tensor(M, requires_grad=True)])
    g.sum().backward()
    assert x.grad is not None


@pytest.mark.parametrize("call, error, match", [
    (lambda x: x.gather(0, nf.tensor([[3, 0, 0, 0]])), RuntimeError, "index 3 is out of bounds for dim"),
    (lambda x: x.gather(0, nf.tensor([[-1, 0, 0, 0]])), RuntimeError, "index -1 is out of bounds"),
    (lambda x: x.gather(0, nf.tensor([[0, 0, 0, 0, 0]])), RuntimeError, "Size does not match at dimension 1"),
    (lambda x: x.gather(0, nf.tensor([0])), RuntimeError, "same number of dimensions"),
    (lambda x: x.gather(0, nf.tensor([[0.0]])), RuntimeError, "Expected dtype int64 for index"),
    (lambda x: x.gather(2, nf.tensor([[0]])), IndexError, "Dimension out of range"),
    (lambda x: x.scatter(0, nf.tensor([[0, 1]]), nf.ones(1, 1)), RuntimeError, "smaller size than src"),
    (lambda x: x.scatter_add(0, nf.tensor([[0]]), nf.ones(1, 1, dtype=nf.float64)), RuntimeError,
     "Expected self.dtype to be equal to src.dtype"),
    (lambda x: x.index_select(0, nf.tensor([3])), IndexError, "index out of range in self"),
    (lambda x: x.index_select(0, nf.tensor([[0]])), IndexError, "Index is supposed to be a vector"),
    (lambda x: x.index_add(0, nf.tensor([0]), nf.ones(1, 4, dtype=nf.float64)), RuntimeError,
     "must have the same scalar type"),
    (lambda x: x.index_add(0, nf.tensor([0]), nf.ones(2, 4)), RuntimeError, "doesn't match the indexed"),
    (lambda x: x.masked_fill(nf.ones(3, 4), 0.0), RuntimeError, "only supports boolean masks"),
    (lambda x: x.masked_fill(x > 0, nf.ones(2)), RuntimeError, "only supports a 0-dimensional value tensor"),
    (lambda x: x.masked_fill(nf.ones(2, dtype=nf.bool), 0.0), RuntimeError, "can't be broadcast"),
    (lambda x: x.masked_select(nf.ones(2, dtype=nf.bool)), RuntimeError, "must be broadcastable"),
    (lambda x: x.topk(5), RuntimeError, "selected index k out of range"),
    (lambda x: x.scatter(0, nf.tensor([[0]]), nf.ones(1, 1), reduce="max"), RuntimeError, "add or multiply"),
])
def test_index_op_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(nf.zeros(3, 4))


# --------------------------------------------------------------------------- masks
@pytest.mark.parametrize("fn", [
    lambda m, a: a.masked_fill(a > 0, 0.5),
    lambda m, a: m.masked_fill(a, a[0] > 0, -1.0),  # the mask broadcasts
    lambda m, a: a[0].masked_fill(a > 0, 2.0),  # so does the input
    lambda m, a: a.masked_select(a < 0),
    lambda m, a: m.masked_select(a[0], a < 0.3),
])
def test_mask_ops_match_torch(fn):
    check(fn, M)


def test_masked_fill_gradient_reaches_a_0d_value_tensor():
    check(lambda m, a, v: a.masked_fill(a > 0, v * 2), M, np.array(0.7))


def test_masked_fill_on_integers_casts_the_value():
    check_forward(lambda m, a: a.masked_fill(a > 3, 2.9), np.arange(6))


# --------------------------------------------------------------------------- sorting
S = np.array([[3.0, 1.0, 2.0, 1.0, 3.0], [0.5, np.nan, -1.0, 0.5, 2.0]])


@pytest.mark.parametrize("fn", [
    lambda m, a: a.sort(stable=True),
    lambda m, a: a.sort(descending=True, stable=True),
    lambda m, a: m.sort(a, dim=0, stable=True),
    lambda m, a: m.sort(a, dim=0, descending=True, stable=True),
    lambda m, a: a.argsort(stable=True),
    lambda m, a: m.argsort(a, dim=-1, descending=True, stable=True),
])
def test_sorting_matches_torch_including_ties_and_nan(fn):
    check(fn, S, gradcheck=False)


@pytest.mark.parametrize("fn", [
    lambda m, a: a.topk(2),
    lambda m, a: m.topk(a, 1, dim=0, largest=False),
    lambda m, a: a.topk(3, sorted=True),
])
def test_topk_matches_torch(fn):
    check(fn, M, gradcheck=False)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_reduce_add_is_scatter_add():
    check_forward(lambda m, a: a.scatter(0, _long(m, G), a * 2, reduce="add"), M)


def test_sort_and_topk_gradients():
    check(lambda m, a: a.sort(1)[0], A)
    check(lambda m, a: a.topk(3, dim=0)[0], A)


def test_sort_returns_a_named_tuple():
    values, indices = nf.tensor([2.0, 1.0]).sort()
    result = nf.tensor([2.0, 1.0]).sort()
    assert result.values is not None and result.indices.dtype == nf.int64
    assert values.tolist() == [1.0, 2.0] and indices.tolist() == [1, 0]
    assert repr(nf.tensor([1.0]).topk(1)).startswith("topk(values=")


def test_sort_of_integers_and_bools():
    check_forward(lambda m, a: a.sort(descending=True, stable=True), np.array([[3, 1, 3, 2], [0, 0, 1, 0]]))
    check_forward(lambda m, a: (a > 1).sort(stable=True), np.array([3, 1, 3, 2]))


@pytest.mark.parametrize("values", [np.array([[0, 1, 2], [0, 0, 3]]), np.array([0.0, 2.0, 0.0]), np.array(5),
                                    np.array(0), np.zeros((2, 0))])
def test_nonzero_matches_torch(values):
    torch = torch_or_skip()
    got = nf.nonzero(nf.tensor(values))
    want = torch.nonzero(torch.tensor(values))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert got.dtype == nf.int64
    got_t = nf.tensor(values).nonzero(as_tuple=True)
    want_t = torch.tensor(values).nonzero(as_tuple=True)
    assert len(got_t) == len(want_t)
    for a, b in zip(got_t, want_t):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# --------------------------------------------------------------------------- property: any index, as in torch


@st.composite
def _shape_and_index(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    items = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "list", "none", "full"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start, stop = draw(st.integers(-n - 1, n + 1)), draw(st.integers(-n - 1, n + 1))
            items.append(slice(start, stop, draw(st.integers(1, 3))))
        elif kind == "list" and not any(isinstance(i, list) for i in items):
            items.append(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4)))
        elif kind == "none":
            items.extend([None, slice(None)])
        else:
            items.append(slice(None))
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(items)))
        items = items[:cut] + [Ellipsis]  # the ellipsis stands for the dimensions not indexed
    return shape, tuple(items)


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(_shape_and_index())
def test_any_index_reads_and_differentiates_like_torch(case):
    torch = torch_or_skip()
    shape, index = case
    data = np.arange(float(np.prod(shape))).reshape(shape)
    x, t = nf.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, want = x[index], t[index]
    np.testing.assert_array_equal(out.detach().numpy(), want.detach().numpy())
    seed = np.cos(np.arange(want.numel())).reshape(tuple(want.shape))
    out.backward(nf.tensor(seed))
    want.backward(torch.tensor(seed))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())
