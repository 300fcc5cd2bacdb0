"""``nbframe.nn.functional``: the functional form of every layer, activation and loss.

The maths lives in ``nbframe.ops`` (``nnops``, ``conv``, ``pool``); this module
gives it PyTorch's functional names and signatures. Each group below is kept
by the people who write it: add imports in your own section.
"""

# ruff: noqa: I001  (each section keeps its own imports together)
from __future__ import annotations

# --- activations, softmax, dropout, linear, embedding, normalisation, losses, attention (nnops) ---

# --- convolution, pooling, unfold/fold, interpolate (ops.conv, ops.pool) ---
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold  # noqa: F401
from ..ops.pool import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    interpolate,
    max_pool1d,
    max_pool2d,
)

# --- recurrent helpers ---
