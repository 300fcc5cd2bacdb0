"""Losses as fused ops: cross-entropy and NLL over classes, and the element-wise losses.

Same pattern as ``nnops``: forward on arrays, backward written once against a
math namespace (arrays for a plain backward, Tensors under create_graph).
Every loss takes ``reduction`` = 'mean' | 'sum' | 'none' (and KL's 'batchmean').
"""

from __future__ import annotations

import math

from ..autograd import function as _fn
from ..autograd.function import Op, wrap_gradients
from ..autograd.grad_mode import _state as _grad_state
from ..backend import cuda as _cuda
from ..backend import get_array_module
from .broadcast import sum_to, sum_to_array
from .constant_arguments import refuse_gradient
from .nnops import (
    TENSOR_MATH,
    LogSoftmax,
    _graph_mode,
    _numel,
    _quiet,
    _softmax,
    array_math,
    cast_like,
    raw,
)

__all__: list[str] = []  # nn.functional exports these; torch has none at the top level

# ----------------------------------------------------------------- class losses (cross entropy, NLL)
_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str, op: str, extra: tuple = ()) -> None:
    if reduction not in _REDUCTIONS + extra:
        raise ValueError(
            f"{op}: {reduction} is not a valid value for reduction; expected one of "
            f"{', '.join(repr(r) for r in _REDUCTIONS + extra)}"
        )


def _rows(m, x, classes: int):
    """(N, C, d1, ...) -> (N * d1 * ..., C): the class axis last, one row per prediction."""
    shape = raw(x).shape
    if len(shape) > 2:
        x = m.permute(x, (0,) + tuple(range(2, len(shape))) + (1,))
    return m.reshape(x, (-1, classes))


def _unrows(m, x2, shape):
    """The inverse of ``_rows`` (and of the (1, C) view of an unbatched input)."""
    if len(shape) > 2:
        moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
        x2 = m.reshape(x2, moved)
        n = len(shape)
        return m.permute(x2, (0, n - 1) + tuple(range(1, n - 1)))
    return m.reshape(x2, shape)


class ClassLoss(Op):
    """Cross-entropy (from logits, fused with log-softmax) or NLL (from log-probabilities).

    Both are ``loss_i = -sum_c a_ic * logp_ic`` with a coefficient matrix ``a``
    built from the targets, class weights, ignore_index and label smoothing; the
    gradient is then ``G_i * (p_ic * sum_c a_ic - a_ic)`` (cross entropy) or
    ``-G_i * a_ic`` (NLL): softmax minus one-hot, never the log of a softmax.
    """

    label = "cross_entropy"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing, from_logits):
        op = "cross_entropy" if from_logits else "nll_loss"
        m = array_math(x)
        xp = m.xp
        classes = x.shape[1] if x.ndim > 1 else x.shape[0]
        x2 = x.reshape(1, classes) if x.ndim == 1 else _rows(m, x, classes)
        a, denom, out_shape = _coefficients(xp, x, target, weight, ignore_index, label_smoothing, classes, op)
        logp = _softmax(x2, 1, True) if from_logits else x2
        losses = -(a * logp).sum(axis=1)
        ctx.save_for_backward(x, target, logp, a)
        ctx.meta = (classes, reduction, denom, out_shape, label_smoothing, from_logits)
        ctx.weight = None if weight is None else weight.astype(x.dtype, copy=False)
        return _reduce_rows(xp, losses, reduction, denom, out_shape)

    @staticmethod
    def backward(ctx, grad):
        if not _graph_mode():
            return wrap_gradients(ClassLoss.backward_arrays(ctx, grad.array))
        # Rebuild what backward reads as functions of the inputs, so that it differentiates again.
        x, target, _, a = ctx.saved_tensors
        classes, _, _, _, smoothing, from_logits = ctx.meta
        m = TENSOR_MATH
        xr = m.reshape(x, (1, classes)) if x.ndim == 1 else _rows(m, x, classes)
        logp = LogSoftmax.apply(xr, 1) if from_logits else xr
        coeff = a.array
        if ctx.needs_input_grad[1]:
            coeff = _probability_coefficients(m, target, raw(x).ndim, classes, smoothing, ctx.weight)
        return _class_loss_backward(ctx, m, grad, logp, coeff, raw(x).shape, raw(target).shape)

    @staticmethod
    def backward_arrays(ctx, grad):
        x, target, logp, a = ctx.saved_arrays
        gx, gt, *nones = _class_loss_backward(ctx, array_math(grad), grad, logp, a, x.shape, target.shape)
        gx = None if gx is None else cast_like(gx, grad)
        gt = None if gt is None else cast_like(gt, grad)
        return (gx, gt, *nones)


