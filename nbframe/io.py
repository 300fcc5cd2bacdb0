"""``nf.save`` / ``nf.load``: checkpoints without pickle, written atomically.

File format (version 1)
-----------------------
A NumPy ``.npz`` archive (a zip file, as written by ``numpy.savez``) holding:

- ``__nbframe__.npy``: a 1-D ``uint8`` array, the UTF-8 text of a JSON header
  ``{"format": "nbframe", "version": 1, "root": NODE}``;
- ``t0.npy``, ``t1.npy``, ...: one plain array per tensor (or NumPy array) saved.

A NODE describes one object of the saved structure:

- ``{"tensor": "t0", "requires_grad": false, "parameter": false, "device": "cpu"}``,
  ``{"ndarray": "t1"}`` (a NumPy array is given back as one);
- ``{"dict": [[KEY_NODE, NODE], ...], "ordered": true}`` (keys may be strings, numbers,
  bools, None or tuples of those, as in an optimiser's state dict), ``{"list": [NODE, ...]}``,
  ``{"tuple": [NODE, ...]}``;
- ``{"str": "..."}``, ``{"int": 3}``, ``{"float": 0.1}`` (non-finite as ``"nan"``, ``"inf"``,
  ``"-inf"``), ``{"bool": true}``, ``{"none": null}``, ``{"dtype": "float32"}``,
  ``{"device": "cuda:0"}``.

A tensor that appears several times in the structure is stored once and comes back as
one object. (Views are stored as separate copies: storage sharing is not kept.)

Safety: the archive is read with ``allow_pickle=False`` and the header is JSON, so
loading a file can't run code. A pickle, a PyTorch ``.pt`` file or any other file
is refused with a message saying what it looks like and why it is refused.

Atomicity: saving to a path writes a temporary file in the same folder, flushes it
to disk and renames it over the target (``os.replace``), so a crash or an
interrupted save never leaves a half-written checkpoint.
"""

from __future__ import annotations

import io as _io
import json
import math
import os
import tempfile
import zipfile
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from . import dtypes
from .backend import as_device
from .backend.device import device
from .tensor import Tensor, _wrap

__all__ = ["save", "load", "RefusedFileError"]

FORMAT = "nbframe"
VERSION = 1
HEADER = "__nbframe__"

_PathOrFile = str | os.PathLike | IO[bytes]


