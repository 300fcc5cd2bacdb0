"""The whole-sequence recurrent op (``nbframe.ops.recurrent_sequence``) behind RNN, LSTM and GRU.

A layer runs each direction as one ``RecurrentSequence`` op unless an op observer listens, when it
runs step by step with Tensor ops. The two paths must agree exactly; the op must match PyTorch in
float32 too (``test_rnn`` checks float64), pass gradcheck and gradgradcheck with every argument
differentiable (packed, reversed, projected), and refuse a backward after its saved state changed.
"""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from nbframe.ops.recurrent_sequence import recurrent_sequence
from tests.nn.test_rnn import _flat, _packed_call, _port, _run
from tests.oracle import torch_or_skip

R = np.random.default_rng(11)
INPUT, HIDDEN = 3, 4
CASES = [("LSTM", {}), ("LSTM", {"proj_size": 2}), ("GRU", {}), ("RNN", {}),
         ("RNN", {"nonlinearity": "relu"})]


def _layer(name: str, **kwargs):
    nf.manual_seed(3)
    return getattr(nf.nn, name)(INPUT, HIDDEN, **kwargs).double()


def _grads(layer, call, arrays):
    """Outputs, input gradients and parameter gradients of ``call``, as ``tests.nn.test_rnn._run``."""
    layer.zero_grad()
    return _run(layer, nf, arrays, call)


