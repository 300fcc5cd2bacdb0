"""Ops with several outputs give plain ``loss.backward()`` exactly what their Tensor ``backward`` gives.

The array engine hands a node with several outputs (and no hooks) to its ``backward_arrays(ctx,
*grads)``, with zeros for the outputs no gradient reached. For ``split``, ``unbind``, the norms
(``NormAffine``), the recurrent layers' whole-sequence op and their one-step cell ops, with every
output or only some of them in the loss: the gradients through the array engine and through the Tensor engine
(``backward(create_graph=True)`` runs every Tensor ``backward``) must be equal bit for bit in float32,
the array engine must have called ``backward_arrays`` itself, and ``gradcheck`` must pass in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from nbframe.ops.recurrent import GRUCellGates, LSTMCellGates, RNNCellGates
from nbframe.ops.recurrent_sequence import recurrent_sequence

F = nf.nn.functional


def _sequence(mode: str, keep: tuple, proj: int = 0, reverse: bool = False, batch_sizes=(3, 3, 3)):
    """``(fn, shapes)`` for one direction of a ``mode`` layer; ``fn`` returns the outputs in ``keep``
    (0: output rows, 1: h_n, 2: c_n). Hidden size 4, input size 3, a batch of 3 unless packed."""
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    hidden, out = 4, proj or 4
    batch, rows = batch_sizes[0], sum(batch_sizes)
    shapes = [(rows, 3), (batch, out), (batch, hidden) if mode == "LSTM" else None,
              (gates * hidden, 3), (gates * hidden, out), (gates * hidden,), (gates * hidden,),
              (proj, hidden) if proj else None]

    def fn(*args):
        it = iter(args)
        x, h0, c0, *weights = [None if s is None else next(it) for s in shapes]
        outputs = recurrent_sequence(mode, x, h0, c0, tuple(weights), batch_sizes, reverse)
        return tuple(outputs[i] for i in keep)

    return fn, [s for s in shapes if s is not None]


def _norm(kind: str, affine: bool = True):
    c = 4
    if kind == "batch":
        shape = (5, c, 3)
        fn = (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)) if affine else (
            lambda x: F.batch_norm(x, None, None, training=True))
    elif kind == "layer":
        shape = (3, 2, c)
        fn = (lambda x, w, b: F.layer_norm(x, (2, c), w, b)) if affine else (
            lambda x: F.layer_norm(x, (2, c)))
        return fn, [shape] + ([(2, c)] * 2 if affine else [])
    else:
        shape = (2, c, 3)
        fn = (lambda x, w, b: F.group_norm(x, 2, w, b)) if affine else (lambda x: F.group_norm(x, 2))
    return fn, [shape] + ([(c,)] * 2 if affine else [])


# (id, fn(*tensors) -> one output or a tuple of outputs that go into the loss, input shapes, node class)
CASES = [
    ("split_all", lambda x: x.split([1, 2, 3], dim=1), [(2, 6, 3)], "Split"),
    ("split_some", lambda x: x.split([1, 2, 3], dim=1)[::2], [(2, 6, 3)], "Split"),
    ("chunk_last_dim_one", lambda x: x.chunk(3, -1)[1], [(2, 3, 6)], "Split"),
    ("unbind_all", lambda x: x.unbind(1), [(2, 3, 4)], "Unbind"),
    ("unbind_one", lambda x: x.unbind(0)[2], [(4, 3)], "Unbind"),
    ("batch_norm", *_norm("batch"), "NormAffine"),
    ("batch_norm_no_affine", *_norm("batch", False), "NormAffine"),
    ("layer_norm", *_norm("layer"), "NormAffine"),
    ("layer_norm_no_affine", *_norm("layer", False), "NormAffine"),
    ("group_norm", *_norm("group"), "NormAffine"),
    ("lstm_all", *_sequence("LSTM", (0, 1, 2)), "RecurrentSequence"),
    ("lstm_output_only", *_sequence("LSTM", (0,)), "RecurrentSequence"),
    ("lstm_h_n_only", *_sequence("LSTM", (1,)), "RecurrentSequence"),
    ("lstm_c_n_only_reverse", *_sequence("LSTM", (2,), reverse=True), "RecurrentSequence"),
    ("lstm_projected_packed", *_sequence("LSTM", (0, 2), proj=2, batch_sizes=(3, 2, 1)),
     "RecurrentSequence"),
    ("lstm_packed_reverse", *_sequence("LSTM", (0, 1), reverse=True, batch_sizes=(3, 3, 1)),
     "RecurrentSequence"),
    ("gru_all", *_sequence("GRU", (0, 1)), "RecurrentSequence"),
    ("gru_h_n_only_packed", *_sequence("GRU", (1,), batch_sizes=(3, 2, 2)), "RecurrentSequence"),
    ("rnn_tanh_output_only_reverse", *_sequence("RNN_TANH", (0,), reverse=True), "RecurrentSequence"),
    ("rnn_relu_all", *_sequence("RNN_RELU", (0, 1)), "RecurrentSequence"),
    # the one-step cells of LSTMCell, GRUCell, RNNCell and of a layer watched step by step
    ("lstm_cell_both", lambda xg, hg, c: LSTMCellGates.apply(xg, hg, c), [(3, 16), (3, 16), (3, 4)],
     "LSTMCellGates"),
    ("lstm_cell_c_only", lambda xg, hg, c: LSTMCellGates.apply(xg, hg, c)[1], [(3, 16), (3, 16), (3, 4)],
     "LSTMCellGates"),
    ("gru_cell", lambda xg, hg, h: GRUCellGates.apply(xg, hg, h), [(3, 12), (3, 12), (3, 4)], "GRUCellGates"),
    ("rnn_cell_tanh", lambda xg, hg: RNNCellGates.apply(xg, hg, "tanh"), [(3, 4), (3, 4)], "RNNCellGates"),
    ("rnn_cell_relu", lambda xg, hg: RNNCellGates.apply(xg, hg, "relu"), [(3, 4), (3, 4)], "RNNCellGates"),
]


def _arrays(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(s) * 0.8).astype(dtype) for s in shapes]


def _outputs(fn, tensors) -> tuple:
    out = fn(*tensors)
    return out if isinstance(out, tuple) else (out,)


def _loss(outputs, seed=1):
    """``sum(out_i * w_i)`` for fixed random ``w_i``: every element of every output matters."""
    rng = np.random.default_rng(seed)
    total = None
    for out in outputs:
        w = nf.tensor(rng.standard_normal(out.shape).astype(out.array.dtype))
        term = (out * w).sum()
        total = term if total is None else total + term
    return total


def _gradients(fn, arrays, create_graph: bool, monkeypatch, calls: list, node: str):
    """The inputs' gradients; every ``backward`` and ``backward_arrays`` call of the op is noted in
    ``calls`` as ``(which, create_graph)``."""
    tensors = [nf.tensor(a, requires_grad=True) for a in arrays]
    outputs = _outputs(fn, tensors)
    op = type(outputs[0].grad_fn)
    assert op.__name__ == node
    original_arrays, original_backward = op.backward_arrays, op.backward
    monkeypatch.setattr(op, "backward_arrays", staticmethod(
        lambda ctx, *g: calls.append(("arrays", create_graph)) or original_arrays(ctx, *g)))
    monkeypatch.setattr(op, "backward", staticmethod(
        lambda ctx, *g: calls.append(("tensor", create_graph)) or original_backward(ctx, *g)))
    _loss(outputs).backward(create_graph=create_graph)
    monkeypatch.undo()
    return [t.grad.detach().numpy() for t in tensors]


@pytest.mark.parametrize("fn, shapes, node", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_array_backward_equals_tensor_backward_bit_for_bit(fn, shapes, node, monkeypatch):
    arrays = _arrays(shapes, np.float32)
    calls: list = []
    array_grads = _gradients(fn, arrays, False, monkeypatch, calls, node)
    assert calls == [("arrays", False)], "the array engine called backward_arrays itself, once"
    calls.clear()
    tensor_grads = _gradients(fn, arrays, True, monkeypatch, calls, node)
    assert calls == [("tensor", True)]
    for i, (a, t) in enumerate(zip(array_grads, tensor_grads)):
        assert (a.dtype, a.shape) == (t.dtype, t.shape), f"input {i}: {a.dtype}{a.shape}, {t.dtype}{t.shape}"
        np.testing.assert_array_equal(a, t, err_msg=f"gradient of input {i}")


@pytest.mark.parametrize("fn, shapes, node", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_gradcheck_in_float64(fn, shapes, node):
    tensors = [nf.tensor(a, requires_grad=True) for a in _arrays(shapes, np.float64)]
    assert nf.autograd.gradcheck(fn, tensors)


@pytest.mark.parametrize("fn, shapes, node", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_array_backward_matches_a_central_difference_in_float64(fn, shapes, node):
    """The array engine's own gradient (gradcheck differentiates through ``autograd.grad``)."""
    arrays = _arrays(shapes, np.float64)
    tensors = [nf.tensor(a, requires_grad=True) for a in arrays]
    _loss(_outputs(fn, tensors)).backward()
    rng = np.random.default_rng(2)
    directions = [rng.standard_normal(a.shape) for a in arrays]

    def loss_at(step):
        with nf.no_grad():
            moved = [nf.tensor(a + step * d) for a, d in zip(arrays, directions)]
            return _loss(_outputs(fn, moved)).item()

    eps = 1e-6
    numerical = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
    analytical = sum(float((t.grad.numpy() * d).sum()) for t, d in zip(tensors, directions))
    np.testing.assert_allclose(analytical, numerical, rtol=1e-5, atol=1e-7)


def test_lstm_classifier_step_runs_no_tensor_backward(monkeypatch):
    """The benchmark's LSTM step: plain backward reaches the sequence op's ``backward_arrays`` only."""
    from nbframe.ops.recurrent_sequence import RecurrentSequence

    def refuse(ctx, *grads):
        raise AssertionError("plain backward took the Tensor path of RecurrentSequence")

    monkeypatch.setattr(RecurrentSequence, "backward", staticmethod(refuse))
    lstm, fc = nf.nn.LSTM(3, 4, batch_first=True), nf.nn.Linear(4, 3)
    out, _ = lstm(nf.randn(4, 5, 3))
    F.cross_entropy(fc(out[:, -1]), nf.tensor([0, 1, 2, 1])).backward()
    assert all(p.grad is not None for p in lstm.parameters())
