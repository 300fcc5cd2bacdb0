"""Learning-rate schedulers against PyTorch: the same rates, step for step."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nbframe as nf

torch = pytest.importorskip("torch")


def _optimizer(module, name="SGD", groups=2, **kwargs):
    params = [{"params": [module.zeros(2, requires_grad=True)], "lr": 0.1 * (i + 1)} for i in range(groups)]
    kwargs.setdefault("lr", 0.1)
    return getattr(module.optim, name)(params, **kwargs)


def _sequence(module, make, steps: int, optimizer_name="SGD", **optimizer_kwargs):
    """Rates (and momenta or beta1s) of every group after construction and after each step."""
    opt = _optimizer(module, optimizer_name, **optimizer_kwargs)
    scheduler = make(module.optim.lr_scheduler, opt)
    rows = []
    for _ in range(steps + 1):
        rows.append([g["lr"] for g in opt.param_groups] + scheduler.get_last_lr()
                    + [g.get("momentum", g.get("betas", (0,))[0]) for g in opt.param_groups])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt.step()
            scheduler.step()
    return np.array(rows, dtype=np.float64)


SCHEDULES = {
    "StepLR": lambda L, o: L.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
    "LinearLR": lambda L, o: L.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=4),
    "ConstantLR": lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=3),
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda epoch: 0.95 ** epoch + 0.01 * epoch),
    "LambdaLR-list": lambda L, o: L.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.5 ** e]),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=20),
    "OneCycleLR-linear": lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=20,
                                                   anneal_strategy="linear", pct_start=0.4),
    "OneCycleLR-three-phase": lambda L, o: L.OneCycleLR(o, max_lr=0.5, epochs=4, steps_per_epoch=5,
                                                        three_phase=True, div_factor=10.0),
    "OneCycleLR-no-momentum": lambda L, o: L.OneCycleLR(o, max_lr=0.5, total_steps=20, cycle_momentum=False),
    "SequentialLR": lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=3), L.CosineAnnealingLR(o, T_max=6)], milestones=[3]),
    "SequentialLR-three": lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o, factor=0.5, total_iters=2), L.ExponentialLR(o, gamma=0.8),
            L.StepLR(o, step_size=2)], milestones=[2, 6]),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_rates_match_torch_step_by_step(name):
    make = SCHEDULES[name]
    got = _sequence(nf, make, 19, momentum=0.9)
    want = _sequence(torch, make, 19, momentum=0.9)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_cosine_annealing_goes_past_t_max_like_torch():
    make = lambda L, o: L.CosineAnnealingLR(o, T_max=3)  # noqa: E731
    np.testing.assert_allclose(_sequence(nf, make, 14), _sequence(torch, make, 14), rtol=1e-12, atol=1e-15)


def test_one_cycle_cycles_adams_beta1():
    make = SCHEDULES["OneCycleLR"]
    got = _sequence(nf, make, 19, optimizer_name="Adam")
    want = _sequence(torch, make, 19, optimizer_name="Adam")
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_one_cycle_refuses_to_step_past_total_steps():
    opt = _optimizer(nf, momentum=0.9)
    scheduler = nf.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        scheduler.step()


def test_one_cycle_needs_a_momentum_to_cycle():
    opt = _optimizer(nf, "Adagrad")
    with pytest.raises(ValueError, match="momentum or beta1"):
        nf.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)


def _plateau(module, metrics, **kwargs):
    opt = _optimizer(module)
    scheduler = module.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    rates = []
    for metric in metrics:
        scheduler.step(metric)
        rates.append([g["lr"] for g in opt.param_groups] + scheduler.get_last_lr())
    return np.array(rates)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(patience=2, factor=0.5),
    dict(mode="max", patience=1, threshold=0.1, cooldown=2),
    dict(patience=0, threshold_mode="abs", threshold=0.5, min_lr=[0.02, 0.05]),
    dict(patience=1, min_lr=0.03, eps=1e-3),
])
def test_reduce_on_plateau_matches_torch(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.94, 0.96, 0.5, 0.5, 0.5, 0.5, 0.6, 0.7, 0.2, 0.2, 0.2, 0.2, 0.2] * 2
    got, want = _plateau(nf, metrics, **kwargs), _plateau(torch, metrics, **kwargs)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_plateau_accepts_a_zero_d_tensor_metric():
    opt = _optimizer(nf)
    scheduler = nf.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    scheduler.step(nf.tensor(1.0))
    scheduler.step(nf.tensor(2.0))
    assert math.isclose(opt.param_groups[0]["lr"], 0.01)


def test_state_dict_round_trip_resumes_the_schedule():
    opt = _optimizer(nf)
    scheduler = nf.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        scheduler.step()
    saved_opt, saved = opt.state_dict(), scheduler.state_dict()
    expected = []
    for _ in range(3):
        scheduler.step()
        expected.append(scheduler.get_last_lr())

    opt2 = _optimizer(nf)
    scheduler2 = nf.optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    opt2.load_state_dict(saved_opt)
    scheduler2.load_state_dict(saved)
    resumed = []
    for _ in range(3):
        scheduler2.step()
        resumed.append(scheduler2.get_last_lr())
    assert resumed == expected


def test_sequential_state_dict_holds_the_inner_schedulers():
    L = nf.optim.lr_scheduler
    opt = _optimizer(nf)
    seq = L.SequentialLR(opt, [L.ExponentialLR(opt, gamma=0.5), L.StepLR(opt, step_size=2)], milestones=[2])
    state = seq.state_dict()
    assert len(state["_schedulers"]) == 2 and state["_schedulers"][0]["gamma"] == 0.5


def test_step_with_an_epoch_uses_the_closed_form_and_warns():
    opt = _optimizer(nf)
    scheduler = nf.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    with pytest.warns(UserWarning, match="epoch parameter"):
        scheduler.step(5)
    assert scheduler.get_last_lr() == pytest.approx([0.1 * 0.25, 0.2 * 0.25])


def test_resuming_without_initial_lr_names_the_group():
    opt = _optimizer(nf)
    with pytest.raises(KeyError, match=r"param_groups\[0\]"):
        nf.optim.lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)


@pytest.mark.parametrize("make, error, message", [
    (lambda L, o: L.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor"),
    (lambda L, o: L.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps OR"),
    (lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="tri"), ValueError,
     "anneal_strategy"),
    (lambda L, o: L.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda L, o: L.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown"),
    (lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2)], milestones=[3]), ValueError, "one more"),
    (lambda L, o: L.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas"),
    (lambda L, o: L.StepLR(object(), 2), TypeError, "is not an Optimizer"),
])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make(nf.optim.lr_scheduler, _optimizer(nf, momentum=0.9))
