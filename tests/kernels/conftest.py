"""Skip ``@pytest.mark.gpu`` tests, saying why, where there is no CUDA GPU (or no CuPy)."""

from __future__ import annotations

import pytest


def _why_no_gpu() -> str | None:
    from nbframe.backend import cuda

    try:
        cuda.cupy_module()
    except RuntimeError as exc:
        return f"no CUDA GPU here: {exc}"
    return None


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items:
        return
    reason = _why_no_gpu()
    if reason:
        for item in gpu_items:
            item.add_marker(pytest.mark.skip(reason=reason))
