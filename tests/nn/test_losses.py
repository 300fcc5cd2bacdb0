"""Losses against PyTorch: every reduction, weights, ignore_index, smoothing, N-d inputs; gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, torch_or_skip

R = np.random.default_rng(11)
REDUCTIONS = ["mean", "sum", "none"]


def F(m):
    return nf.nn.functional if m is nf else m.nn.functional


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_class_indices(reduction):
    t = np.array([0, 2, 1, 2])
    check(lambda m, x: F(m).cross_entropy(x, m.tensor(t), reduction=reduction), R.normal(size=(4, 3)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_weight_ignore_index_and_label_smoothing(reduction):
    t = np.array([0, 2, -100, 1, 2])
    w = np.array([0.5, 2.0, 1.5])
    check(
        lambda m, x: F(m).cross_entropy(
            x, m.tensor(t), weight=m.tensor(w), reduction=reduction, label_smoothing=0.2
        ),
        R.normal(size=(5, 3)),
    )
    check(
        lambda m, x: F(m).cross_entropy(
            x, m.tensor(np.array([0, 2, 3, 1, 3])), ignore_index=3, reduction=reduction
        ),
        R.normal(size=(5, 4)),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_inputs(reduction):
    t = R.integers(0, 3, size=(2, 2, 2))
    check(
        lambda m, x: F(m).cross_entropy(x, m.tensor(t), reduction=reduction, label_smoothing=0.1),
        R.normal(size=(2, 3, 2, 2)),
    )


def test_cross_entropy_unbatched_input():
    check(lambda m, x: F(m).cross_entropy(x, m.tensor(1)), R.normal(size=(4,)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets_with_target_gradient(reduction):
    p = R.dirichlet(np.ones(3), size=4)
    check(
        lambda m, x, p: F(m).cross_entropy(
            x, p, weight=m.tensor([1.0, 2.0, 0.5]), reduction=reduction, label_smoothing=0.1
        ),
        R.normal(size=(4, 3)),
        p,
    )


def test_cross_entropy_is_stable_for_huge_logits():
    x = nf.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], requires_grad=True)
    loss = nf.nn.functional.cross_entropy(x, nf.tensor([0, 0]))
    loss.backward()
    np.testing.assert_allclose(loss.item(), 1000.0)
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0], [-0.5, 0.5]], atol=1e-6)


def test_cross_entropy_double_backward_matches_torch():
    torch = torch_or_skip()
    x0, t = R.normal(size=(3, 4)), np.array([1, 0, 3])
    out = []
    for m in (nf, torch):
        x = m.tensor(x0, requires_grad=True)
        (g,) = m.autograd.grad(F(m).cross_entropy(x, m.tensor(t), label_smoothing=0.1), x, create_graph=True)
        out.append(m.autograd.grad((g * g).sum(), x)[0].numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6, atol=1e-10)


def test_cross_entropy_bad_target_errors():
    F_ = nf.nn.functional
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F_.cross_entropy(nf.zeros(2, 3), nf.tensor([0, 5]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(2\) to match target batch_size \(3\)"):
        F_.cross_entropy(nf.zeros(2, 3), nf.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F_.cross_entropy(nf.zeros(2, 3), nf.tensor([0, 1]), reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch(reduction):
    t = np.array([1, 0, 2, -100])
    check(
        lambda m, x: F(m).nll_loss(
            x, m.tensor(t), weight=m.tensor(np.array([1.0, 3.0, 0.5])), reduction=reduction
        ),
        R.normal(size=(4, 3)),
    )


pytestmark = pytest.mark.filterwarnings("ignore:reduction. .mean. divides")

POINTWISE = {
    "mse_loss": lambda F, x, t, r: F.mse_loss(x, t, reduction=r),
    "l1_loss": lambda F, x, t, r: F.l1_loss(x, t, reduction=r),
    "smooth_l1_loss": lambda F, x, t, r: F.smooth_l1_loss(x, t, reduction=r, beta=0.5),
    "huber_loss": lambda F, x, t, r: F.huber_loss(x, t, reduction=r, delta=0.7),
    "bce_with_logits": lambda F, x, t, r: F.binary_cross_entropy_with_logits(x, t, reduction=r),
    "kl_div": lambda F, x, t, r: F.kl_div(x, t.abs(), reduction=r),
    "kl_div_log_target": lambda F, x, t, r: F.kl_div(x, t, reduction=r, log_target=True),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(POINTWISE))
def test_pointwise_loss_matches_torch(name, reduction):
    fn = POINTWISE[name]
    x, t = R.normal(size=(3, 4)), R.normal(size=(3, 4))
    check(lambda m, x, t: fn(F(m), x, t, reduction), x, t)


def test_binary_cross_entropy_with_weight_and_probabilities():
    x, t, w = R.uniform(0.05, 0.95, size=(3, 4)), R.uniform(size=(3, 4)), R.uniform(size=(3, 4))
    for r in REDUCTIONS:
        check(lambda m, x, t, r=r: F(m).binary_cross_entropy(x, t, weight=m.tensor(w), reduction=r), x, t)


def test_binary_cross_entropy_clamps_log_at_minus_100():
    torch = torch_or_skip()
    x, t = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])
    ours = nf.nn.functional.binary_cross_entropy(nf.tensor(x), nf.tensor(t), reduction="none")
    theirs = torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(t), reduction="none")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_bce_with_logits_pos_weight_and_extreme_logits():
    x, t = R.normal(size=(3, 4)) * 3, (R.uniform(size=(3, 4)) > 0.5).astype(float)
    pw = np.array([0.5, 1.0, 2.0, 3.0])
    check(lambda m, x: F(m).binary_cross_entropy_with_logits(x, m.tensor(t), pos_weight=m.tensor(pw)), x)
    big = nf.nn.functional.binary_cross_entropy_with_logits(
        nf.tensor([800.0, -800.0]), nf.tensor([0.0, 1.0]), reduction="none"
    )
    np.testing.assert_allclose(big.numpy(), [800.0, 800.0])


def test_kl_div_batchmean():
    x, t = R.normal(size=(3, 4)), R.uniform(size=(3, 4))
    check(lambda m, x, t: F(m).kl_div(x, t, reduction="batchmean"), x, t)


def test_mse_double_backward_for_hessian_vector_products():
    torch = torch_or_skip()
    x0, w0 = R.normal(size=(4, 3)), R.normal(size=(2, 3))
    y0 = R.normal(size=(4, 2))
    out = []
    for m in (nf, torch):
        w = m.tensor(w0, requires_grad=True)
        loss = F(m).mse_loss(F(m).linear(m.tensor(x0), w).tanh(), m.tensor(y0))
        (g,) = m.autograd.grad(loss, w, create_graph=True)
        out.append(m.autograd.grad((g * m.tensor(w0)).sum(), w)[0].numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)


def test_legacy_size_average_and_reduce_arguments():
    x, t = nf.tensor([1.0, 2.0]), nf.tensor([0.0, 0.0])
    assert nf.nn.functional.mse_loss(x, t, size_average=False).item() == 5.0
    assert nf.nn.functional.mse_loss(x, t, reduce=False).shape == (2,)
