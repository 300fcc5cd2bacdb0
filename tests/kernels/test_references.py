"""The NumPy references in nbframe.backend.cpu (what every CUDA kernel is checked against) vs PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from nbframe.backend import cpu

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _t(a, grad=False):
    return torch.tensor(a, requires_grad=grad)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_forward_and_backward_match_torch(rng, log):
    x, dy = rng.standard_normal((5, 37)), rng.standard_normal((5, 37))
    xt = _t(x, True)
    yt = (F.log_softmax if log else F.softmax)(xt, dim=-1)
    yt.backward(_t(dy))
    y = cpu.softmax_forward(x, log=log)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(cpu.softmax_backward(y, dy, log=log), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_softmax_forward_keeps_half_dtype_and_is_stable_for_large_logits():
    x = np.array([[1000.0, 1000.0, -1000.0]], np.float16)
    y = cpu.softmax_forward(x)
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.astype(np.float32), [[0.5, 0.5, 0.0]])


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_matches_torch_with_ignore_index_weights_and_smoothing(rng, smoothing, weighted):
    x = rng.standard_normal((9, 6))
    target = rng.integers(0, 6, 9)
    target[[1, 4]] = -100
    weight = rng.uniform(0.5, 2.0, 6) if weighted else None
    xt = _t(x, True)
    expected = F.cross_entropy(xt, torch.tensor(target), weight=None if weight is None else _t(weight),
                               label_smoothing=smoothing)
    expected.backward()
    loss, row_weight, lse = cpu.cross_entropy_forward(x, target, weight, -100, smoothing)
    np.testing.assert_allclose(loss.sum() / row_weight.sum(), expected.item(), rtol=1e-12)
    grad_loss = np.full(9, 1 / row_weight.sum())
    grad = cpu.cross_entropy_backward(x, target, lse, grad_loss, weight, -100, smoothing)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_cross_entropy_per_row_matches_torch_reduction_none(rng):
    x, target = rng.standard_normal((4, 3)), np.array([0, 2, -100, 1])
    loss, _, _ = cpu.cross_entropy_forward(x, target)
    np.testing.assert_allclose(loss, F.cross_entropy(_t(x), torch.tensor(target), reduction="none").numpy())


@pytest.mark.parametrize("affine", [False, True])
def test_layer_norm_forward_and_backward_match_torch(rng, affine):
    x, dy = rng.standard_normal((2, 3, 11)), rng.standard_normal((2, 3, 11))
    w, b = (rng.standard_normal(11), rng.standard_normal(11)) if affine else (None, None)
    xt = _t(x, True)
    wt, bt = (_t(w, True), _t(b, True)) if affine else (None, None)
    yt = F.layer_norm(xt, (11,), wt, bt, eps=1e-5)
    yt.backward(_t(dy))
    y, mean, rstd = cpu.layer_norm_forward(x, w, b, 1e-5)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    dx, dw, db = cpu.layer_norm_backward(x, dy, mean, rstd, w)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    if affine:
        np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-10)


def _torch_steps(optimizer_class, param, grads, **options):
    p = torch.nn.Parameter(torch.tensor(param))
    opt = optimizer_class([p], **options)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    return p.detach().numpy()


@pytest.mark.parametrize("options", [
    dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    dict(lr=0.1, momentum=0.5, dampening=0.3, maximize=True),
])
def test_sgd_step_matches_torch_over_three_steps(rng, options):
    param, grads = rng.standard_normal(7), rng.standard_normal((3, 7))
    p, buf = param.copy(), None
    for g in grads:
        buf = cpu.sgd_step(p, g, buf, **options)
    np.testing.assert_allclose(p, _torch_steps(torch.optim.SGD, param, grads, **options), rtol=1e-12)


@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_step_matches_torch_adam_and_adamw_over_three_steps(rng, decoupled, amsgrad):
    param, grads = rng.standard_normal(7), rng.standard_normal((3, 7))
    p, m, v, vmax = param.copy(), np.zeros(7), np.zeros(7), np.zeros(7)
    for step, g in enumerate(grads, start=1):
        cpu.adam_step(p, g, m, v, vmax, step, 0.01, 0.9, 0.99, 1e-8, 0.1, decoupled, amsgrad)
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    expected = _torch_steps(cls, param, grads, lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1,
                            amsgrad=amsgrad)
    np.testing.assert_allclose(p, expected, rtol=1e-10)


def test_philox_matches_the_published_known_answer():
    # Random123's kat_vectors: philox4x32 10 rounds, counter 0 and key 0
    words = cpu.philox4x32_10([[0], [0], [0], [0]], (0, 0))[:, 0]
    assert [hex(w) for w in words] == ["0x6627e8d5", "0xe169c58d", "0xbc57ac4c", "0x9b00dbd8"]


def test_dropout_mask_keeps_about_one_minus_p_and_depends_on_seed_and_offset():
    mask = cpu.dropout_mask(100_003, 0.3, seed=42, offset=0)
    assert mask.dtype == bool and mask.shape == (100_003,)
    assert abs(mask.mean() - 0.7) < 0.01
    assert (mask == cpu.dropout_mask(100_003, 0.3, seed=42, offset=0)).all()
    assert (mask != cpu.dropout_mask(100_003, 0.3, seed=42, offset=1)).any()
    assert (mask != cpu.dropout_mask(100_003, 0.3, seed=43, offset=0)).any()
    assert cpu.dropout_mask(10, 0.0, 1, 0).all() and not cpu.dropout_mask(10, 1.0, 1, 0).any()


def test_embedding_backward_matches_torch_with_repeats_and_padding(rng):
    idx = np.array([[1, 3, 1], [0, 3, 3]])
    dy = rng.standard_normal((2, 3, 4))
    weight = _t(rng.standard_normal((5, 4)), True)
    F.embedding(torch.tensor(idx), weight, padding_idx=0).backward(_t(dy))
    np.testing.assert_allclose(cpu.embedding_backward(idx, dy, 5, padding_idx=0), weight.grad.numpy())


@pytest.mark.parametrize("kernel,stride,padding,dilation", [
    ((2, 2), (2, 2), (0, 0), (1, 1)), ((3, 3), (1, 1), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 0), (2, 1)),
])
def test_maxpool2d_matches_torch_values_indices_and_gradient(rng, kernel, stride, padding, dilation):
    x = rng.standard_normal((2, 3, 7, 6))
    xt = _t(x, True)
    yt, it = F.max_pool2d(xt, kernel, stride, padding, dilation, return_indices=True)
    dy = rng.standard_normal(yt.shape)
    yt.backward(_t(dy))
    y, index = cpu.maxpool2d_forward(x, kernel, stride, padding, dilation)
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_array_equal(index, it.numpy())
    np.testing.assert_allclose(cpu.maxpool2d_backward(dy, index, x.shape), xt.grad.numpy())


def test_max_pooling_keeps_the_last_nan_of_a_window_as_torch_does():
    import nbframe as nf

    x = np.array([[[[np.nan, 1.0, np.nan, 0.0], [2.0, 2.0, 5.0, np.nan]]]])
    want = [F.max_pool2d(torch.tensor(x), k, return_indices=True)[1].numpy() for k in ((1, 4), (2, 2))]
    want_adaptive = F.adaptive_max_pool2d(torch.tensor(x), (1, 2), return_indices=True)[1].numpy()
    for k, expected in zip(((1, 4), (2, 2)), want):
        np.testing.assert_array_equal(cpu.maxpool2d_forward(x, k, k, (0, 0), (1, 1))[1], expected)
        _, index = nf.nn.functional.max_pool2d(nf.tensor(x), k, return_indices=True)
        np.testing.assert_array_equal(index.numpy(), expected)
    got = nf.nn.functional.adaptive_max_pool2d(nf.tensor(x), (1, 2), return_indices=True)[1].numpy()
    np.testing.assert_array_equal(got, want_adaptive)
