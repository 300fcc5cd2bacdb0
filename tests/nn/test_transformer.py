"""Transformer layers, stacks and the full model against PyTorch (eval mode: dropout off), weights by name."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from tests.nn.test_rnn import _port, _same
from tests.oracle import torch_or_skip

# torch's advice about its nested-tensor fast path, which nbframe does not have.
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
R = np.random.default_rng(13)
D, HEADS, FF, N, S, T = 8, 2, 16, 3, 5, 4


def _both(build):
    """``build(m)`` in each library (``m`` is nf or torch), in eval mode, ours holding torch's weights."""
    torch = torch_or_skip()
    ours, theirs = _port(build(nf), build(torch))
    return ours.eval(), theirs.eval()


def _seq(length, batch_first=False):
    return R.normal(size=(N, length, D) if batch_first else (length, N, D))


def _causal(size):
    return np.triu(np.full((size, size), -np.inf), 1)


def _padding(length, as_float=False):
    mask = np.zeros((N, length), dtype=bool)
    mask[1, -2:] = True
    return np.where(mask, -np.inf, 0.0) if as_float else mask


def _masked(*names):
    """Call ``layer(x, y..., **masks)``: the leading inputs are positional, the last ``len(names)`` masks."""
    def call(layer, m, xs):
        positional = xs[:len(xs) - len(names)]
        return layer(*positional, **dict(zip(names, xs[len(positional):])))
    return call


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation,batch_first", [("relu", False), ("gelu", True)])
def test_encoder_layer_matches_torch(norm_first, activation, batch_first):
    ours, theirs = _both(lambda m: m.nn.TransformerEncoderLayer(
        D, HEADS, FF, activation=activation, batch_first=batch_first, norm_first=norm_first))
    x = _seq(S, batch_first)
    _same(ours, theirs, [x])
    _same(ours, theirs, [x, _causal(S), _padding(S, as_float=True)],
          _masked("src_mask", "src_key_padding_mask"))
    _same(ours, theirs, [x, _padding(S)], _masked("src_key_padding_mask"))


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(norm_first):
    ours, theirs = _both(lambda m: m.nn.TransformerDecoderLayer(D, HEADS, FF, norm_first=norm_first))
    tgt, memory = _seq(T), _seq(S)
    _same(ours, theirs, [tgt, memory])
    _same(ours, theirs, [tgt, memory, _causal(T), _padding(T, as_float=True), _padding(S, as_float=True)],
          _masked("tgt_mask", "tgt_key_padding_mask", "memory_key_padding_mask"))


def test_causal_hint_matches_torch():
    ours, theirs = _both(lambda m: m.nn.TransformerDecoderLayer(D, HEADS, FF))
    _same(ours, theirs, [_seq(T), _seq(S), _causal(T)],
          lambda layer, m, xs: layer(xs[0], xs[1], tgt_mask=xs[2], tgt_is_causal=True))


def test_layers_without_bias_and_with_a_callable_activation_match_torch():
    ours, theirs = _both(lambda m: m.nn.TransformerEncoderLayer(D, HEADS, FF, bias=False,
                                                                activation=m.nn.functional.silu))
    assert not any("bias" in k for k in ours.state_dict())
    _same(ours, theirs, [_seq(S)])


def test_encoder_and_decoder_stacks_match_torch():
    def build(m):
        encoder = m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(D, HEADS, FF), 2, m.nn.LayerNorm(D),
                                          enable_nested_tensor=False)
        decoder = m.nn.TransformerDecoder(m.nn.TransformerDecoderLayer(D, HEADS, FF, norm_first=True), 2)
        return m.nn.ModuleDict({"encoder": encoder, "decoder": decoder})

    ours, theirs = _both(build)
    _same(ours["encoder"], theirs["encoder"], [_seq(S), _causal(S)], _masked("mask"))
    _same(ours["decoder"], theirs["decoder"], [_seq(T), _seq(S), _causal(T)], _masked("tgt_mask"))


@pytest.mark.parametrize("batch_first,norm_first", [(False, False), (True, True)])
def test_transformer_matches_torch(batch_first, norm_first):
    ours, theirs = _both(lambda m: m.nn.Transformer(D, HEADS, 2, 1, FF, batch_first=batch_first,
                                                    norm_first=norm_first))
    src, tgt = _seq(S, batch_first), _seq(T, batch_first)
    _same(ours, theirs, [src, tgt, _causal(T), _padding(S), _padding(S)],
          _masked("tgt_mask", "src_key_padding_mask", "memory_key_padding_mask"))