def _assert_all_close(ours, theirs, rtol: float, atol: float) -> None:
    (o1, g1, p1), (o2, g2, p2) = ours, theirs
    for i, (a, b) in enumerate(zip(o1, o2)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"output {i}")
    for i, (a, b) in enumerate(zip(g1, g2)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")
    assert p1.keys() == p2.keys()
    for k in p1:
        np.testing.assert_allclose(p1[k], p2[k], rtol=rtol, atol=atol, err_msg=f"gradient of {k}")


def _packed_with_state(name: str, layers: int, directions: int, proj: int = 0):
    """Arrays for ``_packed_call`` with an initial state: input (5, 4, INPUT), lengths unsorted."""
    h = R.normal(size=(layers * directions, 4, proj or HIDDEN))
    state = [h, R.normal(size=(layers * directions, 4, HIDDEN))] if name == "LSTM" else [h]
    return [R.normal(size=(5, 4, INPUT)), *state], _packed_call([3, 5, 1, 3], False, False, name)


# --------------------------------------------------------------------------- which path runs
def test_a_layer_direction_is_one_op_without_observers():
    lstm = _layer("LSTM", bidirectional=True)
    _, (h_n, _) = lstm(nf.randn(5, 2, INPUT, dtype=nf.float64))
    inputs = [node.name() for node, _ in h_n.grad_fn.next_functions if node is not None]
    assert inputs == ["RecurrentSequenceBackward0"] * 2


def test_watch_sees_every_time_step():
    lstm = _layer("LSTM")
    with nf.debug.watch() as record:
        lstm(nf.randn(5, 2, INPUT, dtype=nf.float64))
    ops = [r.op for r in record]
    assert ops.count("lstm_cell") == 5 and "rnn_sequence" not in ops


@pytest.mark.parametrize("name,kwargs", CASES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_one_op_equals_the_step_by_step_path(name, kwargs, bidirectional):
    layer = _layer(name, num_layers=2, bidirectional=bidirectional, **kwargs)
    arrays, call = _packed_with_state(name, 2, 1 + bidirectional, kwargs.get("proj_size", 0))
    fused = _grads(layer, call, arrays)
    with nf.autograd.add_op_observer(lambda op, inputs, outputs: None):
        by_steps = _grads(layer, call, arrays)
    _assert_all_close(fused, by_steps, rtol=1e-12, atol=1e-14)


def test_dropout_between_layers_is_the_same_on_both_paths():
    """The dropout between layers is a Tensor op on either path: the same seed, the same masks."""
    layer = _layer("LSTM", num_layers=3, dropout=0.5, bidirectional=True)
    arrays, call = [R.normal(size=(5, 4, INPUT))], (lambda layer, m, xs: layer(*xs))
    nf.manual_seed(5)
    fused = _grads(layer, call, arrays)
    nf.manual_seed(5)
    with nf.autograd.add_op_observer(lambda op, inputs, outputs: None):
        by_steps = _grads(layer, call, arrays)
    _assert_all_close(fused, by_steps, rtol=1e-12, atol=1e-14)
    nf.manual_seed(6)
    assert not np.allclose(_grads(layer, call, arrays)[0][0], fused[0][0])  # dropout did act


# --------------------------------------------------------------------------- against PyTorch, float32
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("name,kwargs", CASES)
@pytest.mark.parametrize("packed", [False, True])
def test_float32_outputs_and_gradients_match_torch(name, kwargs, packed):
    torch = torch_or_skip()
    options = dict(num_layers=2, bidirectional=True, **kwargs)
    ours, theirs = _port(getattr(nf.nn, name)(INPUT, HIDDEN, **options),
                         getattr(torch.nn, name)(INPUT, HIDDEN, **options))
    ours, theirs = ours.float(), theirs.float()
    if packed:
        arrays, call = _packed_with_state(name, 2, 2, kwargs.get("proj_size", 0))
    else:
        arrays, call = [R.normal(size=(6, 3, INPUT))], (lambda layer, m, xs: layer(*xs))
    arrays = [a.astype(np.float32) for a in arrays]
    _assert_all_close(_run(ours, nf, arrays, call), _run(theirs, torch, arrays, call), rtol=2e-4, atol=2e-5)


# --------------------------------------------------------------------------- the op itself
def _op_arguments(name: str, proj: int = 0):
    """Every differentiable argument of one direction, float64 and requiring grad, plus batch sizes."""
    gates = {"LSTM": 4, "GRU": 3}.get(name, 1)
    out = proj or 2
    shapes = [(4, 2), (2, out), (2, 2) if name == "LSTM" else None,  # x rows, h0, c0
              (gates * 2, 2), (gates * 2, out), (gates * 2,), (gates * 2,), (proj, 2) if proj else None]
    tensors = [None if s is None else nf.tensor(R.normal(size=s), requires_grad=True) for s in shapes]
    return tensors, (2, 1, 1)  # a packed batch: 2 sequences, of lengths 3 and 1


@pytest.mark.parametrize("mode,proj,reverse", [("LSTM", 0, False), ("LSTM", 1, True), ("GRU", 0, False),
                                               ("GRU", 0, True), ("RNN_TANH", 0, True),
                                               ("RNN_RELU", 0, False)])
def test_op_passes_gradcheck_and_gradgradcheck(mode, proj, reverse):
    tensors, batch_sizes = _op_arguments(mode, proj)
    present = [t for t in tensors if t is not None]

    def fn(*args):
        it = iter(args)
        x, h0, c0, *weights = [None if t is None else next(it) for t in tensors]
        out, h_n, c_n = recurrent_sequence(mode, x, h0, c0, tuple(weights), batch_sizes, reverse)
        return (out, h_n) if c_n is None else (out, h_n, c_n)

    assert nf.autograd.gradcheck(fn, present)
    assert nf.autograd.gradgradcheck(fn, present)


def test_changing_the_initial_state_in_place_refuses_backward():
    lstm = _layer("LSTM")
    h0 = nf.zeros(1, 2, HIDDEN, dtype=nf.float64)
    c0 = nf.zeros(1, 2, HIDDEN, dtype=nf.float64, requires_grad=True)
    out, _ = lstm(nf.randn(3, 2, INPUT, dtype=nf.float64), (h0, c0 * 1))
    h0.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_both_biases_get_gradients_of_their_own():
    lstm = _layer("LSTM")
    lstm(nf.randn(3, 2, INPUT, dtype=nf.float64))[0].sum().backward()
    np.testing.assert_array_equal(lstm.bias_ih_l0.grad.numpy(), lstm.bias_hh_l0.grad.numpy())
    lstm.bias_ih_l0.grad.mul_(0)
    assert lstm.bias_hh_l0.grad.abs().sum().item() > 0


def test_one_step_output_and_final_state_do_not_share_memory():
    tensors, _ = _op_arguments("GRU")
    x, h0, _, *weights = tensors
    out, h_n, _ = recurrent_sequence("GRU", x[:2], h0, None, tuple(weights), (2,), False)
    before = h_n.detach().numpy().copy()
    out.detach().mul_(0)
    np.testing.assert_array_equal(h_n.detach().numpy(), before)


def test_no_grad_forward_equals_grad_forward():
    gru = _layer("GRU", bidirectional=True)
    x = nf.randn(4, 3, INPUT, dtype=nf.float64)
    out, h = gru(x)
    with nf.no_grad():
        out2, h2 = gru(x)
    assert out2.grad_fn is None and not out2.requires_grad
    np.testing.assert_array_equal(out.detach().numpy(), out2.numpy())
    np.testing.assert_array_equal(h.detach().numpy(), h2.numpy())


def test_gradient_penalty_matches_torch():
    """``create_graph=True`` through the op: the gradient of a gradient's norm, against PyTorch."""
    torch = torch_or_skip()
    ours, theirs = _port(nf.nn.LSTM(INPUT, HIDDEN, proj_size=2), torch.nn.LSTM(INPUT, HIDDEN, proj_size=2))
    x = R.normal(size=(4, 2, INPUT))
    results = []
    for m, layer in ((nf, ours), (torch, theirs)):
        xt = m.tensor(x, requires_grad=True)
        out = _flat(layer(xt))[0]
        (g,) = m.autograd.grad((out * out).sum(), xt, create_graph=True)
        (g * g).sum().backward()
        results.append({k: p.grad.numpy() for k, p in layer.named_parameters()})
    for k in results[0]:
        np.testing.assert_allclose(results[0][k], results[1][k], rtol=1e-6, atol=1e-10, err_msg=k)
