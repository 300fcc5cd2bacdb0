"""Names the compatibility scripts needed and nbframe lacked, each checked against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, check_forward, torch_or_skip

A = np.random.default_rng(0).standard_normal((2, 3, 4))


@pytest.mark.parametrize("diagonal", [-1, 0, 2])
def test_tril_and_triu_match_torch_with_gradients(diagonal):
    check(lambda m, x: m.tril(x, diagonal) * 2 + x.triu(diagonal) ** 2, A)


def test_tril_refuses_a_vector_as_torch_does():
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        nf.tril(nf.zeros(3))


def test_hstack_joins_vectors_end_to_end_and_matrices_side_by_side():
    check(lambda m, a, b: m.hstack([a, b]), A[0, 0], A[1, 1])
    check(lambda m, a, b: m.hstack((a, b)), A[0], A[1, :, :2])


def test_vstack_makes_vectors_rows():
    check(lambda m, a, b: m.vstack([a, b]), A[0, 0], A[1])


def test_isclose_matches_torch_including_nan_handling():
    a = np.array([1.0, 2.0, np.nan, np.inf])
    b = np.array([1.0 + 1e-9, 2.1, np.nan, np.inf])
    check_forward(lambda m, x, y: m.isclose(x, y), a, b)
    check_forward(lambda m, x, y: x.isclose(y, rtol=0.1, equal_nan=True), a, b)


def test_allclose_and_equal_give_python_bools_like_torch():
    torch = torch_or_skip()
    a, b = A[0], A[0] + 1e-7
    for m in (nf, torch):
        assert m.allclose(m.tensor(a), m.tensor(b)) is True
        assert m.tensor(a).allclose(m.tensor(b), atol=0, rtol=1e-12) is False
        assert m.equal(m.tensor(a), m.tensor(a)) is True
        assert m.tensor(a).equal(m.tensor(b)) is False
        assert m.equal(m.zeros(2), m.zeros(3)) is False


def test_isclose_refuses_mixed_dtypes_with_torchs_message():
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        nf.isclose(nf.zeros(2), nf.zeros(2, dtype=nf.float64))


def test_isclose_refuses_a_number_for_other():
    with pytest.raises(TypeError, match="argument 'other' must be Tensor, not float"):
        nf.allclose(nf.zeros(2), 0.0)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_torch_with_gradients(indexing):
    check(lambda m, a, b, c: [g * (i + 1) for i, g in enumerate(m.meshgrid(a, b, c, indexing=indexing))],
          A[0, 0], A[1, 1], A[0, 1, :2])


def test_meshgrid_takes_a_list_and_defaults_to_ij():
    check(lambda m, a, b: m.meshgrid([a, b], indexing="ij")[1], A[0, 0], A[1, 0])
    assert nf.meshgrid(nf.zeros(2), nf.zeros(3))[0].shape == (2, 3)


def test_meshgrid_refuses_a_matrix():
    with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor"):
        nf.meshgrid(nf.zeros(2, 2), nf.zeros(2))


def test_cartesian_prod_lists_combinations_in_product_order():
    check(lambda m, a, b: m.cartesian_prod(a, b), A[0, 0, :3], A[1, 1, :2])
