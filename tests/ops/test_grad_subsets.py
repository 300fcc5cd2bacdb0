"""Every op with several inputs, differentiated with respect to each non-empty subset of them.

An op's backward must not depend on every input needing a gradient: forward often saves only
what the other inputs' gradients need (``Div`` kept the divisor only when ``a`` needed one, and
``x.div(2.0, rounding_mode='floor')`` crashed in backward). Each case below runs in float64
(some with a float32 input beside, where PyTorch promotes):

- with every non-empty subset of its float inputs requiring grad (the rest plain tensors; for
  more than 4 inputs, each alone, each left out, and all), and, where PyTorch takes one, a
  Python or NumPy number in place of a tensor;
- through both engines: plain ``loss.backward()`` (the array engine) and ``nf.autograd.grad``
  (the Tensor engine, with and without ``create_graph``), which must agree bit for bit;
- against PyTorch: the outputs and every gradient (or PyTorch's error, word for word), and the
  gradients of the gradients (``create_graph``: a saved operand must stay in the graph).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import nbframe as nf
import nbframe.nn.functional as nff

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings(r"ignore:index_reduce\(\) is in beta")
tf = torch.nn.functional

_RNG = np.random.default_rng(0)


class G:
    """A float input: a tensor that requires grad in some subsets, a plain one in the others."""

    def __init__(self, array, dtype: str = "float64"):
        self.array = np.asarray(array, dtype=dtype)


class C:
    """A constant input (indices, a mask, an integer tensor): a tensor that never requires grad."""

    def __init__(self, array):
        self.array = np.asarray(array)


def g(*shape, low=None, high=None) -> G:
    """A float input of random values: normal, or uniform in [low, high)."""
    if low is None:
        return G(_RNG.standard_normal(shape))
    return G(_RNG.uniform(low, high, shape))


def g32(*shape) -> G:
    """A float32 input, for ops that mix it with float64 ones (each gradient keeps its input's dtype)."""
    return G(_RNG.standard_normal(shape), "float32")


def idx(*values) -> C:
    return C(np.array(values, dtype=np.int64))


def F(m):
    """The functional module of ``m``: ``nbframe.nn.functional`` or ``torch.nn.functional``."""
    return nff if m is nf else tf


def _linalg_solve_right(m, a, b):
    return m.linalg.solve(a, b, left=False)


# (name, fn(m, *inputs), inputs): G inputs are differentiated in every subset, C and numbers never.
CASES = [
    # --- arithmetic, with broadcasting, numbers on either side, integer tensors
    ("add", lambda m, a, b: m.add(a, b), [g(2, 3), g(3)]),
    ("add_alpha", lambda m, a, b: m.add(a, b, alpha=-2.5), [g(2, 3), g(2, 1)]),
    ("add_number", lambda m, a: a + 2.0, [g(2, 3)]),
    ("radd_number", lambda m, a: 2.0 + a, [g(2, 3)]),
    ("add_int_tensor", lambda m, a, b: a + b, [g(2, 3), C([[1, 2, 3], [4, 5, 6]])]),
    ("add_number_alpha", lambda m, a: m.add(a, 2.0, alpha=3), [g(2, 3)]),
    ("sub", lambda m, a, b: m.sub(a, b), [g(2, 3), g(3)]),
    ("sub_alpha", lambda m, a, b: m.sub(a, b, alpha=0.5), [g(3), g(2, 3)]),
    ("sub_number", lambda m, a: a - 2.0, [g(2, 3)]),
    ("rsub_number", lambda m, a: 2.0 - a, [g(2, 3)]),
    ("mul", lambda m, a, b: m.mul(a, b), [g(2, 3), g(3)]),
    ("mul_number", lambda m, a: a * 3.0, [g(2, 3)]),
    ("rmul_number", lambda m, a: 3 * a, [g(2, 3)]),
    ("mul_int_tensor", lambda m, a, b: a * b, [g(2, 3), C([1, -2, 3])]),
    ("rmul_int_tensor", lambda m, a, b: b * a, [g(2, 3), C([1, -2, 3])]),
    ("mul_bool_tensor", lambda m, a, b: a * b, [g(2, 3), C([True, False, True])]),
    ("mul_scalar_tensor", lambda m, a, b: a * b, [g(2, 3), g()]),
    ("div", lambda m, a, b: m.div(a, b), [g(2, 3), g(3, low=0.5, high=2)]),
    ("div_number", lambda m, a: a / 4.0, [g(2, 3)]),
    ("rdiv_number", lambda m, a: 2.0 / a, [g(2, 3, low=0.5, high=2)]),
    ("div_int_tensor", lambda m, a, b: a / b, [g(2, 3), C([1, -2, 3])]),
    ("rdiv_int_tensor", lambda m, a, b: b / a, [g(2, 3, low=0.5, high=2), C([1, -2, 3])]),
    ("div_floor", lambda m, a, b: m.div(a, b, rounding_mode="floor"), [g(2, 3), g(3, low=0.5, high=2)]),
    ("div_trunc", lambda m, a, b: m.div(a, b, rounding_mode="trunc"), [g(2, 3), g(3, low=0.5, high=2)]),
    ("div_floor_number", lambda m, a: a.div(2.0, rounding_mode="floor"), [g(2, 3)]),
    ("div_trunc_number", lambda m, a: m.div(a, 2.0, rounding_mode="trunc"), [g(2, 3)]),
    ("rfloordiv_number", lambda m, a: 2.0 // a, [g(2, 3, low=0.5, high=2)]),
    ("floordiv_number", lambda m, a: a // 0.7, [g(2, 3)]),
    ("remainder", lambda m, a, b: m.remainder(a, b), [g(2, 3), g(3, low=0.5, high=2)]),
    ("remainder_number", lambda m, a: a % 0.7, [g(2, 3)]),
    ("rremainder_number", lambda m, a: 2.0 % a, [g(2, 3, low=0.5, high=2)]),
    ("fmod", lambda m, a, b: m.fmod(a, b), [g(2, 3), g(3, low=0.5, high=2)]),
    ("fmod_number", lambda m, a: m.fmod(a, 0.7), [g(2, 3)]),
    ("pow", lambda m, a, b: m.pow(a, b), [g(2, 3, low=0.5, high=2), g(3)]),
    ("pow_number", lambda m, a: a**2.5, [g(2, 3, low=0.5, high=2)]),
    ("pow_int_number", lambda m, a: a**3, [g(2, 3)]),
    ("rpow_number", lambda m, a: 2.0**a, [g(2, 3)]),
    ("pow_scalar_base", lambda m, a: m.pow(1.5, a), [g(2, 3)]),
    ("pow_int_tensor", lambda m, a, b: a**b, [g(2, 3), C([0, 1, 2])]),
    ("pow_scalar_tensor_exponent", lambda m, a, b: a**b, [g(2, 3, low=0.5, high=2), g()]),
    ("atan2", lambda m, a, b: m.atan2(a, b), [g(2, 3), g(3)]),
    ("copysign", lambda m, a, b: m.copysign(a, b), [g(2, 3), g(3)]),
    ("copysign_number", lambda m, a: m.copysign(a, -1.0), [g(2, 3)]),
    ("maximum", lambda m, a, b: m.maximum(a, b), [g(2, 3), g(3)]),
    ("minimum", lambda m, a, b: m.minimum(a, b), [g(2, 3), g(3)]),
    ("fmax", lambda m, a, b: m.fmax(a, b), [g(2, 3), g(3)]),
    ("fmin", lambda m, a, b: m.fmin(a, b), [g(2, 3), g(3)]),
    ("maximum_ties", lambda m, a, b: m.maximum(a, b), [G([1.0, 2.0, 3.0]), G([1.0, 0.0, 3.0])]),
    ("lerp", lambda m, a, b, w: m.lerp(a, b, w), [g(2, 3), g(3), g(2, 3)]),
    ("lerp_number", lambda m, a, b: m.lerp(a, b, 0.3), [g(2, 3), g(3)]),
    ("addcmul", lambda m, a, b, c: m.addcmul(a, b, c, value=0.5), [g(2, 3), g(3), g(2, 1)]),
    ("addcdiv", lambda m, a, b, c: m.addcdiv(a, b, c, value=-2), [g(2, 3), g(3), g(2, 1, low=0.5, high=2)]),
    ("addcmul_default", lambda m, a, b, c: m.addcmul(a, b, c), [g(3), g(2, 3), g(2, 3)]),
    # --- selection and clamping
    ("where", lambda m, c, a, b: m.where(c, a, b), [C([True, False, True]), g(2, 3), g(3)]),
    ("where_number_other", lambda m, c, a: m.where(c, a, 0.5), [C([True, False, True]), g(2, 3)]),
    ("where_number_input", lambda m, c, b: m.where(c, -1.0, b), [C([True, False, True]), g(2, 3)]),
    ("tensor_where", lambda m, c, a, b: a.where(c, b), [C([True, False, True]), g(2, 3), g(3)]),
    ("clamp_tensors", lambda m, x, lo, hi: m.clamp(x, lo, hi),
     [g(2, 3), g(3, low=-1, high=0), g(3, low=0, high=1)]),
    ("clamp_tensor_min", lambda m, x, lo: m.clamp(x, min=lo), [g(2, 3), g(3)]),
    ("clamp_tensor_max", lambda m, x, hi: m.clamp(x, max=hi), [g(2, 3), g(2, 1)]),
    ("clamp_min_tensor", lambda m, x, lo: m.clamp_min(x, lo), [g(2, 3), g(3)]),
    ("clamp_max_tensor", lambda m, x, hi: m.clamp_max(x, hi), [g(2, 3), g(3)]),
    ("clamp_numbers", lambda m, x: m.clamp(x, -0.5, 0.5), [g(2, 3)]),
    ("clip_number_min", lambda m, x: m.clip(x, min=0.1), [g(2, 3)]),
    # --- matrix products
    ("matmul", lambda m, a, b: m.matmul(a, b), [g(2, 3), g(3, 4)]),
    ("matmul_vector_matrix", lambda m, a, b: a @ b, [g(3), g(3, 4)]),
    ("matmul_matrix_vector", lambda m, a, b: a @ b, [g(2, 3), g(3)]),
    ("matmul_vectors", lambda m, a, b: a @ b, [g(3), g(3)]),
    ("matmul_broadcast", lambda m, a, b: a @ b, [g(2, 2, 3), g(3, 4)]),
    ("matmul_broadcast_batch", lambda m, a, b: a @ b, [g(1, 2, 3), g(2, 1, 3, 2)]),
    ("mm", lambda m, a, b: m.mm(a, b), [g(2, 3), g(3, 4)]),
    ("bmm", lambda m, a, b: m.bmm(a, b), [g(2, 2, 3), g(2, 3, 2)]),
    ("mv", lambda m, a, b: m.mv(a, b), [g(2, 3), g(3)]),
    ("dot", lambda m, a, b: m.dot(a, b), [g(3), g(3)]),
    ("vdot", lambda m, a, b: m.vdot(a, b), [g(3), g(3)]),
    ("inner", lambda m, a, b: m.inner(a, b), [g(2, 3), g(4, 3)]),
    ("outer", lambda m, a, b: m.outer(a, b), [g(3), g(2)]),
    ("ger", lambda m, a, b: m.ger(a, b), [g(3), g(2)]),
    ("einsum", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [g(2, 3), g(3, 4)]),
    ("einsum_three", lambda m, a, b, c: m.einsum("i,ij,j->", a, b, c), [g(2), g(2, 3), g(3)]),
    ("einsum_diagonal", lambda m, a, b: m.einsum("ii,i->i", a, b), [g(3, 3), g(3)]),
    ("tensordot", lambda m, a, b: m.tensordot(a, b, dims=1), [g(2, 3), g(3, 2)]),
    ("addmm", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2), [g(2, 4), g(2, 3), g(3, 4)]),
    ("addmm_broadcast", lambda m, c, a, b: m.addmm(c, a, b), [g(4), g(2, 3), g(3, 4)]),
    ("addmv", lambda m, c, a, b: m.addmv(c, a, b, beta=2), [g(2), g(2, 3), g(3)]),
    ("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b, alpha=0.5), [g(2, 2, 2), g(2, 2, 3), g(2, 3, 2)]),
    ("addbmm", lambda m, c, a, b: m.addbmm(c, a, b), [g(2, 2), g(2, 2, 3), g(2, 3, 2)]),
    ("linear", lambda m, x, w: F(m).linear(x, w), [g(2, 3), g(4, 3)]),
    ("linear_bias", lambda m, x, w, b: F(m).linear(x, w, b), [g(2, 3), g(4, 3), g(4)]),
    ("linear_batched", lambda m, x, w, b: F(m).linear(x, w, b), [g(2, 2, 3), g(4, 3), g(4)]),
    ("linear_vector", lambda m, x, w, b: F(m).linear(x, w, b), [g(3), g(4, 3), g(4)]),
    ("bilinear", lambda m, a, b, w: F(m).bilinear(a, b, w), [g(2, 3), g(2, 2), g(4, 3, 2)]),
    ("bilinear_bias", lambda m, a, b, w, c: F(m).bilinear(a, b, w, c), [g(2, 3), g(2, 2), g(4, 3, 2), g(4)]),
    ("solve", lambda m, a, b: m.linalg.solve(a, b),
     [G(np.eye(3) * 3 + _RNG.standard_normal((3, 3))), g(3, 2)]),
    ("solve_vector", lambda m, a, b: m.linalg.solve(a, b),
     [G(np.eye(3) * 3 + _RNG.standard_normal((3, 3))), g(3)]),
    ("solve_right", _linalg_solve_right, [G(np.eye(3) * 3 + _RNG.standard_normal((3, 3))), g(2, 3)]),
    # --- joining
    ("cat", lambda m, a, b: m.cat([a, b], dim=1), [g(2, 3), g(2, 1)]),
    ("cat_three", lambda m, a, b, c: m.cat([a, b, c]), [g(1, 2), g(2, 2), g(1, 2)]),
    ("stack", lambda m, a, b: m.stack([a, b], dim=1), [g(2, 3), g(2, 3)]),
    ("hstack", lambda m, a, b: m.hstack([a, b]), [g(2, 3), g(2, 1)]),
    ("vstack", lambda m, a, b: m.vstack([a, b]), [g(3), g(2, 3)]),
    ("meshgrid", lambda m, a, b: m.meshgrid(a, b, indexing="ij"), [g(2), g(3)]),
    ("meshgrid_xy", lambda m, a, b: m.meshgrid(a, b, indexing="xy"), [g(2), g(3)]),
    ("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), [g(2), g(3)]),
    ("expand_as", lambda m, a, b: a.expand_as(b) * b, [g(3), g(2, 3)]),
    ("reshape_as", lambda m, a, b: a.reshape_as(b) + b, [g(6), g(2, 3)]),
    ("view_as", lambda m, a, b: a.view_as(b), [g(6), g(2, 3)]),
    ("repeat_interleave_tensor", lambda m, a, r: m.repeat_interleave(a, r, dim=0), [g(3, 2), idx(2, 0, 1)]),
    # --- gathering and scattering
    ("gather", lambda m, x, i: m.gather(x, 1, i), [g(2, 3), C([[0, 2], [1, 1]])]),
    ("scatter", lambda m, x, i, s: m.scatter(x, 1, i, s), [g(2, 3), C([[0, 2], [1, 0]]), g(2, 2)]),
    ("scatter_value", lambda m, x, i: m.scatter(x, 1, i, 2.5), [g(2, 3), C([[0, 2], [1, 0]])]),
    ("scatter_add", lambda m, x, i, s: m.scatter_add(x, 0, i, s), [g(2, 3), C([[0, 1, 0],
     [0, 0, 1]]), g(2, 3)]),
    ("scatter_reduce_sum", lambda m, x, i, s: m.scatter_reduce(x, 1, i, s, "sum"),
     [g(2, 3), C([[0, 0], [2, 1]]), g(2, 2)]),
    ("scatter_reduce_mean", lambda m, x, i, s: m.scatter_reduce(x, 1, i, s, "mean", include_self=False),
     [g(2, 3), C([[0, 0], [2, 1]]), g(2, 2)]),
    ("scatter_reduce_prod", lambda m, x, i, s: m.scatter_reduce(x, 1, i, s, "prod"),
     [g(2, 3), C([[0, 0], [2, 1]]), g(2, 2)]),
    ("scatter_reduce_amax", lambda m, x, i, s: m.scatter_reduce(x, 1, i, s, "amax"),
     [g(2, 3), C([[0, 0], [2, 1]]), g(2, 2)]),
    ("scatter_reduce_amin_excluding_self", lambda m, x, i, s: m.scatter_reduce(x, 1, i, s, "amin",
                                                                               include_self=False),
     [g(2, 3), C([[0, 0], [2, 1]]), g(2, 2)]),
    ("index_select", lambda m, x, i: m.index_select(x, 1, i), [g(2, 3), idx(2, 0, 2)]),
    ("index_add", lambda m, x, i, s: m.index_add(x, 0, i, s, alpha=2), [g(3, 2), idx(2, 0, 2), g(3, 2)]),
    ("index_copy", lambda m, x, i, s: m.index_copy(x, 0, i, s), [g(3, 2), idx(2, 0), g(2, 2)]),
    ("index_reduce_prod", lambda m, x, i, s: m.index_reduce(x, 0, i, s, "prod"),
     [g(3, 2), idx(2, 0, 2), g(3, 2)]),
    ("index_reduce_amax", lambda m, x, i, s: m.index_reduce(x, 0, i, s, "amax", include_self=False),
     [g(3, 2), idx(2, 0, 2), g(3, 2)]),
    ("index_fill_number", lambda m, x, i: m.index_fill(x, 1, i, -1.0), [g(2, 3), idx(0, 2)]),
    ("index_fill_tensor", lambda m, x, i, v: m.index_fill(x, 1, i, v), [g(2, 3), idx(0, 2), g()]),
    ("masked_fill_number", lambda m, x, k: m.masked_fill(x, k, 0.5), [g(2, 3), C([True, False, True])]),
    ("masked_fill_tensor", lambda m, x, k, v: m.masked_fill(x, k, v), [g(2, 3), C([True, False, True]), g()]),
    ("index_put", lambda m, x, i, v: m.index_put(x, (i,), v), [g(3, 2), idx(2, 0), g(2, 2)]),
    ("index_put_broadcast", lambda m, x, i, v: m.index_put(x, (i,), v), [g(3, 2), idx(2, 0), g(2)]),
    ("index_put_accumulate", lambda m, x, i, v: m.index_put(x, (i,), v, accumulate=True),
     [g(3, 2), idx(2, 0, 2), g(3, 2)]),
    ("take_along_dim", lambda m, x, i: m.take_along_dim(x, i, dim=1), [g(2, 3), C([[0, 2], [1, 1]])]),
    ("take_along_dim_flat", lambda m, x, i: m.take_along_dim(x, i), [g(2, 3), idx(5, 0, 5)]),
    ("take", lambda m, x, i: m.take(x, i), [g(2, 3), idx(5, 0, 5)]),
    ("setitem", lambda m, x, v: _setitem(x, v), [g(3, 2), g(2)]),
    ("setitem_slice", lambda m, x, v: _setitem_slice(x, v), [g(3, 2), g(2, 2)]),
    # --- losses: input, target (a float target may need a gradient too) and weights
    ("mse_loss", lambda m, x, t: F(m).mse_loss(x, t), [g(2, 3), g(2, 3)]),
    ("mse_loss_sum", lambda m, x, t: F(m).mse_loss(x, t, reduction="sum"), [g(2, 3), g(2, 3)]),
    ("mse_loss_none", lambda m, x, t: F(m).mse_loss(x, t, reduction="none"), [g(2, 3), g(2, 3)]),
    ("l1_loss", lambda m, x, t: F(m).l1_loss(x, t), [g(2, 3), g(2, 3)]),
    ("smooth_l1_loss", lambda m, x, t: F(m).smooth_l1_loss(x, t, beta=0.5), [g(2, 3), g(2, 3)]),
    ("huber_loss", lambda m, x, t: F(m).huber_loss(x, t, delta=0.5), [g(2, 3), g(2, 3)]),
    ("huber_loss_none", lambda m, x, t: F(m).huber_loss(x, t, reduction="none"), [g(2, 3), g(2, 3)]),
    ("binary_cross_entropy", lambda m, p, t: F(m).binary_cross_entropy(p, t),
     [g(2, 3, low=0.1, high=0.9), g(2, 3, low=0, high=1)]),
    ("binary_cross_entropy_weight", lambda m, p, t, w: F(m).binary_cross_entropy(p, t, weight=w),
     [g(2, 3, low=0.1, high=0.9), g(2, 3, low=0, high=1), C(_RNG.uniform(0.5, 2, 3))]),
    ("binary_cross_entropy_with_logits", lambda m, x, t: F(m).binary_cross_entropy_with_logits(x, t),
     [g(2, 3), g(2, 3, low=0, high=1)]),
    ("binary_cross_entropy_with_logits_weights",
     lambda m, x, t, w, pw: F(m).binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw),
     [g(2, 3), g(2, 3, low=0, high=1), C(_RNG.uniform(0.5, 2, 3)), C(_RNG.uniform(0.5, 2, 3))]),
    ("kl_div", lambda m, x, t: F(m).kl_div(x, t, reduction="batchmean"),
     [g(2, 3), g(2, 3, low=0.1, high=1)]),
    ("kl_div_log_target", lambda m, x, t: F(m).kl_div(x, t, reduction="sum", log_target=True),
     [g(2, 3), g(2, 3)]),
    ("cross_entropy", lambda m, x, t: F(m).cross_entropy(x, t), [g(3, 4), idx(0, 3, 1)]),
    ("cross_entropy_weight", lambda m, x, t, w: F(m).cross_entropy(x, t, weight=w),
     [g(3, 4), idx(0, 3, 1), C(_RNG.uniform(0.5, 2, 4))]),
    ("cross_entropy_weight_smoothing",
     lambda m, x, t, w: F(m).cross_entropy(x, t, weight=w, label_smoothing=0.2),
     [g(3, 4), idx(0, 3, 1), C(_RNG.uniform(0.5, 2, 4))]),
    ("cross_entropy_probabilities", lambda m, x, t: F(m).cross_entropy(x, t),
     [g(3, 4), g(3, 4, low=0, high=1)]),
    ("cross_entropy_probabilities_weight", lambda m, x, t, w: F(m).cross_entropy(x, t, weight=w),
     [g(3, 4), g(3, 4, low=0, high=1), C(_RNG.uniform(0.5, 2, 4))]),
    ("cross_entropy_spatial", lambda m, x, t: F(m).cross_entropy(x, t, reduction="sum"),
     [g(2, 3, 2), C([[0, 2], [1, 1]])]),
    ("nll_loss_weight", lambda m, x, t, w: F(m).nll_loss(x, t, weight=w, ignore_index=1),
     [g(3, 4), idx(0, 3, 1), C(_RNG.uniform(0.5, 2, 4))]),
    # --- convolution
    ("conv2d", lambda m, x, w: F(m).conv2d(x, w), [g(1, 2, 4, 4), g(3, 2, 2, 2)]),
    ("conv2d_bias", lambda m, x, w, b: F(m).conv2d(x, w, b, stride=2, padding=1),
     [g(1, 2, 4, 4), g(3, 2, 2, 2), g(3)]),
    ("conv2d_groups", lambda m, x, w, b: F(m).conv2d(x, w, b, groups=2),
     [g(2, 2, 3, 3), g(4, 1, 2, 2), g(4)]),
    ("conv1d_bias", lambda m, x, w, b: F(m).conv1d(x, w, b, padding=1), [g(2, 2, 5), g(3, 2, 3), g(3)]),
    ("conv_transpose2d", lambda m, x, w: F(m).conv_transpose2d(x, w, stride=2),
     [g(1, 2, 3, 3), g(2, 3, 2, 2)]),
    ("conv_transpose2d_bias", lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, padding=1),
     [g(1, 2, 3, 3), g(2, 3, 3, 3), g(3)]),
    ("conv_transpose1d_bias", lambda m, x, w, b: F(m).conv_transpose1d(x, w, b, stride=2),
     [g(2, 2, 3), g(2, 3, 2), g(3)]),
    # --- normalisation, embedding, similarity, attention
    ("layer_norm_affine", lambda m, x, w, b: F(m).layer_norm(x, (3,), w, b), [g(2, 3), g(3), g(3)]),
    ("layer_norm_weight", lambda m, x, w: F(m).layer_norm(x, (3,), w), [g(2, 3), g(3)]),
    ("layer_norm_bias", lambda m, x, b: F(m).layer_norm(x, (3,), None, b), [g(2, 3), g(3)]),
    ("group_norm_affine", lambda m, x, w, b: F(m).group_norm(x, 2, w, b), [g(2, 4, 3), g(4), g(4)]),
    ("group_norm_weight", lambda m, x, w: F(m).group_norm(x, 2, w), [g(2, 4, 3), g(4)]),
    ("batch_norm_training", lambda m, x, rm, rv, w, b: F(m).batch_norm(x, rm, rv, w, b, training=True),
     [g(3, 2), C(np.zeros(2)), C(np.ones(2)), g(2), g(2)]),
    ("batch_norm_training_no_stats", lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, training=True),
     [g(3, 2, 2), g(2), g(2)]),
    ("batch_norm_eval", lambda m, x, rm, rv, w, b: F(m).batch_norm(x, rm, rv, w, b),
     [g(3, 2), C(_RNG.standard_normal(2)), C(_RNG.uniform(0.5, 2, 2)), g(2), g(2)]),
    ("embedding", lambda m, i, w: F(m).embedding(i, w), [C([[0, 2], [2, 1]]), g(3, 2)]),
    ("embedding_padding", lambda m, i, w: F(m).embedding(i, w, padding_idx=2), [C([[0, 2],
     [2, 1]]), g(3, 2)]),
    ("cosine_similarity", lambda m, a, b: F(m).cosine_similarity(a, b), [g(2, 3), g(2, 3)]),
    ("cosine_similarity_broadcast", lambda m, a, b: F(m).cosine_similarity(a, b, dim=-1), [g(2, 3), g(3)]),
    ("pairwise_distance", lambda m, a, b: F(m).pairwise_distance(a, b), [g(2, 3), g(2, 3)]),
    ("pairwise_distance_p1", lambda m, a, b: F(m).pairwise_distance(a, b, p=1.0, keepdim=True),
     [g(2, 3), g(2, 3)]),
    ("scaled_dot_product_attention", lambda m, q, k, v: F(m).scaled_dot_product_attention(q, k, v),
     [g(1, 2, 3), g(1, 4, 3), g(1, 4, 2)]),
    ("scaled_dot_product_attention_float_mask",
     lambda m, q, k, v, a: F(m).scaled_dot_product_attention(q, k, v, attn_mask=a),
     [g(1, 2, 3), g(1, 4, 3), g(1, 4, 2), g(2, 4)]),
]


# More shapes and operand kinds: outer broadcasting, Python ints, other dtypes, 0-d tensors, weights that
# need a gradient, Tensor methods and in-place methods on a tensor that needs none while an operand does.
CASES += [
    ("add_outer_broadcast", lambda m, a, b: a + b, [g(2, 1), g(1, 3)]),
    ("mul_outer_broadcast", lambda m, a, b: a * b, [g(2, 1), g(1, 3)]),
    ("div_outer_broadcast", lambda m, a, b: a / b, [g(2, 1), g(1, 3, low=0.5, high=2)]),
    ("pow_outer_broadcast", lambda m, a, b: a**b, [g(2, 1, low=0.5, high=2), g(1, 3)]),
    ("atan2_outer_broadcast", lambda m, a, b: m.atan2(a, b), [g(2, 1), g(1, 3)]),
    ("maximum_outer_broadcast", lambda m, a, b: m.maximum(a, b), [g(2, 1), g(1, 3)]),
    ("where_outer_broadcast", lambda m, c, a, b: m.where(c, a, b), [C([[True], [False]]), g(1, 3), g(2, 1)]),
    ("lerp_outer_broadcast", lambda m, a, b, w: m.lerp(a, b, w), [g(2, 1), g(1, 3), g(2, 1)]),
    ("lerp_scalar_tensor_weight", lambda m, a, b, w: m.lerp(a, b, w), [g(2, 3), g(2, 3), g()]),
    ("add_int_number", lambda m, a: a + 2, [g(2, 3)]),
    ("rsub_int_number", lambda m, a: 2 - a, [g(2, 3)]),
    ("rdiv_int_number", lambda m, a: 2 / a, [g(2, 3, low=0.5, high=2)]),
    ("div_floor_int_number", lambda m, a: a.div(2, rounding_mode="floor"), [g(2, 3)]),
    ("rpow_int_number", lambda m, a: 2**a, [g(2, 3)]),
    ("pow_zero_number", lambda m, a: a**0, [g(2, 3)]),
    ("mul_float32_tensor", lambda m, a, b: a * b, [g(2, 3), C(np.array([1.5, -2.0, 0.5], np.float32))]),
    ("div_by_float32_tensor", lambda m, a, b: a / b, [g(2, 3), C(np.array([1.5, -2.0, 0.5], np.float32))]),
    ("sub_int_tensor", lambda m, a, b: b - a, [g(2, 3), C([1, 2, 3])]),
    ("maximum_int_tensor", lambda m, a, b: m.maximum(a, b), [g(2, 3), C([0, 1, -1])]),
    ("where_int_tensor", lambda m, c, a, b: m.where(c, a, b),
     [C([True, False, True]), g(2, 3), C([1, 2, 3])]),
    ("atan2_scalar_tensor", lambda m, a, b: m.atan2(a, b), [g(2, 3), g()]),
    ("copysign_scalar_tensor", lambda m, a, b: m.copysign(a, b), [g(), g(2, 3)]),
    ("remainder_scalar_tensor", lambda m, a, b: m.remainder(a, b), [g(2, 3), g(low=0.5, high=2)]),
    ("addcdiv_number_value", lambda m, a, b, c: m.addcdiv(a, b, c, value=3),
     [g(), g(2, 3), g(3, low=0.5, high=2)]),
    # weights that need a gradient: PyTorch differentiates some, and refuses the others in its words
    ("binary_cross_entropy_grad_weight", lambda m, p, t, w: F(m).binary_cross_entropy(p, t, weight=w),
     [g(2, 3, low=0.1, high=0.9), C(_RNG.uniform(0, 1, (2, 3))), g(3, low=0.5, high=2)]),
    ("binary_cross_entropy_with_logits_grad_weights",
     lambda m, x, t, w, pw: F(m).binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw),
     [g(2, 3), C(_RNG.uniform(0, 1, (2, 3))), g(3, low=0.5, high=2), g(3, low=0.5, high=2)]),
    ("cross_entropy_grad_weight", lambda m, x, t, w: F(m).cross_entropy(x, t, weight=w),
     [g(3, 4), idx(0, 3, 1), g(4, low=0.5, high=2)]),
    ("cross_entropy_probabilities_grad_weight", lambda m, x, t, w: F(m).cross_entropy(x, t, weight=w),
     [g(3, 4), C(_RNG.uniform(0, 1, (3, 4))), g(4, low=0.5, high=2)]),
    ("nll_loss_grad_weight", lambda m, x, t, w: F(m).nll_loss(x, t, weight=w),
     [g(3, 4), idx(0, 3, 1), g(4, low=0.5, high=2)]),
    ("huber_loss_grad_weight", lambda m, x, t, w: F(m).huber_loss(x, t, weight=w),
     [g(2, 3), C(_RNG.standard_normal((2, 3))), g(2, 3, low=0.5, high=2)]),
    ("batch_norm_eval_grad_stats", lambda m, x, rm, rv: F(m).batch_norm(x, rm, rv),
     [g(3, 2), g(2), g(2, low=0.5, high=2)]),
    # Tensor methods
    ("method_add", lambda m, a, b: a.add(b, alpha=2), [g(2, 3), g(3)]),
    ("method_sub", lambda m, a, b: a.sub(b), [g(2, 3), g(3)]),
    ("method_pow", lambda m, a, b: a.pow(b), [g(2, 3, low=0.5, high=2), g(3)]),
    ("method_atan2", lambda m, a, b: a.atan2(b), [g(2, 3), g(3)]),
    ("method_lerp", lambda m, a, b: a.lerp(b, 0.25), [g(2, 3), g(3)]),
    ("method_addcmul", lambda m, a, b, c: a.addcmul(b, c, value=2), [g(2, 3), g(3), g(2, 3)]),
    ("method_clamp", lambda m, a, lo: a.clamp(min=lo), [g(2, 3), g(3)]),
    ("method_matmul", lambda m, a, b: a.matmul(b), [g(2, 3), g(3)]),
    ("method_masked_fill", lambda m, a, k, v: a.masked_fill(k, v), [g(2, 3), C([False, True, True]), g()]),
    ("method_index_add", lambda m, a, i, s: a.index_add(1, i, s), [g(2, 3), idx(1, 1), g(2, 2)]),
    ("method_scatter", lambda m, a, i, s: a.scatter(0, i, s), [g(2, 3), C([[1, 0, 1]]), g(1, 3)]),
    # in place, on a tensor that may need no gradient while an operand does
    ("add_", lambda m, a, b: (a * 1).add_(b, alpha=2), [g(2, 3), g(3)]),
    ("sub_", lambda m, a, b: (a * 1).sub_(b), [g(2, 3), g(3)]),
    ("mul_", lambda m, a, b: (a * 1).mul_(b), [g(2, 3), g(3)]),
    ("div_", lambda m, a, b: (a * 1).div_(b), [g(2, 3), g(3, low=0.5, high=2)]),
    ("pow_", lambda m, a, b: (a * 1).pow_(b), [g(2, 3, low=0.5, high=2), g(3)]),
    ("atan2_", lambda m, a, b: (a * 1).atan2_(b), [g(2, 3), g(3)]),
    ("clamp_", lambda m, a, lo, hi: (a * 1).clamp_(lo, hi),
     [g(2, 3), g(3, low=-1, high=0), g(3, low=0, high=1)]),
    ("lerp_", lambda m, a, b, w: (a * 1).lerp_(b, w), [g(2, 3), g(3), g(2, 3)]),
    ("addcmul_", lambda m, a, b, c: (a * 1).addcmul_(b, c, value=0.5), [g(2, 3), g(3), g(2, 1)]),
    ("addcdiv_", lambda m, a, b, c: (a * 1).addcdiv_(b, c), [g(2, 3), g(3), g(2, 1, low=0.5, high=2)]),
    ("copy_", lambda m, a, b: (a * 1).copy_(b), [g(2, 3), g(3)]),
    ("masked_fill_", lambda m, a, k, v: (a * 1).masked_fill_(k, v), [g(2, 3), C([True, False, True]), g()]),
    ("index_add_", lambda m, a, i, s: (a * 1).index_add_(0, i, s), [g(3, 2), idx(2, 0, 2), g(3, 2)]),
    ("index_copy_", lambda m, a, i, s: (a * 1).index_copy_(0, i, s), [g(3, 2), idx(2, 0), g(2, 2)]),
    ("index_put_", lambda m, a, i, v: (a * 1).index_put_((i,), v, accumulate=True),
     [g(3, 2), idx(2, 2), g(2, 2)]),
    ("scatter_", lambda m, a, i, s: (a * 1).scatter_(1, i, s), [g(2, 3), C([[0, 2], [1, 0]]), g(2, 2)]),
    ("scatter_add_", lambda m, a, i, s: (a * 1).scatter_add_(1, i, s), [g(2, 3), C([[0, 0],
     [1, 0]]), g(2, 2)]),
    ("scatter_reduce_", lambda m, a, i, s: (a * 1).scatter_reduce_(1, i, s, "amax"),
     [g(2, 3), C([[0, 0], [1, 0]]), g(2, 2)]),
    ("maximum_into_view", lambda m, a, b: _into_view(a, m.maximum(a, b)), [g(2, 3), g(3)]),
]

