"""Layers against PyTorch with PyTorch's state_dict copied in by name: outputs, gradients, running stats."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import torch_or_skip

R = np.random.default_rng(5)


def _pair(name: str, *args, **kwargs):
    """The same layer in both libraries, nbframe's loaded from torch's state_dict (float64)."""
    torch = torch_or_skip()
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours_kwargs = {k: nf.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
    ours = getattr(nf.nn, name)(*args, **ours_kwargs).double()
    state = {k: nf.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    result = ours.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys
    assert list(ours.state_dict()) == list(theirs.state_dict())
    return ours, theirs


def _run_both(ours, theirs, *arrays, int_inputs=False):
    """Forward + backward of sum(out * seed) in both; returns outputs, input grads, param grads."""
    torch = torch_or_skip()
    results = []
    for layer, m in ((ours, nf), (theirs, torch)):
        inputs = [m.tensor(a) if int_inputs else m.tensor(a, requires_grad=True) for a in arrays]
        out = layer(*inputs)
        seed = np.cos(np.arange(out.numel())).reshape(tuple(out.shape))
        (out * m.tensor(seed)).sum().backward()
        grads = [None if int_inputs else t.grad.numpy() for t in inputs]
        params = {k: p.grad.numpy() for k, p in layer.named_parameters() if p.grad is not None}
        results.append((out.detach().numpy(), grads, params))
    (o1, g1, p1), (o2, g2, p2) = results
    np.testing.assert_allclose(o1, o2, rtol=1e-6, atol=1e-10)
    for a, b in zip(g1, g2):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-10)
    assert p1.keys() == p2.keys()
    for k in p1:
        np.testing.assert_allclose(p1[k], p2[k], rtol=1e-6, atol=1e-10, err_msg=k)


def _same_buffers(ours, theirs):
    for (k, a), (k2, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert k == k2
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, err_msg=k)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(bias):
    ours, theirs = _pair("Linear", 4, 3, bias=bias)
    _run_both(ours, theirs, R.normal(size=(5, 4)))
    assert repr(ours) == repr(theirs)


def test_linear_initialisation_follows_torchs_bounds():
    layer = nf.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) gives the same bound for the weight
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert w.shape == (300, 400) and b.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.002
    assert np.abs(b).max() <= bound


def test_bilinear_matches_torch():
    ours, theirs = _pair("Bilinear", 3, 2, 4)
    _run_both(ours, theirs, R.normal(size=(5, 3)), R.normal(size=(5, 2)))
    assert repr(ours) == repr(theirs)


def test_identity_passes_input_through():
    x = nf.ones(2)
    assert nf.nn.Identity(54, unused="x")(x) is x


def test_embedding_matches_torch_with_padding_idx():
    ours, theirs = _pair("Embedding", 6, 3, padding_idx=2)
    _run_both(ours, theirs, np.array([[0, 2, 5], [2, 1, 1]]), int_inputs=True)
    assert repr(ours) == repr(theirs)
    assert not nf.nn.Embedding(6, 3, padding_idx=2).weight.detach().numpy()[2].any()


def test_embedding_from_pretrained_freezes_by_default():
    w = nf.tensor([[1.0, 2.0], [3.0, 4.0]])
    emb = nf.nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(emb(nf.tensor([1])).numpy(), [[3.0, 4.0]])
    assert nf.nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad


@pytest.mark.parametrize(
    "args, kwargs, shape",
    [
        ((4,), {}, (2, 3, 4)),
        (((3, 4),), {"elementwise_affine": False}, (2, 3, 4)),
        ((4,), {"bias": False}, (5, 4)),
    ],
)
def test_layer_norm_matches_torch(args, kwargs, shape):
    ours, theirs = _pair("LayerNorm", *args, **kwargs)
    with nf.no_grad():
        for p in ours.parameters():
            p.array[...] = R.normal(size=p.shape)
    theirs.load_state_dict({k: __import__("torch").tensor(v.numpy()) for k, v in ours.state_dict().items()})
    _run_both(ours, theirs, R.normal(size=shape))
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("kwargs", [{}, {"bias": False}, {"affine": False}])
def test_group_norm_matches_torch(kwargs):
    ours, theirs = _pair("GroupNorm", 2, 6, **kwargs)
    _run_both(ours, theirs, R.normal(size=(3, 6, 2, 2)))
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize(
    "name, shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 2, 2))]
)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_training_steps_then_eval_match_torch(name, shape, momentum):
    ours, theirs = _pair(name, 3, momentum=momentum)
    for _ in range(3):
        _run_both(ours, theirs, R.normal(size=shape) * 2 + 1)
        _same_buffers(ours, theirs)
    ours.eval()
    theirs.eval()
    _run_both(ours, theirs, R.normal(size=shape))
    _same_buffers(ours, theirs)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("kwargs", [{"affine": False}, {"track_running_stats": False}, {"bias": False}])
def test_batch_norm_options_match_torch(kwargs):
    ours, theirs = _pair("BatchNorm2d", 3, **kwargs)
    _run_both(ours, theirs, R.normal(size=(2, 3, 2, 2)))
    ours.eval()
    theirs.eval()
    _run_both(ours, theirs, R.normal(size=(2, 3, 2, 2)))
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_batch_norm_wrong_channels_is_a_clear_error():
    with pytest.raises(ValueError, match="expected 3 channels"):
        nf.nn.BatchNorm2d(3)(nf.ones(2, 4, 2, 2))


@pytest.mark.parametrize(
    "name, args",
    [
        ("ReLU", ()),
        ("ReLU6", ()),
        ("LeakyReLU", (0.2,)),
        ("ELU", (0.5,)),
        ("GELU", ("tanh",)),
        ("SiLU", ()),
        ("Mish", ()),
        ("Softplus", (2.0, 5.0)),
        ("Tanh", ()),
        ("Sigmoid", ()),
        ("Hardtanh", (-0.5, 0.5)),
        ("Softmax", (1,)),
        ("LogSoftmax", (1,)),
        ("LogSigmoid", ()),
    ],
)
def test_activation_modules_match_torch(name, args):
    ours, theirs = _pair(name, *args)
    _run_both(ours, theirs, R.normal(size=(3, 4)))
    assert repr(ours) == repr(theirs)


def test_inplace_relu_module_repr_and_effect():
    ours, theirs = _pair("ReLU", inplace=True)
    assert repr(ours) == repr(theirs)
    x = nf.tensor([-1.0, 2.0])
    ours(x)
    np.testing.assert_array_equal(x.numpy(), [0.0, 2.0])


def test_dropout_module_follows_train_and_eval():
    layer = nf.nn.Dropout(0.5)
    assert repr(layer) == "Dropout(p=0.5, inplace=False)"
    x = nf.ones(1000)
    assert (layer(x).numpy() == 0).any()
    layer.eval()
    assert layer(x) is x


LOSSES = [
    ("MSELoss", {}, "float"),
    ("L1Loss", {"reduction": "sum"}, "float"),
    ("SmoothL1Loss", {"beta": 0.5}, "float"),
    ("HuberLoss", {"delta": 0.5}, "float"),
    ("BCEWithLogitsLoss", {}, "binary"),
    ("BCELoss", {}, "prob"),
    ("KLDivLoss", {"reduction": "batchmean"}, "prob"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1}, "class"),
    ("NLLLoss", {"reduction": "none"}, "class"),
]


@pytest.mark.parametrize("name, kwargs, kind", LOSSES)
def test_loss_modules_match_torch(name, kwargs, kind):
    torch = torch_or_skip()
    x = R.uniform(0.1, 0.9, size=(4, 3)) if name == "BCELoss" else R.normal(size=(4, 3))
    t = {
        "float": R.normal(size=(4, 3)),
        "binary": (R.uniform(size=(4, 3)) > 0.5) * 1.0,
        "prob": R.uniform(size=(4, 3)),
        "class": np.array([0, 2, 1, 1]),
    }[kind]
    results = []
    for m in (nf, torch):
        inp = m.tensor(x, requires_grad=True)
        loss = getattr(m.nn, name)(**kwargs)(inp, m.tensor(t))
        loss.sum().backward()
        results.append((loss.detach().numpy(), inp.grad.numpy(), repr(getattr(m.nn, name)(**kwargs))))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6, atol=1e-12)
    assert results[0][2] == results[1][2]


def test_cross_entropy_loss_weight_is_a_buffer_in_state_dict():
    ours, theirs = _pair("CrossEntropyLoss", weight=__import__("torch").tensor([1.0, 2.0, 3.0]))
    assert list(ours.state_dict()) == ["weight"]
