"""nbframe.linalg's eigh, svd, cholesky, qr, slogdet and pinv against torch.linalg and gradcheck.

Eigen- and singular vectors are defined up to sign, so the compared outputs fix each vector's sign by
its first row; inputs to eigh and cholesky are made symmetric inside the function, as only one triangle
is read and PyTorch's gradients are meant for symmetric inputs.
"""

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, check_forward

rng = np.random.default_rng(5)


def r(*shape):
    return rng.standard_normal(shape)


def well_conditioned(*shape):
    return r(*shape) + 3 * np.eye(shape[-1])


def _signs_fixed(vectors):
    """Each column multiplied by the sign of its first row (the sign LAPACK picks is arbitrary)."""
    return vectors * vectors[..., :1, :].sign()


def _symmetric(a):
    return a + a.mT


def _positive_definite(m, a):
    n = a.shape[-1]
    return a @ a.mT + n * m.eye(n, dtype=a.dtype)


# --------------------------------------------------------------------------- eigh / eigvalsh
@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_eigh_matches_torch(shape, uplo):
    def fn(m, a):
        values, vectors = m.linalg.eigh(_symmetric(a), UPLO=uplo)
        return values, _signs_fixed(vectors)

    check(fn, r(*shape))


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_reads_only_the_triangle_uplo_names(uplo):
    check_forward(lambda m, a: m.linalg.eigh(a, uplo)[0], r(4, 4))
    check_forward(lambda m, a: m.linalg.eigvalsh(a, UPLO=uplo), r(2, 3, 3))


def test_eigh_gradient_of_the_eigenvectors_alone():
    check(lambda m, a: _signs_fixed(m.linalg.eigh(_symmetric(a)).eigenvectors), r(4, 4))


def test_eigvalsh_matches_torch():
    check(lambda m, a: m.linalg.eigvalsh(_symmetric(a)), r(2, 4, 4))


def test_eigh_returns_a_named_tuple():
    result = nf.linalg.eigh(nf.tensor([[2.0, 1.0], [1.0, 2.0]]))
    assert type(result).__name__ == "linalg_eigh"
    assert result.eigenvalues.tolist() == pytest.approx([1.0, 3.0])
    vectors = result.eigenvectors
    assert np.allclose((vectors @ nf.diag(result.eigenvalues) @ vectors.mT).numpy(), [[2, 1], [1, 2]])


# --------------------------------------------------------------------------- svd / svdvals / pinv
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
@pytest.mark.parametrize("full_matrices", [False, True])
def test_svd_matches_torch(shape, full_matrices):
    k = min(shape[-2:])

    def fn(m, a):
        u, s, vh = m.linalg.svd(a, full_matrices=full_matrices)
        u, vh = u[..., :k], vh[..., :k, :]  # beyond k, full_matrices' columns are an arbitrary completion
        signs = u[..., :1, :].sign()
        return u * signs, s, vh * signs.mT

    check(fn, r(*shape))


@pytest.mark.parametrize("shape", [(4, 3), (3, 5)])
def test_svd_gradient_through_one_factor(shape):
    check(lambda m, a: _signs_fixed(m.linalg.svd(a, full_matrices=False).U), r(*shape))
    check(lambda m, a: _signs_fixed(m.linalg.svd(a, full_matrices=False).Vh.mT), r(*shape))


def test_full_svd_shapes_and_named_tuple():
    u, s, vh = nf.linalg.svd(nf.randn(5, 3))
    assert (u.shape, s.shape, vh.shape) == ((5, 5), (3,), (3, 3))
    assert type(nf.linalg.svd(nf.randn(2, 2))).__name__ == "linalg_svd"


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
def test_svdvals_matches_torch(shape):
    check(lambda m, a: m.linalg.svdvals(a), r(*shape))


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
def test_pinv_matches_torch(shape):
    check(lambda m, a: m.linalg.pinv(a), r(*shape))


def test_pinv_of_a_symmetric_matrix_with_hermitian():
    check(lambda m, a: m.linalg.pinv(_symmetric(a), hermitian=True), r(4, 4))


