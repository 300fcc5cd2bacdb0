"""Neural-network ops: activations, softmax, linear, dropout, embedding, normalisation, losses.

Every op here is one fused ``Op``: its forward runs on arrays, and its backward
is written *once*, against a small math namespace ``m``:

- a plain ``backward()`` (no graph being built) runs that formula on raw arrays
  (``_ArrayMath``) in the op's ``backward_arrays``: one op, no intermediate
  Tensors, fast (the array engine calls it directly; ``backward`` delegates to it);
- ``create_graph=True`` runs the same formula on Tensors (``TENSOR_MATH``), so
  the gradient is itself differentiable, to any order.

Masks in the formulas (``x > 0``, a clamp's range) are taken from raw values:
they are piecewise constants, whose derivative is zero almost everywhere.
``nbframe.nn.functional`` gives these ops PyTorch's names and signatures.
"""

from __future__ import annotations

import math

from ..autograd import function as _fn
from ..autograd import grad_mode
from ..autograd.function import Op, on_arrays, wrap_gradients
from ..backend import cpu as _cpu
from ..backend import get_array_module
from . import elementwise as _ew
from .constant_arguments import refuse_gradient
from .promotion import as_floating
from .reduce import Sum
from .shape import Permute, Reshape

__all__ = ["softmax", "log_softmax", "cosine_similarity", "pairwise_distance"]

_state = grad_mode._state
_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


# --------------------------------------------------------------------------- the two math namespaces
def raw(v):
    """The array behind a Tensor (or the value itself): for masks, shapes and dtypes."""
    return getattr(v, "array", v)


class _ArrayMath:
    """Backward formulas on NumPy/CuPy arrays (the fast path)."""

    __slots__ = ("xp",)
    tensors = False

    def __init__(self, xp):
        self.xp = xp

    def exp(self, x):
        return self.xp.exp(x)

    def log(self, x):
        return self.xp.log(x)

    def tanh(self, x):
        return self.xp.tanh(x)

    def sqrt(self, x):
        return self.xp.sqrt(x)

    def erf(self, x):
        return _ew._erf_array(self.xp, x)

    def sigmoid(self, x):
        e = self.xp.exp(-self.xp.abs(x))
        return self.xp.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def softplus(self, x):
        xp = self.xp
        return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, 0)

    def where(self, mask, a, b):
        return self.xp.where(mask, a, b)

    def sum(self, x, axes, keepdim=True):
        return x.sum(axis=axes, keepdims=keepdim)

    def mean(self, x, axes, keepdim=True):
        return x.mean(axis=axes, keepdims=keepdim)

    def reshape(self, x, shape):
        return x.reshape(shape)

    def permute(self, x, dims):
        return x.transpose(dims)

    def matmul(self, a, b):
        return self.xp.matmul(a, b)

    def t(self, x):
        return x.T


class _TensorMath:
    """The same formulas on Tensors, so that ``create_graph=True`` can differentiate them again."""

    __slots__ = ()
    tensors = True

    exp = staticmethod(_ew.exp)
    log = staticmethod(_ew.log)
    tanh = staticmethod(_ew.tanh)
    sqrt = staticmethod(_ew.sqrt)
    erf = staticmethod(_ew.erf)
    sigmoid = staticmethod(_ew.sigmoid)

    @staticmethod
    def where(mask, a, b):
        if not hasattr(mask, "grad_fn"):
            mask = _fn._wrap(mask, False, None, 0)
        return _ew.where(mask, a, b)

    @staticmethod
    def softplus(x):
        return Softplus.apply(x, 1.0, 20.0)

    @staticmethod
    def sum(x, axes, keepdim=True):
        return Sum.apply(x, axes, keepdim, None)

    @staticmethod
    def mean(x, axes, keepdim=True):
        count = 1
        for a in axes:
            count *= x.array.shape[a]
        return Sum.apply(x, axes, keepdim, None) / count

    @staticmethod
    def reshape(x, shape):
        return Reshape.apply(x, tuple(shape))

    @staticmethod
    def permute(x, dims):
        return Permute.apply(x, tuple(dims))

    @staticmethod
    def matmul(a, b):
        from .linalg import Matmul

        return Matmul.apply(a, b)

    @staticmethod
    def t(x):
        return Permute.apply(x, (1, 0))


TENSOR_MATH = _TensorMath()
_MATH_CACHE: dict = {}


def array_math(array) -> _ArrayMath:
    xp = get_array_module(array)
    m = _MATH_CACHE.get(xp)
    if m is None:
        m = _MATH_CACHE[xp] = _ArrayMath(xp)
    return m


def _graph_mode() -> bool:
    """True inside a backward that builds a graph (create_graph=True)."""
    return _state.enabled


