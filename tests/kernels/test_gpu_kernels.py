"""Every CUDA kernel against its NumPy reference, on a GPU (skipped, saying so, where there is none).

Awkward shapes on purpose: rows longer than a block, one-element rows, many short rows,
non-contiguous inputs (the wrappers make them contiguous), half precision.
"""

from __future__ import annotations

import numpy as np
import pytest

from nbframe.backend import cpu

pytestmark = pytest.mark.gpu

TOL = {np.float16: dict(rtol=2e-2, atol=2e-3), np.float32: dict(rtol=2e-5, atol=1e-6),
       np.float64: dict(rtol=1e-11, atol=1e-13)}
DTYPES = [np.float16, np.float32, np.float64]
ROW_SHAPES = [(1, 1), (3, 1), (1000, 7), (4, 33), (2, 4099), (5, 300), (2, 70001)]


@pytest.fixture(scope="module")
def cp():
    import cupy

    return cupy


@pytest.fixture(scope="module")
def gpu():
    from nbframe.backend import cuda

    return cuda


def _on(cp, array):
    return None if array is None else cp.asarray(array)


def _close(actual, expected, dtype, scale: float = 1.0):
    tol = TOL[dtype]
    got = actual.get() if hasattr(actual, "get") else actual
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(expected, np.float64),
                               rtol=tol["rtol"] * scale, atol=tol["atol"] * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ROW_SHAPES)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_kernels_match_reference(cp, gpu, rng, dtype, shape, log):
    x = rng.standard_normal(shape).astype(dtype) * 3
    dy = rng.standard_normal(shape).astype(dtype)
    y = gpu.softmax_forward(cp.asarray(x), log=log)
    _close(y, cpu.softmax_forward(x, log=log), dtype)
    ref_y = y.get()
    expected = cpu.softmax_backward(ref_y, dy, log=log)
    _close(gpu.softmax_backward(y, cp.asarray(dy), log=log), expected, dtype, 5)


def test_softmax_makes_a_non_contiguous_input_contiguous(cp, gpu, rng):
    x = rng.standard_normal((40, 70)).astype(np.float32)
    y = gpu.softmax_forward(cp.asarray(x).T)
    _close(y, cpu.softmax_forward(np.ascontiguousarray(x.T)), np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
def test_row_kernels_take_strided_views(cp, gpu, rng, dtype):
    x = rng.standard_normal((300, 90)).astype(dtype)
    view = cp.asarray(x)[::2, ::3]  # (150, 30), neither rows nor columns contiguous
    expected = np.ascontiguousarray(x[::2, ::3])
    _close(gpu.softmax_forward(view, log=True), cpu.softmax_forward(expected, log=True), dtype)
    _close(gpu.layer_norm_forward(view)[0], cpu.layer_norm_forward(expected)[0], dtype, 2)
    target = rng.integers(0, 30, 150)
    loss, _, _ = gpu.cross_entropy_forward(view, cp.asarray(target)[::1])
    _close(loss, cpu.cross_entropy_forward(expected, target)[0], dtype)


def test_wrappers_refuse_cpu_arrays_and_integer_dtypes(cp, gpu):
    with pytest.raises(TypeError, match="CUDA"):
        gpu.softmax_forward(np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match="float16, float32 or float64"):
        gpu.softmax_forward(cp.zeros((2, 3), cp.int32))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows,classes", [(1, 1), (17, 5), (3, 5000), (300, 40)])
@pytest.mark.parametrize("smoothing,weighted", [(0.0, False), (0.1, True)])
def test_cross_entropy_kernels_match_reference(cp, gpu, rng, dtype, rows, classes, smoothing, weighted):
    x = rng.standard_normal((rows, classes)).astype(dtype)
    target = rng.integers(0, classes, rows)
    target[::4] = -100
    weight = rng.uniform(0.5, 2, classes).astype(dtype) if weighted else None
    loss, row_weight, lse = gpu.cross_entropy_forward(cp.asarray(x), cp.asarray(target), _on(cp, weight),
                                                      -100, smoothing)
    ref_loss, ref_weight, ref_lse = cpu.cross_entropy_forward(x, target, weight, -100, smoothing)
    _close(loss, ref_loss, dtype)
    _close(row_weight, ref_weight, dtype)
    grad_loss = rng.standard_normal(rows).astype(lse.dtype)
    grad = gpu.cross_entropy_backward(cp.asarray(x), cp.asarray(target), lse, cp.asarray(grad_loss),
                                      _on(cp, weight), -100, smoothing)
    _close(grad, cpu.cross_entropy_backward(x, target, ref_lse, grad_loss, weight, -100, smoothing), dtype, 5)


def test_cross_entropy_reports_an_out_of_range_target(cp, gpu):
    with pytest.raises(IndexError, match="out of bounds"):
        gpu.cross_entropy_forward(cp.zeros((2, 3), cp.float32), cp.asarray([0, 3]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (2, 3000), (513, 64)])
@pytest.mark.parametrize("affine", [False, True])
def test_layer_norm_kernels_match_reference(cp, gpu, rng, dtype, shape, affine):
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    w, b = ((rng.standard_normal(shape[-1]).astype(dtype), rng.standard_normal(shape[-1]).astype(dtype))
            if affine else (None, None))
    y, mean, rstd = gpu.layer_norm_forward(_on(cp, x), _on(cp, w), _on(cp, b), 1e-5)
    ry, rmean, rrstd = cpu.layer_norm_forward(x, w, b, 1e-5)
    _close(y, ry, dtype, 2)
    dx, dw, db = gpu.layer_norm_backward(_on(cp, x), _on(cp, dy), mean, rstd, _on(cp, w))
    rdx, rdw, rdb = cpu.layer_norm_backward(x, dy, rmean, rrstd, w)
    _close(dx, rdx, dtype, 10)
    if affine:
        _close(dw, rdw, dtype, 50)
        _close(db, rdb, dtype, 50)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [dict(lr=0.1),
                                     dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                                     dict(lr=0.1, momentum=0.5, dampening=0.3, maximize=True)])
