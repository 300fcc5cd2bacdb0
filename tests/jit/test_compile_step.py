"""compile_step gives the eager step's numbers exactly: loss, gradients, parameters and optimiser state,
for every optimiser and through what happens between steps (schedulers, state dicts, eval mode)."""

import tracemalloc

import numpy as np
import pytest

import nbframe as nf
from nbframe import nn

F = nf.nn.functional

OPTIMIZERS = {
    "sgd": lambda p: nf.optim.SGD(p, lr=0.1),
    "momentum": lambda p: nf.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1),
    "nesterov": lambda p: nf.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
    "adam": lambda p: nf.optim.Adam(p, lr=1e-2, amsgrad=True),
    "adamw": lambda p: nf.optim.AdamW(p, lr=1e-2, weight_decay=0.1),
    "rmsprop": lambda p: nf.optim.RMSprop(p, lr=1e-2, momentum=0.5),
    "adagrad": lambda p: nf.optim.Adagrad(p, lr=1e-2),
}


def build(kind: str):
    if kind == "mlp":
        layers = nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3)
        return nn.Sequential(*layers), (12,)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 5, 3),
                         nn.ReLU(), nn.Flatten(), nn.Linear(5 * 2 * 2, 3)), (2, 8, 8)


def twins(kind: str, optimizer: str):
    """Two identical models with their optimisers: one for compile_step, one for the eager loop."""
    made = []
    for _ in range(2):
        nf.manual_seed(0)
        model, shape = build(kind)
        made.append((model, OPTIMIZERS[optimizer](model.parameters())))
    return made, shape


def batches(shape, count=4, batch=5):
    rng = np.random.default_rng(1)
    return [(nf.tensor(rng.standard_normal((batch, *shape)).astype(np.float32)),
             nf.tensor(rng.integers(0, 3, batch))) for _ in range(count)]


def eager_step(model, opt, x, y, loss_fn=F.cross_entropy):
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss


def assert_same(model, twin):
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=name)
        assert (p.grad is None) == (q.grad is None), name
        if p.grad is not None:
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy(), err_msg=name)


def assert_same_state(opt, twin_opt):
    mine, theirs = opt.state_dict(), twin_opt.state_dict()
    assert mine["param_groups"] == theirs["param_groups"]
    assert mine["state"].keys() == theirs["state"].keys()
    for index, state in mine["state"].items():
        for key, value in state.items():
            np.testing.assert_array_equal(np.asarray(value.numpy() if hasattr(value, "numpy") else value),
                                          np.asarray(theirs["state"][index][key].numpy()
                                                     if hasattr(theirs["state"][index][key], "numpy")
                                                     else theirs["state"][index][key]))


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_compile_step_matches_the_eager_step_exactly(kind, optimizer):
    ((model, opt), (twin, twin_opt)), shape = twins(kind, optimizer)
    step = nf.jit.compile_step(model, F.cross_entropy, opt)
    for x, y in batches(shape):
        loss = step(x, y)
        eager = eager_step(twin, twin_opt, x, y)
        assert loss.item() == eager.item()
        assert not loss.requires_grad
    assert_same(model, twin)
    assert_same_state(opt, twin_opt)


def test_optimizer_state_dict_after_compiled_steps_continues_in_eager_mode():
    ((model, opt), (twin, twin_opt)), shape = twins("mlp", "adam")
    step = nf.jit.compile_step(model, F.cross_entropy, opt)
    data = batches(shape, count=6)
    for x, y in data[:3]:
        step(x, y)
        eager_step(twin, twin_opt, x, y)
    nf.manual_seed(0)
    fresh, _ = build("mlp")
    fresh.load_state_dict(model.state_dict())
    fresh_opt = OPTIMIZERS["adam"](fresh.parameters())
    fresh_opt.load_state_dict(opt.state_dict())
    for x, y in data[3:]:
        eager_step(fresh, fresh_opt, x, y)
        eager_step(twin, twin_opt, x, y)
    assert_same(fresh, twin)


def test_loaded_state_dict_and_new_learning_rate_are_seen_by_the_next_compiled_step():
    ((model, opt), (twin, twin_opt)), shape = twins("mlp", "momentum")
    step = nf.jit.compile_step(model, F.cross_entropy, opt)
    scheduler = nf.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    twin_scheduler = nf.optim.lr_scheduler.StepLR(twin_opt, step_size=1, gamma=0.5)
    data = batches(shape, count=5)
    for x, y in data[:3]:
        step(x, y)
        scheduler.step()
        eager_step(twin, twin_opt, x, y)
        twin_scheduler.step()
    opt.load_state_dict(twin_opt.state_dict())  # new group dicts and state objects
    for x, y in data[3:]:
        step(x, y)
        eager_step(twin, twin_opt, x, y)
    assert_same(model, twin)


