"""Ops route CUDA tensors to our kernels, with the right arguments — checked with and without a GPU.

The ``launches`` fixture runs each test twice:
- ``fake``: ``fake_cuda.install`` stands a NumPy-backed fake device in for CuPy and fake kernels in
  for the compiled ones (each launch checked against the kernel's C signature, then computed by
  the NumPy reference). This runs everywhere and checks the Python side only.
- ``gpu`` (marker ``gpu``, skipped without one): the real kernels, each launch recorded and checked
  the same way. This is what checks the CUDA code inside real ops and training.
Each test runs an op on the device and on the CPU and compares values and gradients, and checks
which kernels were launched. Tests of the wrappers alone run on the fake device only.
"""

from __future__ import annotations

import numpy as np
import pytest
from nbframe.kernels import loader

import nbframe as nf
import nbframe.nn.functional as F
from nbframe import nn
from nbframe.backend import cuda as gpu

from . import fake_cuda


@pytest.fixture(params=["fake", pytest.param("gpu", marks=pytest.mark.gpu)])
def launches(request, monkeypatch):
    if request.param == "gpu":
        return fake_cuda.record_real_kernels(monkeypatch)
    return fake_cuda.install(monkeypatch)


@pytest.fixture
def fake_launches(monkeypatch):
    return fake_cuda.install(monkeypatch)


def _pair(array, requires_grad: bool = True):
    """The same values as a CPU tensor and a (fake) CUDA tensor."""
    cpu_t = nf.tensor(array, requires_grad=requires_grad)
    dev_t = cpu_t.detach().to("cuda").requires_grad_(requires_grad)
    assert dev_t.device == nf.device("cuda", 0)
    return cpu_t, dev_t


def _host(t):
    return t.cpu().detach().numpy()


def _names(launches) -> list[str]:
    return [launch.name for launch in launches]


def _close(dev, cpu, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(_host(dev), cpu.detach().numpy(), rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- the fake itself
def test_every_kernel_signature_is_read_from_its_source():
    for stem in loader.kernel_files():
        for expression in loader.name_expressions(stem):
            params = fake_cuda.kernel_signature(stem, expression)
            assert params and any(p.pointer for p in params), expression


def test_half_kernels_take_float_hyper_parameters_and_double_kernels_double():
    by_name = {p.name: p.dtype for p in fake_cuda.kernel_signature("optimizers", "adam_step<nbf_half>")}
    assert by_name["param"] is np.float16 and by_name["lr"] is np.float32
    by_name = {p.name: p.dtype for p in fake_cuda.kernel_signature("optimizers", "adam_step<double>")}
    assert by_name["lr"] is np.float64 and by_name["n"] is np.int64


def test_cpu_tensors_never_reach_a_kernel(launches, rng):
    x = nf.tensor(rng.standard_normal((4, 3, 8, 8)).astype(np.float32), requires_grad=True)
    y = F.max_pool2d(F.conv2d(x, nf.ones(2, 3, 3, 3)), 2)
    F.cross_entropy(F.layer_norm(F.dropout(y.flatten(1), 0.2), (18,)), nf.tensor([0, 1, 2, 3])).backward()
    assert launches == []


# --------------------------------------------------------------------------- cross-entropy
@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 2, 3), (7,), (2, 600)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,smoothing", [(False, 0.0), (True, 0.15)])
def test_cross_entropy_runs_the_fused_kernels(launches, rng, shape, reduction, weighted, smoothing):
    classes = shape[1] if len(shape) > 1 else shape[0]
    xc, xd = _pair(rng.standard_normal(shape).astype(np.float32))
    tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    target = rng.integers(0, classes, tshape)
    if target.ndim:
        target.reshape(-1)[::3] = -100
    tc, td = _pair(target, requires_grad=False)
    w = nf.tensor(rng.uniform(0.5, 2, classes).astype(np.float32)) if weighted else None
    kwargs = dict(weight=w, reduction=reduction, label_smoothing=smoothing)
    lc = F.cross_entropy(xc, tc, **kwargs)
    ld = F.cross_entropy(xd, td, **{**kwargs, "weight": None if w is None else w.cuda()})
    _close(ld, lc)
    assert ld.dtype == nf.float32 and ld.shape == lc.shape
    gout = rng.standard_normal(lc.shape).astype(np.float32)
    lc.backward(nf.tensor(gout))
    ld.backward(nf.tensor(gout).cuda())
    _close(xd.grad, xc.grad)
    assert _names(launches) == ["cross_entropy_forward", "cross_entropy_backward"]
    assert launches[0].args["rows"] == max(1, int(np.prod(tshape)))


def test_cross_entropy_rows_longer_than_a_block_get_one_block_each(launches, rng):
    _, xd = _pair(rng.standard_normal((3, 5000)).astype(np.float32))
    F.cross_entropy(xd, nf.tensor([1, 4999, 0]).cuda())
    assert launches[0].block[1:] == (1,) and launches[0].block[0] > 32 and launches[0].grid == (3,)


def test_cross_entropy_double_backward_on_the_gpu_path_matches_the_cpu(launches, rng):
    xc, xd = _pair(rng.standard_normal((4, 5)))
    target = rng.integers(0, 5, 4)
    grads = []
    for x, t in ((xc, nf.tensor(target)), (xd, nf.tensor(target).cuda())):
        (g,) = nf.autograd.grad(F.cross_entropy(x, t, label_smoothing=0.1), x, create_graph=True)
        (gg,) = nf.autograd.grad((g * g).sum(), x)
        grads.append(_host(gg))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10)


