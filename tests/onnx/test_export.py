"""nf.onnx.export: every export passes onnx.checker and onnxruntime agrees with nbframe (1e-5)."""

import numpy as np
import pytest

import nbframe as nf
from nbframe import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def export_and_run(model, x, tmp_path, batches=(None,), **kwargs):
    """Export, run the full checker, and compare every output with onnxruntime at each batch size."""
    path = tmp_path / "model.onnx"
    nf.onnx.export(model, x, str(path), **kwargs)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for batch in batches:
        data = x if batch is None else nf.randn(batch, *x.shape[1:])
        got = session.run(None, {name: data.numpy()})
        with nf.no_grad():
            want = model(data)
        want = want if isinstance(want, tuple) else (want,)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == tuple(w.shape)
            np.testing.assert_allclose(g, w.numpy(), rtol=1e-5, atol=1e-5)
    return proto


def test_mlp_exports_with_a_dynamic_batch(tmp_path):
    nf.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))
    proto = export_and_run(model, nf.randn(4, 20), tmp_path, batches=(None, 7), dynamic_batch=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert {i.name for i in proto.graph.initializer} >= {"0.weight", "0.bias", "4.weight"}


def test_cnn_with_batchnorm_in_eval_and_pooling_exports(tmp_path):
    nf.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 6, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 3 * 3, 5))
    model.train()
    model(nf.randn(8, 1, 14, 14))  # move the running statistics away from their start
    model.eval()
    export_and_run(model, nf.randn(2, 1, 14, 14), tmp_path, batches=(None, 5), dynamic_batch=True)


def test_lenet_exports(tmp_path):
    nf.manual_seed(0)
    model = nf.vision.models.lenet5().eval()
    export_and_run(model, nf.randn(3, 1, 28, 28), tmp_path, batches=(None, 2), dynamic_batch=True)


class EncoderLayer(nn.Module):
    """A post-norm Transformer encoder layer from plain layers (self-attention, feed-forward)."""

    def __init__(self, d_model=16, heads=2, hidden=32):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, hidden)
        self.ff2 = nn.Linear(hidden, d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, x):
        b, s, d = x.shape
        h = self.heads
        qkv = self.qkv(x).reshape(b, s, 3, h, d // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = nf.softmax(q @ k.transpose(-2, -1) * (1.0 / (d // h) ** 0.5), dim=-1)
        attended = (scores @ v).permute(0, 2, 1, 3).reshape(b, s, d)
        x = self.norm1(x + self.proj(attended))
        return self.norm2(x + self.ff2(nf.nn.functional.gelu(self.ff1(x))))


def test_transformer_encoder_layer_exports(tmp_path):
    nf.manual_seed(0)
    model = EncoderLayer().eval()
    export_and_run(model, nf.randn(2, 5, 16), tmp_path, batches=(None, 3), dynamic_batch=True)


@pytest.mark.parametrize("kwargs", [{}, {"norm_first": True, "activation": "gelu"}])
def test_nn_transformer_encoder_layer_exports(tmp_path, kwargs):
    nf.manual_seed(0)
    model = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.1, batch_first=True, **kwargs).eval()
    export_and_run(model, nf.randn(2, 5, 16), tmp_path, batches=(None, 3), dynamic_batch=True)


def test_sequence_first_transformer_encoder_layer_exports_at_its_batch(tmp_path):
    nf.manual_seed(0)
    model = nn.TransformerEncoderLayer(8, 2, 16).eval()
    export_and_run(model, nf.randn(4, 3, 8), tmp_path)


class LSTMTagger(nn.Module):
    """An LSTM and a linear layer on every step; returns the hidden and cell states too."""

    def __init__(self, **kwargs):
        super().__init__()
        self.lstm = nn.LSTM(5, 6, **kwargs)
        self.fc = nn.Linear(12 if kwargs.get("bidirectional") else 6, 3)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.fc(out), h, c


