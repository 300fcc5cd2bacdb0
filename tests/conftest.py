"""Shared fixtures. The helpers that compare with PyTorch live in ``tests/oracle.py``."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state."""
    nf.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)