def _class_loss_backward(ctx, m, g, logp, coeff, x_shape, target_shape):
    """ClassLoss's gradients in either math (``logp`` and ``coeff`` as arrays or Tensors, like ``g``)."""
    classes, reduction, denom, out_shape, smoothing, from_logits = ctx.meta
    need = ctx.needs_input_grad
    scale = m.reshape(g, (-1, 1)) if reduction == "none" else (g / denom if reduction == "mean" else g)
    gx = gt = None
    if need[0]:
        if from_logits:
            # coeff is a Tensor only when it is the targets' (probability targets that need a gradient)
            total = coeff.sum(axis=1, keepdims=True) if raw(coeff) is coeff else m.sum(coeff, (1,))
            gx2 = scale * (m.exp(logp) * total - coeff)
        else:
            gx2 = -scale * coeff
        gx = _unrows(m, gx2, x_shape)
    if need[1]:
        # Probability targets: d loss / d target_c = -w_c (1 - label_smoothing) logp_c.
        w = 1.0 if ctx.weight is None else ctx.weight
        gt = _unrows(m, -scale * logp * (w * (1.0 - smoothing)), target_shape)
    return gx, gt, None, None, None, None, None


def _probability_coefficients(m, target, ndim, classes, smoothing, weight):
    """``a`` for probability targets: ``w * (t (1 - eps) + eps / C)``, one row per prediction."""
    t2 = m.reshape(target, (1, classes)) if ndim == 1 else _rows(m, target, classes)
    a = t2 * (1.0 - smoothing) + smoothing / classes if smoothing else t2
    return a * weight if weight is not None else a


def _coefficients(xp, x, target, weight, ignore_index, smoothing, classes, op):
    """The coefficient matrix ``a`` (rows, C), the 'mean' denominator and the unreduced output shape."""
    dtype = x.dtype
    w = None if weight is None else weight.astype(dtype, copy=False)
    if target.dtype.kind == "f":
        if target.shape != x.shape:
            raise RuntimeError(
                f"{op}: probability targets must have the input's shape {list(x.shape)}, "
                f"got {list(target.shape)}"
            )
        a = _probability_coefficients(
            array_math(x), target.astype(dtype, copy=False), x.ndim, classes, smoothing, w
        )
        out_shape = () if x.ndim == 1 else (x.shape[0],) + tuple(x.shape[2:])
        return a, float(a.shape[0]), out_shape
    if target.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}: expected class-index targets of an integer dtype (int64), got {target.dtype}"
        )
    _check_target_shape(x, target, op)
    t = target.reshape(-1)
    valid = t != ignore_index
    rows = t.shape[0]
    safe = xp.where(valid, t, 0)
    bad = (safe < 0) | (safe >= classes)
    if bad.any():
        raise IndexError(
            f"{op}: Target {int(t[bad][0])} is out of bounds: class indices must be in "
            f"[0, {classes - 1}] (or equal ignore_index={ignore_index})"
        )
    picked = xp.ones(rows, dtype=dtype) if w is None else w[safe]
    picked = picked * valid
    a = xp.zeros((rows, classes), dtype=dtype)
    a[xp.arange(rows), safe] = picked * (1.0 - smoothing)
    if smoothing:
        a += (smoothing / classes) * (xp.ones(classes, dtype=dtype) if w is None else w) * valid[:, None]
    return a, float(picked.sum()), target.shape