def test_pinv_drops_singular_values_below_the_cutoff_as_torch():
    rank_one = np.outer([1.0, 2.0, 3.0], [1.0, -1.0]) + np.array([[0, 1e-9], [0, 0], [0, 0]])
    check_forward(lambda m, a: m.linalg.pinv(a), rank_one)
    check_forward(lambda m, a: m.linalg.pinv(a, atol=1e-6), rank_one)
    check_forward(lambda m, a: m.linalg.pinv(a, rtol=1e-12), rank_one, rtol=1e-4)
    check_forward(lambda m, a: m.linalg.pinv(a, atol=0.5, rtol=0.1), r(3, 3))
    check_forward(lambda m, a: m.linalg.pinv(_symmetric(a), hermitian=True, atol=1.0), r(3, 3))


def test_pinv_takes_tolerances_per_matrix_as_tensors():
    batch = np.stack([np.diag([3.0, 1.0, 0.1]), np.diag([2.0, 0.5, 0.2])])
    check_forward(lambda m, a: m.linalg.pinv(a, atol=m.tensor([0.5, 0.0], dtype=m.float64)), batch)
    check_forward(lambda m, a: m.linalg.pinv(a, rtol=m.tensor([0.01, 0.2], dtype=m.float64)), batch)


# --------------------------------------------------------------------------- cholesky
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_cholesky_matches_torch(shape, upper):
    check(lambda m, a: m.linalg.cholesky(_positive_definite(m, a), upper=upper), r(*shape))


def test_cholesky_refuses_a_matrix_that_is_not_positive_definite_naming_the_minor_as_torch():
    expected = ("linalg.cholesky: The factorization could not be completed because the input is not "
                "positive-definite \\(the leading minor of order 2 is not positive-definite\\)")
    with pytest.raises(RuntimeError, match=expected):
        nf.linalg.cholesky(nf.tensor([[1.0, 2.0], [2.0, 1.0]]))
    batch = nf.eye(3).repeat(2, 1, 1)
    batch[1, 2, 2] = -1.0
    expected = "linalg.cholesky: \\(Batch element 1\\): The factorization could not be completed .* order 3"
    with pytest.raises(RuntimeError, match=expected):
        nf.linalg.cholesky(batch)


# --------------------------------------------------------------------------- qr
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 5, 2)])
def test_qr_matches_torch(shape):
    check(lambda m, a: m.linalg.qr(a), r(*shape))


def test_qr_complete_mode_is_differentiable_for_wide_matrices():
    check(lambda m, a: m.linalg.qr(a, mode="complete"), r(3, 5))


@pytest.mark.parametrize("mode", ["complete", "r"])
def test_qr_modes_without_a_gradient_match_torch_forward(mode):
    check_forward(lambda m, a: m.linalg.qr(a, mode=mode), r(5, 3))


@pytest.mark.parametrize("mode, match", [
    ("r", "depends on Q, which is not computed when mode='r'"),
    ("complete", "not differentiable when mode='complete' and nrows > ncols"),
])
def test_qr_backward_refuses_what_torch_refuses(mode, match):
    a = nf.randn(5, 3, dtype=nf.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match=match):
        nf.linalg.qr(a, mode=mode).R.sum().backward()


# --------------------------------------------------------------------------- slogdet
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_slogdet_matches_torch(shape):
    a = well_conditioned(*shape)
    a[..., 0, :] *= -1  # a negative determinant: sign -1
    check(lambda m, x: m.linalg.slogdet(x), a)


def test_slogdet_of_a_singular_matrix_and_its_named_tuple():
    result = nf.linalg.slogdet(nf.zeros(2, 2))
    assert type(result).__name__ == "linalg_slogdet"
    assert result.sign.item() == 0.0 and result.logabsdet.item() == -np.inf


# --------------------------------------------------------------------------- norms through singular values
@pytest.mark.parametrize("ord", ["nuc", 2, -2])
def test_spectral_and_nuclear_matrix_norms_match_torch(ord):
    check(lambda m, a: m.linalg.matrix_norm(a, ord), r(2, 4, 3))
    check(lambda m, a: m.linalg.matrix_norm(a, ord, dim=(0, 2), keepdim=True), r(3, 2, 4))
    check(lambda m, a: m.linalg.norm(a, ord), r(3, 4))


