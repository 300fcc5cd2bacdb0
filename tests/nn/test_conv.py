"""Convolutions (functional and layers) against PyTorch: outputs, input and weight gradients, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from tests.oracle import check, torch_or_skip

torch = torch_or_skip()


def F(m):
    return m.nn.functional


def second_order_check(fn, *arrays):
    """gradcheck of the first derivative (with create_graph): the backward's own backward is right."""
    rng = np.random.default_rng(1)
    inputs = [nf.tensor(a, requires_grad=True) for a in arrays]
    seed = nf.tensor(rng.standard_normal(tuple(fn(*inputs).shape)), requires_grad=True)

    def first_derivative(*args):
        with nf.enable_grad():
            xs = args[:-1]
            return nf.autograd.grad(fn(*xs), list(xs), grad_outputs=args[-1], create_graph=True)

    assert nf.autograd.gradcheck(first_derivative, inputs + [seed])


# --------------------------------------------------------------------------- conv2d
@pytest.mark.parametrize("kwargs", [
    {},
    {"stride": 2, "padding": 1},
    {"stride": (2, 1), "padding": (0, 2), "dilation": (1, 2)},
    {"padding": "same"},
    {"padding": "same", "dilation": 2},
    {"padding": "valid", "stride": 3},
])
def test_conv2d_matches_torch(rng, kwargs):
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    check(lambda m, x, w, b: F(m).conv2d(x, w, b, **kwargs), x, w, b, gradcheck=False)


@pytest.mark.parametrize("width", [9, 21])  # short rows use the batch-last column layout, long rows the other
def test_conv2d_both_column_layouts_match_torch(rng, width):
    x, w, b = rng.standard_normal((3, 4, 5, width)), rng.standard_normal((6, 2, 3, 3)), rng.standard_normal(6)
    check(lambda m, x, w, b: F(m).conv2d(x, w, b, padding=(1, 2), groups=2), x, w, b, gradcheck=False)
    check(lambda m, x, w, b: F(m).conv_transpose2d(x, w.reshape(4, 3, 3, 3)[:, :2], None, stride=(1, 2)),
          x, w, b, gradcheck=False)


def test_conv2d_groups_and_dilation_match_torch(rng):
    x, w = rng.standard_normal((2, 6, 8, 9)), rng.standard_normal((9, 2, 3, 3))
    check(lambda m, x, w: F(m).conv2d(x, w, None, stride=(1, 2), padding=2, dilation=2, groups=3),
          x, w, gradcheck=False)


def test_depthwise_conv2d_matches_torch(rng):
    x, w, b = rng.standard_normal((2, 4, 6, 6)), rng.standard_normal((4, 1, 3, 3)), rng.standard_normal(4)
    check(lambda m, x, w, b: F(m).conv2d(x, w, b, padding=1, groups=4), x, w, b, gradcheck=False)


def test_conv2d_gradcheck_with_stride_padding_groups(rng):
    x, w, b = rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((2, 1, 2, 3)), rng.standard_normal(2)
    check(lambda m, x, w, b: F(m).conv2d(x, w, b, stride=2, padding=1, groups=2), x, w, b)


def test_conv2d_double_backward(rng):
    x, w = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 1, 2, 2))
    second_order_check(lambda x, w: F(nf).conv2d(x, w, stride=2, padding=1, groups=2), x, w)


def test_conv2d_unbatched_input(rng):
    x, w = rng.standard_normal((3, 5, 5)), rng.standard_normal((2, 3, 3, 3))
    check(lambda m, x, w: F(m).conv2d(x, w, padding=1), x, w, gradcheck=False)


def test_conv2d_float32_matches_torch(rng):
    x = rng.standard_normal((4, 3, 9, 9)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    got = F(nf).conv2d(nf.tensor(x), nf.tensor(w), stride=2)
    want = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), stride=2)
    assert got.dtype == nf.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)


def test_conv2d_channel_mismatch_names_both_shapes():
    x, w = nf.zeros(1, 2, 5, 5), nf.zeros(4, 3, 3, 3)
    with pytest.raises(RuntimeError, match=r"expected input\[1, 2, 5, 5\] to have 3 channels, but got 2"):
        F(nf).conv2d(x, w)