def test_parameters_the_graph_does_not_reach_are_zeroed_or_accumulate_as_in_eager_mode():
    def make():
        nf.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
        unused = nn.Linear(2, 2)  # in the optimiser, never called: zero_grad leaves its .grad None
        frozen_out = nn.Linear(2, 3)  # called, not in the optimiser: its .grad accumulates
        opt = nf.optim.SGD(list(model.parameters()) + list(unused.parameters()), lr=0.1)
        return model, unused, frozen_out, opt

    (m1, u1, f1, o1), (m2, u2, f2, o2) = make(), make()
    for u in (u1, u2):
        u.weight.grad = nf.ones(2, 2)
    step = nf.jit.compile_step(m1, lambda out, y: F.cross_entropy(f1(out), y), o1)
    for x, y in batches((4,), count=3):
        step(x, y)
        eager_step(m2, o2, x, y, loss_fn=lambda out, y: F.cross_entropy(f2(out), y))
    assert_same(m1, m2)
    assert u1.weight.grad is None and u2.weight.grad is None
    np.testing.assert_array_equal(f1.weight.grad.numpy(), f2.weight.grad.numpy())


def test_parameter_hooks_run_as_in_eager_mode():
    ((model, opt), (twin, twin_opt)), shape = twins("mlp", "sgd")
    for m in (model, twin):
        m[0].weight.register_hook(lambda g: g * 2)
    step = nf.jit.compile_step(model, F.cross_entropy, opt)
    for x, y in batches(shape, count=2):
        step(x, y)
        eager_step(twin, twin_opt, x, y)
    assert_same(model, twin)


class DoubleStep(nf.optim.SGD):
    """An optimiser with its own ``step``: compile_step calls zero_grad() and step() around its graph."""

    def step(self, closure=None):
        super().step()
        return super().step()


def test_an_optimizer_with_its_own_step_is_driven_through_zero_grad_and_step():
    nf.manual_seed(0)
    model, shape = build("mlp")
    nf.manual_seed(0)
    twin, _ = build("mlp")
    opt, twin_opt = DoubleStep(model.parameters(), lr=0.1), DoubleStep(twin.parameters(), lr=0.1)
    step = nf.jit.compile_step(model, F.cross_entropy, opt)
    for x, y in batches(shape, count=2):
        step(x, y)
        eager_step(twin, twin_opt, x, y)
    assert_same(model, twin)


def test_switching_to_eval_mode_compiles_a_new_step():
    nf.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 6), nn.Dropout(0.5), nn.Linear(6, 3))
    opt = nf.optim.SGD(model.parameters(), lr=0.1)
    step = nf.jit.compile_step(model, F.cross_entropy, opt)
    x, y = batches((6,), count=1)[0]
    step(x, y)
    model.eval()
    before = model(x).detach().numpy()
    loss = step(x, y)
    assert len(step.programs) == 2
    assert loss.item() == pytest.approx(F.cross_entropy(nf.tensor(before), y).item(), rel=1e-6)


def test_compiled_step_frees_activations_as_the_eager_step_does():
    nf.manual_seed(0)
    model = nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = nf.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = nf.randn(512, 256), nf.randint(0, 10, (512,))
    step = nf.jit.compile_step(model, F.cross_entropy, opt)

    def peak(run):
        run()
        tracemalloc.start()
        run()
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    eager = peak(lambda: eager_step(model, opt, x, y))
    compiled = peak(lambda: step(x, y))
    assert compiled <= 1.1 * eager


def test_convolutions_keep_their_column_matrix_in_memory_reused_every_step():
    ((model, opt), (twin, twin_opt)), shape = twins("cnn", "momentum")
    step = nf.jit.compile_step(model, F.cross_entropy, opt)
    held = []
    for x, y in batches(shape, count=3):
        step(x, y)
        eager_step(twin, twin_opt, x, y)
        (program,) = step.programs.values()
        buffers = [a for variant in program.variants for a in variant.keep_columns.values()]
        held.append([id(a) for a in buffers])
    assert len(held[0]) == 2 and held[0] == held[1] == held[2]
    assert_same(model, twin)


def test_an_interrupt_during_backward_leaves_every_parameter_as_it_was():
    ((model, opt), _), shape = twins("mlp", "momentum")
    step = nf.jit.compile_step(model, F.cross_entropy, opt)
    x, y = batches(shape, count=1)[0]
    step(x, y)
    before = [p.detach().numpy().copy() for p in model.parameters()]

    def interrupt(grad):  # the first layer's weight is the last to get its gradient
        raise KeyboardInterrupt

    model[0].weight.register_hook(interrupt)
    with pytest.raises(KeyboardInterrupt):
        step(x, y)
    for p, old in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.detach().numpy(), old)


def test_a_loss_that_is_not_a_scalar_is_refused_with_a_clear_error():
    ((model, opt), _), shape = twins("mlp", "sgd")
    step = nf.jit.compile_step(model, lambda out, y: F.cross_entropy(out, y, reduction="none"), opt)
    with pytest.raises(RuntimeError, match=r"scalar loss.*shape \[5\]"):
        step(*batches(shape, count=1)[0])