# --------------------------------------------------------------------------- double backward
@pytest.mark.parametrize("fn", [
    lambda a: nf.linalg.eigvalsh(_symmetric(a)),
    lambda a: _signs_fixed(nf.linalg.eigh(_symmetric(a))[1]),
    lambda a: nf.linalg.svdvals(a),
    lambda a: _signs_fixed(nf.linalg.svd(a, full_matrices=False)[0]),
    lambda a: nf.linalg.cholesky(_positive_definite(nf, a)),
    lambda a: nf.linalg.qr(a)[1],
    lambda a: nf.linalg.slogdet(a + 3 * nf.eye(3, dtype=a.dtype))[1],
])
def test_decompositions_double_backward(fn):
    a = nf.tensor(r(3, 3), requires_grad=True)
    assert nf.autograd.gradgradcheck(fn, [a])


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, match", [
    (lambda: nf.linalg.eigh(nf.zeros(3, 4)),
     "linalg.eigh: A must be batches of square matrices, but they are 3 by 4"),
    (lambda: nf.linalg.eigh(nf.zeros(3, 3), UPLO="X"), "Expected UPLO argument to be 'L' or 'U', but got X"),
    (lambda: nf.linalg.eigvalsh(nf.zeros(3)),
     "linalg.eigvalsh: The input tensor A must have at least 2 dimensions"),
    (lambda: nf.linalg.svd(nf.zeros(3)), "linalg.svd: The input tensor A must have at least 2 dimensions"),
    (lambda: nf.linalg.svdvals(nf.zeros(2, 2, dtype=nf.int64)),
     "linalg.svdvals: Expected a floating point or complex tensor as input. Got Long"),
    (lambda: nf.linalg.cholesky(nf.zeros(2, 3)), "linalg.cholesky: A must be batches of square matrices"),
    (lambda: nf.linalg.qr(nf.zeros(3, 3), mode="x"),
     "qr received unrecognized mode 'x' but expected one of 'reduced' \\(default\\), 'r', or 'complete'"),
    (lambda: nf.linalg.qr(nf.zeros(3)), "linalg.qr: The input tensor A must have at least 2 dimensions"),
    (lambda: nf.linalg.slogdet(nf.zeros(3, 2)), "linalg.slogdet: A must be batches of square matrices"),
    (lambda: nf.linalg.pinv(nf.zeros(3, 2), hermitian=True), "linalg.pinv: A must be batches of square"),
    (lambda: nf.linalg.pinv(nf.eye(2), 1e-3, rtol=1e-3), "give rcond or rtol, not both"),
])
def test_bad_input_errors_name_the_function_and_what_was_expected(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


# --------------------------------------------------------------------------- out=
def test_out_receives_the_result_and_is_resized_as_torch():
    a = nf.tensor(well_conditioned(3, 3))
    out = nf.empty(0, dtype=nf.float64)
    assert nf.linalg.inv(a, out=out) is out
    assert np.allclose(out.numpy(), np.linalg.inv(a.numpy()))
    values, vectors = nf.empty(3, dtype=nf.float64), nf.empty(3, 3, dtype=nf.float64)
    result = nf.linalg.eigh(a + a.mT, out=(values, vectors))
    assert result.eigenvalues is values and result.eigenvectors is vectors
    assert np.allclose(values.numpy(), np.linalg.eigvalsh((a + a.mT).numpy()))
    norm_out = nf.empty((), dtype=nf.float64)
    nf.linalg.norm(a, out=norm_out)
    assert norm_out.item() == pytest.approx(np.linalg.norm(a.numpy()))


@pytest.mark.parametrize("call, error, match", [
    (lambda a: nf.linalg.inv(a, out=nf.empty(3, 3)), RuntimeError,
     "linalg.inv\\(\\): Expected out tensor to have dtype float64, but got float32 instead"),
    (lambda a: nf.linalg.inv(a.requires_grad_(), out=nf.empty(3, 3, dtype=nf.float64)), RuntimeError,
     "functions with out=... arguments don't support automatic differentiation"),
    (lambda a: nf.linalg.eigh(a, out=nf.empty(3, dtype=nf.float64)), TypeError,
     "argument 'out' must be tuple of Tensors, not Tensor"),
    (lambda a: nf.linalg.qr(a, out=(nf.empty(0, dtype=nf.float64),)), TypeError,
     "expected tuple of 2 elements but got 1"),
])
def test_bad_out_arguments_are_refused_as_torch(call, error, match):
    with pytest.raises(error, match=match):
        call(nf.tensor(well_conditioned(3, 3)))
