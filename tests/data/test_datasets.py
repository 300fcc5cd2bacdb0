"""Digits, MNIST and FashionMNIST: IDX parsing, the torchvision interface, download=True offline."""

from __future__ import annotations

import numpy as np
import pytest

import nbframe as nf
from nbframe.datasets import MNIST, Digits, FashionMNIST, read_idx, write_idx
from nbframe.datasets.download import md5sum
from nbframe.utils.data import DataLoader
from nbframe.vision import transforms

FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 6),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 4)}


def _write_split(folder, images_name, labels_name, n, seed, gz=True):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    suffix = ".gz" if gz else ""
    write_idx(folder / (images_name + suffix), images)
    write_idx(folder / (labels_name + suffix), labels)
    return images, labels


def _fake_dataset(folder, gz=True):
    """Small IDX files for both splits in ``folder``; returns the arrays and the (name, MD5) resources."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {split: _write_split(folder, im, lb, n, seed=i, gz=gz) for i, (split, (im, lb, n)) in
              enumerate(FILES.items())}
    names = [name for im, lb, _ in FILES.values() for name in (im, lb)]
    resources = [(name + ".gz", md5sum(folder / (name + ".gz")) if gz else None) for name in names]
    return arrays, resources


def _offline(cls, resources):
    return type(cls.__name__, (cls,), {"resources": resources, "mirrors": []})


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("NBFRAME_DATA_CACHE", str(folder))
    return folder


def test_idx_round_trip_for_every_type(tmp_path):
    for dtype in (np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64):
        a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
        for name in ("a.idx", "a.idx.gz"):
            write_idx(tmp_path / name, a)
            b = read_idx(tmp_path / name)
            assert b.dtype == a.dtype and b.dtype.isnative
            np.testing.assert_array_equal(a, b)


def test_idx_errors_say_what_is_wrong(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    write_idx(tmp_path / "ok", np.zeros((3, 2), np.uint8))
    (tmp_path / "cut").write_bytes((tmp_path / "ok").read_bytes()[:-1])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_idx(tmp_path / "cut")


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_files_under_root_like_torchvision(tmp_path, gz):
    arrays, _ = _fake_dataset(tmp_path / "MNIST" / "raw", gz=gz)
    train = MNIST(tmp_path, train=True)
    test = MNIST(str(tmp_path), train=False)
    assert len(train) == 6 and len(test) == 4
    image, label = train[2]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (28, 28)
    np.testing.assert_array_equal(image, arrays["train"][0][2])
    assert label == int(arrays["train"][1][2]) and isinstance(label, int)
    assert train.data.shape == (6, 28, 28) and train.targets.dtype == nf.int64
    assert train.classes[0] == "0 - zero" and train.class_to_idx["9 - nine"] == 9


def test_transforms_apply_to_image_and_target(tmp_path):
    arrays, _ = _fake_dataset(tmp_path / "MNIST" / "raw")
    ds = MNIST(tmp_path, transform=transforms.ToTensor(), target_transform=lambda y: y + 100)
    image, label = ds[0]
    assert image.shape == (1, 28, 28) and image.dtype == nf.float32
    np.testing.assert_allclose(image.numpy()[0], arrays["train"][0][0] / 255.0, rtol=1e-6)
    assert label == int(arrays["train"][1][0]) + 100


def test_loader_batches_are_the_same_with_and_without_the_batch_fetch(tmp_path):
    _fake_dataset(tmp_path / "MNIST" / "raw")
    ds = MNIST(tmp_path)
    fast = list(DataLoader(ds, batch_size=4))
    slow = list(DataLoader(ds, batch_size=4, collate_fn=lambda b: nf.utils.data.default_collate(b)))
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert fx.dtype == sx.dtype == nf.uint8 and fy.dtype == sy.dtype == nf.int64
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())


def test_missing_files_without_download_point_to_download(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found.*download=True"):
        MNIST(tmp_path)


def test_download_verifies_files_already_in_root(tmp_path, cache):
    _, resources = _fake_dataset(tmp_path / "MNIST" / "raw")
    ds = _offline(MNIST, resources)(tmp_path, download=True)
    assert len(ds) == 6


def test_download_copies_from_the_cache_folder(tmp_path, cache):
    arrays, resources = _fake_dataset(cache / "FashionMNIST")
    ds = _offline(FashionMNIST, resources)(tmp_path / "data", train=False, download=True)
    assert (tmp_path / "data" / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte.gz").exists()
    np.testing.assert_array_equal(ds.data.numpy(), arrays["test"][0])
    assert ds.classes[9] == "Ankle boot"


def test_wrong_checksum_is_a_clear_error(tmp_path, cache):
    _, resources = _fake_dataset(tmp_path / "MNIST" / "raw")
    resources[0] = (resources[0][0], "0" * 32)
    with pytest.raises(RuntimeError, match="checksum mismatch.*train-images-idx3-ubyte.gz.*expected 0000"):
        _offline(MNIST, resources)(tmp_path, download=True)


def test_without_network_the_error_says_which_file_to_place_where(tmp_path, cache):
    with pytest.raises(RuntimeError) as info:
        _offline(MNIST, MNIST.resources)(tmp_path, download=True)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "f68b3c2dcbeaaa9fbdd348bbdeb94873" in message
    assert str(tmp_path / "MNIST" / "raw") in message and str(cache / "MNIST") in message


def test_unreachable_mirror_is_reported(tmp_path, cache):
    cls = type("MNIST", (MNIST,), {"mirrors": ["http://127.0.0.1:9/"]})
    with pytest.raises(RuntimeError, match="could not download train-images.*127.0.0.1"):
        cls(tmp_path, download=True)


def test_real_checksums_are_torchvisions():
    assert dict(MNIST.resources)["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"
    assert dict(FashionMNIST.resources)["train-images-idx3-ubyte.gz"] == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"


def test_digits_split_shapes_and_scaling():
    pytest.importorskip("sklearn")
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) + len(test) == 1797 and len(test) == 359
    image, label = train[0]
    assert image.shape == (1, 8, 8) and image.dtype == nf.float32 and isinstance(label, int)
    assert 0.0 <= train.data.numpy().min() and train.data.numpy().max() == 1.0
    assert train.targets.dtype == nf.int64
    assert set(train.targets.tolist()) == set(range(10))


def test_digits_split_is_deterministic_and_disjoint():
    pytest.importorskip("sklearn")
    a, b = Digits(train=True), Digits(train=True)
    np.testing.assert_array_equal(a.data.numpy(), b.data.numpy())
    train = {x.tobytes() + bytes([y]) for x, y in zip(a.data.numpy(), a.targets.numpy())}
    test = Digits(train=False)
    overlap = sum(x.tobytes() + bytes([y]) in train for x, y in zip(test.data.numpy(), test.targets.numpy()))
    assert overlap < 5  # the raw data hold a few exact duplicates, nothing more


def test_digits_batches_through_the_loader():
    pytest.importorskip("sklearn")
    x, y = next(iter(DataLoader(Digits(), batch_size=32, shuffle=True)))
    assert x.shape == (32, 1, 8, 8) and x.dtype == nf.float32 and y.dtype == nf.int64


def test_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        Digits()
