"""hypot, xlogy, logaddexp(2), cross, linalg.cross, kron, cdist, dist, prelu and nn.PReLU against PyTorch.

Values and gradients are compared with torch (``oracle.check``, which also runs gradcheck in float64);
second derivatives with ``gradgradcheck``; bad inputs raise PyTorch's errors.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, check_forward, raises_like_torch, torch_or_skip

torch = torch_or_skip()
rng = np.random.default_rng(0)


def _gradgrad(fn, *arrays):
    inputs = [nf.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    assert nf.autograd.gradgradcheck(fn, inputs)


def _positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


# --------------------------------------------------------------------------- hypot, xlogy, logaddexp
BINARY = ["hypot", "xlogy", "logaddexp", "logaddexp2"]


@pytest.mark.parametrize("name", BINARY)
def test_binary_special_matches_torch_with_broadcasting(name):
    check(lambda m, a, b: getattr(m, name)(a, b), _positive(2, 3), _positive(3))
    check(lambda m, a, b: getattr(a, name)(b), _positive(4, 1), _positive(1, 5))


@pytest.mark.parametrize("name", BINARY)
def test_binary_special_plain_backward_sums_to_broadcast_shapes_like_torch(name):
    a, b = _positive(4, 1), _positive(3)
    grads = []
    for m in (nf, torch):
        x, y = m.tensor(a, requires_grad=True), m.tensor(b, requires_grad=True)
        (getattr(m, name)(x, y) * m.tensor(np.arange(12.0).reshape(4, 3))).sum().backward()
        grads.append((x.grad.numpy(), y.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("name", BINARY)
def test_binary_special_second_derivative(name):
    _gradgrad(lambda a, b: getattr(nf, name)(a, b), _positive(2, 3), _positive(3))


def test_binary_special_forward_matches_numpy():
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    ta, tb = nf.tensor(a), nf.tensor(b)
    np.testing.assert_allclose(nf.hypot(ta, tb).numpy(), np.hypot(a, b))
    np.testing.assert_allclose(nf.logaddexp(ta, tb).numpy(), np.logaddexp(a, b))
    np.testing.assert_allclose(nf.logaddexp2(ta, tb).numpy(), np.logaddexp2(a, b))


def test_logaddexp_is_stable_for_large_and_infinite_inputs():
    a = np.array([1000.0, -1000.0, -np.inf, np.inf, -np.inf])
    b = np.array([1000.0, -1000.0, 0.0, 1.0, -np.inf])
    check_forward(lambda m, x, y: m.logaddexp(x, y), a, b)
    check_forward(lambda m, x, y: m.logaddexp2(x, y), a, b)


def test_xlogy_is_zero_where_input_is_zero_but_propagates_nan():
    x = np.array([0.0, 0.0, 0.0, np.nan, 1.0, 2.0, -1.0])
    y = np.array([0.0, np.nan, 3.0, 1.0, np.nan, 0.0, 2.0])
    check_forward(lambda m, a, b: m.xlogy(a, b), x, y)


def test_xlogy_gradient_at_zero_input_matches_torch():
    # d/dx at x == 0 is 0 (even at y == 0); d/dy = x / y (NaN at 0 / 0, as torch)
    x, y = np.array([0.0, 0.0, 1.0, 2.0]), np.array([0.0, 3.0, 0.0, 2.0])
    check(lambda m, a, b: m.xlogy(a, b), x, y, gradcheck=False)


def test_hypot_gradient_at_origin_is_nan_like_torch():
    check(lambda m, a, b: m.hypot(a, b), np.array([0.0, 3.0]), np.array([0.0, 4.0]), gradcheck=False)


def test_xlogy_takes_numbers_and_integers_into_the_default_float():
    check_forward(lambda m, b: m.xlogy(2, b), _positive(3))
    check_forward(lambda m, a: m.xlogy(a, 2.5), _positive(3))
    check_forward(lambda m, a, b: m.xlogy(a, b), np.array([0, 1, 2]), np.array([1, 2, 3]))
    assert nf.xlogy(nf.tensor([1, 2]), nf.tensor([3, 4])).dtype == nf.float32


@pytest.mark.parametrize("name", BINARY)
def test_binary_special_second_derivative_reaches_a_float32_operand(name):
    a32 = nf.tensor(_positive(3).astype(np.float32), requires_grad=True)
    b64 = nf.tensor(_positive(3), requires_grad=True)
    t32 = torch.tensor(a32.detach().numpy(), requires_grad=True)
    t64 = torch.tensor(b64.detach().numpy(), requires_grad=True)
    results = []
    for m, x, y in ((nf, a32, b64), (torch, t32, t64)):
        (gx,) = m.autograd.grad(getattr(m, name)(x, y).sum(), [x], create_graph=True)
        second = m.autograd.grad(gx.sum(), [x, y], allow_unused=True)  # xlogy's d2/dx2 is None in both
        results.append([None if g is None else g.detach().numpy() for g in second])
    for ours, theirs in zip(*results):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_binary_special_promotes_mixed_float_dtypes():
    a, b = nf.ones(3), nf.ones(3, dtype=nf.float64)
    for name in BINARY:
        assert getattr(nf, name)(a, b).dtype == nf.float64
    assert nf.logaddexp2(nf.tensor([1, 2]), nf.tensor([1.0, 2.0])).dtype == nf.float32


@pytest.mark.parametrize("name", ["hypot", "logaddexp"])
def test_integer_inputs_have_no_kernel(name):
    for m in (nf, torch):
        with pytest.raises(NotImplementedError, match=f'"{name}_cpu" not implemented for \'Long\''):
            getattr(m, name)(m.tensor([1, 2]), m.tensor([3, 4]))


@pytest.mark.parametrize("name", ["hypot", "logaddexp", "logaddexp2"])
def test_tensor_only_ops_name_the_number_argument(name):
    for m in (nf, torch):
        with pytest.raises(TypeError, match=rf"{name}\(\): argument 'other' \(position 2\) must be Tensor"):
            getattr(m, name)(m.ones(2), 2)


def test_binary_special_broadcast_error_names_shapes():
    with pytest.raises(RuntimeError, match=r"\[2\].*\[3\]"):
        nf.hypot(nf.ones(2), nf.ones(3))


def test_inplace_hypot_and_xlogy_match_torch():
    for name in ("hypot_", "xlogy_"):
        a, b = _positive(2, 3), _positive(3)
        ours, theirs = nf.tensor(a), torch.tensor(a)
        assert getattr(ours, name)(nf.tensor(b)) is ours
        getattr(theirs, name)(torch.tensor(b))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    assert not hasattr(nf.Tensor, "logaddexp_") and not hasattr(torch.Tensor, "logaddexp_")


# --------------------------------------------------------------------------- cross, kron
def test_linalg_cross_matches_torch_and_numpy_with_broadcasting():
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(1, 3))
    check(lambda m, x, y: m.linalg.cross(x, y), a, b)
    np.testing.assert_allclose(nf.linalg.cross(nf.tensor(a), nf.tensor(b)).numpy(), np.cross(a, b))
    check(lambda m, x, y: m.linalg.cross(x, y, dim=0), rng.normal(size=(3, 2)), rng.normal(size=(3, 1)))


def test_cross_with_dim_and_second_derivative():
    a, b = rng.normal(size=(2, 3, 3)), rng.normal(size=(2, 3, 3))
    check(lambda m, x, y: m.cross(x, y, dim=1), a, b)
    check(lambda m, x, y: x.cross(y, dim=-1), a, b)
    _gradgrad(lambda x, y: nf.cross(x, y, dim=2), a, b)


def test_cross_without_dim_warns_and_uses_first_dim_of_size_3():
    a, b = rng.normal(size=(2, 3, 3)), rng.normal(size=(2, 3, 3))
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        ours = nf.cross(nf.tensor(a), nf.tensor(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.cross(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_cross_integer_inputs_match_torch():
    check_forward(lambda m, x, y: m.linalg.cross(x, y), np.array([[1, 2, 3]]), np.array([[4, 5, 6]]))


@pytest.mark.parametrize(
    "action",
    [
        lambda m: m.linalg.cross(m.ones(2, 4), m.ones(2, 4)),
        lambda m: m.linalg.cross(m.ones(2, 3), m.ones(3)),
        lambda m: m.cross(m.ones(2, 3), m.ones(2, 3), dim=0),
        lambda m: m.linalg.cross(m.tensor([1, 2, 3]), m.ones(3)),
    ],
    ids=["length-4", "ndim-mismatch", "dim-0-of-size-2", "dtype-mismatch"],
)
def test_cross_bad_inputs_raise_torch_errors(action):
    raises_like_torch(action)


def test_cross_without_any_dim_of_size_3_raises():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like_torch(lambda m: m.cross(m.ones(2, 4), m.ones(2, 4)))


def test_cross_dim_out_of_range_is_an_index_error():
    with pytest.raises(IndexError, match="Dimension out of range"):
        nf.linalg.cross(nf.ones(3), nf.ones(3), dim=2)


@pytest.mark.parametrize("sa, sb", [((2, 3), (4, 5)), ((2, 3), (4,)), ((), (3,)), ((2, 1, 2), (3, 2))])
def test_kron_matches_torch_and_numpy(sa, sb):
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    check(lambda m, x, y: m.kron(x, y), a, b)
    np.testing.assert_allclose(nf.kron(nf.tensor(a), nf.tensor(b)).numpy(), np.kron(a, b))


def test_kron_method_second_derivative_and_promotion():
    _gradgrad(lambda x, y: x.kron(y), rng.normal(size=(2, 2)), rng.normal(size=(2, 3)))
    check_forward(lambda m, x, y: m.kron(x, y), np.array([1, 2, 3]), np.array([1.5, 2.5]))


# --------------------------------------------------------------------------- cdist, dist
PS = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf]


@pytest.mark.parametrize("p", PS)
def test_cdist_matches_torch(p):
    check(lambda m, x, y: m.cdist(x, y, p=p), rng.normal(size=(4, 3)), rng.normal(size=(5, 3)))


def test_cdist_broadcasts_batch_dimensions():
    check(lambda m, x, y: m.cdist(x, y), rng.normal(size=(2, 1, 3, 4)), rng.normal(size=(5, 2, 4)))


@pytest.mark.parametrize("p", PS)
def test_cdist_gradient_at_zero_distance_matches_torch(p):
    x = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [1.0, -2.0, 0.5]])
    y = np.array([[0.0, 0.0, 0.0], [1.0, 5.0, 3.0]])
    check(lambda m, a, b: m.cdist(a, b, p=p), x, y, gradcheck=False)


def test_cdist_infinity_norm_gives_every_tied_coordinate_the_full_gradient():
    check(lambda m, a, b: m.cdist(a, b, p=math.inf), np.array([[1.0, -1.0, 0.0]]), np.zeros((1, 3)),
          gradcheck=False)


@pytest.mark.parametrize("p", [1.5, 2.0, 3.0])
def test_cdist_second_derivative(p):
    _gradgrad(lambda x, y: nf.cdist(x, y, p=p), rng.normal(size=(3, 2)), rng.normal(size=(2, 2)))


def test_cdist_forward_matches_numpy():
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    expected = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    np.testing.assert_allclose(nf.cdist(nf.tensor(a), nf.tensor(b)).numpy(), expected)
    assert nf.cdist(nf.ones(2, 3), nf.ones(0, 3)).shape == (2, 0)


@pytest.mark.parametrize("p", PS)
def test_cdist_of_points_without_coordinates_is_zero(p):
    check_forward(lambda m, x, y: m.cdist(x, y, p=p), np.zeros((2, 0)), np.zeros((3, 0)))


@pytest.mark.parametrize(
    "action",
    [
        lambda m: m.cdist(m.ones(2, 3, dtype=m.long), m.ones(2, 3, dtype=m.long)),
        lambda m: m.cdist(m.ones(3), m.ones(3)),
        lambda m: m.cdist(m.ones(2, 3), m.ones(2, 4)),
        lambda m: m.cdist(m.ones(2, 3), m.ones(2, 3), p=-1),
        lambda m: m.cdist(m.ones(2, 3), m.ones(2, 3, dtype=m.float64)),
    ],
    ids=["integer", "1d", "columns", "negative-p", "dtype-mismatch"],
)
def test_cdist_bad_inputs_raise_torch_errors(action):
    raises_like_torch(action)


@pytest.mark.parametrize("p", [0.5, 1, 2, 3, math.inf])
def test_dist_matches_torch_with_broadcasting(p):
    check(lambda m, x, y: m.dist(x, y, p), rng.normal(size=(2, 3)), rng.normal(size=(3,)))
    check(lambda m, x, y: x.dist(y, p=p), rng.normal(size=(4,)), rng.normal(size=(4,)))


def test_dist_of_integer_tensors_raises_torch_error():
    raises_like_torch(lambda m: m.dist(m.tensor([1, 2]), m.tensor([1, 3])))


def test_dist_zero_norm_counts_differences():
    check_forward(lambda m, x, y: m.dist(x, y, 0), np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))


def test_dist_gradient_at_zero_distance_is_zero():
    check(lambda m, x, y: m.dist(x, y), np.ones(3), np.ones(3), gradcheck=False)


# --------------------------------------------------------------------------- prelu, PReLU
@pytest.mark.parametrize("wshape", [(1,), (3,), ()])
def test_prelu_matches_torch(wshape):
    x, w = rng.normal(size=(2, 3, 4)), rng.uniform(0.1, 0.5, wshape)
    check(lambda m, a, b: m.nn.functional.prelu(a, b), x, w)


def test_prelu_takes_the_slope_side_at_zero():
    x, w = np.array([[0.0, 1.0], [-1.0, 0.0]]), np.array([0.3, 0.2])
    check(lambda m, a, b: m.prelu(a, b), x, w, gradcheck=False)


def test_prelu_on_vectors_scalars_and_as_method():
    check(lambda m, a, w: m.prelu(a, w), rng.normal(size=(5,)), np.array([0.3]))
    check(lambda m, a, w: a.prelu(w), np.array(-2.0), np.array([0.3]))


def test_prelu_second_derivative():
    _gradgrad(lambda a, w: nf.nn.functional.prelu(a, w), rng.normal(size=(2, 3)), rng.uniform(0.1, 0.5, (3,)))


@pytest.mark.parametrize(
    "action",
    [
        lambda m: m.nn.functional.prelu(m.ones(2, 3), m.ones(2)),
        lambda m: m.nn.functional.prelu(m.ones(3), m.ones(3)),
        lambda m: m.nn.functional.prelu(m.ones(2, 3), m.ones(1, 3)),
        lambda m: m.nn.functional.prelu(m.ones(3), m.ones(1, dtype=m.float64)),
    ],
    ids=["channels", "vector-channels", "2d-weight", "dtype-mismatch"],
)
def test_prelu_bad_inputs_raise_torch_errors(action):
    raises_like_torch(action)


def test_prelu_module_defaults_repr_and_gradient():
    ours, theirs = nf.nn.PReLU(3), torch.nn.PReLU(3)
    assert repr(ours) == repr(theirs) == "PReLU(num_parameters=3)"
    assert [n for n, _ in ours.named_parameters()] == ["weight"]
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy())
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    out_ours, out_theirs = ours(nf.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy(), rtol=1e-6)
    out_ours.sum().backward()
    out_theirs.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5)
    shared = nf.nn.PReLU(init=0.1, dtype=nf.float64)
    assert shared.weight.shape == (1,) and shared.weight.dtype == nf.float64
    assert shared.weight.item() == pytest.approx(0.1)