# Inputs of two float dtypes: the result is float64, and each gradient comes back in its input's dtype.
CASES += [
    ("add_float32", lambda m, a, b: a + b, [g32(2, 3), g(3)]),
    ("sub_float32", lambda m, a, b: m.sub(a, b, alpha=2), [g(2, 3), g32(3)]),
    ("mul_float32", lambda m, a, b: a * b, [g32(2, 3), g(3)]),
    ("div_float32", lambda m, a, b: a / b, [g(2, 3), G(_RNG.uniform(0.5, 2, 3), "float32")]),
    ("pow_float32", lambda m, a, b: a**b, [G(_RNG.uniform(0.5, 2, (2, 3)), "float32"), g(3)]),
    ("atan2_float32", lambda m, a, b: m.atan2(a, b), [g32(2, 3), g(3)]),
    ("maximum_float32", lambda m, a, b: m.maximum(a, b), [g32(2, 3), g(3)]),
    ("fmin_float32", lambda m, a, b: m.fmin(a, b), [g(2, 3), g32(3)]),
    ("copysign_float32", lambda m, a, b: m.copysign(a, b), [g32(2, 3), g(3)]),
    ("remainder_float32", lambda m, a, b: m.remainder(a, b), [g32(2, 3), G(_RNG.uniform(0.5, 2, 3))]),
    ("where_float32", lambda m, c, a, b: m.where(c, a, b), [C([True, False, True]), g32(2, 3), g(3)]),
    ("lerp_float32_weight", lambda m, a, b, w: m.lerp(a, b, w), [g(2, 3), g(3), g32(2, 3)]),
    ("lerp_float32_end", lambda m, a, b, w: m.lerp(a, b, w), [g(2, 3), g32(3), g(2, 3)]),
    ("lerp_float32_scalar_weight", lambda m, a, b, w: m.lerp(a, b, w), [g(2, 3), g(3), G(0.3, "float32")]),
    ("clamp_crossed_bounds", lambda m, x, lo, hi: m.clamp(x, lo, hi),
     [g(2, 3), G([0.5, -1, 0.2]), G([-0.5, 1, 0.2])]),
    ("clamp_crossed_bounds_ties", lambda m, x, lo, hi: m.clamp(x, lo, hi),
     [G([0.5, -1, 0.2, 0.3]), G([0.5, 0.5, 0.2, 0.3]), G([0.5, -1, 0.2, 0.1])]),
    ("addcmul_float32", lambda m, a, b, c: m.addcmul(a, b, c), [g(2, 3), g32(3), g(2, 1)]),
    ("clamp_float32_bounds", lambda m, x, lo, hi: m.clamp(x, lo, hi), [g(2, 3), g32(3), g32(3)]),
    ("cat_float32", lambda m, a, b: m.cat([a, b]), [g32(1, 3), g(2, 3)]),
    ("stack_float32", lambda m, a, b: m.stack([a, b]), [g(3), g32(3)]),
    ("mse_loss_float32_target", lambda m, x, t: F(m).mse_loss(x, t), [g(2, 3), g32(2, 3)]),
    ("index_put_float32_values", lambda m, x, i, v: m.index_put(x, (i,), v), [g(3, 2), idx(2, 0), g32(2, 2)]),
]

