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


def test_legacy_tensor_constructor_takes_sizes_and_makes_python_data_float():
    torch = torch_or_skip()
    for args in [(3, 4), (2,), (torch.Size([2, 1]),), ([1, 2],), ([[1.5]],), ()]:
        nf_args = tuple(nf.Size(a) if isinstance(a, torch.Size) else a for a in args)
        made, want = nf.Tensor(*nf_args), torch.Tensor(*args)
        assert tuple(made.shape) == tuple(want.shape) and made.dtype is nf.float32, args


def test_zero_dim_tensor_formats_as_its_number_in_f_strings():
    assert f"{nf.tensor(1.5)}" == "1.5"
    assert f"{nf.tensor(0.123456):.3f}" == "0.123"
    assert f"{nf.nn.Parameter(nf.tensor(1.5))}".startswith("Parameter containing")


def test_size_slices_and_sums_stay_sizes():
    shape = nf.zeros(2, 3, 4).shape
    assert isinstance(shape[1:], nf.Size) and shape[1:] == (3, 4)
    assert isinstance(shape + (5,), nf.Size) and repr(shape[:1]) == "nbframe.Size([2])"
    assert shape[0] == 2 and isinstance(shape[0], int)


def test_finfo_iinfo_and_math_constants_match_torch():
    torch = torch_or_skip()
    for name in ("float16", "float32", "float64", "bfloat16"):
        mine, theirs = nf.finfo(getattr(nf, name)), torch.finfo(getattr(torch, name))
        for field_name in ("eps", "max", "min", "tiny", "bits"):
            assert float(getattr(mine, field_name)) == pytest.approx(getattr(theirs, field_name), rel=1e-6)
    assert nf.iinfo(nf.int64).max == torch.iinfo(torch.int64).max
    assert nf.iinfo(nf.uint8).min == 0
    assert (nf.pi, nf.e, nf.inf) == (torch.pi, torch.e, torch.inf) and nf.nan != nf.nan
    with pytest.raises(TypeError, match="requires a floating point input type"):
        nf.finfo(nf.int32)