def test_sgd_step_kernel_matches_reference(cp, gpu, rng, dtype, options):
    param, grads = rng.standard_normal(1001).astype(dtype), rng.standard_normal((3, 1001)).astype(dtype)
    p, buf, dp, dbuf = param.copy(), None, cp.asarray(param), None
    for g in grads:
        buf = cpu.sgd_step(p, g, buf, **options)
        dbuf = gpu.sgd_step(dp, cp.asarray(g), dbuf, **options)
    _close(dp, p, dtype, 5)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("decoupled,amsgrad", [(False, False), (True, True)])
def test_adam_step_kernel_matches_reference(cp, gpu, rng, dtype, decoupled, amsgrad):
    param, grads = rng.standard_normal(777).astype(dtype), rng.standard_normal((3, 777)).astype(dtype)
    ref = [param.astype(np.float64)] + [np.zeros(777) for _ in range(3)]
    dev = [cp.asarray(param)] + [cp.zeros(777, dtype) for _ in range(3)]
    for step, g in enumerate(grads, start=1):
        cpu.adam_step(ref[0], g.astype(np.float64), ref[1], ref[2], ref[3], step, 0.01, 0.9, 0.99, 1e-8, 0.1,
                      decoupled, amsgrad)
        gpu.adam_step(dev[0], cp.asarray(g), dev[1], dev[2], dev[3], step, 0.01, 0.9, 0.99, 1e-8, 0.1,
                      decoupled, amsgrad)
    _close(dev[0], ref[0], dtype, 5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel,stride,dilation,groups", [((3, 3), (1, 1), (1, 1), 1),
                                                           ((2, 3), (2, 1), (1, 2), 2)])
def test_im2col_and_col2im_kernels_match_reference(cp, gpu, rng, dtype, kernel, stride, dilation, groups):
    x = rng.standard_normal((2, 4, 9, 8)).astype(dtype)
    cols = gpu.im2col(cp.asarray(x), kernel, stride, dilation, groups)
    _close(cols, cpu.im2col(x, kernel, stride, dilation, groups), dtype)
    n, c = x.shape[:2]
    oh, ow = ((size - d * (k - 1) - 1) // s + 1 for size, k, s, d in zip((9, 8), kernel, stride, dilation))
    g = rng.standard_normal((c, *kernel, n, oh, ow)).astype(dtype)
    six = g.transpose(3, 0, 1, 2, 4, 5)  # (N, C, kh, kw, OH, OW), strided as a GEMM leaves it
    _close(gpu.col2im(cp.asarray(g).transpose(3, 0, 1, 2, 4, 5), x.shape, stride, dilation),
           cpu.col2im(six.astype(np.float64), x.shape, stride, dilation), dtype, 5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel,stride,padding,dilation,out", [((2, 2), (2, 2), (0, 0), (1, 1), None),
                                                                ((3, 3), (1, 1), (1, 1), (1, 1), None),
                                                                ((3, 2), (2, 1), (1, 0), (2, 1), None),
                                                                ((3, 3), (2, 2), (0, 0), (1, 1), (6, 5))])
