"""Pooling, adaptive pooling and interpolate against PyTorch: values, indices, gradients, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from tests.nn.test_conv import second_order_check
from tests.oracle import check, torch_or_skip

torch = torch_or_skip()


def F(m):
    return m.nn.functional


def _distinct(rng, shape):
    """Values without ties, so that every max has one argmax (finite differences need that too)."""
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 + rng.uniform(0, 0.01, shape)


# --------------------------------------------------------------------------- max pooling
@pytest.mark.parametrize("kwargs", [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "dilation": (2, 1)},
    {"kernel_size": 2, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
])
def test_max_pool2d_matches_torch(rng, kwargs):
    x = _distinct(rng, (2, 3, 7, 9))
    check(lambda m, x: F(m).max_pool2d(x, **kwargs), x, gradcheck=False)


def test_max_pool2d_indices_match_torch(rng):
    x = _distinct(rng, (2, 3, 7, 9))
    check(lambda m, x: F(m).max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True), x, gradcheck=False)


def test_max_pool2d_overlapping_windows_gradcheck(rng):
    x = _distinct(rng, (1, 2, 5, 5))
    check(lambda m, x: F(m).max_pool2d(x, 3, stride=1, padding=1), x)


def test_max_pool2d_double_backward(rng):
    second_order_check(lambda x: F(nf).max_pool2d(x, 2, stride=1), _distinct(rng, (1, 1, 4, 4)))


def test_max_pool2d_propagates_nan_like_torch():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    got = F(nf).max_pool2d(nf.tensor(x), 2).numpy()
    want = torch.nn.functional.max_pool2d(torch.tensor(x), 2).numpy()
    np.testing.assert_array_equal(got, want)


def test_max_pool1d_matches_torch(rng):
    x = _distinct(rng, (2, 3, 11))
    check(lambda m, x: F(m).max_pool1d(x, 3, 2, 1, return_indices=True), x)


def test_max_pool2d_padding_over_half_kernel_is_refused():
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F(nf).max_pool2d(nf.zeros(1, 1, 6, 6), 2, padding=2)


def test_max_pool2d_too_small_input_is_refused():
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F(nf).max_pool2d(nf.zeros(1, 1, 1, 1), 2)


# --------------------------------------------------------------------------- average pooling
@pytest.mark.parametrize("kwargs", [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": 2, "divisor_override": 3},
])
def test_avg_pool2d_matches_torch(rng, kwargs):
    check(lambda m, x: F(m).avg_pool2d(x, **kwargs), rng.standard_normal((2, 3, 7, 9)), gradcheck=False)


def test_avg_pool2d_gradcheck_and_double_backward(rng):
    x = rng.standard_normal((1, 2, 5, 4))
    check(lambda m, x: F(m).avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), x)
    second_order_check(lambda x: F(nf).avg_pool2d(x, 2, 1, 1), x)


def test_avg_pool1d_matches_torch(rng):
    check(lambda m, x: F(m).avg_pool1d(x, 3, 2, 1, ceil_mode=True), rng.standard_normal((2, 3, 10)))


# --------------------------------------------------------------------------- adaptive pooling
@pytest.mark.parametrize("size", [(3, 4), 1, (5, None), (7, 9), (4, 10)])
def test_adaptive_avg_pool2d_matches_torch(rng, size):
    check(lambda m, x: F(m).adaptive_avg_pool2d(x, size), rng.standard_normal((2, 3, 7, 9)), gradcheck=False)


def test_adaptive_avg_pool2d_gradcheck(rng):
    check(lambda m, x: F(m).adaptive_avg_pool2d(x, (2, 3)), rng.standard_normal((1, 2, 5, 4)))


@pytest.mark.parametrize("size", [(3, 4), 1, (4, 10)])
def test_adaptive_max_pool2d_matches_torch(rng, size):
    x = _distinct(rng, (2, 3, 7, 9))
    check(lambda m, x: F(m).adaptive_max_pool2d(x, size, return_indices=True), x, gradcheck=False)


def test_adaptive_pool1d_matches_torch(rng):
    x = _distinct(rng, (2, 3, 10))
    check(lambda m, x: F(m).adaptive_avg_pool1d(x, 4), x)
    check(lambda m, x: F(m).adaptive_max_pool1d(x, 3), x, gradcheck=False)


# --------------------------------------------------------------------------- interpolate
@pytest.mark.parametrize("kwargs", [
    {"size": (5, 13)},
    {"scale_factor": 2},
    {"scale_factor": 1.7},
    {"size": (3, 4), "mode": "bilinear"},
    {"size": (11, 15), "mode": "bilinear", "align_corners": True},
    {"scale_factor": (1.5, 0.7), "mode": "bilinear"},
    {"scale_factor": 2.3, "mode": "bilinear", "recompute_scale_factor": True},
])
def test_interpolate_matches_torch(rng, kwargs):
    check(lambda m, x: F(m).interpolate(x, **kwargs), rng.standard_normal((2, 3, 7, 9)), gradcheck=False)


def test_interpolate_1d_matches_torch(rng):
    x = rng.standard_normal((2, 3, 6))
    check(lambda m, x: F(m).interpolate(x, scale_factor=1.5, mode="linear"), x)
    check(lambda m, x: F(m).interpolate(x, size=9), x, gradcheck=False)


def test_interpolate_bilinear_gradcheck(rng):
    check(lambda m, x: F(m).interpolate(x, size=(4, 5), mode="bilinear", align_corners=False),
          rng.standard_normal((1, 1, 3, 3)))


def test_interpolate_refuses_align_corners_with_nearest():
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F(nf).interpolate(nf.zeros(1, 1, 3, 3), scale_factor=2, align_corners=True)


def test_interpolate_names_an_unsupported_mode():
    with pytest.raises(NotImplementedError, match="bicubic"):
        F(nf).interpolate(nf.zeros(1, 1, 3, 3), scale_factor=2, mode="bicubic")


# --------------------------------------------------------------------------- layers
@pytest.mark.parametrize("make", [
    lambda nn: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
    lambda nn: nn.MaxPool2d(2),
    lambda nn: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
    lambda nn: nn.AdaptiveAvgPool2d((1, 1)),
    lambda nn: nn.AdaptiveAvgPool2d((3, None)),
    lambda nn: nn.AdaptiveMaxPool2d(2),
])
def test_pooling_layers_match_torch_with_the_same_repr(rng, make):
    ours, theirs = make(nf.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    check(lambda m, x: (ours if m is nf else theirs)(x), _distinct(rng, (2, 3, 7, 8)), gradcheck=False)


@pytest.mark.parametrize("make", [
    lambda nn: nn.MaxPool1d(3, stride=2, padding=1),
    lambda nn: nn.AvgPool1d(3, stride=2),
    lambda nn: nn.AdaptiveAvgPool1d(4),
])
def test_1d_pooling_layers_match_torch_with_the_same_repr(rng, make):
    ours, theirs = make(nf.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    check(lambda m, x: (ours if m is nf else theirs)(x), _distinct(rng, (2, 3, 9)), gradcheck=False)


def test_max_pool2d_layer_returns_indices(rng):
    out, idx = nf.nn.MaxPool2d(2, return_indices=True)(nf.tensor(_distinct(rng, (1, 1, 4, 4))))
    assert out.shape == idx.shape == (1, 1, 2, 2) and idx.dtype == nf.int64
