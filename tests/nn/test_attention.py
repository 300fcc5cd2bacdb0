"""MultiheadAttention against PyTorch with its state_dict copied in: outputs, weights, all gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nbframe as nf
from tests.nn.test_rnn import _pair, _same
from tests.oracle import torch_or_skip

R = np.random.default_rng(11)
E, HEADS, L, S, N = 8, 2, 4, 5, 3


def _inputs(batch_first: bool = False, kdim: int = E, vdim: int = E, tgt: int = L, src: int = S):
    def shaped(length, dim):
        return R.normal(size=(N, length, dim) if batch_first else (length, N, dim))
    return shaped(tgt, E), shaped(src, kdim), shaped(src, vdim)


def _attend(**kwargs):
    """Call ``layer(q, k, v, *masks)``: the arrays after q, k, v are masks named by ``mask_names``."""
    names = kwargs.pop("mask_names", ())

    def call(layer, m, xs):
        masks = dict(zip(names, xs[3:]))
        return layer(xs[0], xs[1], xs[2], **masks, **kwargs)
    return call


def _self_attend(**kwargs):
    names = kwargs.pop("mask_names", ())

    def call(layer, m, xs):
        return layer(xs[0], xs[0], xs[0], **dict(zip(names, xs[1:])), **kwargs)
    return call


def _padding_mask(as_float: bool = False):
    mask = np.zeros((N, S), dtype=bool)
    mask[0, -2:] = True
    mask[2, 1] = True
    return np.where(mask, -math.inf, 0.0) if as_float else mask


def _attn_mask(shape=(L, S), as_float: bool = False):
    mask = R.random(shape) < 0.3
    mask[..., 0] = False  # every query keeps one key: no all -inf row (NaN in both libraries)
    return np.where(mask, -1e9, R.normal(size=shape)) if as_float else mask


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_cross_attention_matches_torch(batch_first, need_weights, average):
    ours, theirs = _pair("MultiheadAttention", E, HEADS, batch_first=batch_first)
    _same(ours, theirs, _inputs(batch_first),
          _attend(need_weights=need_weights, average_attn_weights=average))


@pytest.mark.parametrize("batch_first", [False, True])
def test_self_attention_matches_torch(batch_first):
    ours, theirs = _pair("MultiheadAttention", E, HEADS, batch_first=batch_first)
    _same(ours, theirs, [_inputs(batch_first, src=L)[0]], _self_attend())


def test_shared_key_value_matches_torch():
    ours, theirs = _pair("MultiheadAttention", E, HEADS)
    q, kv, _ = _inputs()
    _same(ours, theirs, [q, kv], lambda layer, m, xs: layer(xs[0], xs[1], xs[1]))


@pytest.mark.parametrize("mask_names,masks", [
    (("attn_mask",), lambda: [_attn_mask()]),
    (("attn_mask",), lambda: [_attn_mask(as_float=True)]),
    (("attn_mask",), lambda: [_attn_mask((N * HEADS, L, S))]),
    (("attn_mask",), lambda: [_attn_mask((N * HEADS, L, S), as_float=True)]),
    (("key_padding_mask",), lambda: [_padding_mask()]),
    (("key_padding_mask",), lambda: [_padding_mask(as_float=True)]),
    (("attn_mask", "key_padding_mask"), lambda: [_attn_mask(), _padding_mask()]),
    (("attn_mask", "key_padding_mask"), lambda: [_attn_mask(as_float=True), _padding_mask(as_float=True)]),
], ids=["bool", "float", "bool-3d", "float-3d", "padding", "padding-float", "both", "both-float"])
@pytest.mark.parametrize("average", [True, False])
def test_masks_match_torch(mask_names, masks, average):
    ours, theirs = _pair("MultiheadAttention", E, HEADS)
    _same(ours, theirs, [*_inputs(), *masks()], _attend(mask_names=mask_names, average_attn_weights=average))


@pytest.mark.parametrize("need_weights", [False, True])
def test_causal_hint_with_its_mask_matches_torch(need_weights):
    torch = torch_or_skip()
    ours, theirs = _pair("MultiheadAttention", E, HEADS)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64).numpy()
    _same(ours, theirs, [_inputs(src=L)[0], causal],
          _self_attend(mask_names=("attn_mask",), is_causal=True, need_weights=need_weights))


def test_kdim_vdim_without_bias_matches_torch():
    ours, theirs = _pair("MultiheadAttention", E, HEADS, kdim=3, vdim=5, bias=False)
    assert ours.in_proj_weight is None and ours.in_proj_bias is None
    assert [k for k, _ in ours.named_parameters()] == ["q_proj_weight", "k_proj_weight", "v_proj_weight",
                                                       "out_proj.weight"]
    _same(ours, theirs, [*_inputs(kdim=3, vdim=5), _padding_mask()],
          _attend(mask_names=("key_padding_mask",)))


@pytest.mark.parametrize("add_bias_kv,add_zero_attn", [(True, False), (False, True), (True, True)])
def test_bias_kv_and_zero_attention_match_torch(add_bias_kv, add_zero_attn):
    ours, theirs = _pair("MultiheadAttention", E, HEADS, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn)
    _same(ours, theirs, [*_inputs(), _attn_mask(), _padding_mask()],
          _attend(mask_names=("attn_mask", "key_padding_mask")))


def test_unbatched_input_matches_torch():
    ours, theirs = _pair("MultiheadAttention", E, HEADS)
    q, k, v = (a[:, 0] for a in _inputs())
    _same(ours, theirs, [q, k, v, _padding_mask()[0], _attn_mask((HEADS, L, S))],
          _attend(mask_names=("key_padding_mask", "attn_mask"), average_attn_weights=False))


def test_state_dict_keys_and_repr_follow_torch():
    torch = torch_or_skip()
    for kwargs in ({}, {"add_bias_kv": True}, {"kdim": 3, "vdim": 4}, {"bias": False}):
        ours = nf.nn.MultiheadAttention(E, HEADS, **kwargs)
        theirs = torch.nn.MultiheadAttention(E, HEADS, **kwargs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert repr(ours) == repr(theirs)


def test_initialisation_follows_torch():
    mha = nf.nn.MultiheadAttention(64, 4)
    bound = math.sqrt(6 / (64 + 3 * 64))  # xavier_uniform over the packed (3E, E) weight
    w = mha.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert not mha.in_proj_bias.detach().numpy().any() and not mha.out_proj.bias.detach().numpy().any()


def test_dropout_on_weights_only_in_training():
    nf.manual_seed(0)
    mha = nf.nn.MultiheadAttention(E, HEADS, dropout=0.5)
    q = nf.randn(L, N, E)
    mha.eval()
    w1, w2 = mha(q, q, q)[1], mha(q, q, q)[1]
    np.testing.assert_array_equal(w1.detach().numpy(), w2.detach().numpy())
    np.testing.assert_allclose(w1.sum(-1).detach().numpy(), 1.0, rtol=1e-6)
    mha.train()
    assert not np.allclose(mha(q, q, q)[1].detach().numpy(), w1.detach().numpy())


def test_bad_arguments_raise_torchs_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nf.nn.MultiheadAttention(6, 4)
    mha = nf.nn.MultiheadAttention(E, HEADS)
    q = nf.randn(L, N, E)
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask are supported"):
        mha(q, q, q, attn_mask=nf.zeros(L, L, dtype=nf.int64))
    with pytest.raises(RuntimeError, match=r"2D attn_mask is \(3, 4\), but should be \(4, 4\)"):
        mha(q, q, q, attn_mask=nf.zeros(3, 4))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha(q, q, q, is_causal=True)
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8, but got 5"):
        mha(nf.randn(L, N, 5), q, q)
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D but found 2-D"):
        mha(q, q[0], q[0])