# One tensor in two of an op's slots: both gradients reach the same leaf.
CASES += [
    ("mul_self", lambda m, a: a * a, [g(2, 3)]),
    ("div_self", lambda m, a: a / a, [g(2, 3, low=0.5, high=2)]),
    ("pow_self", lambda m, a: a**a, [g(2, 3, low=0.5, high=2)]),
    ("atan2_self", lambda m, a: m.atan2(a, a), [g(2, 3)]),
    ("maximum_self", lambda m, a: m.maximum(a, a), [g(2, 3)]),
    ("fmin_self", lambda m, a: m.fmin(a, a), [g(2, 3)]),
    ("where_self", lambda m, c, a: m.where(c, a, a * 2), [C([True, False, True]), g(2, 3)]),
    ("lerp_self", lambda m, a, w: m.lerp(a, a * 2, w), [g(2, 3), g(3)]),
    ("addcmul_self", lambda m, a: m.addcmul(a, a, a, value=0.5), [g(2, 3)]),
    ("clamp_self_bounds", lambda m, a, b: m.clamp(a, b, b + 0.5), [g(2, 3), g(3)]),
    ("matmul_self", lambda m, a: a @ a.t(), [g(2, 3)]),
    ("einsum_self", lambda m, a: m.einsum("ij,ij->i", a, a), [g(2, 3)]),
    ("linear_self", lambda m, a: F(m).linear(a, a, a[0]), [g(3, 3)]),
    ("cat_self", lambda m, a: m.cat([a, a * 2, a]), [g(2, 3)]),
    ("stack_self", lambda m, a: m.stack([a, a]), [g(2, 3)]),
    ("index_add_self", lambda m, a, i: m.index_add(a, 0, i, a), [g(2, 3), idx(1, 0)]),
    ("scatter_add_self", lambda m, a, i: m.scatter_add(a, 1, i, a), [g(2, 3), C([[0, 0, 1], [2, 2, 2]])]),
    ("mse_loss_self_target", lambda m, a: F(m).mse_loss(a * 2, a), [g(2, 3)]),
    ("cosine_similarity_self", lambda m, a: F(m).cosine_similarity(a, a * a), [g(2, 3)]),
    ("scaled_dot_product_attention_self", lambda m, a: F(m).scaled_dot_product_attention(a, a, a),
     [g(1, 3, 2)]),
    ("scaled_dot_product_attention_bool_mask",
     lambda m, q, k, v, mask: F(m).scaled_dot_product_attention(q, k, v, attn_mask=mask),
     [g(1, 2, 3), g(1, 4, 3), g(1, 4, 2), C([[True, False, True, True], [False, True, True, False]])]),
    ("scaled_dot_product_attention_causal",
     lambda m, q, k, v: F(m).scaled_dot_product_attention(q, k, v, is_causal=True),
     [g(1, 3, 2), g(1, 3, 2), g(1, 3, 2)]),
    ("conv2d_self", lambda m, a: F(m).conv2d(a.reshape(1, 1, 3, 3), a.reshape(1, 1, 3, 3)[:, :, :2, :2]),
     [g(3, 3)]),
]

