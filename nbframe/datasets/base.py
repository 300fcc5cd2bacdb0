"""The common shape of the bundled datasets: images and labels held as two in-memory arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor, _wrap
from ..utils.data.dataset import Dataset


class ArrayImageDataset(Dataset):
    """Samples are ``(image, label)`` with torchvision's ``transform`` / ``target_transform``.

    ``data`` and ``targets`` are the whole dataset as tensors. Without transforms the
    DataLoader fetches a batch with one index of the arrays (``_batch_fetcher``).
    """

    classes: list[str] = []

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Callable | None,
                 target_transform: Callable | None):
        self._images = images
        self._labels = labels.astype(np.int64, copy=False)
        self.transform = transform
        self.target_transform = target_transform

    @property
    def data(self) -> Tensor:
        return _wrap(self._images, False, None, 0)

    @property
    def targets(self) -> Tensor:
        return _wrap(self._labels, False, None, 0)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self._labels)

    def _image(self, index: int) -> Any:
        """One image as handed to ``transform`` (subclasses choose an array or a tensor)."""
        return self._images[index].copy()

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = self._image(index), int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def _batch_fetcher(self):
        """Whole-batch fetch for the DataLoader; none with transforms, which go sample by sample."""
        if self.transform is None and self.target_transform is None:
            return self._batch
        return None

    def _batch(self, indices: np.ndarray) -> list[Tensor]:
        return [_wrap(self._images[indices], False, None, 0), _wrap(self._labels[indices], False, None, 0)]

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        lines += [f"    {line}" for line in self._extra_repr()]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)

    def _extra_repr(self) -> list[str]:
        return []
