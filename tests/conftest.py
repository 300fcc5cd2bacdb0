"""Shared fixtures. The helpers that compare with PyTorch live in ``tests/oracle.py``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

import nbframe as nf

# Property tests explore the same examples on every run (a CI run must not find a new one by chance),
# and a loaded 2-core machine must not turn a slow example into a failure.
settings.register_profile("nbframe", derandomize=True, deadline=None)
settings.load_profile("nbframe")


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state."""
    nf.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)