# NumPy scalars and bools where a Python number goes.
CASES += [
    ("mul_numpy_float", lambda m, a: a * np.float64(2.5), [g(2, 3)]),
    ("add_numpy_float32", lambda m, a: a + np.float32(0.5), [g(2, 3)]),
    ("div_numpy_int", lambda m, a: a / np.int64(3), [g(2, 3)]),
    ("pow_numpy_int", lambda m, a: a ** np.int64(2), [g(2, 3)]),
    ("rsub_numpy_float", lambda m, a: m.sub(a, np.float64(1.5), alpha=2), [g(2, 3)]),
    ("mul_bool", lambda m, a: a * True, [g(2, 3)]),
    ("mul_float32_numpy_float", lambda m, a, b: a * np.float64(2.5) * b, [g32(2, 3), g32(3)]),
    ("div_float32_numpy_float", lambda m, a, b: np.float64(2.5) / a * b, [g32(2, 3), g32(3)]),
    ("pow_float32_numpy_float", lambda m, a: a.abs() ** np.float64(1.5), [g32(2, 3)]),
    ("lerp_float32_numpy_weight", lambda m, a, b: m.lerp(a, b, np.float64(0.25)), [g32(2, 3), g32(3)]),
    ("where_numpy_float", lambda m, c, a: m.where(c, a, np.float64(0.5)), [C([True, False, True]), g(2, 3)]),
    ("clamp_numpy_bounds", lambda m, a: m.clamp(a, np.float64(-0.5), np.float32(0.5)), [g(2, 3)]),
]


