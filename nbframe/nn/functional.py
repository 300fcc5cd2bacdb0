"""``nbframe.nn.functional``: the functional form of every layer, activation and loss.

The maths lives in ``nbframe.ops`` (``nnops``, ``conv``, ``pool``); this module
gives it PyTorch's functional names and signatures. Each group below is kept
by the people who write it: add imports in your own section.
"""

from __future__ import annotations

# --- activations, softmax, dropout, linear, embedding, normalisation, losses, attention (nnops) ---

# --- convolution, pooling, unfold/fold, interpolate (ops.conv, ops.pool) ---

# --- recurrent helpers ---
