"""TF1-style placeholders and run(feed=...); compile_step trains exactly like the eager loop."""

import importlib
import warnings

import numpy as np
import pytest

import nbframe as nf
from nbframe import nn


@pytest.fixture(autouse=True)
def fresh_default_graph():
    nf.jit.reset_default_graph()
    yield
    nf.jit.reset_default_graph()


def test_placeholder_graph_runs_with_a_feed():
    nf.manual_seed(0)
    layer = nn.Linear(4, 3)
    x = nf.jit.placeholder((None, 4))
    y = layer(x).relu()
    graph = nf.jit.Graph.from_outputs(y)
    batch = nf.randn(6, 4)
    out = graph.run(y, feed={x: batch})
    np.testing.assert_allclose(out.detach().numpy(), layer(batch).relu().detach().numpy(), rtol=1e-6)
    assert [v.name for v in graph.inputs] == ["placeholder"]


def test_run_needs_every_placeholder_and_checks_shapes():
    a = nf.jit.placeholder((None, 2), name="a")
    b = nf.jit.placeholder((2,), name="b")
    s = a * b
    graph = nf.jit.Graph.from_outputs(s)
    with pytest.raises(ValueError, match="feed a value for placeholder 'b'"):
        graph.run(s, feed={a: nf.ones(3, 2)})
    with pytest.raises(ValueError, match=r"shape \(\?, 2\)"):
        graph.run(s, feed={a: nf.ones(3, 5), b: nf.ones(2)})
    out = graph.run([s], feed={"a": np.ones((3, 2), np.float32), b: nf.tensor([2.0, 3.0])})
    np.testing.assert_allclose(out[0].numpy(), [[2.0, 3.0]] * 3)


def test_eager_work_after_building_a_placeholder_graph_is_not_recorded_and_compile_step_works():
    nf.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    x = nf.jit.placeholder((None, 6))
    out = model(x)
    graph = nf.jit.Graph.from_outputs(out)
    default = importlib.import_module("nbframe.jit.placeholder")._default["recorder"].graph
    recorded = len(default.nodes)
    opt = nf.optim.SGD(model.parameters(), lr=0.1)
    xb, yb = nf.randn(4, 6), nf.tensor([0, 2, 1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", nf.jit.TracerWarning)   # eager values are real: no warning
        opt.zero_grad()
        eager = nf.nn.functional.cross_entropy(model(xb), yb)  # eager, on the graph's own parameters
        eager.backward()
        opt.step()                                             # changes them in place
        assert eager.item() > 0 and model[0].weight.sum().item() != 0
    assert len(default.nodes) == recorded   # eager ops on ordinary tensors never join the default graph
    loss = nf.jit.compile_step(model, nf.nn.functional.cross_entropy, opt)(xb, yb)
    assert np.isfinite(float(loss))
    # the graph reads the parameters live: it sees both updates; and building on it still records
    np.testing.assert_allclose(graph.run(out, feed={x: xb}).detach().numpy(), model(xb).detach().numpy(),
                               rtol=1e-6)
    more = nf.jit.Graph.from_outputs(out.softmax(dim=1))
    np.testing.assert_allclose(more.run(feed={x: xb}).detach().numpy(),
                               model(xb).softmax(dim=1).detach().numpy(), rtol=1e-6)


def test_placeholder_graph_names_parameters_by_module_path():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 2)))
    w = nf.randn(2, 2, requires_grad=True)
    x = nf.jit.placeholder((None, 4))
    graph = nf.jit.Graph.from_outputs(model(x) @ w)
    assert [v.name for v in graph.params] == ["0.weight", "0.bias", "2.0.weight", "2.0.bias", "param"]
    assert [v.name for v in graph.params] == [v.name for v in nf.jit.trace(model, nf.randn(1, 4)).graph.params
                                              ] + ["param"]


def test_traced_function_names_the_parameters_of_modules_it_calls():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).eval()
    gm = nf.jit.trace(lambda x: model(x).relu(), nf.randn(2, 4))
    assert [(v.name, v.kind) for v in gm.graph.params] == [
        ("0.weight", "param"), ("0.bias", "param"), ("1.running_mean", "buffer"), ("1.running_var", "buffer"),
        ("1.weight", "param"), ("1.bias", "param")]


def build(kind):
    if kind == "mlp":
        layers = nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3)
        return nn.Sequential(*layers), (12,)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(3 * 4 * 4, 3)), (1, 8, 8)


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_compile_step_parameters_match_eager_after_steps(kind, optimizer):
    def make():
        nf.manual_seed(0)
        model, shape = build(kind)
        opt = (nf.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd"
               else nf.optim.Adam(model.parameters(), lr=0.01))
        return model, opt, shape

    model, opt, shape = make()
    twin, twin_opt, _ = make()
    step = nf.jit.compile_step(model, nf.nn.functional.cross_entropy, opt)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = nf.tensor(rng.standard_normal((5, *shape)).astype(np.float32))
        y = nf.tensor(rng.integers(0, 3, 5))
        loss = step(x, y)
        twin_opt.zero_grad()
        eager = nf.nn.functional.cross_entropy(twin(x), y)
        eager.backward()
        twin_opt.step()
        assert float(loss) == pytest.approx(float(eager), rel=1e-6)
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-7)
