"""Property tests (hypothesis): broadcasting, reductions and sum-to-shape gradients against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nbframe as nf

FAST = settings(max_examples=40, deadline=None)

BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "maximum": np.maximum,
    "minimum": np.minimum, "atan2": np.arctan2, "lt": np.less, "eq": np.equal,
}


def _arrays(shape, seed: int):
    rng = np.random.default_rng(seed)
    # Away from zero so that division is well conditioned.
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _sum_to(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """NumPy reference for un-broadcasting a gradient."""
    lead = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


@FAST
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_binary_ops_broadcast_like_numpy(shapes, op, seed):
    (sa, sb), result_shape = shapes.input_shapes, shapes.result_shape
    a, b = _arrays(sa, seed), _arrays(sb, seed + 1)
    got = getattr(nf, op)(nf.tensor(a), nf.tensor(b))
    want = BINARY[op](a, b)
    assert tuple(got.shape) == result_shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


@FAST
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       op=st.sampled_from(["add", "sub", "mul", "div", "maximum", "atan2"]), seed=st.integers(0, 2**16))
def test_binary_op_gradients_sum_back_to_each_input_shape(shapes, op, seed):
    (sa, sb), result_shape = shapes.input_shapes, shapes.result_shape
    a = nf.tensor(_arrays(sa, seed), requires_grad=True)
    b = nf.tensor(_arrays(sb, seed + 1), requires_grad=True)
    upstream = _arrays(result_shape, seed + 2)
    getattr(nf, op)(a, b).backward(nf.tensor(upstream))
    assert tuple(a.grad.shape) == sa and tuple(b.grad.shape) == sb
    if op in ("add", "sub"):
        np.testing.assert_allclose(a.grad.numpy(), _sum_to(upstream, sa), rtol=1e-12)
        sign = 1.0 if op == "add" else -1.0
        np.testing.assert_allclose(b.grad.numpy(), sign * _sum_to(upstream, sb), rtol=1e-12)
    if op == "mul":
        a_full, b_full = np.broadcast_to(a.numpy(force=True), result_shape), np.broadcast_to(
            b.numpy(force=True), result_shape)
        np.testing.assert_allclose(a.grad.numpy(), _sum_to(upstream * b_full, sa), rtol=1e-12)
        np.testing.assert_allclose(b.grad.numpy(), _sum_to(upstream * a_full, sb), rtol=1e-12)


@FAST
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_expand_then_sum_to_gradient_counts_copies(shape, data):
    """Broadcasting x against a larger shape: each element's gradient is how many times it was used."""
    bigger = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=1, base_shape=shape, max_side=3))
    target = np.broadcast_shapes(shape, bigger.result_shape)
    x = nf.tensor(np.ones(shape), requires_grad=True)
    (x + nf.zeros(*target, dtype=nf.float64)).sum().backward()
    copies = int(np.prod(target)) // int(np.prod(shape))
    np.testing.assert_array_equal(x.grad.numpy(), np.full(shape, float(copies)))


def _dims(ndim):
    return st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1),
        st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
    )


REDUCTIONS = {
    "sum": lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
    "mean": lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
    "amax": lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
    "amin": lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),
    "var": lambda x, axis, keepdims: np.var(x, axis=axis, keepdims=keepdims, ddof=1),
    "logsumexp": lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)),
    "norm": lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims)),
}


@FAST
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=2, max_side=4), data=st.data(),
       op=st.sampled_from(sorted(REDUCTIONS)), keepdim=st.booleans(), seed=st.integers(0, 2**16))
def test_reductions_over_random_dims_match_numpy(shape, data, op, keepdim, seed):
    dim = data.draw(_dims(len(shape)))
    x = _arrays(shape, seed)
    axis = tuple(d % len(shape) for d in dim) if isinstance(dim, tuple) else dim
    want = REDUCTIONS[op](x, axis, keepdim)
    t = nf.tensor(x)
    if op in ("amax", "amin"):
        got = getattr(nf, op)(t, () if dim is None else dim, keepdim)
    elif op == "norm":
        got = nf.norm(t, dim=dim, keepdim=keepdim)
    else:
        got = getattr(nf, op)(t, dim, keepdim=keepdim)
    assert tuple(got.shape) == np.shape(want)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)


@FAST
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=2, max_side=4), data=st.data(),
       op=st.sampled_from(["sum", "mean", "amax", "var", "logsumexp"]), keepdim=st.booleans(),
       seed=st.integers(0, 2**16))
def test_reduction_gradients_over_random_dims_match_torch(shape, data, op, keepdim, seed):
    torch = pytest.importorskip("torch")
    dim = data.draw(_dims(len(shape)))
    x = _arrays(shape, seed)
    results = []
    for m in (nf, torch):
        t = m.tensor(x, requires_grad=True)
        if dim is None:
            out = getattr(m, op)(t, dim=tuple(range(len(shape)))) if op == "logsumexp" else getattr(t, op)()
        else:
            out = getattr(m, op)(t, dim, keepdim=keepdim)
        out.backward(m.tensor(_arrays(tuple(out.shape), seed + 1)))
        results.append(t.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-9, atol=1e-12)


@FAST
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data(), seed=st.integers(0, 2**16))
def test_max_with_dim_indices_point_at_the_values(shape, data, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    x = _arrays(shape, seed)
    values, indices = nf.tensor(x).max(dim, keepdim=keepdim)
    np.testing.assert_array_equal(values.numpy(), np.max(x, axis=dim, keepdims=keepdim))
    picked = np.take_along_axis(x, indices.numpy() if keepdim else np.expand_dims(indices.numpy(), dim), dim)
    np.testing.assert_array_equal(picked.squeeze(dim) if not keepdim else picked, values.numpy())
