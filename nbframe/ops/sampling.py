"""Drawing category indices from weights: ``multinomial``.

Sampling is not differentiable, so this is a plain function on the host's RNG
(``nbframe.random``), like ``rand``: the same seed gives the same draws on the
CPU and the GPU.
"""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..random import rng_for
from .index import _int_tensor

__all__ = ["multinomial"]


def _check_weights(weights: np.ndarray, num_samples: int, replacement: bool, dtype) -> None:
    if weights.dtype.kind != "f":
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: {dtype}"
        )
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got a {weights.ndim}-d tensor")
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (num_samples={num_samples})")
    if not replacement and num_samples > weights.shape[-1]:
        raise RuntimeError(
            f"cannot sample n_sample > prob_dist.size(-1) samples without replacement "
            f"({num_samples} samples from {weights.shape[-1]} categories)"
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = weights.sum(axis=-1)
    if np.any(totals <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and np.any((weights > 0).sum(axis=-1) < num_samples):
        raise RuntimeError(
            "invalid multinomial distribution (with replacement=False, not enough non-negative category "
            f"to sample): a row has fewer than {num_samples} categories of nonzero weight"
        )


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None, out=None):
    """``num_samples`` category indices per row of ``input`` (non-negative weights, need not sum to 1).

    Without ``replacement`` each row's indices are distinct, drawn one after another with the
    weights of the categories not yet drawn. Returns int64, of shape (num_samples,) or (rows, num_samples).
    """
    array = input.array
    xp = get_array_module(array)
    weights = array if xp is np else xp.asnumpy(array)
    _check_weights(weights, int(num_samples), replacement, input.dtype)
    rows = np.atleast_2d(weights).astype(np.float64)
    rng = rng_for(generator)
    drawn = np.stack([
        rng.choice(row.size, size=int(num_samples), replace=replacement, p=row / row.sum()) for row in rows
    ]).astype(np.int64)
    if weights.ndim == 1:
        drawn = drawn[0]
    return _int_tensor(drawn if xp is np else xp.asarray(drawn))


TENSOR_METHODS = {"multinomial": multinomial}
