"""Bind the ops to ``Tensor`` as methods.

Each ops module lists its methods in ``TENSOR_METHODS`` (name -> function whose
first argument is the tensor); ``INPLACE`` names the out-of-place methods that
also get a trailing-underscore in-place version (``add`` -> ``add_``).
"""

from __future__ import annotations

from . import MODULES
from .inplace import inplace_method

INPLACE = (
    "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "relu", "sigmoid", "tanh",
    "abs", "clamp", "clamp_min", "clamp_max", "clip", "sin", "cos", "tan", "floor", "ceil", "round",
    "trunc", "reciprocal", "square", "rsqrt", "log1p", "expm1", "sign", "masked_fill", "scatter",
    "scatter_add", "index_fill", "lerp", "addcmul", "addcdiv", "log2", "log10", "frac", "sinh", "cosh",
    "asin", "acos", "atan", "fmod", "remainder", "t", "transpose", "squeeze", "unsqueeze", "copysign",
    "logical_not", "logical_and", "logical_or", "eq", "ne", "lt", "le", "gt", "ge", "hardtanh",
    "leaky_relu", "elu", "silu", "gelu", "mish", "nan_to_num", "floor_divide", "true_divide", "erf",
    "exponential", "subtract", "multiply", "divide", "atan2", "asinh", "acosh", "atanh", "logical_xor",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "exp2", "erfc", "fix", "sgn", "absolute",
    "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arctan2", "cumsum", "cumprod",
    "index_add", "index_put", "masked_scatter",
)


def install(cls) -> None:
    for module in MODULES:
        for name, fn in getattr(module, "TENSOR_METHODS", {}).items():
            setattr(cls, name, fn)
    for name in INPLACE:
        if hasattr(cls, name) and not hasattr(cls, name + "_"):
            setattr(cls, name + "_", inplace_method(getattr(cls, name), name + "_"))
