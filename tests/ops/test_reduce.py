"""Reductions and scans against PyTorch (values, indices, gradients) and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, check_forward, torch_or_skip

rng = np.random.default_rng(1)
X = rng.standard_normal((3, 4))
X3 = rng.standard_normal((2, 3, 4))
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0]])

DIM_CASES = [None, 0, 1, -1]


# --------------------------------------------------------------------------- sum, mean, prod
@pytest.mark.parametrize("dim", [None, 0, (0, 2), -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_and_mean_match_torch(dim, keepdim):
    if dim is None and keepdim:
        check(lambda m, x: (m.sum(x), m.mean(x)), X3)
        return
    check(lambda m, x: (x.sum(dim, keepdim), x.mean(dim, keepdim)), X3)


@pytest.mark.parametrize("dim", DIM_CASES)
def test_prod_matches_torch(dim):
    check(lambda m, x: m.prod(x) if dim is None else m.prod(x, dim), X)


@pytest.mark.parametrize("zeros", [[(0, 1)], [(0, 1), (0, 3)], [(0, 1), (2, 2)]],
                         ids=["one", "two-in-a-row", "spread"])
def test_prod_gradient_is_exact_with_zeros_in_the_input(zeros):
    x = X.copy()
    for index in zeros:
        x[index] = 0.0
    check(lambda m, t: m.prod(t), x, gradcheck=False)
    check(lambda m, t: t.prod(1, keepdim=True), x)


def test_prod_of_integers_is_int64_like_torch():
    check_forward(lambda m, x: (m.prod(x), m.prod(x, 0)), np.array([[1, 2], [3, 4]], dtype=np.int32))


# --------------------------------------------------------------------------- max, min, amax, argmax
def test_max_and_min_without_dim_split_gradient_among_ties():
    check(lambda m, x: (m.max(x), m.min(x)), TIES, gradcheck=False)


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim_give_values_and_indices_like_torch(op, keepdim):
    check(lambda m, x: tuple(getattr(x, op)(1, keepdim=keepdim)), X)
    check(lambda m, x: tuple(getattr(m, op)(x, dim=0, keepdim=keepdim)), X3)


def test_max_with_dim_returns_a_named_tuple():
    result = nf.tensor(X).max(dim=1)
    values, indices = result
    assert result.values is values and result.indices is indices
    assert type(result).__name__ == "max"
    assert repr(result).startswith("nbframe.return_types.max(\nvalues=tensor(")


def test_max_of_two_tensors_is_maximum():
    check(lambda m, a, b: (m.max(a, b), m.min(a, b)), X, X[0] * 0.5)


@pytest.mark.parametrize("dim", [None, 1, (0, 1), -1])
def test_amax_amin_split_gradient_evenly_among_ties_like_torch(dim):
    if dim is None:
        check(lambda m, x: (m.amax(x), m.amin(x)), TIES, gradcheck=False)
    else:
        check(lambda m, x: (m.amax(x, dim), m.amin(x, dim, keepdim=True)), TIES, gradcheck=False)


def test_amax_matches_finite_differences_without_ties():
    check(lambda m, x: m.amax(x, (0, 2)), X3)


@pytest.mark.parametrize("dim", DIM_CASES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin_match_torch(dim, keepdim):
    check_forward(lambda m, x: (m.argmax(x, dim, keepdim), m.argmin(x, dim=dim, keepdim=keepdim)), X3)


def test_max_of_empty_tensor_names_the_missing_dim():
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
        nf.zeros(0).max()
    with pytest.raises(RuntimeError, match="reduction dim 1 to have non-zero size"):
        nf.zeros(2, 0).max(1)


def test_max_propagates_nan_like_torch():
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
    check_forward(lambda m, t: (m.max(t), *m.max(t, 1), m.amax(t, 1)), x)


def test_reductions_of_a_zero_dim_tensor_match_torch():
    check(lambda m, x: (*x.max(0), x.amax(), x.sum(0), x.argmax(0)), np.array(2.5), gradcheck=False)


# --------------------------------------------------------------------------- median
def test_median_is_the_lower_middle_value_and_splits_ties():
    check(lambda m, x: m.median(x), X, gradcheck=False)
    check(lambda m, x: m.median(x), np.array([2.0, 1.0, 2.0, 5.0]), gradcheck=False)


@pytest.mark.parametrize("keepdim", [False, True])
def test_median_with_dim_matches_torch(keepdim):
    check(lambda m, x: tuple(m.median(x, 1, keepdim)), X)
    check(lambda m, x: tuple(x.median(dim=0)), X3)


# --------------------------------------------------------------------------- var, std
@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize("dim", [None, 0, (0, 2), -1])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_and_std_match_torch(dim, correction):
    degenerate = dim == 0 and correction == 2  # two elements, divided by max(0, 2 - 2): inf and NaN
    check(lambda m, x: (m.var(x, dim, correction=correction), m.std(x, dim, correction=correction)), X3,
          gradcheck=not degenerate)


def test_var_std_accept_torch_legacy_unbiased_spellings():
    check(lambda m, x: (x.var(False), x.std(1, False), x.var(0, True, True), x.std(unbiased=False)), X)
    check(lambda m, x: (*m.var_mean(x, 1), *m.std_mean(x, dim=0, keepdim=True)), X)


def test_std_gradient_of_a_constant_slice_is_zero_like_torch():
    check(lambda m, x: m.std(x, 1), np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]), gradcheck=False)


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
def test_var_with_too_few_elements_gives_inf_or_nan_like_torch():
    check_forward(lambda m, x: (m.var(x), m.var(x, correction=5)), np.array([1.0, 2.0, 3.0]))
    check_forward(lambda m, x: m.var(x), np.array([1.0]))


def test_var_of_integers_is_refused_like_torch():
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        nf.tensor([1, 2]).var()


# --------------------------------------------------------------------------- logsumexp, norm
@pytest.mark.parametrize("dim", [0, 1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_matches_torch(dim, keepdim):
    check(lambda m, x: m.logsumexp(x, dim, keepdim), X)


def test_logsumexp_is_stable_for_huge_and_infinite_inputs():
    check(lambda m, x: m.logsumexp(x, 1), np.array([[1000.0, 1000.0], [-1000.0, -1001.0]]), gradcheck=False)
    check_forward(lambda m, x: m.logsumexp(x, 1), np.array([[-np.inf, -np.inf], [np.inf, 1.0]]))


def test_logsumexp_of_integers_is_float32_like_torch():
    check_forward(lambda m, x: m.logsumexp(x, 0), np.array([1, 2, 3]))


@pytest.mark.parametrize("p", ["fro", 2, 1, 3, 0.5, math.inf, -math.inf, 0])
@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_norm_matches_torch(p, dim):
    gradcheck = p != 0
    check(lambda m, x: m.norm(x, p, dim), X, gradcheck=gradcheck)
    check(lambda m, x: x.norm(p=p, dim=dim, keepdim=True), X, gradcheck=False)


@pytest.mark.parametrize("p", [2, 1, math.inf, 3])
def test_norm_gradient_at_zero_is_zero_like_torch(p):
    check(lambda m, x: m.norm(x, p, 1), np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]]), gradcheck=False)


def test_norm_of_integers_is_refused_like_torch():
    with pytest.raises(RuntimeError, match="floating point"):
        nf.tensor([1, 2]).norm()


def test_nuclear_norm_says_it_is_not_implemented():
    with pytest.raises(NotImplementedError, match="nuc"):
        nf.ones(2, 2).norm(p="nuc")


# --------------------------------------------------------------------------- scans
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_and_cumprod_match_torch(dim):
    check(lambda m, x: (m.cumsum(x, dim), m.cumprod(x, dim=dim)), X3)


def test_cumprod_gradient_is_exact_with_zeros():
    x = X.copy()
    x[0, 1] = 0.0
    x[1, 0] = x[1, 2] = 0.0
    check(lambda m, t: m.cumprod(t, 1), x)


def test_cumsum_second_derivative_matches_finite_differences():
    x = nf.tensor(X, requires_grad=True)
    assert nf.autograd.gradgradcheck(lambda t: (t.cumsum(1) ** 2).cumsum(0), (x,))


def test_scans_of_integers_and_bools_are_int64_like_torch():
    check_forward(lambda m, x: (m.cumsum(x, 0), m.cumprod(x, 0)), np.array([1, 2, 3], dtype=np.int32))
    check_forward(lambda m, x: m.cumsum(x, 0), np.array([True, False, True]))


# --------------------------------------------------------------------------- all, any, count_nonzero
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_all_any_match_torch(dim):
    x = np.array([[True, False, True], [True, True, True]])
    if dim is None:
        check_forward(lambda m, t: (m.all(t), m.any(t), t.all(), (t & False).any()), x)
    else:
        check_forward(lambda m, t: (m.all(t, dim), m.any(t, dim, keepdim=True)), x)
    check_forward(lambda m, t: (m.all(t), m.any(t)), np.array([0.0, 1.5]))


def test_count_nonzero_matches_torch():
    check_forward(lambda m, x: (m.count_nonzero(x), m.count_nonzero(x, 0)), np.array([[0, 1, 2], [0, 0, 3]]))


# --------------------------------------------------------------------------- errors and higher order
def test_reduction_over_a_dim_out_of_range_names_the_range():
    with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\], but got 2"):
        nf.ones(2, 3).sum(2)


@pytest.mark.parametrize("fn", [
    lambda x: x.var(1), lambda x: x.std(0), lambda x: x.logsumexp(1), lambda x: x.norm(dim=1),
    lambda x: x.norm(p=3), lambda x: x.prod(1), lambda x: x.cumprod(0), lambda x: x.max(1).values,
], ids=["var", "std", "logsumexp", "norm2", "norm3", "prod", "cumprod", "max-dim"])
def test_second_derivatives_match_finite_differences(fn):
    x = nf.tensor(X, requires_grad=True)
    assert nf.autograd.gradgradcheck(fn, (x,))


def test_double_backward_through_prod_with_a_zero_says_it_is_not_implemented():
    x = nf.tensor([0.0, 2.0, 3.0], requires_grad=True)
    (g,) = nf.autograd.grad(x.prod(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="prod"):
        g.sum().backward()


def test_reductions_keep_float32_like_torch():
    torch = torch_or_skip()
    x = X.astype(np.float32)
    for name in ("sum", "mean", "prod", "amax", "var", "std", "logsumexp", "norm", "median"):
        args = () if name in ("norm", "median") else (0,)
        assert getattr(torch, name)(torch.tensor(x), *args).dtype == torch.float32
        assert getattr(nf, name)(nf.tensor(x), *args).dtype == nf.float32, name
