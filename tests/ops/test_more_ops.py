"""unique, bincount, histc, multinomial, repeat_interleave, diag/diagonal/diag_embed against PyTorch."""

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, check_forward, torch_or_skip

rng = np.random.default_rng(7)


def r(*shape):
    return rng.standard_normal(shape)


# --------------------------------------------------------------------------- unique
@pytest.mark.parametrize("return_inverse", [False, True])
@pytest.mark.parametrize("return_counts", [False, True])
def test_unique_matches_torch_with_inverse_and_counts(return_inverse, return_counts):
    values = np.array([[3, 1, 2], [1, 3, 3]])
    check_forward(
        lambda m, a: m.unique(a, return_inverse=return_inverse, return_counts=return_counts), values
    )


def test_unique_of_floats_and_the_tensor_method():
    check_forward(lambda m, a: a.unique(), np.array([0.5, -1.0, 0.5, 2.0]))


def test_unique_along_a_dim_finds_distinct_rows():
    rows = np.array([[1, 2], [1, 2], [0, 1]])
    check_forward(lambda m, a: m.unique(a, dim=0, return_inverse=True, return_counts=True), rows)


def test_unique_unsorted_has_the_same_values():
    out = nf.unique(nf.tensor([3, 1, 2, 1]), sorted=False)
    assert sorted(out.tolist()) == [1, 2, 3]


# --------------------------------------------------------------------------- bincount
def test_bincount_counts_each_value():
    check_forward(lambda m, a: m.bincount(a), np.array([1, 3, 3, 0, 3]))


def test_bincount_minlength_pads_with_zeros():
    check_forward(lambda m, a: m.bincount(a, minlength=7), np.array([1, 3]))
    check_forward(lambda m, a: m.bincount(a, minlength=3), np.array([], dtype=np.int64))


def _weighted_bincount(m, x, w):
    # torch's bincount has no derivative; index_add is the same sum, and differentiable.
    return m.bincount(x, weights=w, minlength=6) if m is nf else m.zeros(6, dtype=w.dtype).index_add(0, x, w)


def test_bincount_weights_are_summed_and_differentiable():
    check_forward(lambda m, x, w: m.bincount(x, weights=w, minlength=6), np.array([1, 3, 3, 0, 3]), r(5))
    check(_weighted_bincount, np.array([1, 3, 3, 0, 3]), r(5))


def test_bincount_integer_weights_give_float64():
    check_forward(lambda m, x, w: m.bincount(x, w), np.array([0, 2, 2]), np.array([1, 2, 3]))


@pytest.mark.parametrize("values", [[-1, 2], [[1, 2]]])
def test_bincount_refuses_negative_or_non_vector_input(values):
    with pytest.raises(RuntimeError, match="1-d non-negative integral"):
        nf.bincount(nf.tensor(values))


def test_bincount_refuses_weights_of_another_length():
    with pytest.raises(RuntimeError, match="same length as input"):
        nf.bincount(nf.tensor([0, 1]), nf.tensor([1.0, 2.0, 3.0]))


# --------------------------------------------------------------------------- histc
@pytest.mark.parametrize("bins, low, high", [(4, 0, 0), (5, -1.0, 1.0), (3, 0.2, 0.5)])
def test_histc_matches_torch(bins, low, high):
    data = np.concatenate([r(50), [-1.0, 1.0, 0.2, 0.5]])
    check_forward(lambda m, a: m.histc(a, bins=bins, min=low, max=high), data.astype(np.float32))


def test_histc_of_constant_values_widens_the_range():
    check_forward(lambda m, a: m.histc(a, bins=3), np.ones(3, dtype=np.float32))


def test_histc_refuses_integers_and_bad_ranges():
    with pytest.raises(NotImplementedError, match="floating"):
        nf.histc(nf.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="max must be larger than min"):
        nf.histc(nf.rand(3), min=2, max=1)
    with pytest.raises(RuntimeError, match="bins must be > 0"):
        nf.histc(nf.rand(3), bins=0)


# --------------------------------------------------------------------------- multinomial
def test_multinomial_with_replacement_follows_the_weights():
    nf.manual_seed(0)
    weights = nf.tensor([1.0, 0.0, 3.0])
    draws = nf.multinomial(weights, 20000, replacement=True)
    assert draws.dtype == nf.int64 and draws.shape == (20000,)
    freq = np.bincount(draws.numpy(), minlength=3) / 20000
    np.testing.assert_allclose(freq, [0.25, 0.0, 0.75], atol=0.02)


def test_multinomial_without_replacement_draws_distinct_nonzero_categories():
    weights = nf.tensor([[1.0, 0.0, 2.0, 5.0], [0.0, 1.0, 1.0, 1.0]])
    draws = weights.multinomial(3)
    assert draws.shape == (2, 3)
    for row, w in zip(draws.tolist(), weights.tolist()):
        assert len(set(row)) == 3 and all(w[i] > 0 for i in row)


