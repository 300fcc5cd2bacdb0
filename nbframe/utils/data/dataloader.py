"""``DataLoader``: iterate over a dataset in (shuffled) batches, collated into tensors.

Loading happens in the calling process (``num_workers=0``). The hot path: with
the default collation and a dataset that can fetch a whole batch at once
(``TensorDataset``, ``Subset`` of one, the bundled datasets without transforms),
each batch is one fancy-index of the underlying arrays, from indices that the
sampler drew as one NumPy array — the same indices, in the same order, and the
same batches as the per-sample path gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ...random import Generator
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset, Subset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]


def get_worker_info() -> None:
    """Always None: data loads in the main process (PyTorch returns None there too)."""
    return None


class DataLoader:
    """PyTorch's DataLoader (single-process): ``batch_size``, ``shuffle``, ``sampler``, ``batch_sampler``,
    ``drop_last``, ``collate_fn``, and a ``generator`` that makes shuffling reproducible."""

    def __init__(self, dataset: Dataset | Iterable, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler | Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context=None,
                 generator: Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = ""):
        _check_workers(num_workers, prefetch_factor, persistent_workers)
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._is_iterable = isinstance(dataset, IterableDataset) or (
            not hasattr(dataset, "__getitem__") and hasattr(dataset, "__iter__"))
        if self._is_iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler "
                                 "option, but "
                                 f"got batch_sampler={batch_sampler}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, "
                                 "and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None and not self._is_iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._is_iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            batched = batch_size is not None or batch_sampler is not None
            collate_fn = default_collate if batched else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    def __len__(self) -> int:
        if self._is_iterable:
            n = len(self.dataset)  # raises TypeError when the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self._auto_collation else self.sampler)

    def __iter__(self) -> Iterator:
        if self._is_iterable:
            return self._iter_stream()
        if not self._auto_collation:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        fast = self._fast_batches()
        if fast is not None:
            return fast
        return self._iter_batches()

    def _iter_batches(self) -> Iterator:
        dataset, collate = self.dataset, self.collate_fn
        getitems = getattr(dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            samples = getitems(indices) if getitems is not None else [dataset[i] for i in indices]
            yield collate(samples)

    def _fast_batches(self) -> Iterator | None:
        """Batches by one fancy-index each, when the collation is the default and the dataset allows it."""
        if self.collate_fn is not default_collate or type(self.batch_sampler) is not BatchSampler:
            return None
        get_batch = _batch_getter(self.dataset)
        if get_batch is None:
            return None
        batches = self.batch_sampler._index_batches()
        if batches is None:
            return None
        return (get_batch(indices) for indices in batches)

    def _iter_stream(self) -> Iterator:
        stream = iter(self.dataset)
        if self.batch_size is None:
            for sample in stream:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in stream:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)


def _batch_getter(dataset) -> Callable[[np.ndarray], Any] | None:
    """The dataset's whole-batch fetch (through any Subsets), or None when it has none."""
    if isinstance(dataset, Subset):
        inner = _batch_getter(dataset.dataset)
        if inner is None:
            return None
        positions = np.asarray(dataset.indices, dtype=np.int64)
        return lambda indices: inner(positions[indices])
    fetcher = getattr(dataset, "_batch_fetcher", None)
    return fetcher() if fetcher is not None else None


def _check_workers(num_workers: int, prefetch_factor, persistent_workers: bool) -> None:
    if not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                         "multiprocessing.")
    if num_workers > 0:
        raise NotImplementedError(
            f"DataLoader(num_workers={num_workers}): nbframe loads data in the main process only; "
            "pass num_workers=0 (batches of in-memory datasets are one array index each, so workers "
            "would not help)"
        )
    if prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing. Let "
                         "num_workers > 0 "
                         "to enable multiprocessing, otherwise set prefetch_factor to None.")
    if persistent_workers:
        raise ValueError("persistent_workers option needs num_workers > 0")