def test_cross_entropy_on_the_gpu_path_reports_a_target_out_of_range(launches):
    _, xd = _pair(np.zeros((2, 3), np.float32))
    with pytest.raises(IndexError, match=r"Target 3 is out of bounds: class indices must be in \[0, 2\]"):
        F.cross_entropy(xd, nf.tensor([0, 3]).cuda())


def test_cross_entropy_with_probability_targets_keeps_the_generic_path(launches, rng):
    _, xd = _pair(rng.standard_normal((3, 4)).astype(np.float32))
    F.cross_entropy(xd, F.softmax(nf.tensor(rng.standard_normal((3, 4)).astype(np.float32)), 1).cuda())
    assert "cross_entropy_forward" not in _names(launches)


# --------------------------------------------------------------------------- layer norm
@pytest.mark.parametrize("shape,normalized", [((4, 10), (10,)), ((2, 3, 4, 5), (4, 5)), ((3, 700), (700,)),
                                              ((5, 1), (1,))])
@pytest.mark.parametrize("affine", ["both", "none", "weight", "bias"])
def test_layer_norm_runs_the_fused_kernels(launches, rng, shape, normalized, affine):
    xc, xd = _pair(rng.standard_normal(shape).astype(np.float32) * 3 + 1)
    params = {}
    for name in ("weight", "bias"):
        if affine in (name, "both"):
            params[name] = _pair(rng.standard_normal(normalized).astype(np.float32))
    yc = F.layer_norm(xc, normalized, **{k: v[0] for k, v in params.items()})
    yd = F.layer_norm(xd, normalized, **{k: v[1] for k, v in params.items()})
    _close(yd, yc, atol=1e-5)
    gout = rng.standard_normal(shape).astype(np.float32)
    yc.backward(nf.tensor(gout))
    yd.backward(nf.tensor(gout).cuda())
    _close(xd.grad, xc.grad, rtol=1e-4, atol=1e-5)
    for pc, pd in params.values():
        _close(pd.grad, pc.grad, rtol=1e-4, atol=1e-4)
    expected = ["layer_norm_forward", "layer_norm_backward_input"]
    assert _names(launches) == expected + (["layer_norm_backward_params"] if params else [])
    rows = int(np.prod(shape)) // int(np.prod(normalized))
    assert (launches[0].args["rows"], launches[0].args["cols"]) == (rows, int(np.prod(normalized)))