def _check_target_shape(x, target, op):
    if x.ndim == 1:
        ok = target.ndim == 0
    else:
        ok = target.shape == (x.shape[0],) + tuple(x.shape[2:])
        if target.ndim >= 1 and target.shape[0] != x.shape[0]:
            raise ValueError(
                f"{op}: Expected input batch_size ({x.shape[0]}) to match target batch_size "
                f"({target.shape[0]})."
            )
    if not ok:
        want = [] if x.ndim == 1 else [x.shape[0]] + list(x.shape[2:])
        raise RuntimeError(
            f"{op}: class-index targets for input of shape {list(x.shape)} must have shape "
            f"{want} (the input's shape without the class dimension 1), got {list(target.shape)}"
        )


def _reduce_rows(xp, losses, reduction, denom, out_shape):
    if reduction == "none":
        return losses.reshape(out_shape)
    total = losses.sum()
    if reduction == "sum":
        return xp.asarray(total, dtype=losses.dtype)
    with _quiet():
        return xp.asarray(total / denom, dtype=losses.dtype)


# --------------------------------------------------------------------------- element-wise losses
class _PointwiseLoss(Op):
    """``reduce(l(x, t) * weight)``: subclasses give ``l`` (arrays), ``dl/dx`` and ``dl/dt`` (either math)."""

    @classmethod
    def forward(cls, ctx, x, t, weight, reduction, *params):
        m = array_math(x)
        ctx.save_for_backward(x, t)
        ctx.meta = (reduction, params, weight, x.shape, t.shape)
        with _quiet():
            values = cls.value(m, x, t, *params)
        if weight is not None:
            values = values * weight
        values = values.astype(x.dtype, copy=False)
        if reduction == "none":
            return values
        if reduction == "batchmean":
            return m.xp.asarray(values.sum() / (x.shape[0] if x.ndim else 1), dtype=x.dtype)
        return m.xp.asarray(values.sum() if reduction == "sum" else values.mean(), dtype=x.dtype)

    @classmethod
    def backward(cls, ctx, grad):
        if not _graph_mode():
            return wrap_gradients(cls.backward_arrays(ctx, grad.array))
        x, t = ctx.saved_tensors
        return cls._gradients(ctx, TENSOR_MATH, grad, x, t, _as_gradient, sum_to)

    @classmethod
    def backward_arrays(cls, ctx, grad):
        x, t = ctx.saved_arrays
        return cls._gradients(ctx, array_math(grad), grad, x, t, _as_gradient_array, sum_to_array)

    @classmethod
    def _gradients(cls, ctx, m, g, x, t, as_gradient, sum_to_shape):
        """Both inputs' gradients in either math; ``as_gradient`` and ``sum_to_shape`` are its helpers."""
        reduction, params, weight, x_shape, t_shape = ctx.meta
        need = ctx.needs_input_grad
        full = _broadcast_shape(x_shape, t_shape)
        like = g
        if reduction == "mean":
            g = g / _numel(full)
        elif reduction == "batchmean":
            g = g / (x_shape[0] if x_shape else 1)
        if weight is not None:
            g = g * weight
        out = [None, None]
        with _quiet():
            for i, (derivative, shape) in enumerate(((cls.dx, x_shape), (cls.dt, t_shape))):
                if need[i]:
                    out[i] = sum_to_shape(as_gradient(g * derivative(m, x, t, *params), like, full), shape)
        return (out[0], out[1], None, None) + (None,) * len(params)


