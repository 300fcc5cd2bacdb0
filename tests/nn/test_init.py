"""nn.init: PyTorch's gains, fans, bounds and distributions; deterministic under manual_seed."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nbframe as nf
from nbframe.nn import init

torch = pytest.importorskip("torch")

SHAPES = [(20, 30), (16, 3, 5, 5), (8, 4, 3), (6, 2, 3, 3, 3)]


@pytest.mark.parametrize("name, param", [(n, None) for n in
                                         ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                          "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu",
                                          "leaky_relu", "selu")] + [("leaky_relu", 0.2), ("leaky_relu", 1)])
def test_calculate_gain_matches_pytorch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_calculate_gain_errors_match_pytorch():
    for args in (("swish",), ("leaky_relu", True), ("leaky_relu", "x")):
        with pytest.raises(ValueError) as ours:
            init.calculate_gain(*args)
        with pytest.raises(ValueError) as theirs:
            torch.nn.init.calculate_gain(*args)
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_pytorch(shape):
    assert init._calculate_fan_in_and_fan_out(nf.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(nf.empty(3))


def _bound_and_std(fill, shape):
    """Fill a large tensor in both libraries; return (max |x|, std) of each."""
    ours = fill(init, nf.empty(*shape))
    theirs = fill(torch.nn.init, torch.empty(*shape))
    a, b = ours.numpy(), theirs.numpy()
    return tuple(float(v) for v in (np.abs(a).max(), a.std(), a.mean())), \
        tuple(float(v) for v in (np.abs(b).max(), b.std(), b.mean()))


UNIFORM_FILLS = {
    "uniform": lambda m, t: m.uniform_(t, -0.3, 0.3),
    "xavier_uniform": lambda m, t: m.xavier_uniform_(t, gain=2.0),
    "kaiming_uniform_default": lambda m, t: m.kaiming_uniform_(t),
    "kaiming_uniform_linear": lambda m, t: m.kaiming_uniform_(t, a=math.sqrt(5)),
    "kaiming_uniform_fan_out_relu": lambda m, t: m.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
}
NORMAL_FILLS = {
    "normal": lambda m, t: m.normal_(t, 0.5, 2.0),
    "xavier_normal": lambda m, t: m.xavier_normal_(t),
    "kaiming_normal": lambda m, t: m.kaiming_normal_(t, a=0.1, mode="fan_out"),
    "trunc_normal": lambda m, t: m.trunc_normal_(t, 0.0, 1.0, -1.0, 1.5),
}


@pytest.mark.parametrize("shape", [(64, 48, 3, 3)])
@pytest.mark.parametrize("name", sorted(UNIFORM_FILLS))
def test_uniform_initialisers_have_pytorchs_bounds(name, shape):
    (ours_max, ours_std, _), (theirs_max, theirs_std, _) = _bound_and_std(UNIFORM_FILLS[name], shape)
    assert ours_max == pytest.approx(theirs_max, rel=1e-3)  # the bound itself, with 27k samples
    assert ours_std == pytest.approx(theirs_std, rel=0.03)


@pytest.mark.parametrize("shape", [(64, 48, 3, 3)])
@pytest.mark.parametrize("name", sorted(NORMAL_FILLS))
def test_normal_initialisers_have_pytorchs_statistics(name, shape):
    (_, ours_std, ours_mean), (_, theirs_std, theirs_mean) = _bound_and_std(NORMAL_FILLS[name], shape)
    assert ours_std == pytest.approx(theirs_std, rel=0.03)
    assert ours_mean == pytest.approx(theirs_mean, abs=0.03 * theirs_std + 1e-3)


def test_trunc_normal_stays_in_bounds_with_the_truncated_distributions_moments():
    t = init.trunc_normal_(nf.empty(200, 200), mean=1.0, std=2.0, a=0.0, b=3.0).numpy()
    assert t.min() >= 0.0 and t.max() <= 3.0
    scipy_stats = pytest.importorskip("scipy.stats")
    dist = scipy_stats.truncnorm(-0.5, 1.0, loc=1.0, scale=2.0)
    assert t.mean() == pytest.approx(dist.mean(), abs=0.02)
    assert t.std() == pytest.approx(dist.std(), abs=0.02)


def test_erfinv_approximation_is_float32_accurate():
    special = pytest.importorskip("scipy.special")
    x = np.linspace(-0.999999, 0.999999, 20001)
    np.testing.assert_allclose(init._erfinv(x), special.erfinv(x), rtol=3e-7, atol=1e-7)


@pytest.mark.parametrize("shape", [(10, 30), (30, 10), (6, 4, 3, 3)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    t = init.orthogonal_(nf.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
    gram = t @ t.T if t.shape[0] <= t.shape[1] else t.T @ t
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-5)


def test_deterministic_fills_match_pytorch_exactly():
    for fill, shape in ((lambda m, t: m.eye_(t), (3, 5)), (lambda m, t: m.dirac_(t), (4, 3, 3, 3)),
                        (lambda m, t: m.dirac_(t, groups=2), (6, 2, 5)),
                        (lambda m, t: m.constant_(t, 0.7), (2, 3)),
                        (lambda m, t: m.ones_(t), (4,)), (lambda m, t: m.zeros_(t), (2, 2))):
        np.testing.assert_array_equal(fill(init, nf.empty(*shape)).numpy(),
                                      fill(torch.nn.init, torch.empty(*shape)).numpy())


def test_sparse_zeroes_the_requested_fraction_of_each_column():
    t = init.sparse_(nf.empty(10, 6), sparsity=0.3).numpy()
    assert ((t == 0).sum(axis=0) == 3).all()


def test_initialisers_work_on_parameters_and_record_no_graph():
    p = nf.nn.Parameter(nf.empty(8, 4))
    for fill in list(UNIFORM_FILLS.values()) + list(NORMAL_FILLS.values()):
        assert fill(init, p) is p
    init.orthogonal_(p)
    init.eye_(p)
    assert p.grad_fn is None and p.requires_grad and p.is_leaf


def test_initialisers_follow_manual_seed_and_generator():
    nf.manual_seed(3)
    a = init.kaiming_uniform_(nf.empty(5, 5)).numpy().copy()
    b = init.trunc_normal_(nf.empty(5, 5)).numpy().copy()
    nf.manual_seed(3)
    np.testing.assert_array_equal(init.kaiming_uniform_(nf.empty(5, 5)).numpy(), a)
    np.testing.assert_array_equal(init.trunc_normal_(nf.empty(5, 5)).numpy(), b)
    g1, g2 = nf.Generator().manual_seed(9), nf.Generator().manual_seed(9)
    np.testing.assert_array_equal(init.orthogonal_(nf.empty(4, 4), generator=g1).numpy(),
                                  init.orthogonal_(nf.empty(4, 4), generator=g2).numpy())


def test_kaiming_on_empty_tensor_warns_and_does_nothing():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init.kaiming_uniform_(nf.empty(0, 3))
    assert "no-op" in str(caught[0].message)


def test_error_messages_match_pytorch():
    cases = ((lambda m, t: m.kaiming_uniform_(t, mode="fan_avg"), (3, 3)),
             (lambda m, t: m.eye_(t), (3, 3, 3)),
             (lambda m, t: m.dirac_(t), (3, 3)),
             (lambda m, t: m.dirac_(t, groups=2), (3, 3, 3)),
             (lambda m, t: m.orthogonal_(t), (3,)),
             (lambda m, t: m.xavier_uniform_(t), (3,)))
    for fill, shape in cases:
        with pytest.raises(ValueError) as ours:
            fill(init, nf.empty(*shape))
        with pytest.raises(ValueError) as theirs:
            fill(torch.nn.init, torch.empty(*shape))
        assert str(ours.value) == str(theirs.value)
