"""``matmul``, dtype casts (``to``), copies and the batch-first recurrent layers' time-major regrouping in
plain ``loss.backward()``: their ``backward_arrays`` give what their Tensor ``backward`` gives, bit for
bit, over every shape case of matmul and every cast direction.

The three checks (array engine vs Tensor engine in float32, central difference and gradcheck in float64)
are test_array_backward_training's, run on these cases.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import nbframe as nf
from nbframe.ops.conversion import Cast

from . import test_array_backward_training as training
from .test_array_backward_training import _constant, _floats

MATMUL = [
    ("dot_1d_1d", lambda a, b: nf.matmul(a, b), [_floats(5), _floats(5)]),
    ("vector_matrix_1d_2d", lambda a, b: nf.matmul(a, b), [_floats(4), _floats(4, 3)]),
    ("matrix_vector_2d_1d", lambda a, b: nf.matmul(a, b), [_floats(3, 4), _floats(4)]),
    ("matrix_matrix", lambda a, b: nf.mm(a, b), [_floats(3, 4), _floats(4, 2)]),
    ("batched_bmm", lambda a, b: nf.bmm(a, b), [_floats(2, 3, 4), _floats(2, 4, 5)]),
    ("broadcast_batches", lambda a, b: a @ b, [_floats(2, 1, 3, 4), _floats(5, 4, 2)]),
    ("broadcast_size_one_batch", lambda a, b: a @ b, [_floats(1, 3, 4), _floats(2, 4, 5)]),
    ("vector_batched_1d_3d", lambda a, b: a @ b, [_floats(4), _floats(2, 4, 3)]),
    ("batched_vector_3d_1d", lambda a, b: a @ b, [_floats(2, 3, 4), _floats(4)]),
    ("matrix_batched_2d_4d", lambda a, b: a @ b, [_floats(3, 4), _floats(2, 2, 4, 3)]),
    ("only_first_needs_grad", lambda a, b: a @ b, [_floats(2, 3, 4), _constant(4, 2)]),
    ("only_second_needs_grad", lambda a, b: a @ b, [_constant(3, 4), _floats(2, 4, 2)]),
    ("transposed_operand", lambda a, b: a.mT @ b, [_floats(4, 3), _floats(4, 2)]),
    ("mixed_dtypes", lambda a, b: a @ b.double(), [_floats(3, 4), _floats(4, 2)]),
]
MATMUL_IDS = [c[0] for c in MATMUL]
MATMUL_ARGS = [(fn, specs, "Matmul") for _, fn, specs in MATMUL]


@pytest.mark.parametrize("fn, specs, node", MATMUL_ARGS, ids=MATMUL_IDS)
def test_matmul_array_backward_equals_tensor_backward_bit_for_bit(fn, specs, node, monkeypatch):
    training.test_array_backward_equals_tensor_backward_bit_for_bit(fn, specs, node, monkeypatch)


@pytest.mark.parametrize("fn, specs, node", MATMUL_ARGS, ids=MATMUL_IDS)
def test_matmul_array_backward_matches_a_central_difference_in_float64(fn, specs, node):
    training.test_array_backward_matches_a_central_difference_in_float64(fn, specs, node)


@pytest.mark.parametrize("fn, specs, node", MATMUL_ARGS, ids=MATMUL_IDS)
def test_matmul_gradcheck_in_float64(fn, specs, node):
    training.test_gradcheck_in_float64(fn, specs, node)


CASTS = [
    ("float32_to_float64", lambda x: x.double()),
    ("float32_to_float16", lambda x: x.half()),
    ("float16_to_float32", lambda x: x.half().float()),
    ("float64_to_float32", lambda x: x.double().float()),
    ("float32_to_float64_by_keyword", lambda x: x.to(dtype=nf.float64)),
]


@pytest.mark.parametrize("fn", [c[1] for c in CASTS], ids=[c[0] for c in CASTS])
def test_cast_array_backward_equals_tensor_backward_bit_for_bit(fn, monkeypatch):
    training.test_array_backward_equals_tensor_backward_bit_for_bit(fn, [_floats(3, 4)], "Cast", monkeypatch)


@pytest.mark.parametrize("target", [nf.float64, nf.float16, nf.float32])
def test_cast_gradient_is_the_output_gradient_in_the_source_dtype(target):
    """``sum(x.to(target) * w)``'s gradient is ``w`` rounded to x's dtype, exactly (the derivative is 1)."""
    source = nf.float16 if target is nf.float32 else nf.float32
    x = nf.randn(3, 4).to(source).requires_grad_()
    w = nf.randn(3, 4).to(target)
    (x.to(target) * w).sum().backward()
    assert x.grad.dtype == source
    np.testing.assert_array_equal(x.grad.numpy(), w.numpy().astype(x.grad.numpy().dtype))


@pytest.mark.parametrize("source", [np.int64, np.int32, np.bool_])
def test_cast_from_an_integer_or_bool_source_gives_no_gradient(source):
    ctx = SimpleNamespace(source=np.dtype(source))
    assert Cast.backward_arrays(ctx, np.ones(3, np.float32)) == (None, None)


def test_float_from_an_integer_tensor_leaves_the_float_operand_its_gradient():
    x = nf.randn(3).requires_grad_()
    i = nf.tensor([1, 2, 3])
    (x * i.float()).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.array([1, 2, 3], np.float32))



COPIES = [("clone", lambda x: x.clone(), "Clone"), ("contiguous", lambda x: x.mT.contiguous(), "Contiguous")]


@pytest.mark.parametrize("fn, node", [c[1:] for c in COPIES], ids=[c[0] for c in COPIES])
def test_copies_array_backward_equals_tensor_backward_bit_for_bit(fn, node, monkeypatch):
    training.test_array_backward_equals_tensor_backward_bit_for_bit(fn, [_floats(3, 4)], node, monkeypatch)


def _recurrent(mode: str, x):
    """A fixed batch-first layer of ``mode`` (in x's dtype) on ``x``: its output sequence."""
    nf.manual_seed(0)
    return getattr(nf.nn, mode)(4, 3, batch_first=True, dtype=x.dtype)(x)[0]


RECURRENT = [(mode, shape) for mode in ("LSTM", "GRU", "RNN") for shape in ((2, 5, 4), (1, 3, 4), (3, 1, 4))]
RECURRENT_IDS = [f"{mode}_{'x'.join(map(str, shape))}" for mode, shape in RECURRENT]


@pytest.mark.parametrize("mode, shape", RECURRENT, ids=RECURRENT_IDS)
def test_batch_first_regrouping_array_backward_equals_tensor_backward_bit_for_bit(mode, shape, monkeypatch):
    training.test_array_backward_equals_tensor_backward_bit_for_bit(
        lambda x: _recurrent(mode, x), [_floats(*shape)], "_BatchMajor", monkeypatch)


@pytest.mark.parametrize("mode, shape", RECURRENT[:3], ids=RECURRENT_IDS[:3])
def test_batch_first_layer_gradcheck_in_float64(mode, shape):
    training.test_gradcheck_in_float64(lambda x: _recurrent(mode, x), [_floats(*shape)], "_BatchMajor")


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_changing_a_returned_final_state_in_place_leaves_the_gradients_alone(mode):
    """One layer's ``h_n`` (and ``c_n``) is a view of the sequence op's result, not a copy."""
    grads = []
    for change in (False, True):
        nf.manual_seed(0)
        layer = getattr(nf.nn, mode)(3, 4, batch_first=True)
        out, states = layer(nf.randn(2, 5, 3))
        if change:
            for state in states if mode == "LSTM" else (states,):
                state.mul_(3.0)
        (out * out).sum().backward()
        grads.append([p.grad.numpy() for p in layer.parameters()])
    for before, after in zip(*grads):
        np.testing.assert_array_equal(before, after)