def _grad_result(value, like):
    """A backward formula's array result as a gradient Tensor, in the dtype of ``like``."""
    return _fn._wrap(cast_like(value, like), False, None, 0)


def cast_like(value, like):
    """A backward formula's array result (maybe a NumPy scalar) as an array of ``like``'s type and dtype."""
    if type(value) is not type(like) or value.dtype != like.dtype:
        xp = get_array_module(like)
        value = xp.asarray(value, dtype=like.dtype)
    return value


def _quiet():
    """NaN and Inf are values here, as in PyTorch: no NumPy warnings about them."""
    import numpy

    return numpy.errstate(all="ignore")


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _kernel(name: str, array):
    """The backend's fused kernel ``name`` for ``array``: CUDA's if it has one, else the array-generic one."""
    if type(array) is not _cpu_array_type():
        from ..backend import cuda as _cuda

        fn = getattr(_cuda, name, None)
        if fn is not None:
            return fn
    return getattr(_cpu, name)


def _cpu_array_type():
    import numpy

    return numpy.ndarray


def _cuda_backend():
    from ..backend import cuda

    return cuda


# --------------------------------------------------------------------------- pointwise activations
class _Activation(Op):
    """``y = f(x; params)``: subclasses give ``f`` (on arrays) and its derivative ``df`` (on either math)."""

    @classmethod
    def forward(cls, ctx, x, *params):
        x = as_floating(x)
        ctx.save_for_backward(x)
        ctx.params = params
        out = cls.f(array_math(x), x, *params)
        return out if out.dtype == x.dtype else out.astype(x.dtype)

    @classmethod
    def backward(cls, ctx, grad):
        if not _graph_mode():
            return wrap_gradients(cls.backward_arrays(ctx, grad.array))
        (x,) = ctx.saved_tensors
        d = cls.df(TENSOR_MATH, x, *ctx.params)
        if not hasattr(d, "grad_fn"):  # a piecewise-constant derivative: no graph to keep
            d = _grad_result(d, grad.array)
        return (grad * d,) + (None,) * len(ctx.params)

    @classmethod
    def backward_arrays(cls, ctx, grad):
        (x,) = ctx.saved_arrays
        return (cast_like(grad * cls.df(array_math(grad), x, *ctx.params), grad),) + (None,) * len(ctx.params)

    @staticmethod
    def f(m, x, *params):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def df(m, x, *params):  # pragma: no cover - abstract
        raise NotImplementedError


class LeakyRelu(_Activation):
    label = "leaky_relu"

    @staticmethod
    def f(m, x, slope):
        return m.where(x > 0, x, x * slope)

    @staticmethod
    def df(m, x, slope):
        return m.where(raw(x) > 0, 1.0, slope)


class Elu(_Activation):
    label = "elu"

    @staticmethod
    def f(m, x, alpha):
        return m.where(x > 0, x, alpha * m.xp.expm1(m.xp.minimum(x, 0)))

    @staticmethod
    def df(m, x, alpha):
        positive = raw(x) > 0
        return m.where(positive, 1.0, alpha * m.exp(m.where(positive, 0.0, x)))


class Hardtanh(_Activation):
    label = "hardtanh"

    @staticmethod
    def f(m, x, low, high):
        return m.xp.clip(x, low, high)

    @staticmethod
    def df(m, x, low, high):
        r = raw(x)
        return m.where((r > low) & (r < high), 1.0, 0.0)


class Softplus(_Activation):
    label = "softplus"

    @staticmethod
    def f(m, x, beta, threshold):
        bx = x * beta
        return m.where(bx > threshold, x, m.softplus(bx) / beta)

    @staticmethod
    def df(m, x, beta, threshold):
        return m.where(raw(x) * beta > threshold, 1.0, m.sigmoid(x * beta))