@pytest.mark.parametrize("kwargs", [{"batch_first": True}, {"batch_first": True, "num_layers": 2},
                                    {"batch_first": True, "bidirectional": True},
                                    {"batch_first": True, "num_layers": 3, "bidirectional": True,
                                     "dropout": 0.5},
                                    {"bias": False, "num_layers": 2}])
def test_lstm_exports_as_the_onnx_lstm_operator(tmp_path, kwargs):
    nf.manual_seed(0)
    model = LSTMTagger(**kwargs).eval()
    # batch-first: the batch varies; sequence-first: the (first) sequence dimension does.
    proto = export_and_run(model, nf.randn(3, 4, 5), tmp_path, batches=(None, 6), dynamic_batch=True)
    layers = kwargs.get("num_layers", 1)
    assert [n.op_type for n in proto.graph.node].count("LSTM") == layers
    h_dims = proto.graph.output[1].type.tensor_type.shape.dim
    if kwargs.get("batch_first"):
        assert h_dims[1].dim_param == "batch" and h_dims[0].dim_value == layers * (
            2 if kwargs.get("bidirectional") else 1)


def test_lstm_with_a_given_initial_state_exports(tmp_path):
    nf.manual_seed(0)
    lstm = nn.LSTM(4, 3, num_layers=2, bidirectional=True)
    h0, c0 = nf.randn(4, 2, 3), nf.randn(4, 2, 3)
    path = str(tmp_path / "m.onnx")
    nf.onnx.export(lambda x, h, c: lstm(x, (h, c))[0], (nf.randn(5, 2, 4), h0, c0), path)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = nf.randn(5, 2, 4)
    (got,) = session.run(None, {"x": x.numpy(), "h": h0.numpy(), "c": c0.numpy()})
    with nf.no_grad():
        want = lstm(x, (h0, c0))[0].numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_lstm_with_projections_is_refused(tmp_path):
    model = nn.LSTM(4, 3, proj_size=2, batch_first=True)
    with pytest.raises(NotImplementedError, match="proj_size"):
        nf.onnx.export(model, nf.randn(2, 3, 4), str(tmp_path / "m.onnx"))


def trained_then_eval(model, shape):
    model.train()
    with nf.no_grad():
        model(nf.randn(*shape))  # move batch norm's running statistics away from their start
    return model.eval()


@pytest.mark.parametrize("name", ["resnet20", "mobilenet_v2"])
def test_vision_models_export(tmp_path, name):
    nf.manual_seed(0)
    model = trained_then_eval(getattr(nf.vision.models, name)(num_classes=10), (4, 3, 16, 16))
    proto = export_and_run(model, nf.randn(2, 3, 16, 16), tmp_path, batches=(None, 3), dynamic_batch=True)
    ops = {n.op_type for n in proto.graph.node}
    assert "GlobalAveragePool" in ops
    assert name != "mobilenet_v2" or "Clip" in ops


@pytest.mark.parametrize("pool", [
    nn.AvgPool2d(2),
    nn.AvgPool2d(3, 2, padding=1),
    nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False),
    nn.AvgPool2d((2, 3), divisor_override=4),
    nn.AdaptiveAvgPool2d((2, 3)),
    nn.AdaptiveAvgPool2d(1),
])
def test_average_pooling_exports(tmp_path, pool):
    x = nf.randn(2, 3, 10, 11)
    export_and_run(nn.Sequential(pool), x, tmp_path, batches=(None, 4), dynamic_batch=True)


def test_unsupported_op_is_named(tmp_path):
    def fn(x):
        return nf.cumsum(x, 0)

    with pytest.raises(NotImplementedError, match="cumsum"):
        nf.onnx.export(fn, nf.randn(3, 2), str(tmp_path / "m.onnx"))


def test_training_mode_batchnorm_is_refused(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    with pytest.raises(NotImplementedError, match="eval"):
        nf.onnx.export(model, nf.randn(2, 1, 5, 5), str(tmp_path / "m.onnx"))