def test_maxpool_kernels_match_reference(cp, gpu, rng, dtype, kernel, stride, padding, dilation, out):
    """The last case is ceil_mode's extra window, running past the input's edge."""
    x = rng.standard_normal((2, 3, 12, 10)).astype(dtype)
    view = cp.asarray(np.ascontiguousarray(x[..., ::-1]))[..., ::-1]  # a negative-stride view of x
    y, index = gpu.maxpool2d_forward(view, kernel, stride, padding, dilation, out)
    ry, rindex = cpu.maxpool2d_forward(x, kernel, stride, padding, dilation, out)
    _close(y, ry, dtype)
    np.testing.assert_array_equal(index.get(), rindex)
    dy = rng.standard_normal(ry.shape).astype(dtype)
    expected = cpu.maxpool2d_backward(dy, rindex, x.shape)
    _close(gpu.maxpool2d_backward(cp.asarray(dy), index, x.shape), expected, dtype, 5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 5, 4099])
def test_dropout_kernel_draws_exactly_the_reference_mask(cp, gpu, rng, dtype, n):
    x = rng.standard_normal(n).astype(dtype)
    y, mask = gpu.dropout_forward(cp.asarray(x), 0.3, seed=1234, offset=7)
    keep = cpu.dropout_mask(n, 0.3, seed=1234, offset=7)
    np.testing.assert_array_equal(mask.get().astype(bool), keep)
    _close(y, np.where(keep, x.astype(np.float64) / 0.7, 0), dtype)
    dy = rng.standard_normal(n).astype(dtype)
    expected = np.where(keep, dy.astype(np.float64) / 0.7, 0)
    _close(gpu.dropout_backward(cp.asarray(dy), mask, 0.3), expected, dtype)


def test_dropout_is_reproducible_under_manual_seed(cp, gpu):
    import nbframe as nf

    x = cp.ones(1000, cp.float32)
    nf.cuda.manual_seed(5)
    first = [gpu.dropout_forward(x, 0.5)[1].get() for _ in range(2)]
    nf.cuda.manual_seed(5)
    again = [gpu.dropout_forward(x, 0.5)[1].get() for _ in range(2)]
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert (first[0] != first[1]).any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_backward_kernel_matches_reference(cp, gpu, rng, dtype):
    idx = rng.integers(0, 50, (30, 7))
    dy = rng.standard_normal((30, 7, 33)).astype(dtype)
    got = gpu.embedding_backward(cp.asarray(idx.astype(np.int32)), cp.asarray(dy), 50, padding_idx=3)
    _close(got, cpu.embedding_backward(idx, dy.astype(np.float64), 50, padding_idx=3), dtype, 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_elementwise_evaluates_a_generated_expression_with_broadcasting(cp, gpu, rng, dtype):
    a, b = rng.standard_normal((300, 7)).astype(dtype), rng.standard_normal(7).astype(dtype)
    got = gpu.fused_elementwise("a0 * ((A)1 / ((A)1 + exp(-a1)))", cp.asarray(a), cp.asarray(b))
    _close(got, a.astype(np.float64) / (1 + np.exp(-b.astype(np.float64))), dtype, 2)


def test_device_model_moves_tensors_and_tracks_memory(cp):
    import nbframe as nf

    assert nf.cuda.is_available() and nf.cuda.device_count() >= 1
    nf.cuda.set_device(0)
    assert nf.cuda.current_device() == 0
    before = nf.cuda.memory_allocated()
    t = nf.ones(1 << 20, device="cuda")
    assert t.device == nf.device("cuda", 0)
    assert nf.cuda.memory_allocated() >= before + (4 << 20)
    assert nf.cuda.max_memory_allocated() >= nf.cuda.memory_allocated()
    back = (t * 2).cpu()
    assert back.device == nf.device("cpu") and float(back.numpy()[0]) == 2.0
    del t
    nf.cuda.synchronize()
    nf.cuda.empty_cache()
    with pytest.raises(RuntimeError, match="out of range"):
        nf.cuda.set_device(nf.cuda.device_count())
