"""RNN, LSTM, GRU and their cells against PyTorch, with PyTorch's state_dict copied in by name.

Every comparison runs a forward and a backward of a weighted sum of all the
outputs (sequence output, ``h_n``, ``c_n``) in float64 in both libraries and
compares the outputs, the gradients of the input and of the initial state,
and the gradient of every parameter.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import torch_or_skip

R = np.random.default_rng(7)
INPUT, HIDDEN = 3, 4
LAYERS = {"RNN": nf.nn.RNN, "LSTM": nf.nn.LSTM, "GRU": nf.nn.GRU}


def _pair(name: str, *args, **kwargs):
    """The same layer in both libraries, ours loaded from torch's state_dict (float64)."""
    torch = torch_or_skip()
    return _port(getattr(nf.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs))


def _port(ours, theirs):
    """Both in float64, ours holding torch's weights (loaded by name: the key lists must be equal)."""
    ours, theirs = ours.double(), theirs.double()
    state = {k: nf.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    result = ours.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys
    assert list(ours.state_dict()) == list(theirs.state_dict())
    return ours, theirs


def _flat(out) -> list:
    """Every tensor in a layer's result: output (or a PackedSequence's data), h_n, c_n; Nones dropped."""
    if out is None:
        return []
    if isinstance(out, (tuple, list)) and not hasattr(out, "batch_sizes"):
        return [t for item in out for t in _flat(item)]
    return [out.data] if hasattr(out, "batch_sizes") else [out]


def _run(layer, m, arrays, call):
    """``call(layer, m, tensors)``, backward of ``sum(out * seed)``: outputs, float inputs' and params' grads.

    Shared by ``test_attention`` and ``test_transformer``.
    """
    inputs = [m.tensor(a, requires_grad=np.asarray(a).dtype.kind == "f") for a in arrays]
    outs = _flat(call(layer, m, inputs))
    loss = sum((o * m.tensor(np.cos(np.arange(o.numel()) + i).reshape(tuple(o.shape)))).sum()
               for i, o in enumerate(outs))
    loss.backward()
    params = {k: p.grad.numpy() for k, p in layer.named_parameters() if p.grad is not None}
    grads = [None if t.grad is None else t.grad.numpy() for t in inputs if t.requires_grad]
    return [o.detach().numpy() for o in outs], grads, params


def _same(ours, theirs, arrays, call=lambda layer, m, xs: layer(*xs)):
    (o1, g1, p1), (o2, g2, p2) = _run(ours, nf, arrays, call), _run(theirs, torch_or_skip(), arrays, call)
    assert [a.shape for a in o1] == [b.shape for b in o2]
    for i, (a, b) in enumerate(zip(o1, o2)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-10, err_msg=f"output {i}")
    for i, (a, b) in enumerate(zip(g1, g2)):
        if a is None or b is None:  # an input the result does not depend on
            assert a is None and b is None, f"gradient of input {i}: only one library has one"
            continue
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-10, err_msg=f"gradient of input {i}")
    assert p1.keys() == p2.keys()
    for k in p1:
        np.testing.assert_allclose(p1[k], p2[k], rtol=1e-6, atol=1e-10, err_msg=f"gradient of {k}")


def _state_arrays(name: str, layers: int, directions: int, batch: int, proj: int = 0) -> list:
    h = R.normal(size=(layers * directions, batch, proj or HIDDEN))
    return [h, R.normal(size=(layers * directions, batch, HIDDEN))] if name == "LSTM" else [h]


def _with_state(name: str):
    """A call that passes the initial state: ``(h0, c0)`` for an LSTM, ``h0`` otherwise."""
    def call(layer, m, xs):
        return layer(xs[0], (xs[1], xs[2]) if name == "LSTM" else xs[1])
    return call


# --------------------------------------------------------------------------- full layers, padded input
@pytest.mark.parametrize("name,nonlinearity",
                         [("LSTM", None), ("GRU", None), ("RNN", "tanh"), ("RNN", "relu")])
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,with_state",
                         list(itertools.product([1, 2], [False, True], [False, True], [False, True])))