def test_conv2d_kernel_larger_than_input_is_refused():
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F(nf).conv2d(nf.zeros(1, 1, 2, 2), nf.zeros(1, 1, 3, 3))


def test_conv2d_same_padding_refuses_stride():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        F(nf).conv2d(nf.zeros(1, 1, 5, 5), nf.zeros(1, 1, 3, 3), stride=2, padding="same")


def test_conv2d_wrong_rank_is_refused():
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D \\(batched\\) input to conv2d"):
        F(nf).conv2d(nf.zeros(5, 5), nf.zeros(1, 1, 3, 3))


def test_conv2d_mixed_dtypes_are_refused():
    with pytest.raises(RuntimeError, match="should be the same"):
        F(nf).conv2d(nf.zeros(1, 1, 5, 5, dtype=nf.float64), nf.zeros(1, 1, 3, 3))


def test_conv2d_is_at_top_level():
    assert nf.conv2d is F(nf).conv2d and nf.conv1d is F(nf).conv1d


# --------------------------------------------------------------------------- conv1d
@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1, "groups": 2},
                                    {"padding": "same", "dilation": 3}])
def test_conv1d_matches_torch(rng, kwargs):
    x, b = rng.standard_normal((2, 4, 11)), rng.standard_normal(6)
    w = rng.standard_normal((6, 4 // kwargs.get("groups", 1), 3))
    check(lambda m, x, w, b: F(m).conv1d(x, w, b, **kwargs), x, w, b, gradcheck=False)


def test_conv1d_gradcheck(rng):
    x, w = rng.standard_normal((1, 2, 6)), rng.standard_normal((2, 2, 3))
    check(lambda m, x, w: F(m).conv1d(x, w, stride=2, padding=1), x, w)


# --------------------------------------------------------------------------- conv_transpose2d
@pytest.mark.parametrize("kwargs", [
    {},
    {"stride": 2, "padding": 1, "output_padding": 1},
    {"stride": (2, 3), "padding": (1, 0), "dilation": (2, 1), "output_padding": (1, 2)},
])
def test_conv_transpose2d_matches_torch(rng, kwargs):
    x, w, b = rng.standard_normal((2, 4, 5, 4)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(3)
    check(lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, **kwargs), x, w, b, gradcheck=False)


def test_conv_transpose2d_groups_match_torch(rng):
    x, w, b = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((4, 3, 2, 2)), rng.standard_normal(6)
    check(lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, stride=2, groups=2), x, w, b, gradcheck=False)


def test_conv_transpose2d_gradcheck_and_double_backward(rng):
    x, w = rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((2, 1, 2, 3))
    check(lambda m, x, w: F(m).conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2), x, w)
    second_order_check(lambda x, w: F(nf).conv_transpose2d(x, w, stride=2, groups=2), x, w)


def test_conv_transpose1d_matches_torch(rng):
    x, w = rng.standard_normal((2, 3, 5)), rng.standard_normal((3, 2, 3))
    check(lambda m, x, w: F(m).conv_transpose1d(x, w, stride=2, padding=1, output_padding=1), x, w,
          gradcheck=False)


def test_conv_transpose2d_rejects_large_output_padding():
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F(nf).conv_transpose2d(nf.zeros(1, 1, 3, 3), nf.zeros(1, 1, 3, 3), stride=2, output_padding=2)


# --------------------------------------------------------------------------- unfold / fold
def test_unfold_matches_torch(rng):
    x = rng.standard_normal((2, 3, 6, 7))
    check(lambda m, x: F(m).unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), x, gradcheck=False)


def test_fold_matches_torch_and_gradchecks(rng):
    cols = rng.standard_normal((1, 2 * 2 * 2, 9))
    check(lambda m, c: F(m).fold(c, (4, 4), 2, stride=1), cols)
    cols = rng.standard_normal((2, 3 * 2 * 3, 20))
    check(lambda m, c: F(m).fold(c, (6, 7), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), cols,
          gradcheck=False)


def test_fold_reports_a_block_count_mismatch():
    with pytest.raises(RuntimeError, match="calculated number of sliding blocks"):
        F(nf).fold(nf.zeros(1, 4, 5), (4, 4), 2)


