"""The CUDA backend: CuPy, loaded only when a CUDA device is first used.

Importing this module never imports CuPy, so ``import nbframe`` works on any
machine. Asking for a CUDA device without CuPy or a GPU raises an error that
says what is missing and how to get it.
"""

from __future__ import annotations

import numpy as np

from .device import device

ARRAY_TYPES: tuple = (np.ndarray,)
_cupy = None
_cupy_error: str | None = None

INSTALL_HINT = 'install the CUDA extra: pip install "nbframe[cuda]" (CuPy for CUDA 13)'


def _load():
    """Import CuPy once; remember why it failed so every later call can say so cheaply."""
    global _cupy, _cupy_error, ARRAY_TYPES
    if _cupy is not None or _cupy_error is not None:
        return _cupy
    try:
        import cupy
    except Exception as exc:  # ImportError, or CuPy failing to find CUDA
        _cupy_error = f"CuPy could not be imported ({exc.__class__.__name__}: {exc})"
        return None
    _cupy = cupy
    ARRAY_TYPES = (np.ndarray, cupy.ndarray)
    return cupy


def is_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    cupy = _load()
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def cupy_module():
    """CuPy, or a RuntimeError that says why a CUDA device can't be used here."""
    cupy = _load()
    if cupy is None:
        raise RuntimeError(f"a CUDA device was asked for, but {_cupy_error}; {INSTALL_HINT}")
    if not is_available():
        raise RuntimeError(
            "a CUDA device was asked for, but CuPy sees no CUDA GPU on this machine "
            "(no driver, or no device visible); use device='cpu'"
        )
    return cupy


def array_module_of(array):
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return np


def device_of(array) -> device:
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return device("cuda", array.device.id)
    return device.CPU