def test_layer_norm_double_backward_on_the_gpu_path_matches_the_cpu(launches, rng):
    xc, xd = _pair(rng.standard_normal((3, 6)))
    wc, wd = _pair(rng.standard_normal(6))
    out = []
    for x, w in ((xc, wc), (xd, wd)):
        (g,) = nf.autograd.grad((F.layer_norm(x, (6,), w) ** 2).sum(), x, create_graph=True)
        out.append([_host(v) for v in nf.autograd.grad(g.sum(), (x, w))])
    for dev, host in zip(out[1], out[0]):
        np.testing.assert_allclose(dev, host, rtol=1e-9, atol=1e-12)


def test_layer_norm_module_on_the_gpu_uses_the_kernel(launches, rng):
    layer = nn.LayerNorm(8).to("cuda")
    layer(nf.tensor(rng.standard_normal((2, 8)).astype(np.float32)).cuda()).sum().backward()
    assert _names(launches)[0] == "layer_norm_forward"
    assert layer.weight.grad.device == nf.device("cuda", 0)


# --------------------------------------------------------------------------- dropout
def test_dropout_runs_the_philox_kernel_and_its_mask_is_the_reference(launches, rng):
    x = rng.standard_normal((64, 33)).astype(np.float32)
    _, xd = _pair(x)
    nf.cuda.manual_seed(1234)
    y = F.dropout(xd, 0.3)
    seed, offset = launches[0].args["seed"], launches[0].args["offset"]
    assert (seed, offset) == (1234, 0)
    keep = nf.backend.cpu.dropout_mask(x.size, 0.3, seed, offset).reshape(x.shape)
    np.testing.assert_allclose(_host(y), np.where(keep, x / 0.7, 0), rtol=1e-6)
    y.backward(nf.ones(64, 33).cuda())
    np.testing.assert_allclose(_host(xd.grad), np.where(keep, 1 / 0.7, 0), rtol=1e-6)
    assert _names(launches) == ["dropout_forward", "dropout_backward"]


def test_dropout_masks_replay_after_manual_seed_and_differ_between_calls(launches):
    x = nf.ones(1000).cuda()
    nf.cuda.manual_seed(7)
    first = [_host(F.dropout(x, 0.5)) for _ in range(2)]
    nf.cuda.manual_seed(7)
    again = [_host(F.dropout(x, 0.5)) for _ in range(2)]
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert (first[0] != first[1]).any()
    assert abs((first[0] > 0).mean() - 0.5) < 0.06


def test_dropout_in_place_and_in_eval_mode(launches, rng):
    _, xd = _pair(rng.standard_normal((5, 6)).astype(np.float32), requires_grad=False)
    assert F.dropout(xd, 0.5, training=False) is xd and launches == []
    before = _host(xd)
    out = F.dropout(xd, 0.5, inplace=True)
    assert out is xd and _names(launches) == ["dropout_forward"]
    assert set(np.unique(_host(xd) / np.where(before == 0, 1, before)).round(5)) <= {0.0, 2.0}


def test_channel_dropout_keeps_its_own_mask_path(launches, rng):
    _, xd = _pair(rng.standard_normal((2, 3, 4, 4)).astype(np.float32))
    F.dropout2d(xd, 0.5)
    assert launches == []


# --------------------------------------------------------------------------- max pooling
@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil", [
    (2, None, 0, 1, False), (3, 2, 1, 1, False), ((3, 2), (2, 1), (1, 0), (2, 1), False), (3, 2, 0, 1, True),
])
def test_max_pool2d_runs_the_kernels_with_saved_indices(launches, rng, kernel, stride, padding, dilation,
                                                        ceil):
    xc, xd = _pair(rng.standard_normal((2, 3, 11, 10)).astype(np.float32))
    args = (kernel, stride, padding, dilation, ceil, True)
    (yc, ic), (yd, idx) = F.max_pool2d(xc, *args), F.max_pool2d(xd, *args)
    _close(yd, yc)
    np.testing.assert_array_equal(_host(idx), ic.numpy())
    gout = rng.standard_normal(yc.shape).astype(np.float32)
    yc.backward(nf.tensor(gout))
    yd.backward(nf.tensor(gout).cuda())
    _close(xd.grad, xc.grad)
    assert _names(launches) == ["maxpool2d_forward", "maxpool2d_backward"]
    assert (launches[0].args["OH"], launches[0].args["OW"]) == yc.shape[2:]


