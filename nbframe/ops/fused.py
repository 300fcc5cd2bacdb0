"""Ops whose forward and backward are one of our CUDA kernels (``kernels/*.cu``).

Each is reached from exactly one dispatch line in the op it speeds up, taken only for CUDA
arrays of a kernel dtype (``backend.cuda.has_kernel_dtype``); NumPy arrays never come here.
A plain ``backward()`` runs the backward kernel; ``create_graph=True`` writes the same gradient
with Tensor ops instead, so that it can be differentiated again.
"""

from __future__ import annotations

from ..autograd import function as _fn
from ..autograd.function import Op
from ..backend import cuda as _cuda
from .losses import _coefficients, _rows, _unrows
from .nnops import TENSOR_MATH, LogSoftmax, _graph_mode, _norm_backward, _normalize, _quiet, array_math, raw


# --------------------------------------------------------------------------- dropout
class FusedDropout(Op):
    """Dropout with the Philox kernel: the keep mask is a function of (seed, offset, element)."""

    label = "dropout"

    @staticmethod
    def forward(ctx, x, p):
        y, ctx.mask = _cuda.dropout_forward(x, p)
        ctx.p = p
        return y

    @staticmethod
    def backward(ctx, grad):
        return DropoutMask.apply(grad, ctx.mask, ctx.p), None


class DropoutMask(Op):
    """``g * mask / (1 - p)``: dropout's backward, linear in ``g`` and so its own backward."""

    label = "dropout_backward"

    @staticmethod
    def forward(ctx, g, mask, p):
        ctx.mask, ctx.p = mask, p
        return _cuda.dropout_backward(g, mask, p)

    @staticmethod
    def backward(ctx, gg):
        return DropoutMask.apply(gg, ctx.mask, ctx.p), None, None


# --------------------------------------------------------------------------- layer norm
class FusedLayerNorm(Op):
    """Layer norm over the trailing ``spec[0][1]`` elements of each row, one kernel each way.

    ``spec`` is ``NormAffine``'s (the create_graph backward reuses its Tensor formula).
    """

    label = "layer_norm"

    @staticmethod
    def forward(ctx, x, w, b, spec, eps):
        rows, size = spec[0]
        x2 = x.reshape(rows, size)
        wf = None if w is None else w.reshape(size)
        bf = None if b is None else b.reshape(size)
        y, mean, rstd = _cuda.layer_norm_forward(x2, wf, bf, eps)
        ctx.save_for_backward(x, w)
        ctx.stats, ctx.spec, ctx.eps, ctx.has_bias = (mean, rstd), spec, eps, b is not None
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        if _graph_mode():
            xhat, _, _, rstd = _normalize(TENSOR_MATH, x, ctx.spec, ctx.eps)
            return _norm_backward(TENSOR_MATH, grad, w, xhat, rstd, ctx.spec, need) + (None, None)
        rows, size = ctx.spec[0]
        xp = _cuda.cupy_module()
        wa = raw(w)
        if wa is None and need[2]:  # bias without weight: the kernel's dbias needs a weight
            wa = xp.ones(size, grad.array.dtype)
        mean, rstd = ctx.stats
        dx, dw, db = _cuda.layer_norm_backward(
            raw(x).reshape(rows, size), grad.array.reshape(rows, size), mean, rstd,
            None if wa is None else wa.reshape(size))
        param_shape = ctx.spec[4]
        return (_wrap(dx.reshape(raw(x).shape)) if need[0] else None,
                _wrap(dw.reshape(param_shape)) if need[1] else None,
                _wrap(db.reshape(param_shape)) if need[2] else None, None, None)


# --------------------------------------------------------------------------- cross-entropy
class FusedCrossEntropy(Op):
    """Cross-entropy from logits with class-index targets: one kernel forward, one backward.

    Row losses and ``weight[target]`` come back in the accumulator dtype; the reduction
    ('mean' divides by the summed target weights, as PyTorch) happens here.
    """

    label = "cross_entropy"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing):
        xp = _cuda.cupy_module()
        classes = x.shape[1] if x.ndim > 1 else x.shape[0]
        x2 = x.reshape(1, classes) if x.ndim == 1 else _rows(array_math(x), x, classes)
        t = _target_rows(xp, target)
        w = None if weight is None else xp.asarray(weight, dtype=x.dtype)
        loss, row_weight, lse = _cuda.cross_entropy_forward(x2, t, w, ignore_index, label_smoothing)
        ctx.save_for_backward(x, target)
        ctx.meta = (x2, t, w, lse, ignore_index, reduction, label_smoothing, classes)
        if reduction == "none":
            return loss.astype(x.dtype).reshape(target.shape)
        total = loss.sum()
        if reduction == "mean":
            ctx.denom = row_weight.sum()
            with _quiet():
                total = total / ctx.denom
        return total.astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, target = ctx.saved_tensors
        x2, t, w, lse, ignore_index, reduction, smoothing, classes = ctx.meta
        if _graph_mode():
            return _cross_entropy_graph_backward(ctx, grad, x, target) + (None,) * 5
        xp = _cuda.cupy_module()
        g = grad.array.astype(lse.dtype)
        rows = x2.shape[0]
        if reduction == "none":
            grad_loss = g.reshape(rows)
        else:
            with _quiet():
                grad_loss = xp.broadcast_to(g / ctx.denom if reduction == "mean" else g, (rows,))
        gx2 = _cuda.cross_entropy_backward(x2, t, lse, grad_loss, w, ignore_index, smoothing)
        return (_wrap(_unrows(array_math(gx2), gx2, raw(x).shape)),) + (None,) * 5


def _cross_entropy_graph_backward(ctx, grad, x, target):
    """The same gradient with Tensor ops (softmax(x) * sum_c a_c - a), differentiable again."""
    x2, t, w, lse, ignore_index, reduction, smoothing, classes = ctx.meta
    xp = _cuda.cupy_module()
    a, denom, _ = _coefficients(xp, raw(x), raw(target), w, ignore_index, smoothing, classes, "cross_entropy")
    xr = TENSOR_MATH.reshape(x, (1, classes)) if raw(x).ndim == 1 else _rows(TENSOR_MATH, x, classes)
    p = TENSOR_MATH.exp(LogSoftmax.apply(xr, 1))
    if reduction == "none":
        scale = TENSOR_MATH.reshape(grad, (-1, 1))
    else:
        scale = grad / denom if reduction == "mean" else grad
    gx2 = scale * (p * a.sum(axis=1, keepdims=True) - a)
    return (_unrows(TENSOR_MATH, gx2, raw(x).shape),)


def _target_rows(xp, target):
    """Class-index targets as one contiguous int64 row per prediction."""
    return xp.ascontiguousarray(target.reshape(-1), dtype=xp.int64)


def _wrap(array):
    return _fn._wrap(array, False, None, 0)
