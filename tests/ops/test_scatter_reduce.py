"""scatter_reduce, index_reduce, index_copy and scatter(reduce=...) against PyTorch and gradcheck; errors."""

import numpy as np
import pytest

import nbframe as nf
from nbframe.ops.scattering import _multiply_at
from tests.oracle import check, check_forward, run_both

rng = np.random.default_rng(7)
X = rng.standard_normal((3, 4))
SRC = rng.standard_normal((2, 5))
INDEX = np.array([[0, 2, 1, 2], [0, 0, 2, 2]])  # repeats along dim 0; row 1 of X receives one value
INDEX_DIM1 = np.array([[3, 3, 0], [1, 1, 1], [0, 2, 0]])
REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]


def _long(m, values, dtype=None):
    return m.tensor(values, dtype=dtype or m.int64)


# --------------------------------------------------------------------------- values and gradients
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_matches_torch_along_dim_0(reduce, include_self):
    check(lambda m, x, s: x.scatter_reduce(0, _long(m, INDEX), s[:, :4], reduce, include_self=include_self),
          X, SRC)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_matches_torch_along_the_last_dim(reduce, include_self):
    src = rng.standard_normal((3, 3))
    check(lambda m, x, s: m.scatter_reduce(x, -1, _long(m, INDEX_DIM1), s, reduce, include_self=include_self),
          X, src)


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_reads_only_the_corner_of_a_larger_src_that_index_covers(reduce):
    # torch's backward fails on a larger src ("invalid gradient"); its forward agrees with ours, and
    # our gradient reaches the corner of src that was read (gradcheck).
    check_forward(lambda m, x, s: x.scatter_reduce(0, _long(m, INDEX), s, reduce), X, SRC)
    x = nf.tensor(X, requires_grad=True)
    s = nf.tensor(SRC, requires_grad=True)
    assert nf.autograd.gradcheck(lambda a, b: a.scatter_reduce(0, nf.tensor(INDEX), b, reduce), [x, s])


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_amax_and_amin_share_the_gradient_evenly_among_ties(reduce, include_self):
    x = np.array([[1.0, 5.0, 2.0], [3.0, 0.0, 2.0]])
    src = np.array([[5.0, 5.0, 2.0, 3.0], [1.0, 5.0, 2.0, 3.0]])  # ties with self and among src
    index = np.array([[1, 1, 2, 0], [0, 1, 2, 0]])
    check(lambda m, a, s: a.scatter_reduce(1, _long(m, index), s, reduce, include_self=include_self),
          x, src, gradcheck=False)


def test_amax_without_self_still_counts_a_self_equal_to_the_result_among_ties_as_torch():
    # PyTorch divides src's gradient by the ties including an excluded self that equals the result.
    check(lambda m, a, s: a.scatter_reduce(0, _long(m, [0, 0]), s, "amax", include_self=False),
          np.array([4.0, 1.0]), np.array([4.0, 2.0]), gradcheck=False)


@pytest.mark.parametrize("include_self", [True, False])
def test_prod_gradient_with_zeros_in_src_and_self(include_self):
    x = np.array([[2.0, 0.0, 3.0, 1.5], [0.5, 2.0, 0.0, 4.0]])
    # Column 0 of x: one zero from src; column 1: a zero in self; column 2: two zeros from src.
    src = np.array([[0.0, 3.0, 0.0, 2.0], [1.5, 0.5, 0.0, -1.0]])
    index = np.array([[0, 0, 1, 1], [0, 0, 1, 1]])
    check(lambda m, a, s: a.scatter_reduce(0, _long(m, index), s, "prod", include_self=include_self), x, src)


