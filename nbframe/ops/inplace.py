"""In-place ops (``add_``, ``mul_``, ``x[i] = v``, ...) and the version counter that guards them.

An in-place op runs the out-of-place op, writes the result into the tensor's
own array (so views see it) and bumps the version counter. Under autograd the
tensor's history is re-pointed at the new op; a backward that needs the old
value sees the version change and raises PyTorch's error.
"""

from __future__ import annotations

from ..autograd import grad_mode

__all__ = ["zero_", "fill_", "copy_", "normal_", "uniform_"]

_state = grad_mode._state


def check_inplace(tensor, op: str) -> None:
    if not _state.enabled:
        return
    fn = tensor.grad_fn
    if tensor.requires_grad and fn is None:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation ({op}). "
            "Wrap it in `with torch.no_grad():` (as optimizers and nn.init do), or use the out-of-place op."
        )
    if fn is not None and fn._is_view:
        # The base's history would not see the change (PyTorch rebases it; nbframe can't yet):
        # refuse rather than return a wrong gradient.
        raise NotImplementedError(
            f"{op}: changing in place a view ({fn.name()}) of a tensor that is part of an autograd graph "
            "is not supported yet (the base's gradient would be wrong); use the out-of-place op "
            "(y = y * 2 instead of y.mul_(2)), or clone() the view first"
        )


def apply_inplace(tensor, compute, op: str):
    """Write ``compute(tensor)`` (a Tensor op) into ``tensor``; return ``tensor``."""
    check_inplace(tensor, op)
    result = compute(tensor)
    out = result.array
    target = tensor.array
    if out.shape != target.shape:
        raise RuntimeError(
            f"{op}: output with shape {list(target.shape)} doesn't match "
            f"the broadcast shape {list(out.shape)}"
        )
    if out.dtype != target.dtype:
        if (
            out.dtype.kind == "f"
            and target.dtype.kind in "iub"
            or out.dtype.kind in "iu"
            and target.dtype.kind == "b"
        ):
            from .. import dtypes

            raise RuntimeError(
                f"{op}: result type {dtypes.from_numpy(out.dtype).name.capitalize()} can't be cast to the "
                f"desired output type {dtypes.from_numpy(target.dtype).name.capitalize()}"
            )
    if target.ndim == 0 or not target.flags.writeable:
        if not target.flags.writeable:
            raise RuntimeError(f"{op}: this tensor is a read-only (expanded) view; clone() it first")
    target[...] = out
    tensor._version[0] += 1
    if result.grad_fn is not None:
        # Re-point history: the node's saved outputs keep their own copy, so gradients stay right.
        tensor.grad_fn = result.grad_fn
        tensor._output_nr = result._output_nr
        tensor.requires_grad = True
    elif tensor.grad_fn is not None and _state.enabled:
        tensor.grad_fn = None
        tensor.requires_grad = False
    return tensor


def inplace_method(fn, name: str):
    """Make ``Tensor.name_`` from the out-of-place ``fn(tensor, *args, **kwargs)``."""

    def method(self, *args, **kwargs):
        return apply_inplace(self, lambda t: fn(t, *args, **kwargs), name)

    method.__name__ = name
    method.__doc__ = f"In-place version of ``{fn.__name__}``."
    return method


def zero_(tensor):
    return fill_(tensor, 0)


def fill_(tensor, value):
    from ..tensor import Tensor

    if isinstance(value, Tensor):
        value = value.item()
    if not (_state.enabled and tensor.requires_grad):
        tensor.array.fill(value)
        tensor._version[0] += 1
        return tensor
    from ..creation import full_like

    return apply_inplace(tensor, lambda t: full_like(t, value), "fill_")


def copy_(tensor, src, non_blocking: bool = False):
    from ..creation import tensor as make_tensor
    from ..tensor import Tensor

    if not isinstance(src, Tensor):
        src = make_tensor(src)
    src = src.to(tensor.device).to(tensor.dtype)
    shape = tensor.array.shape
    if not (_state.enabled and (tensor.requires_grad or src.requires_grad)):
        # Nothing to record: write the values (the graph path's `t * 0` would keep NaN/inf in `tensor`).
        if not getattr(tensor.array.flags, "writeable", True):
            raise RuntimeError("copy_: this tensor is a read-only (expanded) view; clone() it first")
        try:
            tensor.array[...] = src.array
        except ValueError:
            raise RuntimeError(
                f"copy_: the source's shape {list(src.array.shape)} can't be broadcast to "
                f"the destination's shape {list(shape)}"
            ) from None
        tensor._version[0] += 1
        return tensor
    from .conversion import clone

    # The result depends on src alone (its history replaces tensor's); never on the old values,
    # which may hold NaN or inf.
    return apply_inplace(
        tensor, lambda t: clone(src.expand(shape) if src.array.shape != shape else src), "copy_"
    )


def _random_fill(tensor, draw):
    check_inplace(tensor, "random fill")
    with grad_mode.no_grad():
        values = draw()
        tensor.array[...] = values.array
    tensor._version[0] += 1
    return tensor


def normal_(tensor, mean: float = 0.0, std: float = 1.0, *, generator=None):
    from ..creation import randn

    return _random_fill(
        tensor,
        lambda: (
            randn(*tensor.array.shape, generator=generator, dtype=tensor.dtype, device=tensor.device) * std
            + mean
        ),
    )


def uniform_(tensor, a: float = 0.0, b: float = 1.0, *, generator=None):
    from ..creation import rand

    return _random_fill(
        tensor,
        lambda: (
            rand(*tensor.array.shape, generator=generator, dtype=tensor.dtype, device=tensor.device) * (b - a)
            + a
        ),
    )


TENSOR_METHODS = {"zero_": zero_, "fill_": fill_, "copy_": copy_, "normal_": normal_, "uniform_": uniform_}
