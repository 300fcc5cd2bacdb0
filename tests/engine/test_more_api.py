"""nbframe.linalg against torch.linalg, set/get_num_threads, ``size=`` on creation, the clean namespace."""

import math

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check

rng = np.random.default_rng(11)


def r(*shape):
    return rng.standard_normal(shape)


def well_conditioned(*shape):
    """Random square matrices kept far from singular (identity-heavy), so finite differences are stable."""
    return r(*shape) + 3 * np.eye(shape[-1])


# --------------------------------------------------------------------------- namespace
def test_linalg_is_the_public_namespace_not_the_ops_module():
    assert nf.linalg.__name__ == "nbframe.linalg"
    assert nf.linalg.vector_norm is not None and nf.ops.linalg.matmul is nf.matmul


@pytest.mark.parametrize("name", ["shape", "reduce", "index", "elementwise", "conv", "MODULES", "broadcast"])
def test_ops_submodules_do_not_leak_into_nbframe(name):
    assert not hasattr(nf, name)


def test_ops_all_lists_only_functions():
    assert all(callable(getattr(nf.ops, name)) for name in nf.ops.__all__)
    assert not any(isinstance(getattr(nf.ops, name), type(nf)) for name in nf.ops.__all__)


# --------------------------------------------------------------------------- norms
@pytest.mark.parametrize("ord, dim", [
    (2, None), (1, 1), (math.inf, 0), (-math.inf, 1), (0, None), (3.5, (0, 1)),
])
def test_vector_norm_matches_torch(ord, dim):
    check(lambda m, a: m.linalg.vector_norm(a, ord, dim), r(3, 4))


def test_vector_norm_keepdim_and_dtype():
    check(lambda m, a: m.linalg.vector_norm(a, dim=-1, keepdim=True, dtype=m.float64), r(2, 3))


@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf])
def test_matrix_norm_matches_torch(ord):
    check(lambda m, a: m.linalg.matrix_norm(a, ord), r(2, 3, 4))
    check(lambda m, a: m.linalg.matrix_norm(a, ord, dim=(0, 2), keepdim=True), r(3, 2, 4))


@pytest.mark.parametrize("ord, dim, shape", [
    (None, None, (2, 3, 4)), (None, 1, (2, 3)), (None, (0, 1), (2, 3)), (1, None, (4,)),
    (math.inf, None, (3, 3)), ("fro", None, (3, 2)), (2, -1, (2, 5)),
])
def test_norm_picks_vector_or_matrix_norm_like_torch(ord, dim, shape):
    check(lambda m, a: m.linalg.norm(a, ord, dim), r(*shape))


def test_norms_refuse_what_torch_refuses():
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        nf.linalg.matrix_norm(nf.rand(3))
    with pytest.raises(RuntimeError, match="must be 1D or 2D"):
        nf.linalg.norm(nf.rand(2, 2, 2), ord=2)
    with pytest.raises(TypeError, match="must be Number"):
        nf.linalg.vector_norm(nf.rand(2), ord="fro")
    with pytest.raises(RuntimeError, match="Order 3 not supported"):
        nf.linalg.matrix_norm(nf.rand(2, 2), 3)


# --------------------------------------------------------------------------- inv, det, solve
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_inv_matches_torch(shape):
    check(lambda m, a: m.linalg.inv(a), well_conditioned(*shape))


@pytest.mark.parametrize("shape", [(3, 3), (2, 2, 2)])
def test_det_matches_torch(shape):
    check(lambda m, a: m.linalg.det(a), well_conditioned(*shape))


@pytest.mark.parametrize("sa, sb", [
    ((3, 3), (3, 2)), ((3, 3), (3,)), ((2, 3, 3), (2, 3)), ((2, 3, 3), (3, 1)), ((3, 3), (4, 3, 2)),
])
def test_solve_matches_torch_with_vectors_and_broadcast_batches(sa, sb):
    check(lambda m, a, b: m.linalg.solve(a, b), well_conditioned(*sa), r(*sb))


def test_solve_from_the_right():
    check(lambda m, a, b: m.linalg.solve(a, b, left=False), well_conditioned(3, 3), r(2, 3))


@pytest.mark.parametrize("fn", [
    lambda a: nf.linalg.inv(a), lambda a: nf.linalg.det(a), lambda a: nf.linalg.solve(a, a.sum(-1)),
])
def test_inv_det_solve_double_backward(fn):
    a = nf.tensor(well_conditioned(3, 3), requires_grad=True)
    assert nf.autograd.gradgradcheck(fn, [a])


def test_inv_det_solve_refuse_bad_matrices():
    with pytest.raises(RuntimeError, match="batches of square matrices"):
        nf.linalg.inv(nf.rand(2, 3))
    with pytest.raises(RuntimeError, match="singular"):
        nf.linalg.inv(nf.zeros(2, 2))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        nf.linalg.det(nf.rand(3))
    with pytest.raises(RuntimeError, match="Incompatible shapes"):
        nf.linalg.solve(nf.rand(2, 2), nf.rand(3))
    with pytest.raises(RuntimeError, match="floating point"):
        nf.linalg.inv(nf.tensor([[1, 2], [3, 4]]))


# --------------------------------------------------------------------------- threads
def test_set_num_threads_changes_get_num_threads():
    before = nf.get_num_threads()
    try:
        nf.set_num_threads(1)
        assert nf.get_num_threads() == 1
    finally:
        nf.set_num_threads(before)
    assert nf.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_set_num_threads_refuses_non_positive_integers(bad):
    with pytest.raises(RuntimeError, match="positive integer"):
        nf.set_num_threads(bad)


# --------------------------------------------------------------------------- size= keyword
@pytest.mark.parametrize("make", [nf.zeros, nf.ones, nf.empty, nf.rand, nf.randn])
def test_creation_functions_take_size_as_a_keyword(make):
    assert make(size=(2, 3)).shape == (2, 3)
    assert make(size=[4]).shape == (4,)
    assert make(size=5).shape == (5,)
    assert make(size=(2, 3), dtype=nf.float64).dtype == nf.float64


def test_size_given_twice_is_refused():
    with pytest.raises(TypeError, match="size twice"):
        nf.zeros(2, size=(2, 3))


def test_full_takes_size_as_a_keyword():
    assert nf.full(size=(2, 2), fill_value=7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