# ============================================================================== saving
class _Encoder:
    """Turns the object tree into a JSON-able node tree plus a dict of named arrays."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.seen: dict[int, str] = {}
        self.keep_alive: list = []  # ids stay unique while the objects live

    def array_key(self, obj, array) -> str:
        key = self.seen.get(id(obj))
        if key is None:
            key = f"t{len(self.arrays)}"
            self.arrays[key] = array if type(array) is np.ndarray else array.get()
            self.seen[id(obj)] = key
            self.keep_alive.append(obj)
        return key

    def encode(self, obj, where: str):
        if isinstance(obj, Tensor):
            from .nn.parameter import Parameter

            return {"tensor": self.array_key(obj, obj.array), "requires_grad": bool(obj.requires_grad),
                    "parameter": isinstance(obj, Parameter), "device": str(obj.device)}
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise TypeError(f"nbframe.save: {where} is a NumPy array of Python objects, which can't be "
                                "stored without pickle")
            return {"ndarray": self.array_key(obj, obj)}
        if obj is None:
            return {"none": None}
        if isinstance(obj, (bool, np.bool_)):
            return {"bool": bool(obj)}
        if isinstance(obj, (int, np.integer)):
            return {"int": int(obj)}
        if isinstance(obj, (float, np.floating)):
            value = float(obj)
            return {"float": value if math.isfinite(value) else repr(value)}
        if isinstance(obj, str):
            return {"str": obj}
        if isinstance(obj, dtypes.dtype):
            return {"dtype": obj.name}
        if isinstance(obj, device):
            return {"device": str(obj)}
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                key_node = self.encode_key(key, where)
                items.append([key_node, self.encode(value, f"{where}[{key!r}]")])
            return {"dict": items, "ordered": isinstance(obj, OrderedDict)}
        if isinstance(obj, tuple):  # includes Size and named tuples (given back as plain tuples)
            return {"tuple": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return {"list": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        raise TypeError(
            f"nbframe.save: can't save {where}, an object of type "
            f"{type(obj).__module__}.{type(obj).__name__}. "
            "nbframe.save stores tensors, NumPy arrays, numbers, strings, bools, None, dtypes, devices "
            "and dicts/lists/tuples of them (no pickle); save a module's state_dict(), not the module"
        )

    def encode_key(self, key, where: str):
        if isinstance(key, (str, int, float, bool, type(None), np.integer)) or (
            isinstance(key, tuple) and all(isinstance(k, (str, int, float, bool, type(None))) for k in key)
        ):
            return self.encode(key, where)
        raise TypeError(
            f"nbframe.save: can't save a dict key of type {type(key).__name__} in {where}; "
            "keys must be strings, numbers, bools, None or tuples of those"
        )


def save(obj: Any, f: _PathOrFile, pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Save ``obj`` (a state dict, or nested dicts/lists/tuples of tensors and plain values) to ``f``.

    ``f`` is a path (written atomically: temporary file, then rename) or a binary
    file object. The format is documented in this module's docstring; it is not pickle.
    """
    encoder = _Encoder()
    header = {"format": FORMAT, "version": VERSION, "root": encoder.encode(obj, "obj")}
    header_bytes = np.frombuffer(json.dumps(header, allow_nan=False).encode("utf-8"), dtype=np.uint8)
    arrays = {HEADER: header_bytes, **encoder.arrays}
    if hasattr(f, "write"):
        np.savez(f, **arrays)
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_archive(handle, arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
        _sync_folder(folder)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _file_mode(path: str) -> int:
    """The permissions the checkpoint should get: the old file's, else what ``open()`` would give.

    (``mkstemp`` makes its file private, 0600; a renamed checkpoint must not silently stay so.)
    """
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); harmless where folders can't be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_archive(handle, arrays: dict) -> None:
    np.savez(handle, **arrays)


# ============================================================================== loading
class RefusedFileError(ValueError):
    """``nf.load`` was given a file it will not read: a pickle, a PyTorch checkpoint, a foreign file."""


def _refusal(what: str, source: str) -> RefusedFileError:
    return RefusedFileError(
        f"nbframe.load refuses {source}: {what}. nbframe.load only reads files written by nbframe.save "
        "(an .npz archive with an nbframe JSON header) and never unpickles, because unpickling a file "
        "can run arbitrary code."
    )


def _check_archive(raw: bytes, source: str) -> None:
    """Raise a clear error unless ``raw`` (the file's bytes) is an nbframe archive."""
    if raw[:1] == b"\x80":
        raise _refusal(
            "it is a Python pickle (it starts with the pickle protocol opcode 0x80), e.g. a file from "
            "pickle.dump or a legacy torch.save", source)
    if raw[:4] != b"PK\x03\x04":
        if len(raw) >= 9 and raw[8:9] == b"{":
            raise _refusal("it looks like a safetensors file, which nbframe.load does not read", source)
        raise _refusal(f"it is not an nbframe checkpoint (it starts with {raw[:8]!r}, not a zip signature)",
                       source)
    try:
        names = zipfile.ZipFile(_io.BytesIO(raw)).namelist()
    except zipfile.BadZipFile as error:
        raise _refusal(f"it is a damaged or truncated zip archive ({error})", source) from None
    if HEADER + ".npy" in names:
        return
    if any(name.endswith("data.pkl") for name in names):
        raise _refusal(
            "it is a PyTorch checkpoint (torch.save's zip archive, with a pickle inside). To bring PyTorch "
            "weights over, load them in PyTorch and save NumPy copies: "
            "nf.save({k: nf.tensor(v.cpu().numpy()) for k, v in torch.load(path).items()}, new_path)", source)
    raise _refusal("it is a zip/.npz archive without nbframe's header (a plain numpy.savez file? read it "
                   "with numpy.load and wrap the arrays with nbframe.tensor)", source)


def _read_bytes(f: _PathOrFile) -> tuple[bytes, str]:
    if hasattr(f, "read"):
        return f.read(), "this file object"
    path = os.fspath(f)
    with open(path, "rb") as handle:
        return handle.read(), f"'{path}'"


