"""``nbframe.cuda``: PyTorch's ``torch.cuda`` device and memory functions, over CuPy.

Importable on any machine: without CuPy or a GPU, ``is_available()`` is False, ``device_count()``
is 0, seeding is remembered for later, and anything that needs a device raises an error that says
what is missing and how to install it.
"""

from __future__ import annotations

from .backend import cuda as _backend
from .backend.device import device as _device

__all__ = [
    "is_available", "device_count", "current_device", "set_device", "get_device_name", "synchronize",
    "manual_seed", "manual_seed_all", "memory_allocated", "max_memory_allocated", "reset_peak_memory_stats",
    "memory_reserved", "empty_cache",
]


def is_available() -> bool:
    """True when CuPy imports and sees at least one CUDA GPU."""
    return _backend.is_available()


def device_count() -> int:
    if not is_available():
        return 0
    return _backend.cupy_module().cuda.runtime.getDeviceCount()


def _index(device) -> int:
    """The CUDA index of ``device`` (None: the current one), checked against the devices present."""
    cupy = _backend.cupy_module()
    if device is None:
        return cupy.cuda.Device().id
    if isinstance(device, str):
        device = _device(device)
    if isinstance(device, _device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        device = cupy.cuda.Device().id if device.index is None else device.index
    count = cupy.cuda.runtime.getDeviceCount()
    if not 0 <= int(device) < count:
        raise RuntimeError(f"CUDA device index {device} is out of range: this machine has {count} device(s)")
    return int(device)


def current_device() -> int:
    return _index(None)


def set_device(device) -> None:
    """Make ``device`` (an index, ``"cuda:1"`` or an ``nf.device``) the current CUDA device."""
    _backend.cupy_module().cuda.Device(_index(device)).use()


def get_device_name(device=None) -> str:
    cupy = _backend.cupy_module()
    name = cupy.cuda.runtime.getDeviceProperties(_index(device))["name"]
    return name.decode() if isinstance(name, bytes) else name


def synchronize(device=None) -> None:
    """Wait for every kernel queued on ``device`` to finish."""
    cupy = _backend.cupy_module()
    with cupy.cuda.Device(_index(device)):
        cupy.cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Seed the current device's generators (CuPy's and the dropout kernel's Philox stream)."""
    if not is_available():
        _backend.philox_manual_seed(seed)  # no device yet: becomes the default for all
        return
    cupy = _backend.cupy_module()
    _backend.philox_manual_seed(seed, cupy.cuda.Device().id)
    cupy.random.seed(int(seed) % (2**32))


def manual_seed_all(seed: int) -> None:
    """Seed every device's generators."""
    _backend.philox_manual_seed(seed)
    if is_available():
        cupy = _backend.cupy_module()
        for index in range(device_count()):
            with cupy.cuda.Device(index):
                cupy.random.seed(int(seed) % (2**32))


def _pool():
    return _backend.cupy_module().get_default_memory_pool()


def memory_allocated(device=None) -> int:
    """Bytes held by live arrays on ``device`` (CuPy's default memory pool)."""
    cupy = _backend.cupy_module()
    with cupy.cuda.Device(_index(device)):
        return _pool().used_bytes()


def memory_reserved(device=None) -> int:
    """Bytes the memory pool holds on ``device``, in use or cached for reuse."""
    cupy = _backend.cupy_module()
    with cupy.cuda.Device(_index(device)):
        return _pool().total_bytes()


def max_memory_allocated(device=None) -> int:
    """The most bytes ``memory_allocated`` reached since start or ``reset_peak_memory_stats``."""
    index = _index(device)
    return max(_backend.peak_bytes(index), memory_allocated(index))


def reset_peak_memory_stats(device=None) -> None:
    index = _index(device)
    _backend.reset_peak_bytes(index, memory_allocated(index))


def empty_cache() -> None:
    """Give the pool's cached, unused blocks back to the driver (no-op without a GPU)."""
    if is_available():
        _pool().free_all_blocks()