def _module_call(m, module, weights: dict, *args):
    """``module(*args)`` with ``weights`` (name -> tensor) in place of its parameters, flattened to a tuple.

    PyTorch's ``functional_call``; in nbframe the tensors are put in the module's parameter table.
    """
    if m is torch:
        out = torch.func.functional_call(module, weights, args)
    else:
        module._parameters.update(weights)
        out = module(*args)
    flat = []
    for o in out if isinstance(out, tuple) else (out,):
        flat.extend(o if isinstance(o, tuple) else (o,))
    return tuple(flat)


_RNN_WEIGHTS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
_CELL_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _recurrent(mode: str, gates: int, cell: bool = False):
    """A case for ``nn.<mode>`` (2 inputs, 3 hidden) over 3 steps of a batch of 2: input, states, weights."""
    names = _CELL_WEIGHTS if cell else _RNN_WEIGHTS
    state = (2, 3) if cell else (1, 2, 3)
    lstm = mode.startswith("LSTM")

    def fn(m, x, h0, *rest):
        module = getattr(m.nn, mode)(2, 3, dtype=m.float64)
        hx = (h0, rest[0]) if lstm else h0
        return _module_call(m, module, dict(zip(names, rest[1:] if lstm else rest)), x, hx)

    weights = [g(gates * 3, 2), g(gates * 3, 3), g(gates * 3), g(gates * 3)]
    states = [g(*state), g(*state)] if lstm else [g(*state)]
    return (mode, fn, [g(*((2, 2) if cell else (3, 2, 2)))] + states + weights)


