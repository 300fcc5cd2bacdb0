"""Distances: ``cdist`` (every row of one batch of points to every row of another) and ``dist``.

``cdist`` takes the differences of all pairs with a broadcasting subtraction and reduces them with one
op, ``PairDistance``, whose backward follows PyTorch's cdist: 0 where a distance is 0 (no NaN), and for
``p=inf`` every coordinate that attains the maximum gets the full gradient.
"""

from __future__ import annotations

import math

from ..autograd.function import Op
from ..backend import get_array_module
from ..linalg.norms import vector_norm
from .elementwise import _const, _quiet, _type_name, abs, pow

__all__ = ["cdist", "dist"]

_COMPUTE_MODES = (
    "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist",
)


def _distance_array(xp, diff, p: float):
    """The ``p``-norm of ``diff`` over its last axis (``p=0`` counts the nonzero coordinates)."""
    magnitude = xp.abs(diff)
    if p == 0:
        return (magnitude != 0).sum(-1).astype(diff.dtype)
    if p == 1:
        return magnitude.sum(-1)
    if p == 2:
        return xp.sqrt((diff * diff).sum(-1))
    if math.isinf(p):  # (CuPy's max has no ``initial``: no columns means distance 0)
        return magnitude.max(-1) if diff.shape[-1] else magnitude.sum(-1)
    return (magnitude**p).sum(-1) ** (1 / p)


class PairDistance(Op):
    """``diff`` (..., P, R, M) -> its ``p``-norm over M, (..., P, R)."""

    label = "cdist"

    @staticmethod
    def forward(ctx, diff, p):
        xp = get_array_module(diff)
        with _quiet():
            out = _distance_array(xp, diff, p)
        ctx.save_for_backward(diff, out)
        ctx.p = p
        return out

    @staticmethod
    def backward(ctx, grad):
        diff, out = ctx.saved_tensors
        p = ctx.p
        x, d = diff.array, out.array
        xp = get_array_module(x)
        if p == 0:
            return _const(xp.zeros_like(x)), None
        grad = grad.unsqueeze(-1)
        sign = xp.sign(x)
        if math.isinf(p):
            return grad * _const(sign * (xp.abs(x) == d[..., None])), None
        # Where a distance is 0 its gradient is 0: divide by d + 1 there instead of by 0, then zero it.
        zero = (d == 0)[..., None]
        safe_d = out.unsqueeze(-1) + _const(zero.astype(x.dtype))
        kept = _const((~zero).astype(x.dtype))
        if p == 2:
            return grad * diff / safe_d * kept, None
        # d/dx_i = sign(x_i) |x_i|^(p-1) / d^(p-1); |x_i| + 1 where x_i == 0 (sign 0 zeroes those anyway).
        safe_abs = abs(diff) + _const((x == 0).astype(x.dtype))
        return grad * _const(sign) * pow(safe_abs / safe_d, p - 1) * kept, None


def cdist(x1, x2, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"):
    """The ``p``-norm distance between each row of ``x1`` (..., P, M) and each row of ``x2`` (..., R, M).

    Returns (..., P, R), batch dimensions broadcast. ``compute_mode`` is accepted for PyTorch's
    signature; nbframe always computes the differences directly (exact, no cancellation).
    """
    for name, x in (("X1", x1), ("X2", x2)):
        if not x.is_floating_point():
            raise RuntimeError(
                f"cdist only supports floating-point dtypes, {name} got: {_type_name(x.array)}"
            )
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    if x1.dtype != x2.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(x1.array)} but found {_type_name(x2.array)}")
    if not p >= 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(
            f"cdist: {compute_mode!r} is not a valid value for compute_mode; expected one of {_COMPUTE_MODES}"
        )
    return PairDistance.apply(x1.unsqueeze(-2) - x2.unsqueeze(-3), float(p))


def dist(input, other, p: float = 2):
    """The ``p``-norm of ``input - other`` (broadcast) as one number: ``torch.dist``."""
    difference = input - other
    if not difference.is_floating_point():
        raise RuntimeError(
            "norm(): input dtype should be either floating point or complex. "
            f"Got {_type_name(difference.array)} instead."
        )
    return vector_norm(difference, p)


TENSOR_METHODS = {"dist": dist}
