"""``nbframe.nn.functional``: the functional form of every layer, activation and loss.

The maths lives in ``nbframe.ops`` (``nnops``, ``conv``, ``pool``); this module
gives it PyTorch's functional names and signatures. Each group below is kept
by the people who write it: add imports in your own section.
"""

# ruff: noqa: I001  (each section keeps its own imports together)
from __future__ import annotations

# --- activations, softmax, dropout, linear, embedding, normalisation, losses, attention (nnops) ---
from ..ops.elementwise import sigmoid, tanh  # noqa: F401
from ..ops.losses import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ..ops.nnops import (  # noqa: F401
    batch_norm,
    bilinear,
    cosine_similarity,
    dropout,
    dropout1d,
    dropout2d,
    elu,
    elu_,
    embedding,
    gelu,
    group_norm,
    hardtanh,
    hardtanh_,
    layer_norm,
    functional_log_softmax as log_softmax,
    functional_softmax as softmax,
    leaky_relu,
    leaky_relu_,
    linear,
    logsigmoid,
    mish,
    normalize,
    one_hot,
    pad,
    pairwise_distance,
    relu,
    relu_,
    relu6,
    scaled_dot_product_attention,
    silu,
    softplus,
)

# --- prelu (ops.parametric_relu) ---
from ..ops.parametric_relu import prelu  # noqa: F401

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