def test_multinomial_without_replacement_favours_heavy_categories_first():
    nf.manual_seed(1)
    firsts = nf.multinomial(nf.tensor([[1.0, 9.0]] * 4000), 2)[:, 0].numpy()
    assert abs(firsts.mean() - 0.9) < 0.03


def test_multinomial_generator_makes_draws_repeatable():
    weights = nf.rand(5)
    first = nf.multinomial(weights, 4, generator=nf.Generator().manual_seed(3))
    again = nf.multinomial(weights, 4, generator=nf.Generator().manual_seed(3))
    assert first.tolist() == again.tolist()


@pytest.mark.parametrize("weights, n, replacement, message", [
    ([1.0, -1.0], 1, True, "element < 0"),
    ([0.0, 0.0], 1, True, "sum of probabilities <= 0"),
    ([1.0, 2.0, 3.0], 4, False, "without replacement"),
    ([1.0, 2.0], 0, True, "n_sample <= 0"),
    ([1, 2], 1, True, "floating-point dtypes"),
    ([[[1.0]]], 1, True, "1 or 2 dim"),
])
def test_multinomial_refuses_bad_distributions_like_torch(weights, n, replacement, message):
    torch = torch_or_skip()
    with pytest.raises(RuntimeError, match=message):
        nf.multinomial(nf.tensor(weights), n, replacement)
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor(weights), n, replacement)


def test_multinomial_refuses_more_distinct_draws_than_nonzero_weights():
    # PyTorch's documentation requires this; its CPU kernel silently draws zero-weight categories instead.
    with pytest.raises(RuntimeError, match="not enough non-negative category"):
        nf.multinomial(nf.tensor([1.0, 0.0, 0.0]), 2)


# --------------------------------------------------------------------------- repeat_interleave
def test_repeat_interleave_int_flattens_without_dim():
    check(lambda m, a: m.repeat_interleave(a, 2), r(2, 3))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_repeat_interleave_int_along_dim(dim):
    check(lambda m, a: a.repeat_interleave(3, dim=dim), r(2, 3))


def test_repeat_interleave_tensor_repeats_with_zeros():
    check(lambda m, a, n: m.repeat_interleave(a, n, dim=1), r(2, 3), np.array([2, 0, 1]))


def test_repeat_interleave_of_counts_alone_repeats_indices():
    check_forward(lambda m, n: m.repeat_interleave(n), np.array([2, 1, 0, 3]))


def test_repeat_interleave_double_backward():
    check(lambda m, a: (a.repeat_interleave(2, dim=0) ** 3).sum(), r(3))
    x = nf.tensor(r(3), requires_grad=True)
    (g,) = nf.autograd.grad((x.repeat_interleave(2) ** 3).sum(), x, create_graph=True)
    cube = lambda t: t.repeat_interleave(2) ** 3  # noqa: E731
    assert nf.autograd.gradgradcheck(cube, [nf.tensor(r(3), requires_grad=True)])
    assert g.requires_grad


def test_repeat_interleave_refuses_bad_repeats():
    with pytest.raises(RuntimeError, match="same size as input along dim"):
        nf.repeat_interleave(nf.rand(3), nf.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="negative"):
        nf.repeat_interleave(nf.rand(3), -1)
    with pytest.raises(RuntimeError, match="can not be negative"):
        nf.repeat_interleave(nf.rand(3), nf.tensor([1, -2, 1]))


# --------------------------------------------------------------------------- diagonals
@pytest.mark.parametrize("offset", [0, 1, -2])
def test_diag_of_a_vector_builds_a_matrix(offset):
    check(lambda m, a: m.diag(a, offset), r(3))


@pytest.mark.parametrize("offset", [0, 1, -1, 5])
def test_diag_of_a_matrix_reads_its_diagonal(offset):
    check(lambda m, a: m.diag(a, offset), r(3, 4))
    check(lambda m, a: a.diag(offset), r(4, 3))


@pytest.mark.parametrize("offset, dim1, dim2", [(0, 0, 1), (1, 0, 2), (-1, 2, 0), (0, -1, -2)])
def test_diagonal_of_any_pair_of_dims(offset, dim1, dim2):
    check(lambda m, a: m.diagonal(a, offset, dim1, dim2), r(3, 4, 5))


@pytest.mark.parametrize("offset, dim1, dim2", [(0, -2, -1), (1, 0, 2), (-2, 2, 0), (0, 1, 0)])
def test_diag_embed_puts_the_last_dim_on_a_diagonal(offset, dim1, dim2):
    check(lambda m, a: m.diag_embed(a, offset, dim1, dim2), r(2, 3))


def test_diagonal_double_backward():
    assert nf.autograd.gradgradcheck(
        lambda a: nf.diag_embed(nf.diagonal(a, 1) ** 2), [nf.tensor(r(3, 3), requires_grad=True)]
    )


def test_diag_refuses_three_dims_and_identical_dims():
    with pytest.raises(RuntimeError, match="Supports 1D or 2D tensors. Got 3D"):
        nf.diag(nf.rand(2, 2, 2))
    with pytest.raises(RuntimeError, match="cannot be identical"):
        nf.diagonal(nf.rand(2, 2), 0, 0, 0)
