"""The issue's acceptance run: LeNet-5 learns scikit-learn's digits to >= 95% test accuracy.

The issue also asks for "under a minute": the run prints its time (about 5 s on an idle 2-core
machine) but does not assert it — speed is never asserted in a unit test, a loaded machine would
turn it into a flaky failure.

The 8x8 digits are resized to LeNet's 28x28 with ``interpolate`` (bilinear), once, before training.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import nbframe as nf
from nbframe.nn import functional as F
from nbframe.vision.models import lenet5

pytest.importorskip("sklearn")


def _digits(train: bool):
    """Images as one (N, 1, 28, 28) tensor and labels as one int64 tensor."""
    try:
        from nbframe.datasets import Digits

        dataset = Digits(train=train)
        images = np.stack([np.asarray(dataset[i][0].numpy()) for i in range(len(dataset))])
        labels = np.array([int(dataset[i][1]) for i in range(len(dataset))])
    except ImportError:  # datasets not there: the same data straight from scikit-learn
        from sklearn.datasets import load_digits

        bunch = load_digits()
        order = np.random.default_rng(0).permutation(len(bunch.target))
        chosen = order[360:] if train else order[:360]
        images = (bunch.images[chosen] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
        labels = bunch.target[chosen]
    with nf.no_grad():
        big = F.interpolate(nf.tensor(images.astype(np.float32)), size=(28, 28), mode="bilinear",
                            align_corners=False)
    return (big - 0.3) / 0.4, nf.tensor(labels.astype(np.int64))


@pytest.mark.slow
def test_lenet5_learns_digits_to_95_percent():
    start = time.perf_counter()
    nf.manual_seed(0)
    x_train, y_train = _digits(train=True)
    x_test, y_test = _digits(train=False)
    model = lenet5()
    optimizer = nf.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    rng = np.random.default_rng(0)
    n, batch = len(y_train), 64
    for _epoch in range(12):
        order = nf.tensor(rng.permutation(n))
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
    model.eval()
    with nf.no_grad():
        accuracy = float((model(x_test).argmax(1) == y_test).float().mean())
    elapsed = time.perf_counter() - start
    assert accuracy >= 0.95, f"test accuracy {accuracy:.3f} after training"
    print(f"LeNet-5 on Digits: {accuracy:.3f} test accuracy, training took {elapsed:.1f} s")
