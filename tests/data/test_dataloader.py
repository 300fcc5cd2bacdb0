"""Datasets, samplers, collation and the DataLoader (PyTorch's semantics)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import nbframe as nf
from nbframe.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)


class Squares(Dataset):
    """A map-style dataset without a batch fetch: exercises the per-sample path."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        return nf.tensor([float(i), float(i * i)]), i


class Stream(IterableDataset):
    def __init__(self, n: int):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def _tensor_dataset(n: int = 10) -> TensorDataset:
    x = nf.arange(n * 3, dtype=nf.float32).reshape(n, 3)
    y = nf.arange(n)
    return TensorDataset(x, y)


def _as_numpy(batches):
    return [[t.numpy().copy() for t in batch] for batch in batches]


def test_tensor_dataset_returns_rows_and_checks_sizes():
    ds = _tensor_dataset(4)
    x, y = ds[2]
    np.testing.assert_array_equal(x.numpy(), [6, 7, 8])
    assert y.item() == 2 and len(ds) == 4
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(nf.zeros(3), nf.zeros(4))


def test_sequential_batches_keep_order_and_last_partial_batch():
    batches = list(DataLoader(_tensor_dataset(10), batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(batches[2][1].numpy(), [8, 9])
    assert batches[0][0].dtype == nf.float32 and batches[0][1].dtype == nf.int64
    assert isinstance(batches[0], list)


def test_drop_last_and_len():
    loader = DataLoader(_tensor_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and len(list(loader)) == 2
    assert len(DataLoader(_tensor_dataset(10), batch_size=4)) == 3


def test_shuffle_with_a_seeded_generator_is_reproducible_and_a_permutation():
    def labels(seed):
        generator = nf.Generator().manual_seed(seed)
        loader = DataLoader(_tensor_dataset(20), batch_size=6, shuffle=True, generator=generator)
        return np.concatenate([b[1].numpy() for b in loader])

    first, again, other = labels(3), labels(3), labels(4)
    np.testing.assert_array_equal(first, again)
    assert sorted(first.tolist()) == list(range(20))
    assert not np.array_equal(first, other)


def test_manual_seed_makes_default_shuffling_reproducible():
    loader = DataLoader(_tensor_dataset(20), batch_size=5, shuffle=True)
    nf.manual_seed(7)
    a = _as_numpy(loader)
    nf.manual_seed(7)
    b = _as_numpy(loader)
    for x, y in zip(a, b):
        for u, v in zip(x, y):
            np.testing.assert_array_equal(u, v)


def test_fast_path_gives_the_same_batches_as_per_sample_collation():
    ds = _tensor_dataset(13)
    fast = DataLoader(ds, batch_size=4, shuffle=True, generator=nf.Generator().manual_seed(1))
    slow = DataLoader(ds, batch_size=4, shuffle=True, generator=nf.Generator().manual_seed(1),
                      collate_fn=lambda samples: default_collate(samples))
    for a, b in zip(_as_numpy(fast), _as_numpy(slow)):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
            assert u.dtype == v.dtype


def test_batches_are_copies_not_views_of_the_dataset():
    ds = _tensor_dataset(4)
    x, _ = next(iter(DataLoader(ds, batch_size=2)))
    x.array[...] = -1
    assert ds.tensors[0].numpy().min() == 0


def test_subset_of_tensor_dataset_batches_its_own_indices():
    sub = Subset(_tensor_dataset(10), [9, 2, 5])
    (_, y), = list(DataLoader(sub, batch_size=3))
    np.testing.assert_array_equal(y.numpy(), [9, 2, 5])


def test_map_dataset_samples_are_collated_field_by_field():
    (x, i), = list(DataLoader(Squares(3), batch_size=3))
    np.testing.assert_array_equal(x.numpy(), [[0, 0], [1, 1], [2, 4]])
    assert i.dtype == nf.int64 and i.tolist() == [0, 1, 2]


def test_default_collate_handles_dicts_numpy_numbers_strings_and_namedtuples():
    Point = namedtuple("Point", "x y")
    batch = [{"img": np.ones((2, 2), np.float32), "label": 1, "w": 0.5, "name": "a", "p": Point(1, 2.0)},
             {"img": np.zeros((2, 2), np.float32), "label": 2, "w": 1.5, "name": "b", "p": Point(3, 4.0)}]
    out = default_collate(batch)
    assert out["img"].shape == (2, 2, 2) and out["img"].dtype == nf.float32
    assert out["label"].dtype == nf.int64 and out["label"].tolist() == [1, 2]
    assert out["w"].dtype == nf.float64
    assert out["name"] == ["a", "b"]
    assert isinstance(out["p"], Point) and out["p"].x.tolist() == [1, 3]


def test_default_collate_names_mismatched_shapes():
    with pytest.raises(RuntimeError, match=r"equal size, but got \[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([nf.zeros(2), nf.zeros(3)])


def test_default_collate_refuses_unknown_types():
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


def test_batch_size_none_yields_single_converted_samples():
    items = list(DataLoader(Squares(2), batch_size=None))
    assert len(items) == 2 and items[1][1] == 1


def test_custom_sampler_and_batch_sampler():
    ds = _tensor_dataset(6)
    loader = DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert [b[1].tolist() for b in loader] == [[5, 4], [3, 2], [1, 0]]
    loader = DataLoader(ds, batch_sampler=[[0, 5], [1]])
    assert [b[1].tolist() for b in loader] == [[0, 5], [1]]


def test_iterable_dataset_is_batched_in_stream_order():
    loader = DataLoader(Stream(5), batch_size=2)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    assert [b.tolist() for b in DataLoader(Stream(5), batch_size=2, drop_last=True)] == [[0, 1], [2, 3]]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(shuffle=True, sampler=[0, 1]), ValueError, "mutually exclusive with shuffle"),
    (dict(batch_size=2, batch_sampler=[[0]]), ValueError, "batch_sampler option is mutually exclusive"),
    (dict(num_workers=2), NotImplementedError, "num_workers=0"),
    (dict(num_workers=-1), ValueError, "non-negative"),
])
def test_bad_loader_options_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(_tensor_dataset(4), **kwargs)


def test_iterable_dataset_refuses_shuffle():
    with pytest.raises(ValueError, match="expected unspecified shuffle"):
        DataLoader(Stream(3), shuffle=True)


def test_samplers():
    ds = range(5)
    assert list(SequentialSampler(ds)) == [0, 1, 2, 3, 4]
    assert sorted(RandomSampler(ds, generator=nf.Generator().manual_seed(0))) == [0, 1, 2, 3, 4]
    drawn = list(RandomSampler(ds, replacement=True, num_samples=12, generator=nf.Generator().manual_seed(0)))
    assert len(drawn) == 12 and set(drawn) <= set(range(5))
    assert len(list(RandomSampler(ds, num_samples=7))) == 7
    assert sorted(SubsetRandomSampler([7, 8, 9])) == [7, 8, 9]
    weighted = list(WeightedRandomSampler([0, 0, 1], 4))
    assert weighted == [2, 2, 2, 2]
    assert list(BatchSampler(SequentialSampler(ds), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(iter(range(5)), 2, drop_last=True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(SequentialSampler(ds), 2, drop_last=True)) == 2


def test_random_split_with_lengths_and_fractions():
    ds = _tensor_dataset(10)
    a, b = random_split(ds, [7, 3], generator=nf.Generator().manual_seed(0))
    assert len(a) == 7 and len(b) == 3
    assert sorted(a.indices + b.indices) == list(range(10))
    parts = random_split(range(11), [0.5, 0.3, 0.2], generator=nf.Generator().manual_seed(0))
    assert sum(len(p) for p in parts) == 11
    again = random_split(ds, [7, 3], generator=nf.Generator().manual_seed(0))
    assert again[0].indices == a.indices
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(ds, [5, 4])


def test_random_split_fractions_follow_torchs_rounding():
    torch = pytest.importorskip("torch")
    for n, fractions in [(11, [0.5, 0.3, 0.2]), (7, [0.1, 0.9]), (10, [1 / 3, 1 / 3, 1 / 3])]:
        mine = [len(p) for p in random_split(range(n), fractions)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
        assert mine == theirs


def test_concat_dataset_and_plus():
    ds = _tensor_dataset(3) + _tensor_dataset(2)
    assert isinstance(ds, ConcatDataset) and len(ds) == 5
    assert ds[3][1].item() == 0 and ds[-1][1].item() == 1
    assert [b[1].tolist() for b in DataLoader(ds, batch_size=5)] == [[0, 1, 2, 0, 1]]
