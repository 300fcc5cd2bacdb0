"""Read IDX files, the format of MNIST and Fashion-MNIST (plain or gzip-compressed).

An IDX file is: two zero bytes, a type code, the number of dimensions, each
dimension as a big-endian int32, then the values in C order, big-endian.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in an IDX file; a ``.gz`` name is decompressed first."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    return parse_idx(raw, path)


def parse_idx(raw: bytes, where: str = "<bytes>") -> np.ndarray:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise ValueError(f"{where} is not an IDX file: it should start with two zero bytes and a type code "
                         f"(one of {sorted(hex(t) for t in _TYPES)}), got {raw[:4]!r}")
    dtype, ndim = _TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{where} is truncated or corrupt: its header says shape {shape} of {dtype.name} "
                         f"({expected} bytes in all), but the file has {len(raw)} bytes")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file (gzip-compressed when the name ends in ``.gz``): for tests and tools."""
    codes = {v.newbyteorder("=").str[1:]: k for k, v in _TYPES.items()}
    array = np.asarray(array)
    key = array.dtype.newbyteorder("=").str[1:]
    if key not in codes:
        raise TypeError(f"write_idx: IDX has no type for {array.dtype}")
    code = codes[key]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    payload = header + array.astype(_TYPES[code], copy=False).tobytes()
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)
