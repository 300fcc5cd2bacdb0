"""The ops of real training steps give plain ``loss.backward()`` (gradients as raw arrays, each op's
``backward_arrays``) exactly what their Tensor ``backward`` gives.

For each op: one forward and backward through the array engine, one through the Tensor engine
(``backward(create_graph=True)`` runs every Tensor ``backward``, with its graph-building formulas),
and the gradients must be equal bit for bit, in float32. Then, in float64, the array engine's
gradient must match a central difference along a random direction, and ``gradcheck`` must pass.
"""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from nbframe.autograd import engine
from nbframe.autograd.function import Node

F = nf.nn.functional


def _floats(*shape):
    return ("float", shape)


def _ints(high, *shape):
    return ("int", high, shape)


def _mask(*shape):
    return ("mask", shape)


def _constant(*shape):
    """A float input that needs no gradient (class weights)."""
    return ("constant", shape)


# (id, fn(*tensors) -> output of the op under test, input specs, the op's node class name)
CASES = [
    ("linear", lambda x, w, b: F.linear(x, w, b), [_floats(4, 5), _floats(3, 5), _floats(3)], "Linear"),
    ("linear_3d_no_bias", lambda x, w: F.linear(x, w), [_floats(2, 4, 5), _floats(3, 5)], "Linear"),
    ("softmax", lambda x: F.softmax(x, dim=-1), [_floats(3, 6)], "Softmax"),
    ("log_softmax_dim0", lambda x: F.log_softmax(x, dim=0), [_floats(4, 3)], "LogSoftmax"),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), [_floats(3, 4)], "Gelu"),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), [_floats(3, 4)], "LeakyRelu"),
    ("silu", lambda x: F.silu(x), [_floats(3, 4)], "Silu"),
    ("embedding", lambda w, i: F.embedding(i, w), [_floats(6, 4), _ints(6, 3, 5)], "Embedding"),
    ("cross_entropy", lambda x, t: F.cross_entropy(x, t), [_floats(5, 4), _ints(4, 5)], "ClassLoss"),
    ("cross_entropy_weighted_smoothed_4d",
     lambda x, w, t: F.cross_entropy(x, t, weight=w, ignore_index=1, label_smoothing=0.1),
     [_floats(2, 3, 2, 2), _constant(3), _ints(3, 2, 2, 2)], "ClassLoss"),
    ("cross_entropy_probabilities", lambda x, p: F.cross_entropy(x, p.softmax(1), reduction="sum"),
     [_floats(4, 3), _floats(4, 3)], "ClassLoss"),
    ("nll_loss_none", lambda x, t: F.nll_loss(x, t, reduction="none"), [_floats(5, 4), _ints(4, 5)],
     "ClassLoss"),
    ("mse_loss_broadcast", lambda x, t: F.mse_loss(x, t.expand(3, 4)), [_floats(3, 4), _floats(1, 4)],
     "MseLoss"),
    ("huber_loss_none", lambda x, t: F.huber_loss(x, t, reduction="none", delta=0.5),
     [_floats(3, 4), _floats(3, 4)], "HuberLoss"),
    ("bce_with_logits", lambda x, t: F.binary_cross_entropy_with_logits(x, t.sigmoid()),
     [_floats(3, 4), _floats(3, 4)], "BceWithLogitsLoss"),
    ("pad_constant", lambda x: F.pad(x, (1, 2, -1, 0)), [_floats(2, 3, 4)], "ConstantPad"),
    ("pad_reflect", lambda x: F.pad(x, (2, 1), mode="reflect"), [_floats(2, 3, 5)], "TakeAlong"),
    ("reshape", lambda x: x.reshape(4, 6), [_floats(2, 3, 4)], "Reshape"),
    ("view", lambda x: x.view(-1), [_floats(2, 3)], "View"),
    ("permute", lambda x: x.permute(2, 0, 1), [_floats(2, 3, 4)], "Permute"),
    ("expand", lambda x: x.expand(2, 3, 4), [_floats(3, 1)], "Expand"),
    ("narrow", lambda x: x.narrow(1, 1, 2), [_floats(3, 4)], "Narrow"),
    ("cat_mixed_dtypes", lambda a, b: nf.cat([a, b.double()], 1), [_floats(2, 3), _floats(2, 2)], "Cat"),
    ("stack", lambda a, b: nf.stack([a, b], 1), [_floats(2, 3), _floats(2, 3)], "Stack"),
    ("repeat", lambda x: x.repeat(2, 1, 3), [_floats(3, 2)], "Repeat"),
    ("flip", lambda x: x.flip(0, 1), [_floats(3, 4)], "Flip"),
    ("roll", lambda x: x.roll((1, -2), (0, 1)), [_floats(3, 4)], "Roll"),
    ("getitem_slice", lambda x: x[1:, ::2], [_floats(3, 4)], "GetItem"),
    ("getitem_repeated_indices", lambda x, i: x[i], [_floats(4, 3), _ints(4, 6)], "GetItem"),
    ("getitem_mask", lambda x, m: x[m], [_floats(3, 4), _mask(3, 4)], "GetItem"),
    ("index_put", lambda x, v, i: nf.index_put(x, (i,), v), [_floats(5, 3), _floats(3), _ints(5, 2)],
     "IndexPut"),
    ("index_put_accumulate", lambda x, v, i: nf.index_put(x, (i,), v, accumulate=True),
     [_floats(5, 3), _floats(2, 3), _ints(5, 2)], "IndexPut"),
    ("gather", lambda x, i: x.gather(1, i), [_floats(3, 4), _ints(4, 3, 5)], "Gather"),
    ("index_select", lambda x, i: x.index_select(0, i.reshape(-1)), [_floats(4, 3), _ints(4, 6)],
     "IndexSelect"),
    ("index_add", lambda x, s, i: x.index_add(0, i.reshape(-1), s, alpha=2.0),
     [_floats(4, 3), _floats(5, 3), _ints(4, 5)], "IndexAdd"),
    ("masked_fill_tensor_value", lambda x, v, m: x.masked_fill(m, v.sum()),
     [_floats(3, 4), _floats(2), _mask(1, 4)], "MaskedFill"),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
     [_floats(2, 3, 7, 6), _floats(4, 3, 3, 3), _floats(4)], "Conv2dOp"),
    ("conv2d_groups_dilation", lambda x, w: F.conv2d(x, w, groups=2, dilation=2, padding="same"),
     [_floats(1, 4, 6, 6), _floats(2, 2, 3, 3)], "Conv2dOp"),
    ("conv1d", lambda x, w: F.conv1d(x, w, padding=1).reshape(-1), [_floats(2, 3, 8), _floats(2, 3, 3)],
     "Reshape"),
    ("conv_transpose2d", lambda x, w: F.conv_transpose2d(x, w, stride=2),
     [_floats(1, 2, 3, 3), _floats(2, 3, 2, 2)], "ConvInputGrad"),
    ("unfold", lambda x: F.unfold(x, 2, padding=1), [_floats(1, 2, 3, 4)], "Unfold"),
    ("fold", lambda x: F.fold(x, (3, 3), 2), [_floats(1, 8, 4)], "Fold"),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), [_floats(2, 2, 4, 6)], "PlaneGather"),
    ("max_pool2d_overlapping", lambda x: F.max_pool2d(x, 3, stride=1, padding=1), [_floats(1, 2, 4, 4)],
     "PlaneGather"),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), [_floats(2, 2, 5, 5)], "AvgPool2dOp"),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [_floats(1, 2, 5, 7)],
     "SeparableLinear2d"),
    ("interpolate_bilinear", lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
     [_floats(1, 2, 3, 3)], "SeparableLinear2d"),
]