# Recurrent layers and cells with any of their input, states and weights frozen.
CASES += [
    _recurrent("LSTM", 4),
    _recurrent("GRU", 3),
    _recurrent("RNN", 1),
    _recurrent("LSTMCell", 4, cell=True),
    _recurrent("GRUCell", 3, cell=True),
    _recurrent("RNNCell", 1, cell=True),
]

_LSTM = _recurrent("LSTM", 4)

# Ops with several outputs, of which the loss uses only some (backward gets no gradient for the others).
_SPD = G(np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]]))
CASES += [
    ("var_mean_var", lambda m, a: m.var_mean(a, dim=1)[0], [g(2, 3)]),
    ("var_mean_mean", lambda m, a: m.var_mean(a, dim=1)[1], [g(2, 3)]),
    ("std_mean_std", lambda m, a: m.std_mean(a, dim=0)[0], [g(2, 3)]),
    ("max_dim_values", lambda m, a: m.max(a, dim=1)[0], [g(2, 3)]),
    ("sort_values", lambda m, a: m.sort(a, dim=1)[0][:, :2], [g(2, 3)]),
    ("topk_values", lambda m, a: m.topk(a, 2)[0], [g(2, 3)]),
    ("split_second", lambda m, a: m.split(a, 2, dim=1)[1], [g(2, 3)]),
    ("chunk_first", lambda m, a, b: m.chunk(a * b, 3, dim=1)[0], [g(2, 3), g(3)]),
    ("unbind_last", lambda m, a, b: m.unbind(a + b)[-1], [g(2, 3), g(3)]),
    ("slogdet_logabsdet", lambda m, a: m.linalg.slogdet(a)[1], [_SPD]),
    ("eigh_values", lambda m, a: m.linalg.eigh(a)[0], [_SPD]),
    ("eigh_vectors_squared", lambda m, a: m.linalg.eigh(a)[1] ** 2, [_SPD]),
    ("svd_values", lambda m, a: m.linalg.svd(a, full_matrices=False)[1], [g(3, 2)]),
    ("qr_r", lambda m, a: m.linalg.qr(a)[1], [g(3, 2)]),
    ("qr_q", lambda m, a: m.linalg.qr(a)[0], [g(3, 2)]),
    ("lstm_last_state_only", lambda m, *args: _LSTM[1](m, *args)[1], _LSTM[2]),
    ("lstm_cell_state_only", lambda m, *args: _LSTM[1](m, *args)[2], _LSTM[2]),
]

