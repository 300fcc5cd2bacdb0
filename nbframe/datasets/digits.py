"""The 8x8 handwritten digits bundled with scikit-learn (1,797 images): a dataset with no download.

Small enough to train LeNet-5 to high accuracy in seconds on a laptop CPU, so the
tutorials and tests use it where others would use MNIST.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ..tensor import _wrap
from .base import ArrayImageDataset

__all__ = ["Digits"]

_TEST_FRACTION = 0.2
_SPLIT_SEED = 0


class Digits(ArrayImageDataset):
    """scikit-learn's digits as ``(image, label)``: a 1x8x8 float32 tensor in [0, 1] and an int.

    ``train=True`` gives 1,438 images, ``train=False`` the other 359; the split is a
    fixed random permutation, the same on every machine. ``root`` and ``download``
    are accepted for torchvision compatibility and ignored (the data ship with
    scikit-learn).
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False):
        try:
            from sklearn.datasets import load_digits
        except ImportError as exc:
            raise ImportError("nbframe.datasets.Digits needs scikit-learn, which ships the digits: "
                              "pip install scikit-learn") from exc
        bunch = load_digits()
        images = (bunch.images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
        labels = bunch.target.astype(np.int64)
        order = np.random.default_rng(_SPLIT_SEED).permutation(len(labels))
        n_test = int(round(len(labels) * _TEST_FRACTION))
        chosen = np.sort(order[n_test:] if train else order[:n_test])
        self.root = root
        self.train = train
        super().__init__(np.ascontiguousarray(images[chosen]), labels[chosen], transform, target_transform)

    def _image(self, index: int):
        return _wrap(self._images[index].copy(), False, None, 0)

    def _extra_repr(self) -> list[str]:
        return [f"Split: {'Train' if self.train else 'Test'}"]