class Gelu(_Activation):
    label = "gelu"

    @staticmethod
    def f(m, x, approximate):
        if approximate == "tanh":
            return 0.5 * x * (1 + m.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
        return 0.5 * x * (1 + m.erf(x / _SQRT_2))

    @staticmethod
    def df(m, x, approximate):
        if approximate == "tanh":
            t = m.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du
        return 0.5 * (1 + m.erf(x / _SQRT_2)) + x * m.exp(-0.5 * x * x) * _INV_SQRT_2PI


class Silu(_Activation):
    label = "silu"

    @staticmethod
    def f(m, x):
        return x * m.sigmoid(x)

    @staticmethod
    def df(m, x):
        s = m.sigmoid(x)
        return s * (1 + x * (1 - s))


class Mish(_Activation):
    label = "mish"

    @staticmethod
    def f(m, x):
        return x * m.tanh(m.softplus(x))

    @staticmethod
    def df(m, x):
        t = m.tanh(m.softplus(x))
        return t + x * (1 - t * t) * m.sigmoid(x)


# --------------------------------------------------------------------------- softmax
def _softmax_dim(dim, ndim: int, op: str) -> int:
    if dim is None:
        # PyTorch's legacy implicit choice: dim 0 for 0-, 1- and 3-d inputs, else 1.
        return 0 if ndim in (0, 1, 3) else 1
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim % n


class _SoftmaxOp(Op):
    """Softmax or log-softmax along ``dim`` (``_log`` says which); backward needs only the output."""

    _log = False

    @staticmethod
    def forward(ctx, x, dim):
        out = _softmax(as_floating(x), dim, ctx._log)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        if not _graph_mode():
            return wrap_gradients(_SoftmaxOp.backward_arrays(ctx, grad.array))
        (y,) = ctx.saved_tensors
        formula = _log_softmax_backward if ctx._log else _softmax_backward
        return formula(TENSOR_MATH, grad, y, ctx.dim), None

    @staticmethod
    def backward_arrays(ctx, grad):
        (y,) = ctx.saved_arrays
        if ctx.dim == y.ndim - 1 and _cuda_backend().has_kernel_dtype(y):  # kernels/softmax.cu
            return cast_like(_cuda_backend().softmax_backward(y, grad, ctx._log), y), None
        formula = _log_softmax_backward if ctx._log else _softmax_backward
        return cast_like(formula(array_math(y), grad, y, ctx.dim), y), None


class Softmax(_SoftmaxOp):
    label = "softmax"


class LogSoftmax(_SoftmaxOp):
    label = "log_softmax"
    _log = True


def _softmax(x, dim: int, log: bool):
    """Softmax or log-softmax along ``dim``, shifted by the maximum so that no exp overflows."""
    if dim == x.ndim - 1 and _cuda_backend().has_kernel_dtype(x):  # kernels/softmax.cu (copies a strided x)
        return _cuda_backend().softmax_forward(x, log)
    xp = get_array_module(x)
    shifted = x - x.max(axis=dim, keepdims=True)
    if log:
        return shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
    e = xp.exp(shifted)
    e /= e.sum(axis=dim, keepdims=True)
    return e


def _softmax_backward(m, g, y, dim):
    return y * (g - m.sum(g * y, (dim,)))


def _log_softmax_backward(m, g, y, dim):
    return g - m.exp(y) * m.sum(g, (dim,))


def softmax(input, dim=None, dtype=None, *, _stacklevel: int = 3):
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably (the row maximum is subtracted first)."""
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, _softmax_dim(dim, input.ndim, "softmax"))


def log_softmax(input, dim=None, dtype=None, *, _stacklevel: int = 3):
    """``log(softmax(x))`` along ``dim`` in one stable step (never the log of a rounded-to-zero softmax)."""
    if dtype is not None:
        input = input.to(dtype)
    return LogSoftmax.apply(input, _softmax_dim(dim, input.ndim, "log_softmax"))


def functional_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``nn.functional.softmax``'s signature (``_stacklevel`` before ``dtype``)."""
    return softmax(input, dim, dtype)


def functional_log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``nn.functional.log_softmax``'s signature."""
    return log_softmax(input, dim, dtype)


# --------------------------------------------------------------------------- linear
class Linear(Op):
    """``y = x @ w.T + b``: one GEMM and an in-place bias add; backward is two GEMMs and a sum."""

    label = "linear"

    @staticmethod
    def forward(ctx, x, w, b):
        if x.dtype != w.dtype:
            raise RuntimeError(
                f"linear: mat1 and mat2 must have the same dtype, but got {x.dtype} (input) "
                f"and {w.dtype} (weight)"
            )
        if x.ndim == 0 or x.shape[-1] != w.shape[-1]:
            left = "x".join(map(str, (-1 if x.ndim > 2 else x.shape[0], x.shape[-1]) if x.ndim else ()))
            raise RuntimeError(
                f"linear: mat1 and mat2 shapes cannot be multiplied ({left} and {w.shape[1]}x{w.shape[0]}): "
                f"the input's last dimension ({x.shape[-1] if x.ndim else 'none'}) must equal the weight's "
                f"in_features ({w.shape[-1]})"
            )
        need = ctx.needs_input_grad
        ctx.save_for_backward(x if need[1] else None, w if need[0] else None)
        out = get_array_module(x).matmul(x, w.T)
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, grad):
        if not _graph_mode():
            return wrap_gradients(Linear.backward_arrays(ctx, grad.array))
        x, w = ctx.saved_tensors
        return _linear_backward(TENSOR_MATH, grad, x, w, ctx.needs_input_grad)

    @staticmethod
    def backward_arrays(ctx, grad):
        x, w = ctx.saved_arrays
        return _linear_backward(array_math(grad), grad, x, w, ctx.needs_input_grad)