def test_layer_matches_torch(name, nonlinearity, num_layers, bidirectional, batch_first, with_state):
    extra = {} if nonlinearity is None else {"nonlinearity": nonlinearity}
    ours, theirs = _pair(name, INPUT, HIDDEN, num_layers=num_layers, bidirectional=bidirectional,
                         batch_first=batch_first, **extra)
    steps, batch = 4, 3
    x = R.normal(size=(batch, steps, INPUT) if batch_first else (steps, batch, INPUT))
    if with_state:
        state = _state_arrays(name, num_layers, 1 + bidirectional, batch)
        _same(ours, theirs, [x, *state], _with_state(name))
    else:
        _same(ours, theirs, [x])


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_layer_without_bias_matches_torch(name):
    ours, theirs = _pair(name, INPUT, HIDDEN, num_layers=2, bias=False)
    assert not any("bias" in k for k in ours.state_dict())
    _same(ours, theirs, [R.normal(size=(3, 2, INPUT))])


@pytest.mark.parametrize("bidirectional,num_layers", [(False, 1), (True, 2)])
def test_lstm_with_projection_matches_torch(bidirectional, num_layers):
    ours, theirs = _pair("LSTM", INPUT, HIDDEN, num_layers=num_layers, bidirectional=bidirectional,
                         proj_size=2)
    assert ours.weight_hr_l0.shape == (2, HIDDEN) and ours.weight_hh_l0.shape == (4 * HIDDEN, 2)
    x = R.normal(size=(4, 3, INPUT))
    _same(ours, theirs, [x])
    _same(ours, theirs, [x, *_state_arrays("LSTM", num_layers, 1 + bidirectional, 3, proj=2)],
          _with_state("LSTM"))


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_unbatched_input_matches_torch(name):
    ours, theirs = _pair(name, INPUT, HIDDEN, num_layers=2, bidirectional=True)
    x = R.normal(size=(5, INPUT))
    _same(ours, theirs, [x])
    state = [s[:, 0] for s in _state_arrays(name, 2, 2, 1)]
    _same(ours, theirs, [x, *state], _with_state(name))


# --------------------------------------------------------------------------- packed, variable-length input
def _packed_call(lengths, enforce_sorted, batch_first, name=None):
    def call(layer, m, xs):
        packed = m.nn.utils.rnn.pack_padded_sequence(xs[0], lengths, batch_first=batch_first,
                                                     enforce_sorted=enforce_sorted)
        if name is None:
            out, state = layer(packed)
        else:
            out, state = layer(packed, (xs[1], xs[2]) if name == "LSTM" else xs[1])
        padded, _ = m.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first)
        return out.data, padded, state
    return call


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, True)])
@pytest.mark.parametrize("enforce_sorted,with_state", [(True, False), (False, True)])
def test_packed_sequence_matches_torch(name, num_layers, bidirectional, enforce_sorted, with_state):
    ours, theirs = _pair(name, INPUT, HIDDEN, num_layers=num_layers, bidirectional=bidirectional)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    x = R.normal(size=(5, 4, INPUT))
    if with_state:
        state = _state_arrays(name, num_layers, 1 + bidirectional, 4)
        _same(ours, theirs, [x, *state], _packed_call(lengths, enforce_sorted, False, name))
    else:
        _same(ours, theirs, [x], _packed_call(lengths, enforce_sorted, False))


def test_packed_lstm_batch_first_with_projection_matches_torch():
    ours, theirs = _pair("LSTM", INPUT, HIDDEN, bidirectional=True, batch_first=True, proj_size=3)
    _same(ours, theirs, [R.normal(size=(3, 4, INPUT))], _packed_call([2, 4, 1], False, True))


def test_packed_output_is_a_packed_sequence_with_the_inputs_indices():
    lstm = nf.nn.LSTM(INPUT, HIDDEN)
    x = nf.randn(4, 3, INPUT)
    packed = nf.nn.utils.rnn.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
    out, (h, c) = lstm(packed)
    assert isinstance(out, nf.nn.utils.rnn.PackedSequence)
    assert out.batch_sizes.tolist() == packed.batch_sizes.tolist()
    assert out.sorted_indices.tolist() == packed.sorted_indices.tolist()
    assert tuple(out.data.shape) == (7, HIDDEN) and tuple(h.shape) == tuple(c.shape) == (1, 3, HIDDEN)