def test_prod_double_backward_refuses_two_zeros_in_one_group_as_torch():
    x = nf.tensor([1.0, 2.0], requires_grad=True)
    s = nf.tensor([0.0, 0.0], requires_grad=True)
    y = x.scatter_reduce(0, nf.tensor([0, 0]), s, "prod")
    with pytest.raises(RuntimeError, match="Double backward is unsupported for src when >1 zeros"):
        nf.autograd.grad(y.sum(), s, create_graph=True)
    (g,) = nf.autograd.grad(x.scatter_reduce(0, nf.tensor([0, 0]), s, "prod").sum(), s)
    assert g.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_double_backward(reduce):
    x = nf.tensor(X, requires_grad=True)
    s = nf.tensor(SRC[:, :4], requires_grad=True)
    assert nf.autograd.gradgradcheck(lambda a, b: a.scatter_reduce(0, nf.tensor(INDEX), b, reduce) ** 2,
                                     [x, s])


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_on_integers_matches_torch(reduce, include_self):
    # The integer mean is floored, as in PyTorch.
    x = np.array([[5, -7, 9, 1], [3, 2, 2, 2]])
    src = np.array([[4, 5, 6], [-1, -2, 0]])
    index = np.array([[0, 0, 1], [2, 2, 2]])
    check_forward(lambda m, a, s: a.scatter_reduce(1, _long(m, index), s, reduce, include_self=include_self),
                  x, src)


def test_scatter_reduce_of_a_0d_tensor_and_int32_indices_as_torch():
    check(lambda m, a, s: a.scatter_reduce(0, _long(m, [0, 0]), s, "prod"), np.array(3.0),
          np.array([2.0, -1.5]))
    check(lambda m, a, s: a.scatter_reduce(0, _long(m, 0), s, "sum"), np.array(3.0), np.array(2.0))
    check(lambda m, a, s: a.scatter_reduce(0, _long(m, INDEX, m.int32), s, "mean"), X, SRC[:, :4])


def test_scatter_reduce_with_an_empty_index_returns_the_input():
    empty = np.zeros((0, 4), dtype=np.int64)
    check(lambda m, a, s: a.scatter_reduce(0, _long(m, empty), s, "amax"), X, SRC[:0, :4])


def test_nan_propagates_through_amax_as_torch():
    check_forward(lambda m, a, s: a.scatter_reduce(0, _long(m, [1, 1, 0]), s, "amax"),
                  np.array([1.0, 2.0]), np.array([np.nan, 0.5, 3.0]))


def test_in_place_scatter_reduce_changes_the_tensor_and_its_history():
    def fn(m, x, s):
        y = x * 1
        y.scatter_reduce_(0, _long(m, INDEX), s, "amin", include_self=False)
        return y

    check(fn, X, SRC[:, :4])


def test_multiply_at_without_ufunc_at_matches_numpy():
    # The CuPy path (no multiply.at there), run on NumPy: repeats multiply in, in any order.
    positions = np.array([3, 1, 3, 3, 0, 1])
    values = rng.standard_normal(6)
    expected = rng.standard_normal(5)
    got = expected.copy()
    np.multiply.at(expected, positions, values)
    _multiply_at(np, got, positions, values)
    np.testing.assert_allclose(got, expected)


# --------------------------------------------------------------------------- scatter(reduce=...)
@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_with_reduce_matches_torch_for_a_src_and_a_value(reduce):
    index = np.array([[0, 2, 0, 2], [0, 0, 2, 1]])
    check_forward(lambda m, a, s: a.scatter(0, _long(m, index), s, reduce=reduce), X, SRC)
    check_forward(lambda m, a: a.scatter(1, _long(m, index), 2.5, reduce=reduce), X)
    check_forward(lambda m, a: a.scatter(1, _long(m, index), value=-1.5, reduce=reduce), X)

    def in_place(m, a, s):
        y = a.clone()
        y.scatter_(0, _long(m, index), s, reduce=reduce)
        return y

    check_forward(in_place, X, SRC)


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_with_reduce_has_gradients_where_torch_has_none(reduce):
    # PyTorch raises "derivative for aten::scatter is not implemented"; ours is scatter_reduce's.
    x = nf.tensor(X, requires_grad=True)
    s = nf.tensor(SRC, requires_grad=True)
    assert nf.autograd.gradcheck(lambda a, b: a.scatter(0, nf.tensor(INDEX), b, reduce=reduce), [x, s])


