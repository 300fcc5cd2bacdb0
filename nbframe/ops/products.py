"""Vector and tensor products built from differentiable ops: ``cross`` and ``kron``.

Both are compositions of ``roll``/``reshape`` and broadcasting multiplication, so their gradients (and
gradients of gradients) come from those ops' backward.
"""

from __future__ import annotations

import warnings

from .elementwise import _type_name
from .shape import _dim, reshape, roll

__all__ = ["cross", "kron"]


def _linalg_cross(input, other, dim: int, op: str = "linalg.cross"):
    if input.ndim != other.ndim:
        raise RuntimeError(f"{op}: inputs must have the same number of dimensions.")
    if input.dtype != other.dtype:
        raise RuntimeError(
            f"expected scalar type {_type_name(input.array)} but found {_type_name(other.array)}"
        )
    given, dim = dim, _dim(dim, input.ndim, op)
    if input.ndim == 0 or input.shape[dim] != 3 or other.shape[dim] != 3:
        sizes = " and ".join(str(x.shape[dim] if x.ndim else 1) for x in (input, other))
        raise RuntimeError(f"{op}: inputs dimension {given} must have length 3. Got {sizes}")
    # c_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1} (indices mod 3): two rolls of each operand.
    a1, a2 = roll(input, -1, dim), roll(input, -2, dim)
    b1, b2 = roll(other, -1, dim), roll(other, -2, dim)
    return a1 * b2 - a2 * b1


def cross(input, other, dim: int | None = None):
    """The cross product of 3-vectors along ``dim``, broadcasting the other dimensions.

    ``dim=None`` (deprecated in PyTorch, which warns) takes the first dimension of size 3.
    """
    if dim is None:
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\n"
            "Please either pass the dim explicitly or simply use torch.linalg.cross.\n"
            "The default value of dim will change to agree with that of linalg.cross in a future release.",
            UserWarning,
            stacklevel=2,
        )
        if input.ndim != other.ndim:
            raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
        dim = next((d for d, size in enumerate(input.shape) if size == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return _linalg_cross(input, other, dim)


def linalg_cross(input, other, *, dim: int = -1):
    """``torch.linalg.cross``: the cross product along ``dim`` (the last by default), broadcasting."""
    return _linalg_cross(input, other, dim)


def kron(input, other):
    """The Kronecker product: every element of ``input`` times a copy of ``other``, tiled block by block."""
    ndim = max(input.ndim, other.ndim)
    sa = (1,) * (ndim - input.ndim) + tuple(input.shape)
    sb = (1,) * (ndim - other.ndim) + tuple(other.shape)
    # Interleave the axes: a as (a0, 1, a1, 1, ...), b as (1, b0, 1, b1, ...); their product has the
    # blocks in place once the pairs are merged.
    a = reshape(input, tuple(s for n in sa for s in (n, 1)))
    b = reshape(other, tuple(s for n in sb for s in (1, n)))
    out_shape = tuple(x * y for x, y in zip(sa, sb))
    return reshape(a * b, out_shape)


TENSOR_METHODS = {"cross": cross, "kron": kron}