def _into_view(base, value):
    y = base * 1
    y[0] = value[1]
    return y


def _setitem(x, v):
    y = x.clone()
    y[1] = v
    return y


def _setitem_slice(x, v):
    y = x * 2
    y[1:] = v
    return y


# Cases that fail because of a bug in a file owned elsewhere: name -> (reason, the inputs whose gradient
# shows it); a subset with any of those inputs is a strict xfail.
KNOWN: dict = {}


def _params(known_failures: bool = True):
    """One pytest param per case and subset (``known_failures``: KNOWN's subsets are strict xfails)."""
    for name, fn, inputs in CASES:
        floats = [i for i, item in enumerate(inputs) if isinstance(item, G)]
        for subset in _subsets(floats):
            reason, culprits = KNOWN.get(name, (None, set()))
            failing = known_failures and culprits & set(subset)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if failing else []
            label = "+".join(str(i) for i in subset)
            yield pytest.param(fn, inputs, frozenset(subset), id=f"{name}[{label}]", marks=marks)


def _subsets(floats: list):
    """Every non-empty subset of up to 4 inputs; of more (recurrent layers), each one alone, each one left
    out, and all: what a frozen weight or a state without a gradient looks like, in 2n + 1 runs, not 2^n."""
    if len(floats) <= 4:
        return [c for size in range(1, len(floats) + 1) for c in itertools.combinations(floats, size)]
    alone = [(i,) for i in floats]
    left_out = [tuple(j for j in floats if j != i) for i in floats]
    return alone + left_out + [tuple(floats)]