def test_packed_final_state_is_each_sequences_last_step():
    gru = nf.nn.GRU(INPUT, HIDDEN)
    x = nf.randn(4, 3, INPUT)
    lengths = [2, 4, 1]
    out, h = gru(nf.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False))
    padded, got_lengths = nf.nn.utils.rnn.pad_packed_sequence(out)
    assert got_lengths.tolist() == lengths
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(h[0, b].detach().numpy(), padded[n - 1, b].detach().numpy())
        alone, h_alone = gru(x[:n, b:b + 1])
        np.testing.assert_allclose(h_alone[0, 0].detach().numpy(), h[0, b].detach().numpy(), rtol=1e-5)
        assert not padded[n:, b].detach().numpy().any()


# --------------------------------------------------------------------------- cells
@pytest.mark.parametrize("name,kwargs", [("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {}),
                                         ("RNNCell", {"nonlinearity": "relu"}), ("GRUCell", {"bias": False})])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_torch(name, kwargs, batched):
    ours, theirs = _pair(name, INPUT, HIDDEN, **kwargs)
    shape = (3,) if batched else ()
    x = R.normal(size=(*shape, INPUT))
    _same(ours, theirs, [x])
    if name == "LSTMCell":
        hc = [R.normal(size=(*shape, HIDDEN)) for _ in range(2)]
        _same(ours, theirs, [x, *hc], lambda layer, m, xs: layer(xs[0], (xs[1], xs[2])))
    else:
        _same(ours, theirs, [x, R.normal(size=(*shape, HIDDEN))])


def test_cell_loop_equals_layer():
    """An LSTMCell stepped by hand over a sequence gives the LSTM layer's output (shared weights)."""
    lstm, cell = nf.nn.LSTM(INPUT, HIDDEN).double(), nf.nn.LSTMCell(INPUT, HIDDEN).double()
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = nf.randn(5, 2, INPUT, dtype=nf.float64)
    out, (h_n, c_n) = lstm(x)
    h = c = nf.zeros(2, HIDDEN, dtype=nf.float64)
    for t in range(5):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(h.detach().numpy(), out[t].detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(c.detach().numpy(), c_n[0].detach().numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- autograd checks
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_layer_passes_gradcheck_and_gradgradcheck(name):
    layer = LAYERS[name](2, 3, bidirectional=True).double()
    x = nf.randn(3, 2, 2, dtype=nf.float64, requires_grad=True)
    weights = [p for p in layer.parameters()][:2]

    def fn(x, *ws):
        return _flat(layer(x))[0]

    assert nf.autograd.gradcheck(fn, (x, *weights))
    assert nf.autograd.gradgradcheck(fn, (x,))


# --------------------------------------------------------------------------- structure and errors
def test_parameter_names_shapes_and_order_follow_torch():
    torch = torch_or_skip()
    for kwargs in ({"num_layers": 2, "bidirectional": True}, {"proj_size": 2}, {"bias": False}):
        ours, theirs = nf.nn.LSTM(INPUT, HIDDEN, **kwargs), torch.nn.LSTM(INPUT, HIDDEN, **kwargs)
        assert [(k, tuple(v.shape)) for k, v in ours.named_parameters()] == [
            (k, tuple(v.shape)) for k, v in theirs.named_parameters()
        ]
        assert repr(ours) == repr(theirs)
    assert repr(nf.nn.RNN(2, 3, 2, "relu", batch_first=True, dropout=0.5)) == repr(
        torch.nn.RNN(2, 3, 2, "relu", batch_first=True, dropout=0.5)
    )
    assert repr(nf.nn.GRUCell(2, 3, bias=False)) == repr(torch.nn.GRUCell(2, 3, bias=False))
    assert repr(nf.nn.RNNCell(2, 3, nonlinearity="relu")) == repr(torch.nn.RNNCell(2, 3, nonlinearity="relu"))


def test_initialisation_is_uniform_within_one_over_sqrt_hidden():
    lstm = nf.nn.LSTM(20, 100)
    bound = 1 / math.sqrt(100)
    for p in lstm.parameters():
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound


def test_dropout_between_layers_only_in_training():
    nf.manual_seed(0)
    lstm = nf.nn.LSTM(INPUT, HIDDEN, num_layers=2, dropout=0.5)
    x = nf.randn(4, 2, INPUT)
    lstm.eval()
    a, b = lstm(x)[0], lstm(x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    lstm.train()
    assert not np.allclose(lstm(x)[0].detach().numpy(), a.detach().numpy())
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nf.nn.GRU(2, 3, dropout=0.2)


def test_bad_arguments_raise_torchs_errors():
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nf.nn.GRU(2, 3, proj_size=1)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nf.nn.LSTM(2, 3, proj_size=3)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nf.nn.RNN(2, 3, nonlinearity="gelu")
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nf.nn.LSTM(2, 3, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nf.nn.LSTM(2, 0)


def test_bad_inputs_raise_torchs_errors():
    lstm, gru = nf.nn.LSTM(INPUT, HIDDEN, num_layers=2), nf.nn.GRU(INPUT, HIDDEN)
    with pytest.raises(RuntimeError, match=r"must be equal to input_size. Expected 3, got 5"):
        lstm(nf.randn(4, 2, 5))
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D instead"):
        lstm(nf.randn(4, 2, 1, 3))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(2, 2, 4\), got \[1, 2, 4\]"):
        lstm(nf.randn(4, 2, INPUT), (nf.zeros(1, 2, HIDDEN), nf.zeros(2, 2, HIDDEN)))
    with pytest.raises(RuntimeError, match="Expected hidden size \\(1, 2, 4\\), got \\[1, 3, 4\\]"):
        gru(nf.randn(4, 2, INPUT), nf.zeros(1, 3, HIDDEN))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D but got 3-D"):
        gru(nf.randn(4, INPUT), nf.zeros(1, 1, HIDDEN))
    with pytest.raises(ValueError, match="does not match weight dtype"):
        gru(nf.randn(4, 2, INPUT, dtype=nf.float64))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 2 expected 3"):
        nf.nn.LSTMCell(INPUT, HIDDEN)(nf.randn(5, 2))
    with pytest.raises(ValueError, match="GRUCell: Expected input to be 1D or 2D, got 3D instead"):
        nf.nn.GRUCell(INPUT, HIDDEN)(nf.randn(5, 2, 3))


# --------------------------------------------------------------------------- learning
def test_lstm_learns_the_sum_of_variable_length_sequences():
    """Packed batches of 1..8 numbers; an LSTM + Linear regresses their sum within a few seconds."""
    nf.manual_seed(0)
    rng = np.random.default_rng(0)
    lstm, head = nf.nn.LSTM(1, 16), nf.nn.Linear(16, 1)
    params = list(lstm.parameters()) + list(head.parameters())
    optimizer = nf.optim.Adam(params, lr=0.02)

    def batch(n=32):
        lengths = rng.integers(1, 9, size=n)
        x = rng.uniform(-1, 1, size=(8, n, 1)).astype(np.float32)
        x[np.arange(8)[:, None] >= lengths[None, :]] = 0
        return nf.tensor(x), lengths, nf.tensor(x.sum(axis=0))

    def predict(x, lengths):
        packed = nf.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        _, (h, _) = lstm(packed)
        return head(h[-1])

    start = time.perf_counter()
    for _ in range(300):
        x, lengths, target = batch()
        loss = nf.nn.functional.mse_loss(predict(x, lengths), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    elapsed = time.perf_counter() - start
    x, lengths, target = batch(256)
    with nf.no_grad():
        test_loss = nf.nn.functional.mse_loss(predict(x, lengths), target).item()
    variance = float(target.numpy().var())
    assert test_loss < 0.05 * variance, f"test MSE {test_loss:.4f} vs target variance {variance:.4f}"
    assert elapsed < 30


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_float32_layer_matches_torch_to_float32_precision(name):
    torch = torch_or_skip()
    theirs = getattr(torch.nn, name)(INPUT, HIDDEN, num_layers=2, bidirectional=True)
    ours = getattr(nf.nn, name)(INPUT, HIDDEN, num_layers=2, bidirectional=True)
    ours.load_state_dict({k: nf.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    x = R.normal(size=(6, 3, INPUT)).astype(np.float32)
    ours_out, theirs_out = ours(nf.tensor(x))[0], theirs(torch.tensor(x))[0]
    assert ours_out.dtype == nf.float32
    np.testing.assert_allclose(ours_out.detach().numpy(), theirs_out.detach().numpy(), rtol=1e-5, atol=1e-6)
