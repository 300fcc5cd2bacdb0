"""Reading the magics' option values: shapes (``1,28,28`` or ``(1,28,28)``), dtypes and devices."""

from __future__ import annotations

import ast

from .cell_error import OptionError


def parse_shape(text: str, option: str = "--input"):
    """``1,28,28``, ``(1,28,28)`` or ``784`` -> a tuple; ``(1,3),(1,4)`` -> a list of tuples (several)."""
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, int):
        value = (value,)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, (tuple, list)) for v in value):
        shapes = [tuple(v) for v in value]
    elif isinstance(value, (tuple, list)):
        shapes = [tuple(value)]
    else:
        shapes = []
    if not shapes or not all(shape and all(isinstance(n, int) and n >= 0 for n in shape) for shape in shapes):
        raise OptionError(f"{option} {text}: expected a shape such as 1,28,28 or (1, 28, 28) (batch "
                          "included), or several: (1, 3), (1, 4)")
    return shapes[0] if len(shapes) == 1 else shapes


def parse_dtype(text: str):
    """``float64``, ``nbframe.float64``, ``double`` -> ``nbframe.float64``."""
    import nbframe

    name = text.strip().removeprefix("nbframe.").removeprefix("nf.").removeprefix("torch.")
    value = getattr(nbframe, name, None)
    if not isinstance(value, nbframe.dtype):
        raise OptionError(f"unknown dtype {text!r}: expected one of float32, float64, float16, bfloat16")
    return value


def parse_device(text: str):
    """``cpu``, ``cuda``, ``cuda:1`` -> ``nbframe.device``; CUDA only where a GPU is."""
    import nbframe

    try:
        device = nbframe.device(text.strip())
    except (RuntimeError, TypeError) as exc:
        raise OptionError(str(exc)) from None
    if device.type == "cuda":
        from nbframe.backend import cuda

        if not cuda.is_available():
            raise OptionError(f"device {text!r}: no CUDA GPU is available here (CuPy and a GPU are needed); "
                              "use cpu")
    return device
