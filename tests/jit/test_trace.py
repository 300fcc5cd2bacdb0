"""nf.jit.trace: traced == eager for values and gradients; re-tracing per signature; tracer warnings."""

import numpy as np
import pytest

import nbframe as nf
from nbframe import nn


def grads_of(model, run, x):
    for p in model.parameters():
        p.grad = None
    out = run(x)
    (out * out).sum().backward()
    return out.detach().numpy().copy(), [p.grad.numpy().copy() for p in model.parameters()]


def assert_traced_matches_eager(model, x, rtol=1e-6):
    traced = nf.jit.trace(model, x)
    eager_out, eager_grads = grads_of(model, model, x)
    traced_out, traced_grads = grads_of(model, traced, x)
    np.testing.assert_allclose(traced_out, eager_out, rtol=rtol, atol=1e-6)
    for a, b in zip(traced_grads, eager_grads):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-6)
    return traced


def test_mlp_traced_matches_eager_values_and_gradients():
    nf.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 4), nn.Sigmoid())
    traced = assert_traced_matches_eager(model, nf.randn(3, 10))
    assert [v.name for v in traced.graph.params] == ["0.weight", "0.bias", "2.weight", "2.bias"]


@pytest.mark.parametrize("name, shape", [("lenet5", (2, 1, 28, 28)), ("resnet20", (2, 3, 16, 16)),
                                         ("mobilenet_v2", (2, 3, 16, 16))])
def test_vision_models_traced_match_eager(name, shape):
    nf.manual_seed(0)
    kwargs = {"num_classes": 10}
    model = getattr(nf.vision.models, name)(**kwargs).eval()
    assert_traced_matches_eager(model, nf.randn(*shape), rtol=1e-5)


def test_batchnorm_in_training_updates_running_stats_through_the_graph():
    nf.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
    twin = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
    twin.load_state_dict(model.state_dict())
    x = nf.randn(4, 1, 6, 6)
    traced = nf.jit.trace(model, x)
    model.load_state_dict(twin.state_dict())
    traced(x)
    twin(x)
    np.testing.assert_allclose(model[1].running_mean.numpy(), twin[1].running_mean.numpy(), rtol=1e-6)


def test_new_shapes_trace_again_and_are_cached():
    model = nn.Linear(5, 2)
    traced = nf.jit.trace(model, nf.randn(3, 5))
    traced(nf.randn(3, 5))
    assert traced.traces == 1
    out = traced(nf.randn(7, 5))
    assert out.shape == (7, 2) and traced.traces == 2
    traced(nf.randn(7, 5).double().float())
    assert traced.traces == 2 and len(traced.graphs) == 2


def test_functions_with_several_inputs_and_outputs():
    def fn(a, b):
        return a * b + 1, (a - b).exp()

    a, b = nf.randn(4), nf.randn(4)
    traced = nf.jit.trace(fn, (a, b))
    got, want = traced(a, b), fn(a, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy())
    assert [v.name for v in traced.graph.inputs] == ["a", "b"]


def test_item_on_a_traced_value_warns_at_the_users_line():
    def fn(x):
        if x.sum().item() > 0:  # data-dependent control flow
            return x * 2
        return x

    with pytest.warns(nf.jit.TracerWarning, match="item") as record:
        nf.jit.trace(fn, nf.ones(3))
    assert record[0].filename == __file__


def test_bool_of_a_traced_value_warns():
    with pytest.warns(nf.jit.TracerWarning, match="bool"):
        nf.jit.trace(lambda x: x if bool((x > 0).all()) else -x, nf.ones(2))


def test_graph_prints_a_table_and_dot():
    traced = nf.jit.trace(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), nf.randn(1, 3))
    text = str(traced.graph)
    assert "opcode" in text and "linear" in text and "0.weight" in text
    assert "digraph" in traced.graph.to_dot()


class LSTMTagger(nn.Module):
    """An LSTM over a sequence and a linear layer on every step (the hidden states are outputs too)."""

    def __init__(self, **kwargs):
        super().__init__()
        self.lstm = nn.LSTM(5, 6, **kwargs)
        self.fc = nn.Linear(12 if kwargs.get("bidirectional") else 6, 3)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.fc(out) + h.sum() + c.sum()


@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2, "bidirectional": True, "batch_first": True}])
def test_lstm_is_one_graph_node_and_traced_matches_eager(kwargs):
    nf.manual_seed(0)
    model = LSTMTagger(**kwargs)
    traced = assert_traced_matches_eager(model, nf.randn(4, 3, 5), rtol=1e-5)
    labels = [node.label for node in traced.graph.nodes]
    assert labels.count("lstm") == 1 and "lstm_cell" not in labels
    assert "lstm.weight_hh_l0" in [v.name for v in traced.graph.params]


def test_lstm_with_initial_state_traced_matches_eager():
    nf.manual_seed(0)
    lstm = nn.LSTM(4, 3, num_layers=2)
    h0, c0 = nf.randn(2, 2, 3, requires_grad=True), nf.randn(2, 2, 3, requires_grad=True)
    x = nf.randn(5, 2, 4)

    def fn(x, h0, c0):
        out, (h, c) = lstm(x, (h0, c0))
        return out.sum() + (h * c).sum()

    traced = nf.jit.trace(fn, (x, h0, c0))
    want = nf.autograd.grad(fn(x, h0, c0), [h0, c0] + list(lstm.parameters()))
    got = nf.autograd.grad(traced(x, h0, c0), [h0, c0] + list(lstm.parameters()))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_packed_lstm_and_gru_still_record_their_steps():
    gru = nn.GRU(3, 2)
    traced = nf.jit.trace(lambda x: gru(x)[0], nf.randn(4, 1, 3))
    assert "gru_cell" in [node.label for node in traced.graph.nodes]


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_traced_matches_eager(norm_first):
    nf.manual_seed(0)
    model = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True, norm_first=norm_first)
    assert_traced_matches_eager(model, nf.randn(2, 5, 16), rtol=1e-5)


def test_flatten_after_conv_on_a_placeholder_runs_at_any_batch_size():
    nf.jit.reset_default_graph()
    try:
        nf.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(48, 3))
        x = nf.jit.placeholder((None, 1, 8, 8))
        y = model(x).view(x.size(0), 3)  # a second reshape that keeps the batch
        graph = nf.jit.Graph.from_outputs(y)
        for batch in (5, 1, 2):
            data = nf.randn(batch, 1, 8, 8)
            got = graph.run(y, feed={x: data})
            np.testing.assert_allclose(got.detach().numpy(), model(data).detach().numpy(), rtol=1e-6)
    finally:
        nf.jit.reset_default_graph()


def test_compile_step_trains_an_lstm_like_the_eager_loop():
    def make():
        nf.manual_seed(0)
        model = LSTMTagger(batch_first=True, num_layers=2)
        return model, nf.optim.SGD(model.parameters(), lr=0.1)

    model, opt = make()
    twin, twin_opt = make()
    loss_fn = lambda out, target: ((out - target) ** 2).mean()  # noqa: E731
    step = nf.jit.compile_step(model, loss_fn, opt)
    for _ in range(3):
        x, target = nf.randn(2, 4, 5), nf.randn(2, 4, 3)
        loss = step(x, target)
        twin_opt.zero_grad()
        eager = loss_fn(twin(x), target)
        eager.backward()
        twin_opt.step()
        assert float(loss) == pytest.approx(float(eager), rel=1e-5)
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
