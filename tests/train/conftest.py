import pytest

import nbframe as nf


@pytest.fixture
def blobs():
    """A tiny separable two-class problem: 256 points in 8 dims."""
    nf.manual_seed(0)
    x = nf.randn(256, 8)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return x, y


@pytest.fixture
def mlp():
    nf.manual_seed(1)
    return nf.nn.Sequential(nf.nn.Linear(8, 16), nf.nn.ReLU(), nf.nn.Linear(16, 2))