def _linear_backward(m, g, x, w, need):
    gx = gw = gb = None
    if need[0]:
        gx = m.matmul(g, w)
    if need[1] or need[2]:
        g2 = m.reshape(g, (-1, raw(g).shape[-1]))
        if need[1]:
            gw = m.matmul(m.t(g2), m.reshape(x, (-1, raw(x).shape[-1])))
        if need[2]:
            gb = m.sum(g2, (0,), False)
    return gx, gw, gb


# --------------------------------------------------------------------------- embedding
class Embedding(Op):
    """``weight[indices]``; backward adds each gradient row into its index's row of the weight."""

    label = "embedding"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        ctx.save_for_backward(indices)
        ctx.num_weights, ctx.padding_idx = weight.shape[0], padding_idx
        return get_array_module(weight).take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        return EmbeddingBackward.apply(grad, indices, ctx.num_weights, ctx.padding_idx), None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        (indices,) = ctx.saved_arrays
        gw = on_arrays(EmbeddingBackward, grad, indices, ctx.num_weights, ctx.padding_idx)
        return gw, None, None


class EmbeddingBackward(Op):
    """The scatter-add into the weight's shape (rows at ``padding_idx`` get nothing)."""

    label = "embedding_backward"

    @staticmethod
    def forward(ctx, grad, indices, num_weights, padding_idx):
        ctx.save_for_backward(indices)
        ctx.padding_idx = padding_idx
        return _kernel("embedding_backward", grad)(indices, grad, num_weights, padding_idx)

    @staticmethod
    def backward(ctx, gg):
        # Linear in grad: its own gradient is a lookup of gg, zero where the row was padding.
        (indices,) = ctx.saved_tensors
        out = Embedding.apply(gg, indices, None)
        if ctx.padding_idx is not None:
            keep = (raw(indices) != ctx.padding_idx)[..., None].astype(gg.array.dtype)
            out = out * keep
        return out, None, None, None


# --------------------------------------------------------------------------- normalisation
class NormAffine(Op):
    """``(x - mean) / sqrt(var + eps) * w + b``: layer, group and batch norm in training.

    ``spec = (stat_shape, stat_axes, w_view, reduce_axes, param_shape)``: x is
    viewed as ``stat_shape`` and normalised over ``stat_axes`` there; ``w`` and
    ``b`` (of ``param_shape``) are viewed as ``w_view`` to scale and shift x in
    its own layout, and their gradients sum over ``reduce_axes``. Forward also
    returns the mean and the biased variance (for running statistics): no gradient.
    """

    label = "norm"

    @staticmethod
    def forward(ctx, x, w, b, spec, eps):
        m = array_math(x)
        xhat, mean, var, rstd = _normalize(m, x, spec, eps)
        ctx.save_for_backward(x, w, xhat, rstd)
        ctx.spec, ctx.eps = spec, eps
        out = _affine(m, xhat, w, b, spec)
        ctx.mark_non_differentiable(mean, var)
        ctx.set_materialize_grads(False)  # mean and var never get a gradient: no zeros made for them
        return out, mean, var

    @staticmethod
    def backward(ctx, grad, _grad_mean=None, _grad_var=None):
        if not _graph_mode():
            return wrap_gradients(NormAffine.backward_arrays(ctx, grad.array))
        x, w, _, _ = ctx.saved_tensors
        xhat, _, _, rstd = _normalize(TENSOR_MATH, x, ctx.spec, ctx.eps)
        return _norm_backward(TENSOR_MATH, grad, w, xhat, rstd, ctx.spec, ctx.needs_input_grad) + (None, None)

    @staticmethod
    def backward_arrays(ctx, grad, _grad_mean=None, _grad_var=None):
        """``backward`` on raw arrays, with the saved ``xhat`` and ``1/std`` (several outputs: the
        array engine passes one gradient per output; only ``out``'s can be other than None)."""
        _, w, xhat, rstd = ctx.saved_arrays
        grads = _norm_backward(array_math(grad), grad, w, xhat, rstd, ctx.spec, ctx.needs_input_grad)
        return tuple([None if v is None else cast_like(v, grad) for v in grads]) + (None, None)