def test_in_place_scatter_with_reduce_keeps_the_old_values_its_gradient_needs():
    def fn(x, s):
        y = x * 1
        y.scatter_(0, nf.tensor(INDEX), s, reduce="multiply")
        return y

    assert nf.autograd.gradcheck(fn, [nf.tensor(X, requires_grad=True), nf.tensor(SRC, requires_grad=True)])


# --------------------------------------------------------------------------- index_reduce / index_copy
@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
def test_index_reduce_matches_torch(reduce, include_self):
    source = rng.standard_normal((3, 5))
    check(lambda m, x, s: x.index_reduce(1, _long(m, [3, 0, 3, 3, 1]), s, reduce, include_self=include_self),
          X, source)
    check(lambda m, x, s: m.index_reduce(x, 0, _long(m, [2, 2]), s, reduce, include_self=include_self),
          X, source[:2, :4])


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
def test_in_place_index_reduce():
    def fn(m, x, s):
        y = x + 0
        return y.index_reduce_(0, _long(m, [1, 1, 0]), s, "prod")

    check(fn, X, rng.standard_normal((3, 4)))


@pytest.mark.parametrize("fn", [
    lambda m, x, s: x.index_copy(0, _long(m, [2, 0]), s[:2, :4]),
    lambda m, x, s: m.index_copy(x, 1, _long(m, [3, 1, 0]), s[:, :3]),
    lambda m, x, s: x.index_copy(-1, _long(m, [3, 1, 0, 2]), s[:, :4]),
])
def test_index_copy_matches_torch(fn):
    check(fn, X, rng.standard_normal((3, 5)))


def test_in_place_index_copy_and_a_0d_index_copy():
    def fn(m, x, s):
        y = x * 2
        return y.index_copy_(1, _long(m, [2, 0]), s)

    check(fn, X, rng.standard_normal((3, 2)))
    check(lambda m, x, s: x.index_copy(0, _long(m, 0), s), np.array(1.0), np.array(5.0))


