"""``nbframe.device``: a device type and index, spelled as PyTorch spells it."""

from __future__ import annotations


class device:
    """``device("cpu")``, ``device("cuda")``, ``device("cuda:1")`` or ``device("cuda", 1)``."""

    __slots__ = ("type", "index")
    CPU: device

    def __init__(self, type: str | device, index: int | None = None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string such as 'cpu' or 'cuda:0', got {type!r}")
        name, _, idx = type.partition(":")
        if name not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        if idx:
            if index is not None:
                raise RuntimeError(f"device string {type!r} already has an index; don't pass index={index}")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}: the index must be a number")
            index = int(idx)
        self.type = name
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


device.CPU = device("cpu")


def as_device(d) -> device:
    """Accept a device, a string, an integer (a CUDA index) or None (the CPU)."""
    if d is None:
        return device.CPU
    if isinstance(d, device):
        return d
    if isinstance(d, int):
        return device("cuda", d)
    return device(d)