class _Decoder:
    def __init__(self, archive, map_location, source: str):
        self.archive = archive
        self.map_location = map_location
        self.source = source
        self.loaded: dict[str, Any] = {}

    def array(self, key: str) -> np.ndarray:
        if key not in self.archive.files:
            raise ValueError(f"nbframe.load: {self.source} is damaged: its header names array '{key}', "
                             "which the archive does not contain")
        try:
            return self.archive[key]
        except ValueError as error:  # numpy refuses object (pickled) arrays under allow_pickle=False
            raise _refusal(f"its array '{key}' holds pickled Python objects ({error})", self.source) from None

    def tensor(self, node: dict):
        key = node["tensor"]
        if key in self.loaded:
            return self.loaded[key]
        t = _wrap(self.array(key), False, None, 0)
        target = self.target_device(node.get("device", "cpu"))
        if target.type != "cpu":
            t = t.to(target)
        if node.get("parameter"):
            from .nn.parameter import Parameter

            t = Parameter(t, requires_grad=node.get("requires_grad", True))
        elif node.get("requires_grad"):
            t.requires_grad_(True)
        self.loaded[key] = t
        return t

    def target_device(self, saved: str) -> device:
        location = self.map_location
        if callable(location):
            result = location(saved)
            return as_device(saved if result is None else result)
        if isinstance(location, dict):
            return as_device(location.get(saved, saved))
        if location is not None:
            return as_device(location)
        target = as_device(saved)
        if target.type == "cuda":
            from .backend import cuda

            if not cuda.is_available():
                raise RuntimeError(
                    "Attempting to deserialize object on a CUDA device but nbframe.cuda.is_available() is "
                    "False. If you are running on a CPU-only machine, please use nbframe.load with "
                    "map_location='cpu' to map your tensors to the CPU."
                )
        return target

    def decode(self, node):
        if not isinstance(node, dict) or len(node) == 0:
            raise ValueError(f"nbframe.load: {self.source} has a malformed header entry {node!r}")
        kind = next(iter(node))
        if kind == "tensor":
            return self.tensor(node)
        if kind == "ndarray":
            return self.array(node["ndarray"])
        if kind == "none":
            return None
        if kind in ("bool", "int", "str"):
            return node[kind]
        if kind == "float":
            return float(node["float"])
        if kind == "dtype":
            return dtypes.as_dtype(node["dtype"])
        if kind == "device":
            return as_device(node["device"])
        if kind == "dict":
            pairs = [(self.decode(k), self.decode(v)) for k, v in node["dict"]]
            return OrderedDict(pairs) if node.get("ordered") else dict(pairs)
        if kind == "list":
            return [self.decode(v) for v in node["list"]]
        if kind == "tuple":
            return tuple(self.decode(v) for v in node["tuple"])
        raise ValueError(f"nbframe.load: {self.source} has an unknown entry kind '{kind}' in its header")


def load(f: _PathOrFile, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool = True,
         mmap: bool | None = None, **pickle_load_args) -> Any:
    """Load what ``nbframe.save`` wrote, from a path or a binary file object.

    ``map_location`` puts tensors on another device: a device or string (``"cpu"``),
    a dict from saved to wanted location (``{"cuda:0": "cpu"}``), or a callable
    ``fn(saved_location) -> location``. ``weights_only`` is accepted for PyTorch
    compatibility: nbframe files only ever hold data, so loading is always safe.
    """
    raw, source = _read_bytes(f)
    _check_archive(raw, source)
    with np.load(_io.BytesIO(raw), allow_pickle=False) as archive:
        try:
            header = json.loads(archive[HEADER].tobytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise ValueError(f"nbframe.load: {source} has a damaged header ({error})") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT or "root" not in header:
            raise ValueError(f"nbframe.load: {source} has a header that is not nbframe's")
        if header.get("version", 0) > VERSION:
            raise ValueError(
                f"nbframe.load: {source} was written in format version {header['version']} by a newer "
                f"nbframe; this one reads up to version {VERSION}. Upgrade nbframe to load it."
            )
        return _Decoder(archive, map_location, source).decode(header["root"])