def _as_gradient(value, grad, shape):
    """A formula's result (array or Tensor, maybe broadcastable) as a Tensor of ``shape`` in grad's dtype."""
    if hasattr(value, "grad_fn"):
        if value.array.dtype != grad.array.dtype:
            value = value.to(grad.dtype)
        return value if value.array.shape == shape else value.expand(shape)
    return _fn._wrap(_as_gradient_array(value, grad.array, shape), False, None, 0)


def _as_gradient_array(value, grad, shape):
    """``_as_gradient`` for an array formula and an array ``grad``: an array of ``shape`` in grad's dtype."""
    xp = get_array_module(grad)
    value = xp.asarray(value, dtype=grad.dtype)
    if value.shape != shape:
        value = xp.ascontiguousarray(xp.broadcast_to(value, shape))
    return value


def _broadcast_shape(a, b):
    import numpy

    return numpy.broadcast_shapes(a, b)


def _sign(x):
    r = raw(x)
    return get_array_module(r).sign(r)


class MseLoss(_PointwiseLoss):
    label = "mse_loss"

    @staticmethod
    def value(m, x, t):
        d = x - t
        return d * d

    @staticmethod
    def dx(m, x, t):
        return 2.0 * (x - t)

    @staticmethod
    def dt(m, x, t):
        return -2.0 * (x - t)


class L1Loss(_PointwiseLoss):
    label = "l1_loss"

    @staticmethod
    def value(m, x, t):
        return m.xp.abs(x - t)

    @staticmethod
    def dx(m, x, t):
        return _sign(raw(x) - raw(t))

    @staticmethod
    def dt(m, x, t):
        return -_sign(raw(x) - raw(t))


class HuberLoss(_PointwiseLoss):
    """Huber (``delta``) and smooth L1 (``beta``, = huber / beta): quadratic inside, linear outside."""

    label = "huber_loss"

    @staticmethod
    def value(m, x, t, delta, divide):
        d = m.xp.abs(x - t)
        out = m.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
        return out / delta if divide else out

    @staticmethod
    def dx(m, x, t, delta, divide):
        d = x - t
        r = raw(d)
        out = m.where((r <= delta) & (r >= -delta), d, delta * _sign(r))
        return out / delta if divide else out

    @classmethod
    def dt(cls, m, x, t, delta, divide):
        return -cls.dx(m, x, t, delta, divide)


class BceLoss(_PointwiseLoss):
    """Binary cross-entropy on probabilities; each log is clamped at -100, as PyTorch does."""

    label = "binary_cross_entropy"

    @staticmethod
    def value(m, x, t):
        xp = m.xp
        return -(t * xp.maximum(xp.log(x), -100.0) + (1 - t) * xp.maximum(xp.log1p(-x), -100.0))

    @staticmethod
    def dx(m, x, t):
        # PyTorch's: (x - t) / max(x (1 - x), 1e-12).
        denom = x * (1 - x)
        return (x - t) / m.where(raw(denom) < 1e-12, 1e-12, denom)

    @staticmethod
    def dt(m, x, t):
        return _clamped_log(m, 1 - x) - _clamped_log(m, x)


def _clamped_log(m, v):
    """``max(log v, -100)``, with no NaN gradient where v is 0."""
    ok = raw(v) > math.exp(-100.0)
    return m.where(ok, m.log(m.where(ok, v, 1.0)), -100.0)


class BceWithLogitsLoss(_PointwiseLoss):
    """``(1 - t) x + (1 + (pos_weight - 1) t) * softplus(-x)``: stable for any logit."""

    label = "binary_cross_entropy_with_logits"

    @staticmethod
    def value(m, x, t, pos_weight):
        scale = 1.0 if pos_weight is None else 1 + (pos_weight - 1) * t
        return (1 - t) * x + scale * m.softplus(-x)

    @staticmethod
    def dx(m, x, t, pos_weight):
        scale = 1.0 if pos_weight is None else 1 + (pos_weight - 1) * t
        return (1 - t) + scale * (m.sigmoid(x) - 1)

    @staticmethod
    def dt(m, x, t, pos_weight):
        if pos_weight is None:
            return -x
        return -x + (pos_weight - 1) * m.softplus(-x)