def _inputs(m, inputs, subset):
    """The arguments for one run of module ``m``: fresh tensors (and numbers as they are), the leaves."""
    args, leaves = [], []
    for i, item in enumerate(inputs):
        if isinstance(item, G):
            t = m.tensor(item.array, requires_grad=i in subset)
            if i in subset:
                leaves.append(t)
        elif isinstance(item, C):
            t = m.tensor(item.array)
        else:
            t = item
        args.append(t)
    return args, leaves


def _loss(m, out):
    """A scalar of the outputs that gives every element its own weight (so no gradient is a plain sum)."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    total = None
    for o in outs:
        if not o.requires_grad:
            continue
        seed = m.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape)), dtype=o.dtype)
        term = (o * seed).sum()
        total = term if total is None else total + term
    return outs, total


def _numpy(t):
    return None if t is None else t.detach().numpy()


def _run_torch(fn, inputs, subset):
    args, leaves = _inputs(torch, inputs, subset)
    outs, loss = _loss(torch, fn(torch, *args))
    if loss is not None:
        loss.backward()
    return [_numpy(o) for o in outs], [_numpy(leaf.grad) for leaf in leaves]


def _run_nbframe(fn, inputs, subset, engine):
    args, leaves = _inputs(nf, inputs, subset)
    outs, loss = _loss(nf, fn(nf, *args))
    if loss is None:
        grads = [None] * len(leaves)
    elif engine == "arrays":
        loss.backward()
        grads = [leaf.grad for leaf in leaves]
    else:
        grads = nf.autograd.grad(loss, leaves, allow_unused=True, create_graph=engine == "graph")
    return [_numpy(o) for o in outs], [_numpy(grad) for grad in grads]


def _close(got, expected, what, loose=False):
    """Equal up to rounding: float64's, or float32's (``loose``: a case with a float32 input)."""
    np.testing.assert_allclose(got, expected, rtol=1e-5 if loose else 1e-7, atol=1e-6 if loose else 1e-10,
                               err_msg=what)


def _loose(inputs) -> bool:
    return any(isinstance(item, G) and item.array.dtype == np.float32 for item in inputs)


def _same_gradient(got, expected, leaf, what, loose=False):
    """``got`` is nbframe's gradient of ``leaf`` (a G input), ``expected`` PyTorch's; None counts as zeros."""
    if expected is None or got is None:
        other = got if expected is None else expected
        if other is not None:
            _close(other, np.zeros_like(other), f"{what}: none on one side, nonzero on the other", loose)
        return
    assert got.shape == leaf.array.shape, f"{what}: shape {got.shape}, the input's {leaf.array.shape}"
    assert got.dtype == leaf.array.dtype, f"{what}: dtype {got.dtype}, the input's {leaf.array.dtype}"
    _close(got, expected, what, loose)


@pytest.mark.parametrize(("fn", "inputs", "subset"), list(_params()))
def test_gradients_of_every_subset_of_inputs_match_pytorch_in_both_engines(fn, inputs, subset):
    try:
        expected_outs, expected_grads = _run_torch(fn, inputs, subset)
    except (RuntimeError, TypeError) as error:  # PyTorch refuses: nbframe must refuse in its words
        with pytest.raises(type(error)) as raised:
            _run_nbframe(fn, inputs, subset, "arrays")
        assert str(raised.value).splitlines()[0] == str(error).splitlines()[0]
        return
    runs = {engine: _run_nbframe(fn, inputs, subset, engine) for engine in ("arrays", "tensors", "graph")}
    outs, grads = runs["arrays"]
    assert len(outs) == len(expected_outs)
    for got, expected in zip(outs, expected_outs):
        assert (got.shape, got.dtype) == (expected.shape, expected.dtype), "output's shape or dtype"
        _close(got, expected, "output", _loose(inputs))
    loose = _loose(inputs)
    for engine, (_, engine_grads) in runs.items():
        for k, (got, expected) in enumerate(zip(engine_grads, expected_grads)):
            i = sorted(subset)[k]
            _same_gradient(got, expected, inputs[i], f"{engine} engine, gradient of input {i}", loose)
    # The engines agree bit for bit: backward on arrays and backward in Tensor ops (which create_graph
    # forces) do the same arithmetic.
    for engine in ("tensors", "graph"):
        for a, b in zip(grads, runs[engine][1]):
            if a is not None and b is not None:
                np.testing.assert_array_equal(a, b, err_msg=f"array engine vs {engine} engine")


def _second_order(m, fn, inputs, subset):
    """Gradients of (first gradients · fixed weights) with respect to the same inputs (None: zeros)."""
    args, leaves = _inputs(m, inputs, subset)
    _, loss = _loss(m, fn(m, *args))
    if loss is None:
        return [None] * len(leaves)
    firsts = m.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
    total = None
    for first in firsts:
        if first is None or not first.requires_grad:  # a gradient that is constant in the inputs
            continue
        values = np.sin(np.arange(first.numel()) + 1.0).reshape(tuple(first.shape))
        weights = m.tensor(values, dtype=first.dtype)
        term = (first * weights).sum()
        total = term if total is None else total + term
    if total is None:
        return [None] * len(leaves)
    seconds = m.autograd.grad(total, leaves, allow_unused=True)
    return [None if s is None or (m is torch and s._is_zerotensor()) else _numpy(s) for s in seconds]


@pytest.mark.parametrize(("fn", "inputs", "subset"), list(_params(known_failures=False)))
def test_second_order_gradients_of_every_subset_match_pytorch(fn, inputs, subset):
    try:
        expected = _second_order(torch, fn, inputs, subset)
    except (RuntimeError, TypeError):
        return  # PyTorch refuses (the first-order test checks the refusal) or has no double backward
    got = _second_order(nf, fn, inputs, subset)
    for k, (a, b) in enumerate(zip(got, expected)):
        i = sorted(subset)[k]
        _same_gradient(a, b, inputs[i], f"second-order gradient of input {i}", _loose(inputs))