def _arrays(specs, dtype, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for spec in specs:
        if spec[0] in ("float", "constant"):
            out.append(rng.standard_normal(spec[1]).astype(dtype))
        elif spec[0] == "int":
            out.append(rng.integers(0, spec[1], spec[2]))
        else:
            out.append(rng.random(spec[1]) < 0.5)
    return out


def _tensors(arrays, specs):
    return [nf.tensor(a, requires_grad=spec[0] == "float") for a, spec in zip(arrays, specs)]


def _loss(fn, tensors, seed=1):
    """``sum(fn(*tensors) * w)`` for a fixed random ``w``: every element of the op's output matters."""
    out = fn(*tensors)
    w = np.random.default_rng(seed).standard_normal(out.shape).astype(out.array.dtype)
    return out, (out * nf.tensor(w)).sum()


def _gradients(fn, arrays, specs, create_graph: bool, monkeypatch=None, calls=None):
    """The leaves' gradients; with ``monkeypatch``, each call of the op's backward_arrays is noted in
    ``calls`` (as ``create_graph``)."""
    tensors = _tensors(arrays, specs)
    out, loss = _loss(fn, tensors)
    if monkeypatch is not None:
        op = type(out.grad_fn)
        original = op.backward_arrays
        monkeypatch.setattr(op, "backward_arrays",
                            staticmethod(lambda ctx, g: calls.append(create_graph) or original(ctx, g)))
    loss.backward(create_graph=create_graph)
    if monkeypatch is not None:
        monkeypatch.undo()
    return out, [t.grad.detach().numpy() for t in tensors if t.requires_grad]


# Ops whose gradient is PyTorch's convention rather than the derivative (no finite-difference check).
CONVENTIONS = [
    ("embedding_padding_idx", lambda w, i: F.embedding(i, w, padding_idx=2), [_floats(6, 4), _ints(6, 3, 5)],
     "Embedding"),
]
ALL = CASES + CONVENTIONS


@pytest.mark.parametrize("fn, specs, node", [c[1:] for c in ALL], ids=[c[0] for c in ALL])
def test_array_backward_equals_tensor_backward_bit_for_bit(fn, specs, node, monkeypatch):
    arrays = _arrays(specs, np.float32)
    calls = []
    out, array_grads = _gradients(fn, arrays, specs, False, monkeypatch, calls)
    assert type(out.grad_fn).__name__ == node
    _, tensor_grads = _gradients(fn, arrays, specs, True, monkeypatch, calls)
    assert False in calls and True not in calls, "backward_arrays ran in the array engine only"
    for i, (a, t) in enumerate(zip(array_grads, tensor_grads)):
        assert (a.dtype, a.shape) == (t.dtype, t.shape), f"input {i}: {a.dtype}{a.shape}, {t.dtype}{t.shape}"
        np.testing.assert_array_equal(a, t, err_msg=f"gradient of input {i}")


@pytest.mark.parametrize("fn, specs, node", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_array_backward_matches_a_central_difference_in_float64(fn, specs, node):
    arrays = _arrays(specs, np.float64)
    _, grads = _gradients(fn, arrays, specs, create_graph=False)
    rng = np.random.default_rng(2)
    floats = [i for i, spec in enumerate(specs) if spec[0] == "float"]
    directions = {i: rng.standard_normal(arrays[i].shape) for i in floats}

    def loss_at(step):
        moved = [a + step * directions[i] if i in directions else a for i, a in enumerate(arrays)]
        with nf.no_grad():
            return _loss(fn, _tensors(moved, specs))[1].item()

    eps = 1e-6
    numerical = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
    analytical = sum(float((g * directions[i]).sum()) for g, i in zip(grads, floats))
    np.testing.assert_allclose(analytical, numerical, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("fn, specs, node", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_gradcheck_in_float64(fn, specs, node):
    assert nf.autograd.gradcheck(fn, _tensors(_arrays(specs, np.float64), specs))


def test_array_backward_runs_for_every_node_of_the_benchmark_training_steps():
    """MLP, LeNet and the LSTM classifier: every node takes ``backward_arrays`` in plain backward (the
    LSTM's whole-sequence op, with several outputs, as ``backward_arrays(ctx, *grads)``)."""
    layers = nf.nn
    models = {
        "mlp": (layers.Sequential(layers.Linear(8, 6), layers.ReLU(), layers.Linear(6, 3)), (4, 8)),
        "lenet": (layers.Sequential(layers.Conv2d(1, 2, 3, padding=1), layers.ReLU(), layers.MaxPool2d(2),
                                    layers.Flatten(), layers.Linear(2 * 3 * 3, 3)), (4, 1, 6, 6)),
    }
    for name, (model, shape) in models.items():
        x = nf.randn(*shape)
        loss = F.cross_entropy(model(x), nf.tensor([0, 1, 2, 1]))
        assert _nodes_without_backward_arrays(loss) == set(), name
    lstm, fc = layers.LSTM(3, 4, batch_first=True), layers.Linear(4, 3)
    out, _ = lstm(nf.randn(4, 5, 3))
    loss = F.cross_entropy(fc(out[:, -1]), nf.tensor([0, 1, 2, 1]))
    assert _nodes_without_backward_arrays(loss) == set()


def _nodes_without_backward_arrays(loss) -> set:
    seen, stack, names = set(), [loss.grad_fn], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.backward_arrays is None or not (node._plain or engine._bare(node)):
            names.add(type(node).__name__)
        stack.extend(e[0] for e in node.next_edges or () if e is not None and isinstance(e[0], Node))
    return names