def test_max_pool1d_goes_through_the_same_kernels(launches, rng):
    xc, xd = _pair(rng.standard_normal((2, 3, 9)).astype(np.float32))
    F.max_pool1d(xd, 3, 2).sum().backward()
    F.max_pool1d(xc, 3, 2).sum().backward()
    _close(xd.grad, xc.grad)
    assert _names(launches) == ["maxpool2d_forward", "maxpool2d_backward"]


# --------------------------------------------------------------------------- convolution
@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 1),
                                                           ((1, 2), (2, 1), 2, 2)])
def test_conv2d_builds_columns_with_im2col_and_its_input_gradient_with_col2im(
        launches, rng, stride, padding, dilation, groups):
    xc, xd = _pair(rng.standard_normal((2, 4, 9, 8)).astype(np.float32))
    wc, wd = _pair(rng.standard_normal((6, 4 // groups, 3, 2)).astype(np.float32))
    bc, bd = _pair(rng.standard_normal(6).astype(np.float32))
    yc = F.conv2d(xc, wc, bc, stride, padding, dilation, groups)
    yd = F.conv2d(xd, wd, bd, stride, padding, dilation, groups)
    _close(yd, yc, atol=1e-5)
    gout = rng.standard_normal(yc.shape).astype(np.float32)
    yc.backward(nf.tensor(gout))
    yd.backward(nf.tensor(gout).cuda())
    for dev, host in ((xd, xc), (wd, wc), (bd, bc)):
        _close(dev.grad, host.grad, rtol=1e-4, atol=1e-4)
    assert sorted(_names(launches)) == ["col2im", "im2col", "im2col"]


def test_fold_and_avg_pool_backward_use_col2im(launches, rng):
    xc, xd = _pair(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    F.avg_pool2d(xd, 3, 2, 1).sum().backward()
    F.avg_pool2d(xc, 3, 2, 1).sum().backward()
    _close(xd.grad, xc.grad)
    assert _names(launches) == ["col2im"]
    cols = nf.tensor(rng.standard_normal((1, 3 * 4, 9)).astype(np.float32))
    _close(F.fold(cols.cuda(), (4, 4), 2), F.fold(cols, (4, 4), 2))


# --------------------------------------------------------------------------- embedding, softmax
def test_embedding_backward_and_softmax_run_their_kernels(launches, rng):
    wc, wd = _pair(rng.standard_normal((10, 4)).astype(np.float32))
    idx = nf.tensor(rng.integers(0, 10, (3, 5)))
    F.softmax(F.embedding(idx.cuda(), wd, padding_idx=2), -1).sum().backward()
    F.softmax(F.embedding(idx, wc, padding_idx=2), -1).sum().backward()
    _close(wd.grad, wc.grad, atol=1e-6)
    assert _names(launches) == ["softmax_forward", "softmax_backward", "embedding_backward"]


# --------------------------------------------------------------------------- elementwise fusion
def test_fused_elementwise_broadcasts_its_inputs_and_pads_the_pointer_list_to_eight(launches, rng):
    a, b = rng.standard_normal((30, 7)).astype(np.float32), rng.standard_normal(7).astype(np.float32)
    out = gpu.fused_elementwise("a0 * ((A)1 / ((A)1 + exp(-a1)))", nf.tensor(a).cuda().array,
                                nf.tensor(b).cuda().array)
    np.testing.assert_allclose(nf.tensor(out).cpu().numpy(), a / (1 + np.exp(-b)), rtol=1e-6)
    (launch,) = launches
    assert launch.expression == "fused_elementwise<float>" and launch.args["n"] == 210
    assert all(launch.args[f"in{i}"].shape == (30, 7) for i in range(8))


# --------------------------------------------------------------------------- optimisers
def _train_pair(rng, make_optimizer, steps: int = 3, dtype=np.float32):
    params = [rng.standard_normal(s).astype(dtype) for s in ((5, 3), (7,))]
    grads = [[rng.standard_normal(p.shape).astype(dtype) for p in params] for _ in range(steps)]
    results = []
    for device in ("cpu", "cuda"):
        ps = [nf.tensor(p).to(device).requires_grad_() for p in params]
        opt = make_optimizer(ps)
        for step in grads:
            for p, g in zip(ps, step):
                p.grad = nf.tensor(g).to(device)
            opt.step()
        results.append([_host(p) for p in ps])
    return results


@pytest.mark.parametrize("options", [dict(lr=0.1), dict(lr=0.1, momentum=0.9),
                                     dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
                                     dict(lr=0.1, momentum=0.5, dampening=0.3, maximize=True)])
def test_sgd_steps_on_the_gpu_run_one_kernel_per_parameter(launches, rng, options):
    host, dev = _train_pair(rng, lambda ps: nf.optim.SGD(ps, **options))
    for d, h in zip(dev, host):
        np.testing.assert_allclose(d, h, rtol=1e-6, atol=1e-7)
    assert _names(launches) == ["sgd_step"] * 6
    if options.get("momentum"):
        assert [launch.args["first_step"] for launch in launches[::2]] == [1, 0, 0]


@pytest.mark.parametrize("make", [
    lambda ps: nf.optim.Adam(ps, lr=0.01),
    lambda ps: nf.optim.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True),
    lambda ps: nf.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    lambda ps: nf.optim.AdamW(ps, lr=0.01, betas=(0.8, 0.9), amsgrad=True),
])
def test_adam_and_adamw_steps_on_the_gpu_run_one_kernel_per_parameter(launches, rng, make):
    host, dev = _train_pair(rng, make)
    for d, h in zip(dev, host):
        np.testing.assert_allclose(d, h, rtol=1e-5, atol=1e-6)
    assert _names(launches) == ["adam_step"] * 6


def test_float64_optimiser_steps_keep_float64_hyper_parameters(launches, rng):
    host, dev = _train_pair(rng, lambda ps: nf.optim.AdamW(ps, lr=0.1, weight_decay=0.3), dtype=np.float64)
    for d, h in zip(dev, host):
        np.testing.assert_allclose(d, h, rtol=1e-13)
    assert type(launches[0].args["lr"]) is float and launches[0].expression == "adam_step<double>"


# --------------------------------------------------------------------------- wrappers refuse bad input
def test_wrappers_refuse_host_arrays_and_integer_dtypes(fake_launches):
    with pytest.raises(TypeError, match=r"softmax_forward: x must be a CUDA \(CuPy\) array, got ndarray"):
        gpu.softmax_forward(np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match="float16, float32 or float64, got int32"):
        gpu.layer_norm_forward(fake_cuda.on_fake_device(np.zeros((2, 3), np.int32)))
    assert fake_launches == []


def test_wrappers_refuse_mismatched_shapes_and_dtypes(fake_launches):
    x = fake_cuda.on_fake_device(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"softmax_backward: dy must have shape \(4, 3\), got \(3, 4\)"):
        gpu.softmax_backward(x, fake_cuda.on_fake_device(np.zeros((3, 4), np.float32)))
    with pytest.raises(TypeError, match="weight must have dtype float32, got float64"):
        gpu.layer_norm_forward(x, fake_cuda.on_fake_device(np.ones(3)), None)
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target batch_size \(2\)"):
        gpu.cross_entropy_forward(x, fake_cuda.on_fake_device(np.zeros(2, np.int64)))
    with pytest.raises(TypeError, match="target must have dtype int64, got float32"):
        gpu.cross_entropy_forward(x, fake_cuda.on_fake_device(np.zeros(4, np.float32)))
    with pytest.raises(ValueError, match=r"im2col: x must be 4-D, got shape \(4, 3\)"):
        gpu.im2col(x, (1, 1), (1, 1), (1, 1))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        gpu.dropout_forward(x, 1.5)
    assert fake_launches == []


def test_in_place_wrappers_refuse_non_contiguous_state(fake_launches):
    param = fake_cuda.on_fake_device(np.zeros((4, 6), np.float32))
    grad = fake_cuda.on_fake_device(np.zeros((4, 6), np.float32))
    with pytest.raises(ValueError, match="sgd_step: param must be contiguous to be updated in place"):
        gpu.sgd_step(param[:, ::2], grad[:, ::2], None, 0.1)
    with pytest.raises(ValueError, match="amsgrad=True needs max_exp_avg_sq"):
        gpu.adam_step(param, grad, param.copy(), param.copy(), None, 1, 0.1, 0.9, 0.99, 1e-8, amsgrad=True)
    assert fake_launches == []


def test_wrappers_make_strided_inputs_contiguous_before_launching(fake_launches, rng):
    x = rng.standard_normal((6, 40)).astype(np.float32)
    y = gpu.softmax_forward(fake_cuda.on_fake_device(x).T)
    np.testing.assert_allclose(np.asarray(y), nf.backend.cpu.softmax_forward(np.ascontiguousarray(x.T)),
                               rtol=1e-6)


def test_a_non_contiguous_parameter_takes_the_generic_optimiser_path(launches, rng):
    p = nf.tensor(rng.standard_normal((4, 6)).astype(np.float32)).cuda().t().requires_grad_()
    p.grad = nf.ones(6, 4).cuda()
    nf.optim.SGD([p], lr=0.1, momentum=0.9).step()
    assert launches == []


# --------------------------------------------------------------------------- a small CNN end to end
class _SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 8, 3)
        self.norm, self.drop, self.fc = nn.LayerNorm(32), nn.Dropout(0.25), nn.Linear(32, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(self.drop(self.norm(x.flatten(1))))


def test_a_small_cnn_trains_to_the_same_losses_on_the_gpu_as_on_the_cpu(launches, rng):
    x = rng.standard_normal((8, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    curves = []
    for device in ("cpu", "cuda"):
        nf.manual_seed(0)
        model = _SmallCNN()
        model.drop.p = 0.0  # the two devices draw different masks; dropout's own tests cover the kernel
        model.to(device)
        opt = nf.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        xs, ys = nf.tensor(x).to(device), nf.tensor(y).to(device)
        curve = []
        for _ in range(4):
            opt.zero_grad()
            loss = F.cross_entropy(model(xs), ys)
            loss.backward()
            opt.step()
            curve.append(loss.item())
        curves.append(curve)
    np.testing.assert_allclose(curves[1], curves[0], rtol=2e-4)  # float32, summed in other orders on a GPU
    assert curves[0][-1] < curves[0][0]
    assert {"im2col", "col2im", "maxpool2d_forward", "maxpool2d_backward", "layer_norm_forward",
            "cross_entropy_forward", "cross_entropy_backward", "sgd_step"} <= set(_names(launches))


def test_layer_norm_parameter_gradients_stay_within_the_grid_limit_for_millions_of_rows(fake_launches):
    rows = 64 * 65535 + 1
    x = fake_cuda.on_fake_device(np.full((rows, 1), 0.5, np.float32))
    stats = [fake_cuda.on_fake_device(np.full(rows, v, np.float32)) for v in (0.0, 1.0)]
    _, dw, db = gpu.layer_norm_backward(x, x, *stats, weight=fake_cuda.on_fake_device(np.ones(1, np.float32)))
    assert fake_launches[-1].grid[1] <= 65535
    np.testing.assert_allclose(np.asarray(db), [rows * 0.5], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(dw), [rows * 0.25], rtol=1e-5)


def test_half_precision_tensors_run_the_half_kernels_with_float_hyper_parameters(launches, rng):
    x = rng.standard_normal((4, 3, 8, 8)).astype(np.float32)
    target = nf.tensor(rng.integers(0, 5, 4))
    results = []
    for dtype, device in ((nf.float32, "cpu"), (nf.float16, "cuda")):
        nf.manual_seed(0)
        conv, norm = nn.Conv2d(3, 2, 3).to(device, dtype), nn.LayerNorm(18).to(device, dtype)
        opt = nf.optim.SGD([*conv.parameters(), *norm.parameters()], lr=0.1, momentum=0.9)
        xs = nf.tensor(x).to(device, dtype).requires_grad_()
        h = norm(F.max_pool2d(conv(xs), 2).flatten(1))
        loss = F.cross_entropy(F.log_softmax(h[:, :5], -1), target.to(device))
        loss.backward()
        opt.step()
        results.append([_host(v).astype(np.float32) for v in (loss, xs.grad, conv.weight)])
    for dev, host in zip(results[1], results[0]):
        np.testing.assert_allclose(dev, host, rtol=2e-2, atol=2e-2)
    element_types = {launch.expression.partition("<")[2].split(",")[0].rstrip(">") for launch in launches}
    assert element_types == {"nbf_half"}
    assert {"im2col", "col2im", "maxpool2d_forward", "layer_norm_forward", "softmax_forward",
            "cross_entropy_forward", "sgd_step"} <= set(_names(launches))


def test_the_real_gpu_recorder_checks_and_records_every_launch(fake_launches, monkeypatch, rng):
    """record_real_kernels (the ``gpu`` runs' fixture), exercised here around the fake kernels."""
    recorded = fake_cuda.record_real_kernels(monkeypatch, fake_cuda.FakeCudaArray)
    _, xd = _pair(rng.standard_normal((4, 6)).astype(np.float32))
    F.cross_entropy(xd, nf.tensor([0, 1, 2, 5]).cuda()).backward()
    gpu.fused_elementwise("a0 + a1", xd.detach().array, xd.detach().array)
    assert _names(recorded) == _names(fake_launches) == ["cross_entropy_forward", "cross_entropy_backward",
                                                         "fused_elementwise"]
    assert recorded[0].args["rows"] == 4 and recorded[0].args["smoothing"] == 0.0


def test_adaptive_max_pool_transposed_conv_and_unfold_on_the_gpu_match_the_cpu(launches, rng):
    xc, xd = _pair(rng.standard_normal((2, 3, 7, 9)).astype(np.float32))
    wc, wd = _pair(rng.standard_normal((3, 2, 3, 3)).astype(np.float32))
    outs = []
    for x, w in ((xc, wc), (xd, wd)):
        y = F.adaptive_max_pool2d(x, (3, 4)).sum() + F.unfold(x, 2, stride=2).sum()
        y = y + F.conv_transpose2d(x, w, stride=2, padding=1).pow(2).sum()
        y.backward()
        outs.append([_host(v) for v in (y, x.grad, w.grad)])
    for dev, host in zip(outs[1], outs[0]):
        np.testing.assert_allclose(dev, host, rtol=1e-4, atol=1e-4)
    assert {"maxpool2d_backward", "col2im", "im2col"} <= set(_names(launches))


def test_int32_indices_reach_the_embedding_kernel_as_int64(launches, rng):
    wc, wd = _pair(rng.standard_normal((6, 3)).astype(np.float32))
    idx = rng.integers(0, 6, (4, 2)).astype(np.int32)
    F.embedding(nf.tensor(idx).cuda(), wd).sum().backward()
    F.embedding(nf.tensor(idx), wc).sum().backward()
    _close(wd.grad, wc.grad)
    assert _names(launches) == ["embedding_backward"]
