"""``nbframe.nn.utils.rnn``: variable-length batches for the recurrent layers.

A ``PackedSequence`` stores a batch of sequences of different lengths without
padding: ``data`` holds the time steps one after another, each step listing
only the sequences still running (longest first), and ``batch_sizes[t]`` says
how many that is. The recurrent layers accept it and never compute on padding.

Packing and unpacking are each one differentiable gather (an index into the
flattened tensor), so gradients flow through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ...backend import get_array_module
from ...tensor import Tensor, _wrap

__all__ = ["PackedSequence", "pad_sequence", "unpad_sequence", "pack_padded_sequence",
           "pad_packed_sequence", "pack_sequence", "unpack_sequence", "invert_permutation"]


class PackedSequence(NamedTuple):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)`` as PyTorch's ``PackedSequence``.

    ``data`` is ``(sum(lengths), *features)``; ``batch_sizes`` an int64 CPU tensor with one
    entry per time step; ``sorted_indices`` maps sorted to original batch order (None when
    the input was already sorted) and ``unsorted_indices`` is its inverse.
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        """Move/cast ``data`` (the index tensors follow the device, keeping their dtype)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        device = data.device
        return self._replace(
            data=data,
            sorted_indices=None if self.sorted_indices is None else self.sorted_indices.to(device),
            unsorted_indices=None if self.unsorted_indices is None else self.unsorted_indices.to(device),
        )

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self.to("cuda")

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def float(self) -> PackedSequence:
        return self._replace(data=self.data.float())

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())

    def half(self) -> PackedSequence:
        return self._replace(data=self.data.half())

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    if permutation is None:
        return None
    xp = get_array_module(permutation.array)
    inverse = xp.empty_like(permutation.array)
    inverse[permutation.array] = xp.arange(permutation.array.size, dtype=permutation.array.dtype)
    return _wrap(inverse, False, None, 0)


def _index_tensor(values: np.ndarray, like: Tensor) -> Tensor:
    """An int64 index tensor on ``like``'s device."""
    xp = get_array_module(like.array)
    return _wrap(xp.asarray(values.astype(np.int64)), False, None, 0)


def _host_lengths(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        if lengths.is_cuda:
            raise RuntimeError(
                "'lengths' argument should be a 1D CPU int64 tensor, but got 1D cuda Long tensor"
            )
        return np.asarray(lengths.array, dtype=np.int64).reshape(-1)
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes ``(L_i, *)`` into ``(max L, B, *)`` (or ``(B, max L, *)``), padding."""
    from ...ops import cat, stack

    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    max_len = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = max_len - s.shape[0]
        if missing:
            pad = s.new_full((missing, *s.shape[1:]), padding_value)
            s = cat([s, pad]) if padding_side == "right" else cat([pad, s])
        padded.append(s)
    return stack(padded, 1 if not batch_first else 0)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list[Tensor]:
    """The inverse of ``pad_sequence``: a list of the sequences cut to their lengths."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(_host_lengths(lengths))]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (or ``(B, T, *)``) whose sequences have ``lengths``."""
    lengths = _host_lengths(lengths)
    batch_dim = 0 if batch_first else 1
    batch, steps = input.shape[batch_dim], input.shape[1 - batch_dim]
    if lengths.size != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} (batch_size={batch})"
        )
    if batch and lengths.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if batch and lengths.max() > steps:
        raise RuntimeError(
            f"pack_padded_sequence: a length of {lengths.max()} is longer than the input's "
            f"{steps} time steps (dim {1 - batch_dim} of shape {list(input.shape)})"
        )
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can "
                "pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this "
                "requirement if you do not need ONNX exportability."
            )
        order = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
    # Row (t, b) of the time-major layout is kept when sequence b is still running at step t.
    running = np.arange(steps)[:, None] < lengths[None, :]
    batch_sizes = running.sum(axis=1)
    batch_sizes = batch_sizes[batch_sizes > 0]
    t_index, b_index = np.nonzero(running)
    original_b = b_index if order is None else order[b_index]
    if batch_first:
        flat = original_b * steps + t_index
    else:
        flat = t_index * batch + original_b
    rows = input.reshape(batch * steps, *input.shape[2:])
    data = rows[_index_tensor(flat, input)]
    sorted_indices = None if order is None else _index_tensor(order, input)
    return PackedSequence(data, _wrap(batch_sizes.astype(np.int64), False, None, 0), sorted_indices,
                          invert_permutation(sorted_indices))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo ``pack_padded_sequence``: ``(padded, lengths)`` in the batch's original order."""
    from ...ops import cat

    data, batch_sizes = sequence.data, np.asarray(sequence.batch_sizes.array, dtype=np.int64)
    steps = batch_sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {steps}"
            )
        steps = total_length
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    sizes = np.zeros(steps, dtype=np.int64)
    sizes[:batch_sizes.size] = batch_sizes
    lengths_sorted = (sizes[:, None] > np.arange(batch)[None, :]).sum(axis=0)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    # For each output slot (t, sorted b): its row in data, or the padding row appended after data.
    slot = offsets[:, None] + np.arange(batch)[None, :]
    slot = np.where(np.arange(batch)[None, :] < sizes[:, None], slot, data.shape[0])
    if sequence.unsorted_indices is not None:
        unsorted = np.asarray(_host(sequence.unsorted_indices), dtype=np.int64)
        slot = slot[:, unsorted]
        lengths = lengths_sorted[unsorted]
    else:
        lengths = lengths_sorted
    if batch_first:
        slot = slot.T
    pad_row = data.new_full((1, *data.shape[1:]), padding_value)
    padded = cat([data, pad_row])[_index_tensor(slot.reshape(-1), data)]
    padded = padded.reshape(*slot.shape, *data.shape[1:])
    return padded, _wrap(lengths.astype(np.int64), False, None, 0)


def _host(t: Tensor) -> np.ndarray:
    return t.array if not t.is_cuda else t.array.get()


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors of shapes ``(L_i, *)`` (longest first unless ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The inverse of ``pack_sequence``: the list of tensors, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
