"""Datasets: the map-style ``Dataset`` (index -> sample), ``IterableDataset`` (a stream of samples),
and the helpers that combine them (``TensorDataset``, ``Subset``, ``ConcatDataset``, ``random_split``).

Map-style datasets may also offer ``_batch_fetcher()``, returning a function (or
None) that maps an integer NumPy array of indices to the already-collated batch
(what ``default_collate`` would give for those samples). The DataLoader uses it,
when the collation is the default one, to fetch a batch with one fancy-index
instead of one ``__getitem__`` per sample.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ...random import Generator, rng_for
from ...tensor import Tensor, _wrap

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


class Dataset:
    """A map-style dataset: implement ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: implement ``__iter__()``; it has no random access."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        raise TypeError("IterableDatasets can't be concatenated with +; chain their iterators instead")


class TensorDataset(Dataset):
    """Samples are the ``index``-th rows of each tensor: ``(x[i], y[i])``."""

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset expects Tensors, but argument {i} is {type(t).__name__}")
        sizes = [t.shape[0] if t.dim() else None for t in tensors]
        if any(s is None for s in sizes) or len(set(sizes)) != 1:
            raise ValueError(f"Size mismatch between tensors: their first dimensions are {sizes}, "
                             "but TensorDataset needs them all equal")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _batch_fetcher(self):
        return self._rows

    def _rows(self, indices: np.ndarray) -> list[Tensor]:
        return [_take_rows(t, indices) for t in self.tensors]


def _take_rows(t: Tensor, indices: np.ndarray) -> Tensor:
    """``t[indices]`` as a new tensor without grad: a slice copy when the indices are a run."""
    array = t.array
    n = len(indices)
    if n and indices[-1] - indices[0] == n - 1 and (n == 1 or bool((np.diff(indices) == 1).all())):
        rows = array[int(indices[0]):int(indices[0]) + n].copy()
    else:
        if type(array) is not np.ndarray:
            from ...backend import get_array_module

            indices = get_array_module(array).asarray(indices)
        rows = array[indices]
    return _wrap(rows, False, None, 0)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets: Iterable[Dataset]):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index = len(self) + index
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = 0 if which == 0 else self.cumulative_sizes[which - 1]
        return self.datasets[which][index - start]


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator: Generator | None = None) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_from_fractions(lengths, n)
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input "
                         f"dataset "
                         f"({n})")
    order = rng_for(generator).permutation(n).tolist()
    subsets, offset = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[offset:offset + length]))
        offset += length
    return subsets


def _lengths_from_fractions(fractions: Sequence[float], n: int) -> list[int]:
    """Floor each fraction of ``n``; hand the remainder out one by one, round-robin (PyTorch's rule)."""
    lengths = []
    for i, frac in enumerate(fractions):
        if frac < 0 or frac > 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        lengths.append(int(math.floor(n * frac)))
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    return lengths