# --------------------------------------------------------------------------- layers
def _copy_params(ours, theirs):
    """Copy a torch module's parameters into ours by name (the state_dict round trip, through NumPy)."""
    for name, value in theirs.state_dict().items():
        ours.state_dict()[name].array[...] = value.detach().numpy()


def _compare_layer(ours, theirs, x, rtol=1e-5, atol=1e-6):
    _copy_params(ours, theirs)
    xs_nf = nf.tensor(x, requires_grad=True)
    xs_th = torch.tensor(x, requires_grad=True)
    y_nf, y_th = ours(xs_nf), theirs(xs_th)
    np.testing.assert_allclose(y_nf.detach().numpy(), y_th.detach().numpy(), rtol=rtol, atol=atol)
    seed = np.cos(np.arange(y_th.numel())).reshape(tuple(y_th.shape)).astype(x.dtype)
    y_nf.backward(nf.tensor(seed))
    y_th.backward(torch.tensor(seed))
    np.testing.assert_allclose(xs_nf.grad.numpy(), xs_th.grad.numpy(), rtol=rtol, atol=atol)
    grads = {n: p.grad for n, p in theirs.named_parameters()}
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of {name}")


@pytest.mark.parametrize("kwargs", [
    {},
    {"stride": 2, "padding": 1, "bias": False},
    {"padding": "same", "dilation": 2, "groups": 2},
    {"stride": (1, 2), "padding": (2, 1), "groups": 4},
])
def test_conv2d_layer_matches_torch(rng, kwargs):
    ours, theirs = nf.nn.Conv2d(4, 8, 3, **kwargs), torch.nn.Conv2d(4, 8, 3, **kwargs)
    _compare_layer(ours.double(), theirs.double(), rng.standard_normal((2, 4, 7, 8)))


def test_conv1d_layer_matches_torch(rng):
    ours, theirs = nf.nn.Conv1d(3, 4, 5, stride=2, padding=2), torch.nn.Conv1d(3, 4, 5, stride=2, padding=2)
    _compare_layer(ours.double(), theirs.double(), rng.standard_normal((2, 3, 13)))


def test_conv_transpose2d_layer_matches_torch(rng):
    kwargs = {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}
    ours, theirs = nf.nn.ConvTranspose2d(4, 6, 3, **kwargs), torch.nn.ConvTranspose2d(4, 6, 3, **kwargs)
    _compare_layer(ours.double(), theirs.double(), rng.standard_normal((2, 4, 5, 4)))


def test_conv_transpose2d_layer_output_size_argument(rng):
    layer = nf.nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    x = nf.tensor(rng.standard_normal((1, 2, 4, 4)).astype(np.float32))
    assert layer(x, output_size=[8, 8]).shape == (1, 2, 8, 8)
    assert layer(x).shape == (1, 2, 7, 7)


def test_conv_layers_have_torch_parameter_shapes_and_init_bounds():
    layer = nf.nn.Conv2d(6, 16, 5, groups=2)
    assert layer.weight.shape == (16, 3, 5, 5) and layer.bias.shape == (16,)
    bound = 1 / np.sqrt(3 * 25)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound
    assert np.abs(layer.bias.detach().numpy()).max() <= bound
    assert nf.nn.ConvTranspose2d(4, 6, 3, groups=2).weight.shape == (4, 3, 3, 3)
    assert [n for n, _ in nf.nn.Conv2d(1, 2, 3, bias=False).named_parameters()] == ["weight"]


def test_conv_layer_repr_matches_torch():
    kwargs = {"stride": 2, "padding": 1, "bias": False}
    assert repr(nf.nn.Conv2d(3, 8, 3, **kwargs)) == repr(torch.nn.Conv2d(3, 8, 3, **kwargs))
    assert repr(nf.nn.Conv1d(3, 8, 5)) == repr(torch.nn.Conv1d(3, 8, 5))
    assert repr(nf.nn.ConvTranspose2d(3, 8, 2, stride=2)) == repr(torch.nn.ConvTranspose2d(3, 8, 2, stride=2))


def test_conv2d_layer_rejects_channels_not_divisible_by_groups():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nf.nn.Conv2d(3, 4, 3, groups=2)