def _normalize(m, x, spec, eps):
    """``(xhat, mean, biased var, 1/sqrt(var + eps))``; mean and var in the statistics' view."""
    stat_shape, axes = spec[0], spec[1]
    xs = m.reshape(x, stat_shape)
    mean = m.mean(xs, axes)
    d = xs - mean
    var = m.mean(d * d, axes)
    rstd = 1.0 / m.sqrt(var + eps)
    return m.reshape(d * rstd, raw(x).shape), mean, var, rstd


def _affine(m, xhat, w, b, spec):
    out = xhat
    if w is not None:
        out = out * m.reshape(w, spec[2])
    if b is not None:
        out = out + m.reshape(b, spec[2])
    return out


def _norm_backward(m, g, w, xhat, rstd, spec, need):
    stat_shape, axes, w_view, reduce_axes, param_shape = spec
    gx = gw = gb = None
    if need[0]:
        gxhat = g * m.reshape(w, w_view) if w is not None else g
        gs, hs = m.reshape(gxhat, stat_shape), m.reshape(xhat, stat_shape)
        gx = m.reshape(rstd * (gs - m.mean(gs, axes) - hs * m.mean(gs * hs, axes)), raw(g).shape)
    if need[1]:
        gw = m.reshape(m.sum(g * xhat, reduce_axes, False), param_shape)
    if need[2]:
        gb = m.reshape(m.sum(g, reduce_axes, False), param_shape)
    return gx, gw, gb