def test_index_reduce_and_copy_on_integers():
    x = np.arange(12).reshape(3, 4)
    check_forward(lambda m, a, s: a.index_copy(0, _long(m, [1]), s), x, -np.ones((1, 4), dtype=np.int64))
    (ours, _), (theirs, _) = run_both(
        lambda m, a, s: a.index_reduce(0, _long(m, [1, 1]), s, "mean"), x, np.array([[1, 2, 3, 4]] * 2),
        requires_grad=False)
    np.testing.assert_array_equal(ours[0], theirs[0])


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, error, match", [
    (lambda x: x.scatter_reduce(0, nf.tensor([[0]]), nf.ones(1, 1), "max"), RuntimeError,
     "scatter_reduce\\(\\): reduce argument must be either sum, prod, mean, amax or amin, got 'max'"),
    (lambda x: x.scatter_reduce(0, nf.tensor([[0.0]]), nf.ones(1, 1), "sum"), RuntimeError,
     "scatter_reduce\\(\\): Expected dtype int32/int64 for index, got nbframe.float32"),
    (lambda x: x.scatter_reduce(0, nf.tensor([[0]], dtype=nf.int16), nf.ones(1, 1), "sum"), RuntimeError,
     "Expected dtype int32/int64 for index"),
    (lambda x: x.scatter_reduce(2, nf.tensor([[0]]), nf.ones(1, 1), "sum"), IndexError,
     "Dimension out of range"),
    (lambda x: x.scatter_reduce(0, nf.tensor([0]), nf.ones(1, 1), "sum"), RuntimeError,
     "Index tensor must have the same number of dimensions"),
    (lambda x: x.scatter_reduce(0, nf.tensor([[0, 1]]), nf.ones(1, 1), "sum"), RuntimeError,
     "smaller size than src"),
    (lambda x: x.scatter_reduce(0, nf.tensor([[0, 1, 0, 1, 0]]), nf.ones(1, 5), "sum"), RuntimeError,
     "Size does not match at dimension 1"),
    (lambda x: x.scatter_reduce(0, nf.tensor([[3]]), nf.ones(1, 1), "sum"), RuntimeError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda x: x.scatter_reduce(0, nf.tensor([[0]]), nf.ones(1, 1, dtype=nf.float64), "sum"), RuntimeError,
     "scatter_reduce\\(\\): Expected self.dtype to be equal to src.dtype"),
    (lambda x: x.scatter_reduce(0, nf.tensor([[0]]), 2.0, "sum"), TypeError,
     "argument 'src' must be Tensor, not float"),
    (lambda x: x.scatter(0, nf.tensor([[0]]), nf.ones(1, 1), reduce="mean"), RuntimeError,
     "scatter\\(\\): reduce argument must be either add or multiply, got 'mean'"),
    (lambda x: x.scatter(0, nf.tensor([[0]]), nf.ones(1, 1, dtype=nf.float64), reduce="add"), RuntimeError,
     "Expected self.dtype to be equal to src.dtype"),
    (lambda x: x.index_reduce(0, nf.tensor([0]), nf.ones(1, 4), "sum"), RuntimeError,
     "index_reduce\\(\\): reduce argument must be either prod, mean, amax or amin, got 'sum'"),
    (lambda x: x.index_reduce(0, nf.tensor([[0]]), nf.ones(1, 4), "prod"), IndexError,
     "index_reduce\\(\\): Index is supposed to be a vector"),
    (lambda x: x.index_reduce(0, nf.tensor([0.0]), nf.ones(1, 4), "prod"), RuntimeError,
     "Expected dtype int32/int64 for index"),
    (lambda x: x.index_reduce(0, nf.tensor([0, 1]), nf.ones(3, 4), "prod"), RuntimeError,
     "Number of indices \\(2\\) should be equal to source.size\\(dim\\) \\(3\\)"),
    (lambda x: x.index_reduce(0, nf.tensor([0]), nf.ones(1, 3), "prod"), RuntimeError,
     "source tensor shape must match self tensor shape, excluding the specified dimension"),
    (lambda x: x.index_reduce(0, nf.tensor([5]), nf.ones(1, 4), "prod"), IndexError,
     "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda x: x.index_reduce(0, nf.tensor([0]), nf.ones(1, 4, dtype=nf.float64), "prod"), RuntimeError,
     "Expected self.dtype to be equal to source.dtype"),
    (lambda x: x.index_copy(0, nf.tensor([0], dtype=nf.int32), nf.ones(1, 4)), RuntimeError,
     "index_copy\\(\\): Expected dtype int64 for index, got nbframe.int32"),
    (lambda x: x.index_copy(0, nf.tensor([0]), nf.ones(1, 4, 1)), IndexError,
     "index_copy\\(\\): source tensor shape must match"),
    (lambda x: x.index_copy(3, nf.tensor([0]), nf.ones(1, 4)), IndexError, "Dimension out of range"),
    (lambda x: x.index_fill(0, nf.tensor([0], dtype=nf.int32), 1.0), IndexError,
     "index_fill\\(\\): Expected dtype int64 for index, got nbframe.int32"),
    (lambda x: x.index_select(0, nf.tensor([0], dtype=nf.uint8)), IndexError,
     "index_select\\(\\): Expected dtype int32/int64 for index"),
])
def test_bad_input_errors_name_the_op_and_what_was_expected(call, error, match):
    with pytest.raises(error, match=match):
        call(nf.zeros(3, 4))