class KlDivLoss(_PointwiseLoss):
    """``t (log t - x)`` (0 where t = 0), or ``exp(t) (t - x)`` with ``log_target``."""

    label = "kl_div"

    @staticmethod
    def value(m, x, t, log_target):
        if log_target:
            return m.xp.exp(t) * (t - x)
        safe = m.xp.where(t > 0, t, 1.0)
        return m.xp.where(t > 0, t * m.xp.log(safe), 0.0) - t * x

    @staticmethod
    def dx(m, x, t, log_target):
        return -m.exp(t) if log_target else -t

    @staticmethod
    def dt(m, x, t, log_target):
        if log_target:
            return m.exp(t) * (t - x + 1)
        positive = raw(t) > 0
        return m.where(positive, m.log(m.where(positive, t, 1.0)) + 1, 0.0) - x


# ----------------------------------------------------------------- the functions (nn.functional's names)
def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's legacy ``size_average``/``reduce`` pair folded into ``reduction`` (loss modules use it)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else ("mean" if size_average else "sum")


def _reduction(size_average, reduce, reduction: str, op: str, extra: tuple = ()) -> str:
    """The legacy pair folded into ``reduction``, which is then checked for ``op``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, op, extra)
    return reduction


def _array_or_none(t):
    return None if t is None else raw(t)


def _nll_function(input) -> str:
    """The name PyTorch's refusal gives the class loss: its 2-d kernel takes inputs with spatial dims."""
    return "nll_loss2d_forward" if input.array.ndim > 2 else "nll_loss_forward"


def _weighted_probabilities(input, target, weight, label_smoothing: float):
    """Probability targets smoothed and scaled by the class weights, in Tensor ops: PyTorch differentiates
    its cross entropy with respect to such weights (a composite of ops there too)."""
    classes = input.array.shape[1] if input.array.ndim > 1 else input.array.shape[0]
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    view = (classes,) + (1,) * (input.array.ndim - 2) if input.array.ndim > 1 else (classes,)
    return target * weight.reshape(view)


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    """Cross-entropy from logits: one fused, stable log-softmax + NLL (class indices or probabilities)."""
    reduction = _reduction(size_average, reduce, reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    _check_class_input(input, "cross_entropy")
    if target.array.dtype.kind == "f":
        if weight is not None and weight.requires_grad and _grad_state.enabled:
            target = _weighted_probabilities(input, target, weight, label_smoothing)
            weight, label_smoothing = None, 0.0
    else:
        refuse_gradient(_nll_function(input), weight=weight)
    if _cuda.has_kernel_dtype(input.array) and target.array.dtype.kind in "iu":  # kernels/cross_entropy.cu
        from .fused import FusedCrossEntropy

        _check_target_shape(input.array, target.array, "cross_entropy")
        return FusedCrossEntropy.apply(input, target, _array_or_none(weight), ignore_index, reduction,
                                       label_smoothing)
    return ClassLoss.apply(
        input, target, _array_or_none(weight), ignore_index, reduction, label_smoothing, True
    )


def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
):
    """Negative log-likelihood of log-probabilities ``input`` (N, C, ...) at class indices ``target``."""
    reduction = _reduction(size_average, reduce, reduction, "nll_loss")
    _check_class_input(input, "nll_loss")
    if target.array.dtype.kind == "f":
        raise RuntimeError(
            "nll_loss: expected class-index targets of an integer dtype (int64), got floating "
            f"{target.dtype}; for probability targets use cross_entropy"
        )
    refuse_gradient(_nll_function(input), weight=weight)
    return ClassLoss.apply(input, target, _array_or_none(weight), ignore_index, reduction, 0.0, False)