# --------------------------------------------------------------------------- padding and selection
class TakeAlong(Op):
    """``take(x, index, axis)`` along one axis (reflect/replicate/circular padding); backward scatter-adds."""

    label = "take"

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.save_for_backward(index)
        ctx.axis, ctx.size = axis, x.shape[axis]
        return get_array_module(x).take(x, index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return ScatterAddAlong.apply(grad, index, ctx.axis, ctx.size), None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        (index,) = ctx.saved_arrays
        return on_arrays(ScatterAddAlong, grad, index, ctx.axis, ctx.size), None, None


class ScatterAddAlong(Op):
    label = "scatter_add"

    @staticmethod
    def forward(ctx, grad, index, axis, size):
        ctx.save_for_backward(index)
        ctx.axis = axis
        xp = get_array_module(grad)
        moved = xp.moveaxis(grad, axis, 0)
        out = xp.zeros((size,) + moved.shape[1:], dtype=grad.dtype)
        if xp.__name__ == "numpy":
            xp.add.at(out, index, moved)
        else:
            import cupyx

            cupyx.scatter_add(out, index, moved)
        return xp.moveaxis(out, 0, axis)

    @staticmethod
    def backward(ctx, gg):
        (index,) = ctx.saved_tensors
        return TakeAlong.apply(gg, index, ctx.axis), None, None, None


# --------------------------------------------------------------------------- similarity (top-level names)
def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """``sum(x1 / |x1| * x2 / |x2|)`` along ``dim``; each norm is clamped at ``eps`` (its gradient is not)."""
    n1 = _clamped_norm(x1, dim, eps)
    n2 = _clamped_norm(x2, dim, eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def _clamped_norm(x, dim, eps):
    norm = _ew.sqrt((x * x).sum(dim, keepdim=True))
    low = raw(norm) < eps
    if low.any():
        # Clamp the value but keep the norm's own gradient, as PyTorch's in-place no-grad clamp does.
        xp = get_array_module(raw(norm))
        norm = norm + _fn._wrap(xp.where(low, eps - raw(norm), 0).astype(raw(norm).dtype), False, None, 0)
    return norm


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """``||x1 - x2 + eps||_p`` over the last dimension."""
    d = x1 - x2 + eps
    if p == 2:
        return _ew.sqrt((d * d).sum(-1, keepdim=keepdim))
    if p == 1:
        return _ew.abs(d).sum(-1, keepdim=keepdim)
    if p == math.inf:
        return _ew.abs(d).amax(-1, keepdim=keepdim)
    return (_ew.abs(d) ** p).sum(-1, keepdim=keepdim) ** (1.0 / p)


#: Tensor methods this module provides (installed by ``ops.methods``).
TENSOR_METHODS = {"softmax": softmax, "log_softmax": log_softmax}


# --------------------------------------------------------------------------- functions: activations
def _maybe_inplace(input, inplace: bool, compute, name: str):
    """``compute(input)``, or with ``inplace`` written back into ``input``.

    ``apply_inplace`` copies the old values only where the op's backward reads them (``silu_``), and a
    saved result becomes ``input`` itself (``relu_``): no clone, so an in-place activation saves memory.
    """
    if inplace:
        from .inplace import apply_inplace

        return apply_inplace(input, compute, name)
    return compute(input)


def relu(input, inplace: bool = False):
    return _maybe_inplace(input, inplace, _ew.relu, "relu_")


def relu_(input):
    return relu(input, inplace=True)


def relu6(input, inplace: bool = False):
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    return _maybe_inplace(input, inplace, lambda t: LeakyRelu.apply(t, float(negative_slope)), "leaky_relu_")


def elu(input, alpha: float = 1.0, inplace: bool = False):
    return _maybe_inplace(input, inplace, lambda t: Elu.apply(t, float(alpha)), "elu_")


def elu_(input, alpha: float = 1.0):
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope: float = 0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _maybe_inplace(input, inplace, lambda t: Hardtanh.apply(t, min_val, max_val), "hardtanh_")


def gelu(input, approximate: str = "none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate)


def silu(input, inplace: bool = False):
    return _maybe_inplace(input, inplace, Silu.apply, "silu_")


def mish(input, inplace: bool = False):
    return _maybe_inplace(input, inplace, Mish.apply, "mish_")


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    return Softplus.apply(input, float(beta), float(threshold))


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large |x|."""
    return -Softplus.apply(-input, 1.0, math.inf)


# --------------------------------------------------------------------------- functions: dropout
def _check_p(p: float, op: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _dropout(input, p: float, training: bool, inplace: bool, mask_shape, op: str):
    _check_p(p, op)
    if not training or p == 0.0:
        return input
    x = input.array
    if _cuda_backend().has_kernel_dtype(x) and mask_shape == x.shape:  # kernels/dropout.cu (Philox)
        from .fused import FusedDropout

        return _maybe_inplace(input, inplace, lambda t: FusedDropout.apply(t, p), op + "_")
    scale = _keep_mask(x, mask_shape, p)
    return _maybe_inplace(input, inplace, lambda t: _ew.Mul.apply(t, scale), op + "_")


def _keep_mask(x, shape, p: float):
    """``mask / (1 - p)`` in x's dtype, drawn from the global generator (CuPy's on the GPU)."""
    import numpy as np

    from ..random import rng_for

    if p == 1.0:
        return get_array_module(x).zeros(shape, dtype=x.dtype)
    if type(x) is np.ndarray:
        keep = rng_for(None).random(shape, dtype=np.float32) >= p
    else:
        keep = get_array_module(x).random.random_sample(shape, dtype=np.float32) >= p
    return keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability ``p``, scale the rest by ``1/(1-p)``; identity when not training."""
    return _dropout(input, p, training, inplace, input.array.shape, "dropout")


def _channel_dropout(input, p, training, inplace, batched_ndim: int, op: str):
    shape = input.array.shape
    if input.array.ndim not in (batched_ndim - 1, batched_ndim):
        raise RuntimeError(
            f"{op}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but received a "
            f"{input.array.ndim}D input of shape {list(shape)}"
        )
    lead = 2 if input.array.ndim == batched_ndim else 1
    mask_shape = shape[:lead] + (1,) * (len(shape) - lead)
    return _dropout(input, p, training, inplace, mask_shape, op)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, L) or (C, L) input."""
    return _channel_dropout(input, p, training, inplace, 3, "dropout1d")


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) input."""
    return _channel_dropout(input, p, training, inplace, 4, "dropout2d")


# --------------------------------------------------------------------------- functions: linear, embedding
def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` in one op."""
    return Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1 · W_k · x2 + b_k``: one GEMM against W's (in1, out * in2) view, then a product and a sum."""
    out_features, in1, in2 = weight.shape
    lead = tuple(input1.shape[:-1])
    if input1.shape[-1] != in1 or input2.shape[-1] != in2 or tuple(input2.shape[:-1]) != lead:
        raise RuntimeError(
            f"bilinear: inputs of shape {list(input1.shape)} and {list(input2.shape)} don't match "
            f"the weight's (out, in1, in2) = {list(weight.shape)}: expected [*, {in1}] and [*, {in2}]"
        )
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    w = weight.permute(1, 0, 2).reshape(in1, out_features * in2)
    out = ((x1 @ w).reshape(-1, out_features, in2) * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(lead + (out_features,))


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
):
    """Rows of ``weight`` at the integer indices ``input``; rows at ``padding_idx`` get no gradient."""
    idx = input.array if hasattr(input, "array") else input
    if getattr(idx, "dtype", None) is None or idx.dtype.kind not in "iu":
        kind = getattr(getattr(input, "dtype", None), "name", type(input).__name__)
        raise RuntimeError(f"embedding: expected integer indices (int64 or int32), got {kind}")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError(
            "embedding: scale_grad_by_freq and sparse gradients are not supported by nbframe"
        )
    rows = weight.array.shape[0]
    if idx.size and (int(idx.min()) < -rows or int(idx.max()) >= rows):
        bad = int(idx.max()) if int(idx.max()) >= rows else int(idx.min())
        raise IndexError(
            f"embedding: index {bad} is out of range for a table of {rows} rows "
            f"(valid indices are 0 to {rows - 1})"
        )
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(
                f"embedding: padding_idx must be within the number of embeddings ({rows}), got {padding_idx}"
            )
        padding_idx %= rows
    idx = idx % rows if idx.size and int(idx.min()) < 0 else idx
    if max_norm is not None:
        embedding_renorm_(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, idx, padding_idx)


def embedding_renorm_(weight, indices, max_norm: float, norm_type: float = 2.0):
    """Rescale, in place, the looked-up rows whose norm exceeds ``max_norm`` (as PyTorch: no gradient)."""
    w = weight.array
    xp = get_array_module(w)
    rows = xp.unique(raw(indices).reshape(-1))
    norms = (xp.abs(w[rows]) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    big = norms > max_norm
    if bool(big.any()):
        w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
        weight._version[0] += 1
    return weight


# --------------------------------------------------------------------------- functions: normalisation
def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalise over the last ``len(normalized_shape)`` dimensions, then scale and shift elementwise."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    x_shape = input.array.shape
    k = len(shape)
    if k == 0 or x_shape[len(x_shape) - k :] != shape or len(x_shape) < k:
        raise RuntimeError(
            f"layer_norm: Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(x_shape)}"
        )
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise RuntimeError(
                f"layer_norm: {name} of shape {list(p.shape)} must have normalized_shape {list(shape)}"
            )
    size = _numel(shape)
    rows = input.array.size // size if size else 0
    spec = ((rows, size), (1,), shape, tuple(range(len(x_shape) - k)), shape)
    if _cuda_backend().has_kernel_dtype(input.array):  # kernels/layer_norm.cu
        from .fused import FusedLayerNorm

        return FusedLayerNorm.apply(input, weight, bias, spec, float(eps))
    return NormAffine.apply(input, weight, bias, spec, float(eps))[0]


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalise each sample over groups of ``C / num_groups`` channels (and all positions)."""
    x_shape = input.array.shape
    if len(x_shape) < 2:
        raise RuntimeError(f"group_norm: expected input of shape (N, C, *), got {list(x_shape)}")
    n, c = x_shape[:2]
    if c % num_groups:
        raise RuntimeError(
            f"group_norm: Expected number of channels in input to be divisible by num_groups, but "
            f"got input of shape {list(x_shape)} and num_groups={num_groups}"
        )
    spec = ((n, num_groups, -1), (2,), _channel_view(x_shape), _channel_axes(x_shape), (c,))
    return NormAffine.apply(input, weight, bias, spec, float(eps))[0]


def _channel_view(x_shape):
    return (1, x_shape[1]) + (1,) * (len(x_shape) - 2)


def _channel_axes(x_shape):
    return (0,) + tuple(range(2, len(x_shape)))


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """Batch statistics per channel in training (updating the running ones in place), running ones in eval."""
    x_shape = input.array.shape
    if len(x_shape) < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, *), got {list(x_shape)}")
    c = x_shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(
                f"batch_norm: {name} should contain {c} elements (one per channel of input "
                f"{list(x_shape)}), not {t.array.size}"
            )
    refuse_gradient("native_batch_norm", running_mean=running_mean, running_var=running_var)
    view, axes = _channel_view(x_shape), _channel_axes(x_shape)
    if training:
        count = input.array.size // c if c else 0
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {list(x_shape)}"
            )
        out, mean, var = NormAffine.apply(input, weight, bias, (x_shape, axes, view, axes, (c,)), float(eps))
        if running_mean is not None:
            _update_running(running_mean, mean.array.reshape(c), momentum)
        if running_var is not None:
            _update_running(running_var, var.array.reshape(c) * (count / (count - 1)), momentum)
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError(
            "batch_norm: running_mean and running_var must be given in evaluation mode (training=False)"
        )
    xp = get_array_module(input.array)
    dtype = input.array.dtype
    rstd = (1.0 / xp.sqrt(running_var.array.astype(dtype) + eps)).reshape(view)
    out = (input - running_mean.array.astype(dtype).reshape(view)) * rstd
    if weight is not None:
        out = out * weight.reshape(view)
    if bias is not None:
        out = out + bias.reshape(view)
    return out


def _update_running(stat, batch_value, momentum):
    a = stat.array
    a *= 1.0 - momentum
    a += (momentum * batch_value).astype(a.dtype, copy=False)
    stat._version[0] += 1


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    from .reduce import norm

    return input / _ew.clamp_min(norm(input, p, dim, keepdim=True), eps).expand_as(input)


# ----------------------------------------------------------------- functions: one_hot, pad, attention
def one_hot(tensor, num_classes: int = -1):
    """int64 one-hot vectors along a new last dimension."""
    idx = tensor.array
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            f"one_hot is only applicable to index tensor (an integer dtype), got {tensor.dtype}"
        )
    xp = get_array_module(idx)
    if idx.size and int(idx.min()) < 0:
        raise RuntimeError("one_hot: Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    elif idx.size and int(idx.max()) >= num_classes:
        raise RuntimeError(
            f"one_hot: Class values must be smaller than num_classes ({num_classes}); got {int(idx.max())}"
        )
    out = (idx[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return _fn._wrap(out, False, None, 0)


class ConstantPad(Op):
    """Pad (or, with negative amounts, crop) each axis by ``(before, after)``; the gradient crops back."""

    label = "constant_pad"

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(x.shape, pads))
        x = x[crop]
        shape = tuple(n + max(lo, 0) + max(hi, 0) for n, (lo, hi) in zip(x.shape, pads))
        if any(s < 0 for s in shape):
            raise RuntimeError(f"pad: the padding {list(pads)} would give a negative size {list(shape)}")
        out = get_array_module(x).full(shape, value, dtype=x.dtype)
        out[tuple(slice(max(lo, 0), max(lo, 0) + n) for n, (lo, _) in zip(x.shape, pads))] = x
        return out

    @staticmethod
    def backward(ctx, grad):
        return ConstantPad.apply(grad, _unpad(ctx.pads), 0), None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return on_arrays(ConstantPad, grad, _unpad(ctx.pads), 0), None, None


def _unpad(pads) -> tuple:
    """The negative of ``pads``: crops what they added (and pads back what they cropped)."""
    return tuple((-lo, -hi) for lo, hi in pads)


def _pad_index(xp, n: int, lo: int, hi: int, mode: str):
    """Which input position each output position along one axis reads, for the non-constant modes."""
    i = xp.arange(-lo, n + hi)
    if mode == "replicate":
        return xp.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1) if n > 1 else 1
    i = xp.abs(i) % period
    return xp.where(i >= n, period - i, i)


def pad(input, pad, mode: str = "constant", value=None):
    """PyTorch's ``F.pad``: ``pad`` lists (before, after) pairs from the last dimension backwards."""
    pad = tuple(int(p) for p in pad)
    ndim = input.array.ndim
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise RuntimeError(
            f"pad: Padding length must be divisible by 2 and at most twice the number of "
            f"dimensions ({ndim}) of the input, got {len(pad)}"
        )
    pairs = [(0, 0)] * ndim
    for k in range(len(pad) // 2):
        pairs[ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    if mode == "constant":
        return ConstantPad.apply(input, tuple(pairs), 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(
            f"pad: mode {mode!r} is not supported; use 'constant', 'reflect', 'replicate' or 'circular'"
        )
    if value not in (None, 0):
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    xp = get_array_module(input.array)
    out = input
    for axis, (lo, hi) in enumerate(pairs):
        if lo or hi:
            n = input.array.shape[axis]
            if mode == "reflect" and (lo >= n or hi >= n):
                raise RuntimeError(
                    f"pad: Padding size should be less than the corresponding input dimension, "
                    f"but got: padding ({lo}, {hi}) at dimension {axis} of input {list(input.shape)}"
                )
            if mode == "circular" and (lo > n or hi > n):
                raise RuntimeError(
                    f"pad: circular padding ({lo}, {hi}) can't exceed the size {n} of dimension {axis}"
                )
            out = TakeAlong.apply(out, _pad_index(xp, n, lo, hi, mode), axis)
    return out


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale=None,
    enable_gqa: bool = False,
):
    """``softmax(q k^T * scale + mask) v``, with an optional causal mask and dropout on the weights."""
    from .linalg import Matmul

    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported by nbframe")
    q_len, k_len, e = query.shape[-2], key.shape[-2], query.shape[-1]
    scale = 1.0 / math.sqrt(e) if scale is None else scale
    scores = Matmul.apply(query, key.transpose(-2, -1)) * scale
    xp = get_array_module(query.array)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both"
            )
        keep = xp.tril(xp.ones((q_len, k_len), dtype=bool))
        scores = scores + xp.where(keep, 0.0, -math.inf).astype(query.array.dtype)
    elif attn_mask is not None:
        m = raw(attn_mask)
        if m.dtype.kind == "b":
            scores = scores + xp.where(m, 0.0, -math.inf).astype(query.array.dtype)
        else:
            scores = scores + attn_mask
    weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return Matmul.apply(weights, value)