def test_unbatched_transformer_matches_torch():
    ours, theirs = _both(lambda m: m.nn.Transformer(D, HEADS, 1, 1, FF))
    _same(ours, theirs, [_seq(S)[:, 0], _seq(T)[:, 0], _causal(T)], _masked("tgt_mask"))


def test_generate_square_subsequent_mask_matches_torch():
    torch = torch_or_skip()
    ours = nf.nn.Transformer.generate_square_subsequent_mask(5)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(5)
    assert ours.dtype == nf.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert nf.nn.Transformer.generate_square_subsequent_mask(3, dtype=nf.float64).dtype == nf.float64


def test_module_tree_and_repr_follow_torch():
    torch = torch_or_skip()
    ours, theirs = nf.nn.Transformer(D, HEADS, 2, 2, FF), torch.nn.Transformer(D, HEADS, 2, 2, FF)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    layer_ours = nf.nn.TransformerDecoderLayer(D, HEADS, FF, activation="gelu", norm_first=True)
    layer_theirs = torch.nn.TransformerDecoderLayer(D, HEADS, FF, activation="gelu", norm_first=True)
    assert repr(layer_ours) == repr(layer_theirs)


def test_stack_layers_are_independent_copies():
    encoder = nf.nn.TransformerEncoder(nf.nn.TransformerEncoderLayer(D, HEADS, FF), 3)
    first, second = encoder.layers[0].linear1.weight, encoder.layers[1].linear1.weight
    assert first is not second
    with nf.no_grad():
        first.add_(1.0)
    assert not np.allclose(first.detach().numpy(), second.detach().numpy())


def test_transformer_initialises_matrices_with_xavier_uniform():
    model = nf.nn.Transformer(64, 4, 1, 1, 128)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()  # (128, 64)
    bound = np.sqrt(6 / (64 + 128))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound


def test_dropout_is_active_only_in_training():
    nf.manual_seed(0)
    layer = nf.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.5)
    x = nf.randn(S, N, D)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.train()
    assert not np.allclose(layer(x).detach().numpy(), layer.eval()(x).detach().numpy())


def test_bad_arguments_raise_torchs_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nf.nn.TransformerEncoderLayer(D, HEADS, activation="tanh")
    model = nf.nn.Transformer(D, HEADS, 1, 1, FF)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(nf.randn(S, 2, D), nf.randn(T, 3, D))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        model(nf.randn(S, 2, D), nf.randn(T, 2, D + 1))


def test_a_small_transformer_learns_to_copy_its_input():
    """Encoder-decoder with teacher forcing learns to copy a short sequence of tokens."""
    nf.manual_seed(0)
    rng = np.random.default_rng(0)
    vocab, length, d = 6, 5, 16
    embed, out = nf.nn.Embedding(vocab + 1, d), nf.nn.Linear(d, vocab)
    model = nf.nn.Transformer(d, 2, 1, 1, 32, dropout=0.0, batch_first=True)
    params = list(embed.parameters()) + list(model.parameters()) + list(out.parameters())
    optimizer = nf.optim.Adam(params, lr=0.01)
    mask = nf.nn.Transformer.generate_square_subsequent_mask(length)
    positions = nf.tensor(rng.normal(scale=0.5, size=(length, d)).astype(np.float32))

    def logits(tokens):
        start = np.full((tokens.shape[0], 1), vocab)
        shifted = np.concatenate([start, tokens[:, :-1]], axis=1)
        src = embed(nf.tensor(tokens)) + positions
        tgt = embed(nf.tensor(shifted)) + positions
        return out(model(src, tgt, tgt_mask=mask))

    for _ in range(150):
        tokens = rng.integers(0, vocab, size=(32, length))
        targets = nf.tensor(tokens.reshape(-1))
        loss = nf.nn.functional.cross_entropy(logits(tokens).reshape(-1, vocab), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    tokens = rng.integers(0, vocab, size=(64, length))
    model.eval()
    with nf.no_grad():
        accuracy = (logits(tokens).argmax(-1).numpy() == tokens).mean()
    assert accuracy > 0.9, f"copy accuracy {accuracy:.2f}"
