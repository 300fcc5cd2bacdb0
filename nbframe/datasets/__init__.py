"""nbframe.datasets: ready-made datasets with torchvision's interface.

``Digits`` (scikit-learn's 8x8 digits: no download), ``MNIST`` and ``FashionMNIST``
(IDX files, ``download=True`` with MD5 checks and a cache folder).
"""

from .digits import Digits
from .download import cache_dir
from .idx import read_idx, write_idx
from .mnist import MNIST, FashionMNIST

__all__ = ["Digits", "MNIST", "FashionMNIST", "read_idx", "write_idx", "cache_dir"]