def _check_class_input(input, op):
    if input.array.ndim == 0:
        raise ValueError(
            f"{op}: input must have a class dimension: (C,), (N, C) or (N, C, d1, ...); got a 0-d tensor"
        )
    if input.array.dtype.kind != "f":
        raise RuntimeError(
            f"{op}: expected a floating input (logits or log-probabilities), got {input.dtype}"
        )


def _pointwise(cls, op, input, target, reduction, weight=None, *params):
    from ..tensor import Tensor

    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a Tensor, got {type(target).__name__}")
    if input.array.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating input, got {input.dtype}")
    try:
        _broadcast_shape(input.array.shape, target.array.shape)
    except ValueError:
        raise ValueError(
            f"{op}: the input's shape {list(input.shape)} and the target's {list(target.shape)} can't "
            "be broadcast together (they should usually be equal)"
        ) from None
    if target.array.dtype != input.array.dtype:
        target = target.to(input.dtype)
    return cls.apply(input, target, None if weight is None else raw(weight), reduction, *params)


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Mean squared error."""
    reduction = _reduction(size_average, reduce, reduction, "mse_loss")
    return _pointwise(MseLoss, "mse_loss", input, target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Mean absolute error."""
    reduction = _reduction(size_average, reduce, reduction, "l1_loss")
    return _pointwise(L1Loss, "l1_loss", input, target, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
    """Quadratic below ``beta``, linear above: Huber's loss divided by ``beta`` (L1 when beta is 0)."""
    reduction = _reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta (got {beta})")
    if beta == 0:
        return _pointwise(L1Loss, "smooth_l1_loss", input, target, reduction)
    return _pointwise(HuberLoss, "smooth_l1_loss", input, target, reduction, None, float(beta), True)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """Quadratic below ``delta``, linear (slope ``delta``) above."""
    check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta (got {delta})")
    if weight is not None and weight.requires_grad and _grad_state.enabled:
        # The weight needs a gradient: weigh the unreduced loss in Tensor ops, as PyTorch does.
        unweighted = _pointwise(HuberLoss, "huber_loss", input, target, "none", None, float(delta), False)
        weighted = unweighted * weight
        return weighted if reduction == "none" else weighted.sum() if reduction == "sum" else weighted.mean()
    return _pointwise(HuberLoss, "huber_loss", input, target, reduction, weight, float(delta), False)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
    """BCE of probabilities in [0, 1]; each log is clamped at -100 so a 0 or 1 never gives inf."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy")
    if input.array.shape != target.array.shape:
        raise ValueError(
            f"binary_cross_entropy: Using a target size ({list(target.shape)}) that is different to "
            f"the input size ({list(input.shape)}) is deprecated. Please ensure they have the same size."
        )
    refuse_gradient("binary_cross_entropy", weight=weight)
    x = input.array
    if x.size and (bool((x < 0).any()) or bool((x > 1).any())):
        raise RuntimeError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities; "
            "for logits use binary_cross_entropy_with_logits)"
        )
    return _pointwise(BceLoss, "binary_cross_entropy", input, target, reduction, weight)


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None
):
    """BCE on logits in one stable step (log-sum-exp form); ``pos_weight`` scales the positive term."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    if input.array.shape != target.array.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: Target size ({list(target.shape)}) must be the same as "
            f"input size ({list(input.shape)})"
        )
    refuse_gradient("binary_cross_entropy_with_logits", weight=weight, pos_weight=pos_weight)
    pw = None if pos_weight is None else raw(pos_weight).astype(input.array.dtype, copy=False)
    return _pointwise(
        BceWithLogitsLoss, "binary_cross_entropy_with_logits", input, target, reduction, weight, pw
    )


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
    """KL divergence with ``input`` as log-probabilities: ``target * (log target - input)``."""
    reduction = _reduction(size_average, reduce, reduction, "kl_div", ("batchmean",))
    return _pointwise(KlDivLoss, "kl_div", input, target, reduction, None, bool(log_target))
