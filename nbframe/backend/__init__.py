"""Where arrays live: the device type and the choice of array module (NumPy or CuPy).

Every op is written once against ``xp``, the array module of its inputs. NumPy
is always there; CuPy is imported only when a CUDA device is first asked for.
"""

from __future__ import annotations

import numpy as np

from . import cuda as _cuda
from .device import as_device, device

__all__ = ["device", "as_device", "get_array_module", "array_types", "device_of", "xp_for"]


def array_types() -> tuple:
    """The array classes a Tensor may hold: numpy.ndarray, plus cupy.ndarray once CuPy is loaded."""
    return _cuda.ARRAY_TYPES


def get_array_module(array):
    """``numpy`` for a NumPy array, ``cupy`` for a CuPy one (Chainer's get_array_module)."""
    if type(array) is np.ndarray:
        return np
    return _cuda.array_module_of(array)


def device_of(array) -> device:
    if type(array) is np.ndarray or isinstance(array, np.generic):
        return device.CPU
    return _cuda.device_of(array)


def xp_for(dev: device):
    """The array module that makes arrays on ``dev``."""
    if dev.type == "cpu":
        return np
    return _cuda.cupy_module()
