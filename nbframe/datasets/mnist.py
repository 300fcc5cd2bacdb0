"""MNIST and Fashion-MNIST with torchvision's interface: ``MNIST(root, train, transform, target_transform,
download)``.

Files live in ``root/<ClassName>/raw`` (``train-images-idx3-ubyte`` and friends,
gzip-compressed or not), as torchvision keeps them. A sample is ``(image, label)``
where the image is a 28x28 ``uint8`` NumPy array (nbframe's stand-in for a PIL
image: ``transforms.ToTensor()`` turns it into a 1x28x28 float tensor in [0, 1])
and the label an ``int``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .base import ArrayImageDataset
from .download import fetch
from .idx import read_idx

__all__ = ["MNIST", "FashionMNIST"]


class MNIST(ArrayImageDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey."""

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root: str | os.PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False):
        self.root = Path(os.path.expanduser(os.fspath(root)))
        self.train = train
        if download:
            self.download()
        prefix = "train" if train else "t10k"
        images = self._read(f"{prefix}-images-idx3-ubyte")
        labels = self._read(f"{prefix}-labels-idx1-ubyte")
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{type(self).__name__}: the image file holds shape {images.shape} and the "
                             f"label "
                             f"file {labels.shape}; expected (N, H, W) images and N labels")
        super().__init__(images, labels, transform, target_transform)

    @property
    def raw_folder(self) -> Path:
        return self.root / type(self).__name__ / "raw"

    def _read(self, stem: str):
        for name in (stem, stem + ".gz"):
            path = self.raw_folder / name
            if path.exists():
                return read_idx(path)
        raise RuntimeError(f"Dataset not found: {self.raw_folder / stem}(.gz) is missing. You can use "
                           "download=True to download it (or to copy it from the cache folder).")

    def download(self) -> None:
        """Put every file in ``raw_folder``, from there, the cache folder or the mirrors, checking MD5s."""
        for filename, md5 in self.resources:
            plain = self.raw_folder / filename.removesuffix(".gz")
            if plain.exists() and not (self.raw_folder / filename).exists():
                continue  # already unpacked by hand or by torchvision: nothing to check it against
            fetch(filename, md5, self.raw_folder, type(self).__name__, self.mirrors)

    def _extra_repr(self) -> list[str]:
        return [f"Root location: {self.root}", f"Split: {'Train' if self.train else 'Test'}"]


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: ten kinds of clothing, in MNIST's format and sizes."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
