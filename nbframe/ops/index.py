"""Indexing: ``tensor[index]`` and ``tensor[index] = value``.

An index may hold ints, slices (positive steps, as in PyTorch), ``None``,
``...``, integer tensors and boolean masks. The gradient of a read is the
gradient scattered back into zeros (adding where an index repeats).
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import get_array_module
from .broadcast import sum_to

__all__ = ['getitem', 'setitem']


def _convert_index(index, shape):
    """Tensors in the index become arrays; a negative slice step raises PyTorch's error."""
    from ..tensor import Tensor

    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, Tensor):
            if item.array.dtype.kind == "f":
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors, got " + str(item.dtype)
                )
            item = item.array
        elif isinstance(item, slice):
            if item.step is not None and _as_int(item.step) <= 0:
                raise ValueError("step must be greater than zero")
            item = slice(*(_as_int(v) if v is not None else None for v in (item.start, item.stop, item.step)))
        elif isinstance(item, list):
            xp_items = [i.item() if isinstance(i, Tensor) else i for i in item]
            import numpy as np

            item = np.asarray(xp_items)
            if item.dtype.kind == "f":
                raise IndexError("a list used as an index must hold integers or bools")
        elif isinstance(item, float):
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
                f"indices (got float {item})"
            )
        out.append(item)
    return tuple(out)


def _as_int(v):
    from ..tensor import Tensor

    return int(v.item()) if isinstance(v, Tensor) else int(v)


def _index_error(exc, index, shape) -> IndexError:
    return IndexError(f"index {_describe_index(index)} is out of bounds for a tensor of shape {list(shape)}: {exc}")


def _describe_index(index) -> str:
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for i in items:
        if isinstance(i, slice):
            parts.append(":" if i == slice(None) else f"{i.start or ''}:{i.stop or ''}" +
                         (f":{i.step}" if i.step else ""))
        elif hasattr(i, "shape") and getattr(i, "ndim", 0):
            parts.append(f"<{i.dtype} array of shape {list(i.shape)}>")
        else:
            parts.append(repr(i))
    return "[" + ", ".join(parts) + "]"


def _is_basic(index) -> bool:
    return all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in index)


class GetItem(Op):
    label = "getitem"

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        try:
            return x[index]
        except IndexError as exc:
            raise _index_error(exc, index, x.shape) from None

    @staticmethod
    def backward(ctx, grad):
        return IndexBackward.apply(grad, ctx.in_shape, ctx.index), None


class IndexBackward(Op):
    """Scatter a gradient into zeros at ``index`` (adding at repeated positions)."""

    label = "index_backward"

    @staticmethod
    def forward(ctx, grad, shape, index):
        ctx.index = index
        xp = get_array_module(grad)
        out = xp.zeros(shape, dtype=grad.dtype)
        if _is_basic(index):
            out[index] = grad
        else:
            xp.add.at(out, index, grad) if xp.__name__ == "numpy" else out.scatter_add(index, grad)
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.index), None, None


class IndexPut(Op):
    """``x`` with ``x[index] = value``, out of place; ``setitem`` writes it back into ``x``."""

    label = "index_put"

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index = index
        ctx.value_shape = getattr(value, "shape", ())
        out = x.copy()
        try:
            out[index] = value
        except IndexError as exc:
            raise _index_error(exc, index, x.shape) from None
        except ValueError:
            raise RuntimeError(
                f"setitem: a value of shape {list(getattr(value, 'shape', ()))} can't be assigned to "
                f"{_describe_index(index)} of a tensor of shape {list(x.shape)}: shape mismatch"
            ) from None
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = IndexPut.apply(grad, 0.0, ctx.index)
        if ctx.needs_input_grad[1]:
            gv = sum_to(GetItem.apply(grad, ctx.index), ctx.value_shape)
        return gx, gv, None


def getitem(input, index):
    return GetItem.apply(input, _convert_index(index, input.array.shape))


def setitem(input, index, value) -> None:
    from ..tensor import Tensor
    from .inplace import apply_inplace

    idx = _convert_index(index, input.array.shape)
    if isinstance(value, Tensor) and value.array.dtype != input.array.dtype:
        value = value.to(input.dtype)
    apply_inplace(input, lambda x: IndexPut.apply(x, value, idx), "setitem")


TENSOR_METHODS = {}
