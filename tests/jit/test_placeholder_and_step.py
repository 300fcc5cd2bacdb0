"""TF1-style placeholders and run(feed=...); compile_step trains exactly like the eager loop."""

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
