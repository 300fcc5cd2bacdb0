"""Optimisers against PyTorch: same parameters, same gradients, N steps, same parameters after."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4,), ()]
STEPS = 6

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.5, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.01)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.8, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-8)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
]


def _initial_arrays(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in SHAPES]


def _gradients(step: int) -> list[np.ndarray]:
    rng = np.random.default_rng(100 + step)
    return [rng.standard_normal(shape) for shape in SHAPES]


def _run(module, name: str, kwargs: dict, steps: int = STEPS, dtype=np.float64, optimizer=None,
         start: int = 0):
    """Params after ``steps`` updates with fixed gradients; returns (params, optimizer)."""
    if optimizer is None:
        params = [module.tensor(a.astype(dtype), requires_grad=True) for a in _initial_arrays()]
        optimizer = getattr(module.optim, name)(params, **kwargs)
    params = optimizer.param_groups[0]["params"]
    for step in range(start, start + steps):
        optimizer.zero_grad()
        for p, g in zip(params, _gradients(step)):
            p.grad = module.tensor(g.astype(dtype))
        optimizer.step()
    return [p.detach().numpy().copy() for p in params], optimizer


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_parameters_match_torch_after_steps(name, kwargs):
    got, _ = _run(nf, name, kwargs)
    want, _ = _run(torch, name, kwargs)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name, kwargs", [CASES[1], CASES[7], CASES[14], CASES[16]],
                         ids=["SGD", "Adam", "RMSprop", "Adagrad"])
def test_float32_parameters_stay_float32_and_close_to_torch(name, kwargs):
    got, _ = _run(nf, name, kwargs, dtype=np.float32)
    want, _ = _run(torch, name, kwargs, dtype=np.float32)
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def _copies(optimizer) -> list:
    params = optimizer.param_groups[0]["params"]
    return [nf.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]


@pytest.mark.parametrize("name, kwargs", CASES[1::2], ids=[n for n, _ in CASES[1::2]])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    _, first = _run(nf, name, kwargs, steps=3)
    saved = first.state_dict()
    second = getattr(nf.optim, name)(_copies(first), **kwargs)
    second.load_state_dict(saved)
    expected, _ = _run(nf, name, kwargs, steps=3, optimizer=first, start=3)
    resumed, _ = _run(nf, name, kwargs, steps=3, optimizer=second, start=3)
    for r, e in zip(resumed, expected):
        np.testing.assert_array_equal(r, e)


@pytest.mark.parametrize("name, kwargs", [CASES[2], CASES[8], CASES[13], CASES[16]],
                         ids=["SGD", "Adam", "RMSprop", "Adagrad"])
def test_state_dict_layout_matches_torch(name, kwargs):
    _, mine = _run(nf, name, kwargs, steps=2)
    _, theirs = _run(torch, name, kwargs, steps=2)
    a, b = mine.state_dict(), theirs.state_dict()
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for index in a["state"]:
        assert a["state"][index].keys() == b["state"][index].keys()
        for key, value in a["state"][index].items():
            np.testing.assert_allclose(value.numpy(), b["state"][index][key].numpy(), rtol=1e-6)


def test_torch_state_dict_loads_into_nbframe():
    _, theirs = _run(torch, "Adam", dict(lr=0.01), steps=3)
    saved = theirs.state_dict()
    state = {k: {n: nf.tensor(v.numpy()) for n, v in s.items()} for k, s in saved["state"].items()}
    converted = {"param_groups": saved["param_groups"], "state": state}
    mine = nf.optim.Adam(_copies(theirs), lr=0.01)
    mine.load_state_dict(converted)
    got, _ = _run(nf, "Adam", {}, steps=2, optimizer=mine, start=3)
    want, _ = _run(torch, "Adam", {}, steps=2, optimizer=theirs, start=3)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_param_groups_take_their_own_hyperparameters():
    a = nf.zeros(2, requires_grad=True)
    b = nf.zeros(2, requires_grad=True)
    opt = nf.optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    assert opt.param_groups[1]["momentum"] == 0.9
    a.grad = nf.ones(2)
    b.grad = nf.ones(2)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [-0.1, -0.1])
    np.testing.assert_allclose(b.detach().numpy(), [-1.0, -1.0])


def test_add_param_group_fills_defaults_and_rejects_duplicates():
    a, b = nf.zeros(2, requires_grad=True), nf.zeros(3, requires_grad=True)
    opt = nf.optim.Adam([a], lr=0.5)
    opt.add_param_group({"params": [b], "eps": 1e-3})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["eps"] == 1e-3
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_parameters_without_gradients_are_left_alone():
    a, b = nf.ones(2, requires_grad=True), nf.ones(2, requires_grad=True)
    opt = nf.optim.Adam([a, b], lr=0.1)
    a.grad = nf.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), [1.0, 1.0])
    assert b not in opt.state or not opt.state[b]


def test_step_bumps_the_version_counter_so_saved_tensors_notice():
    w = nf.ones(3, requires_grad=True)
    loss = (w * w).sum()
    opt = nf.optim.SGD([w], lr=0.1)
    w.grad = nf.ones(3)
    before = w._version[0]
    opt.step()
    assert w._version[0] == before + 1
    with pytest.raises(RuntimeError):
        loss.backward()


def test_step_records_no_graph():
    w = nf.ones(3, requires_grad=True)
    opt = nf.optim.SGD([w], lr=0.1, momentum=0.9)
    (w * 2).sum().backward()
    opt.step()
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_zero_grad_sets_none_or_fills_zeros():
    w = nf.ones(3, requires_grad=True)
    opt = nf.optim.SGD([w], lr=0.1)
    w.grad = nf.ones(3)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), [0, 0, 0])
    opt.zero_grad()
    assert w.grad is None


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    w = nf.tensor([1.0, 2.0], requires_grad=True)
    opt = nf.optim.SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with nf.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])


def test_training_a_linear_model_reduces_the_loss():
    rng = np.random.default_rng(0)
    x = nf.tensor(rng.standard_normal((64, 3)))
    y = x @ nf.tensor([[1.0], [-2.0], [0.5]])
    w = nf.zeros(3, 1, dtype=nf.float64, requires_grad=True)
    opt = nf.optim.Adam([w], lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3


@pytest.mark.parametrize("make, message", [
    (lambda p: nf.optim.SGD(p, lr=-1), "Invalid learning rate"),
    (lambda p: nf.optim.SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires"),
    (lambda p: nf.optim.Adam(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
    (lambda p: nf.optim.RMSprop(p, alpha=-0.1), "Invalid alpha value"),
    (lambda p: nf.optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value"),
    (lambda p: nf.optim.Adam([], lr=0.1), "empty parameter list"),
    (lambda p: nf.optim.Adam(p, differentiable=True), "differentiable"),
])
def test_bad_hyperparameters_are_refused(make, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        make([nf.zeros(2, requires_grad=True)])


def test_non_leaf_and_non_tensor_params_are_refused():
    w = nf.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        nf.optim.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        nf.optim.SGD([np.zeros(2)], lr=0.1)


def test_load_state_dict_checks_group_sizes():
    opt = nf.optim.SGD([nf.zeros(2, requires_grad=True)], lr=0.1)
    other = nf.optim.SGD([nf.zeros(2, requires_grad=True), nf.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(other.state_dict())


def test_repr_lists_each_group_like_torch():
    p = [nf.zeros(2, requires_grad=True)]
    assert repr(nf.optim.Adam(p)) == repr(torch.optim.Adam([torch.zeros(2, requires_grad=True)]))


def test_zero_grad_without_none_replaces_a_read_only_gradient():
    w = nf.ones(3, requires_grad=True)
    w.grad = nf.tensor(np.broadcast_to(np.ones(1), (3,)))
    nf.optim.SGD([w], lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), [0, 0, 0])


def test_load_state_dict_accepts_numpy_state_and_a_plain_step_number():
    _, first = _run(nf, "Adam", {}, steps=2)
    saved = first.state_dict()
    def plain_values(state):
        return {n: (float(v.item()) if n == "step" else v.numpy().copy()) for n, v in state.items()}

    plain = {"param_groups": saved["param_groups"],
             "state": {str(k): plain_values(s) for k, s in saved["state"].items()}}
    second = nf.optim.Adam(_copies(first))
    second.load_state_dict(plain)
    expected, _ = _run(nf, "Adam", {}, steps=2, optimizer=first, start=2)
    resumed, _ = _run(nf, "Adam", {}, steps=2, optimizer=second, start=2)
    for r, e in zip(resumed, expected):
        np.testing.assert_array_equal(r, e)
