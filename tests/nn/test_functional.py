"""nn.functional (linear, embedding, normalisation, dropout, pad, attention, similarity) against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, check_forward, torch_or_skip

R = np.random.default_rng(7)


def F(m):
    return nf.nn.functional if m is nf else m.nn.functional


def test_linear_matches_torch_with_and_without_bias():
    x, w, b = R.normal(size=(4, 3)), R.normal(size=(2, 3)), R.normal(size=(2,))
    check(lambda m, x, w, b: F(m).linear(x, w, b), x, w, b)
    check(lambda m, x, w: F(m).linear(x, w), x, w)


def test_linear_on_batched_and_vector_inputs():
    w, b = R.normal(size=(2, 3)), R.normal(size=(2,))
    check(lambda m, x, w, b: F(m).linear(x, w, b), R.normal(size=(2, 2, 3)), w, b)
    check(lambda m, x, w, b: F(m).linear(x, w, b), R.normal(size=(3,)), w, b)


def test_linear_double_backward_matches_torch():
    torch = torch_or_skip()
    x0, w0 = R.normal(size=(3, 4)), R.normal(size=(2, 4))
    out = []
    for m in (nf, torch):
        x, w = m.tensor(x0, requires_grad=True), m.tensor(w0, requires_grad=True)
        (gx,) = m.autograd.grad(F(m).linear(x, w).pow(2).sum(), x, create_graph=True)
        (gw,) = m.autograd.grad(gx.pow(2).sum(), w)
        out.append(gw.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)


def test_linear_shape_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(4x3 and 5x2\)"):
        nf.nn.functional.linear(nf.ones(4, 3), nf.ones(2, 5))


def test_bilinear_matches_torch():
    check(
        lambda m, a, b, w, bias: F(m).bilinear(a, b, w, bias),
        R.normal(size=(3, 2)),
        R.normal(size=(3, 4)),
        R.normal(size=(5, 2, 4)),
        R.normal(size=(5,)),
    )


def test_embedding_lookup_and_scatter_add_gradient():
    idx = np.array([[0, 2, 2], [4, 0, 1]])
    check(lambda m, w: F(m).embedding(m.tensor(idx), w), R.normal(size=(5, 3)))


def test_embedding_padding_row_gets_no_gradient():
    idx = np.array([1, 3, 3, 0])
    # No gradcheck: by design the gradient is not the derivative at the padding row.
    check(
        lambda m, w: F(m).embedding(m.tensor(idx), w, padding_idx=3), R.normal(size=(4, 2)), gradcheck=False
    )


def test_embedding_max_norm_renormalises_looked_up_rows_like_torch():
    torch = torch_or_skip()
    w0 = R.normal(size=(4, 3)) * 3
    idx = np.array([0, 2])
    wn, wt = nf.tensor(w0), torch.tensor(w0)
    out_n = nf.nn.functional.embedding(nf.tensor(idx), wn, max_norm=1.0)
    out_t = torch.nn.functional.embedding(torch.tensor(idx), wt, max_norm=1.0)
    np.testing.assert_allclose(out_n.numpy(), out_t.numpy(), rtol=1e-6)
    np.testing.assert_allclose(wn.numpy(), wt.numpy(), rtol=1e-6)


def test_embedding_out_of_range_index_is_a_clear_error():
    with pytest.raises(IndexError, match="index 7 is out of range for a table of 5 rows"):
        nf.nn.functional.embedding(nf.tensor([1, 7]), nf.ones(5, 2))


def test_layer_norm_matches_torch_over_one_and_two_dims():
    x = R.normal(size=(2, 3, 4))
    check(lambda m, x, w, b: F(m).layer_norm(x, (4,), w, b), x, R.normal(size=4), R.normal(size=4))
    check(
        lambda m, x, w, b: F(m).layer_norm(x, (3, 4), w, b), x, R.normal(size=(3, 4)), R.normal(size=(3, 4))
    )
    check(lambda m, x: F(m).layer_norm(x, (4,)), x)


def test_layer_norm_double_backward_matches_torch():
    torch = torch_or_skip()
    x0, w0 = R.normal(size=(3, 4)), R.normal(size=4)
    out = []
    for m in (nf, torch):
        x, w = m.tensor(x0, requires_grad=True), m.tensor(w0, requires_grad=True)
        (gx,) = m.autograd.grad((F(m).layer_norm(x, (4,), w) ** 3).sum(), x, create_graph=True)
        out.extend(g.numpy() for g in m.autograd.grad((gx * gx).sum(), (x, w)))
    np.testing.assert_allclose(out[0], out[2], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(out[1], out[3], rtol=1e-6, atol=1e-9)


def test_layer_norm_shape_error_is_torchs():
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 5\]"):
        nf.nn.functional.layer_norm(nf.ones(2, 4), (5,))


def test_group_norm_matches_torch():
    check(
        lambda m, x, w, b: F(m).group_norm(x, 2, w, b, eps=1e-3),
        R.normal(size=(2, 4, 3)),
        R.normal(size=4),
        R.normal(size=4),
    )


def test_batch_norm_training_updates_running_stats_like_torch():
    torch = torch_or_skip()
    x0 = R.normal(size=(5, 3, 2))
    for m in (nf, torch):
        rm, rv = m.zeros(3, dtype=m.float64), m.ones(3, dtype=m.float64)
        F(m).batch_norm(m.tensor(x0), rm, rv, training=True, momentum=0.3)
        if m is nf:
            ours = rm.numpy().copy(), rv.numpy().copy()
    np.testing.assert_allclose(ours[0], rm.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours[1], rv.numpy(), rtol=1e-6)


def test_batch_norm_training_and_eval_outputs_and_grads_match_torch():
    x, w, b = R.normal(size=(4, 3, 2, 2)), R.normal(size=3), R.normal(size=3)
    rm, rv = R.normal(size=3), R.uniform(0.5, 2, size=3)
    check(lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, training=True), x, w, b)
    check(lambda m, x, w, b: F(m).batch_norm(x, m.tensor(rm), m.tensor(rv), w, b, training=False), x, w, b)


def test_batch_norm_needs_more_than_one_value_per_channel():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nf.nn.functional.batch_norm(nf.ones(1, 3), None, None, training=True)


def test_dropout_scales_kept_values_and_zeroes_the_rest():
    x = nf.ones(200, 50, requires_grad=True)
    y = nf.nn.functional.dropout(x, 0.3)
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 0.02
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.7, rtol=1e-6)


def test_dropout_is_identity_in_eval_and_reproducible_with_the_seed():
    x = nf.ones(10)
    assert nf.nn.functional.dropout(x, 0.5, training=False) is x
    nf.manual_seed(3)
    a = nf.nn.functional.dropout(x, 0.5).numpy()
    nf.manual_seed(3)
    np.testing.assert_array_equal(a, nf.nn.functional.dropout(x, 0.5).numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        nf.nn.functional.dropout(x, 1.5)


def test_dropout2d_drops_whole_channels():
    y = nf.nn.functional.dropout2d(nf.ones(4, 6, 3, 3), 0.5).numpy()
    per_channel = y.reshape(4, 6, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))


def test_normalize_cosine_similarity_and_pairwise_distance_match_torch():
    a, b = R.normal(size=(3, 4)), R.normal(size=(3, 4))
    check(lambda m, a: F(m).normalize(a, dim=1), a)
    check(lambda m, a, b: F(m).cosine_similarity(a, b), a, b)
    check(lambda m, a, b: F(m).pairwise_distance(a, b), a, b)
    check(lambda m, a, b: F(m).pairwise_distance(a, b, p=1.0), a, b)


def test_one_hot_matches_torch():
    idx = np.array([[0, 3], [2, 1]])
    check_forward(lambda m, i: F(m).one_hot(i), idx)
    check_forward(lambda m, i: F(m).one_hot(i, 6), idx)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        nf.nn.functional.one_hot(nf.tensor([5]), 3)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_modes_match_torch(mode):
    x = R.normal(size=(1, 2, 3, 4))
    check(lambda m, x: F(m).pad(x, (1, 2, 2, 1), mode=mode), x)


def test_constant_pad_with_value_and_negative_crop():
    x = R.normal(size=(2, 5))
    check(lambda m, x: F(m).pad(x, (-1, 2), value=3.5), x)


@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal"])
def test_scaled_dot_product_attention_matches_torch(mask):
    q, k, v = R.normal(size=(2, 3, 4)), R.normal(size=(2, 5, 4)), R.normal(size=(2, 5, 2))
    bool_mask = np.tril(np.ones((3, 5), dtype=bool), 1)

    def fn(m, q, k, v):
        kwargs = {}
        if mask == "bool":
            kwargs["attn_mask"] = m.tensor(bool_mask)
        elif mask == "float":
            kwargs["attn_mask"] = m.tensor(np.where(bool_mask, 0.0, -2.0))
        elif mask == "causal":
            kwargs["is_causal"] = True
        return F(m).scaled_dot_product_attention(q, k, v, **kwargs)

    check(fn, q, k, v)
