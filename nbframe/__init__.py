"""nbframe: a deep-learning framework that lives in Jupyter.

``import nbframe as nf`` gives PyTorch's API on NumPy (and CuPy on the GPU):
tensors, autograd, ``nf.nn``, ``nf.optim``, ``nf.utils.data``. Load the
notebook extension with ``%load_ext nbframe``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .floating_point import silence_numpy_in_nbframe as _silence_numpy_in_nbframe
from .memory import keep_freed_memory as _keep_freed_memory

_silence_numpy_in_nbframe()
_keep_freed_memory()

from . import dtypes as _dtypes
from .dtypes import (
    bfloat16, bool_ as bool, double, float16, float32, float64, half, int8, int16, int32, int64,
    long, short, uint8, dtype, get_default_dtype, set_default_dtype, promote_types, result_type,
    finfo, iinfo,
)
from math import e, inf, nan, pi
from .dtypes import float, int  # noqa: A004  (PyTorch's names: nbframe.float is float32)
from .backend import device
from .tensor import Size, Tensor
from .autograd import (
    enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled,
)
from .creation import *
from .random import (
    Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state,
)
from .io import load, save
from .ops import *
from .threads import get_num_threads, set_num_threads
from . import autograd, linalg, ops

is_tensor = lambda obj: isinstance(obj, Tensor)  # noqa: E731


def numel(input: Tensor) -> int:
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def _optional(name: str):
    """Import a subpackage lazily (nn, optim, ...), so ``import nbframe`` stays fast."""
    import importlib

    return importlib.import_module(f"{__name__}.{name}")


_LAZY = ("nn", "optim", "utils", "datasets", "vision", "jit", "onnx", "debug", "train", "cuda",
         "magics", "widgets", "kernels", "io")


def __getattr__(name: str):
    if name in _LAZY:
        module = _optional(name)
        globals()[name] = module
        return module
    if name == "fit":  # nf.fit(model, train, ...): the standard loop, nbframe.train.fit
        from .train import fit

        globals()[name] = fit
        return fit
    if name == "summary":  # nf.summary(model, input_size): the table %%model shows
        from .magics.summary import summary

        globals()[name] = summary
        return summary
    raise AttributeError(f"module 'nbframe' has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:
    """``%load_ext nbframe``: register the magics and rich displays."""
    from .magics import load_ipython_extension as load_extension

    load_extension(ipython)


def unload_ipython_extension(ipython) -> None:
    from .magics import unload_ipython_extension as unload_extension

    unload_extension(ipython)
