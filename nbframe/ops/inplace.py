"""In-place ops (``add_``, ``mul_``, ``x[i] = v``, ...) and the version counter that guards them.

An in-place op runs the out-of-place op, writes the result into the tensor's
own array (so views see it) and bumps the version counter. Under autograd the
tensor's history is re-pointed at the new op. If that op kept the old values
for its backward (``sin_`` needs its input, as ``mul_`` by a tensor does), it
gets a copy of them before they are overwritten, as PyTorch's in-place ops save
the original ``self``. Any other node that saved the tensor sees the version
change at backward and raises PyTorch's error.
"""

from __future__ import annotations

from ..autograd import function as _function
from ..autograd import grad_mode
from ..autograd.function import _INPUT, _OTHER, Op
from ..backend import get_array_module
from .broadcast import sum_to
from .promotion import fill_scalar

__all__ = ["zero_", "fill_", "copy_", "normal_", "uniform_"]

_state = grad_mode._state

#: Methods that change a tensor's shape, not its values (``t_``): the tensor takes the view's array.
_RESHAPING = frozenset({"t_", "transpose_", "squeeze_", "unsqueeze_"})


def check_leaf(tensor, op: str) -> None:
    """Refuse to change a leaf that requires grad while recording (its ``.grad`` would be meaningless)."""
    if _state.enabled and tensor.requires_grad and tensor.grad_fn is None:
        raise _leaf_error(op)


def check_inplace(tensor, op: str) -> None:
    """``check_leaf``, and refuse a view that is part of a graph (its base's history would go stale)."""
    if not _state.enabled:
        return
    fn = tensor.grad_fn
    if fn is None:
        if tensor.requires_grad:
            raise _leaf_error(op)
    elif fn._is_view:
        # PyTorch rebases the base's history (CopySlices); nbframe can't yet: refuse rather than
        # return a wrong gradient.
        raise NotImplementedError(
            f"{op}: changing in place a view ({fn.name()}) of a tensor that is part of an autograd graph "
            "is not supported yet (the base's gradient would be wrong); use the out-of-place op "
            "(y = y * 2 instead of y.mul_(2)), or clone() the view first"
        )


def _leaf_error(op: str) -> RuntimeError:
    return RuntimeError(
        "a leaf Variable that requires grad is being used in an in-place operation. "
        f"({op}: change it inside `with nbframe.no_grad():`, as optimizers and nn.init do, "
        "or use the out-of-place op.)"
    )


class Overwrite(Op):
    """``dst``'s values replaced by ``src`` (cast to ``dst``'s dtype, broadcast to its shape).

    The graph node of ``copy_``, ``fill_``, random fills and every in-place op whose result carries no
    gradient (``eq_``): the old history gets a zero gradient, as in PyTorch; ``src`` gets the gradient.
    """

    label = "copy_"

    @staticmethod
    def forward(ctx, dst, src):
        xp = get_array_module(dst)
        src = xp.asarray(src)
        ctx.src_shape = src.shape
        try:
            return xp.broadcast_to(src.astype(dst.dtype, copy=False), dst.shape)
        except ValueError:
            raise RuntimeError(
                f"copy_: the source's shape {list(src.shape)} can't be broadcast to "
                f"the destination's shape {list(dst.shape)}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        from ..creation import zeros_like

        needs = ctx.needs_input_grad
        return (zeros_like(grad) if needs[0] else None, sum_to(grad, ctx.src_shape) if needs[1] else None)


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
        _check_castable(out.dtype, target.dtype, op)
    if not getattr(target.flags, "writeable", True):
        raise RuntimeError(f"{op}: this tensor is a read-only (expanded) view; clone() it first")
    recording = _state.enabled and tensor.requires_grad
    if recording and result.grad_fn is None:
        # A result without gradient (fill_, eq_) still replaces a history: PyTorch's gives it zeros.
        result = Overwrite.apply(tensor, result)
    node = result.grad_fn
    if node is not None:
        _keep_old_values(node, tensor)
    target[...] = out
    tensor._version[0] += 1
    if node is not None:
        tensor.grad_fn = node
        tensor._output_nr = result._output_nr
        tensor.requires_grad = True
    return tensor


def _check_castable(source, target, op: str) -> None:
    """PyTorch's rule for in-place results: no float into an integer tensor, nothing but bool into bool."""
    if source.kind == "f" and target.kind in "iub" or source.kind in "iu" and target.kind == "b":
        from .. import dtypes

        raise RuntimeError(
            f"{op}: result type {dtypes.from_numpy(source).name.capitalize()} can't be cast to the "
            f"desired output type {dtypes.from_numpy(target).name.capitalize()}"
        )


def _keep_old_values(node, tensor) -> None:
    """Give ``node`` (the in-place op's graph node) its own copy of what it kept of ``tensor``'s values.

    Called before those values are overwritten. A saved input that is ``tensor`` becomes a copy with the
    old history (so double backward still reaches it); saved values and arrays kept on ``node`` that share
    memory with ``tensor`` become plain copies. Nothing is copied when the op kept nothing of it.
    """
    target = tensor.array
    array_type = type(target)
    old = None  # the copy of tensor, made at most once
    saved = node._saved
    if saved:
        entries = None
        for i, (kind, value, _counter, _version) in enumerate(saved):
            if kind == _INPUT:
                if value is not tensor:
                    continue
                if old is None:
                    old = _old_values(tensor)
                entry = (_INPUT, old, old._version, 0)
            elif kind == _OTHER and isinstance(value, _function._Tensor) and _shares(value.array, target):
                entry = (_OTHER, _function._wrap(value.array.copy(), False, None, 0), None, None)
            else:
                continue
            if entries is None:
                entries = list(saved)
            entries[i] = entry
        if entries is not None:
            node._saved = tuple(entries)
    attributes = node.__dict__
    for name, value in attributes.items():
        if value is tensor:
            if old is None:
                old = _old_values(tensor)
            attributes[name] = old
        elif type(value) is array_type and _shares(value, target):
            attributes[name] = value.copy()


def _old_values(tensor):
    """A copy of ``tensor`` that keeps its current history: what a backward that saved it must see."""
    return _function._wrap(tensor.array.copy(), tensor.requires_grad, tensor.grad_fn, tensor._output_nr)


def _shares(a, b) -> bool:
    return get_array_module(b).may_share_memory(a, b)


def _reshaping_method(fn, name: str):
    """``t_``, ``squeeze_``...: the tensor becomes the view ``fn(tensor)`` (same values, new shape)."""

    def method(self, *args, **kwargs):
        check_leaf(self, name)
        result = fn(self, *args, **kwargs)
        self.array = result.array
        self._version[0] += 1
        if result.grad_fn is not None:
            self.grad_fn = result.grad_fn
            self._output_nr = result._output_nr
        return self

    return method


def inplace_method(fn, name: str):
    """Make ``Tensor.name_`` from the out-of-place ``fn(tensor, *args, **kwargs)``."""
    if name in _RESHAPING:
        method = _reshaping_method(fn, name)
    else:

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
    value = fill_scalar(value, tensor.array.dtype)
    if not (_state.enabled and tensor.requires_grad):
        tensor.array.fill(value)
        tensor._version[0] += 1
        return tensor
    return apply_inplace(tensor, lambda t: Overwrite.apply(t, value), "fill_")


def copy_(tensor, src, non_blocking: bool = False):
    from ..creation import tensor as make_tensor
    from ..tensor import Tensor

    if not isinstance(src, Tensor):
        src = make_tensor(src)
    src = src.to(tensor.device).to(tensor.dtype)
    if not (_state.enabled and (tensor.requires_grad or src.requires_grad)):
        # Nothing to record: write the values.
        if not getattr(tensor.array.flags, "writeable", True):
            raise RuntimeError("copy_: this tensor is a read-only (expanded) view; clone() it first")
        try:
            tensor.array[...] = src.array
        except ValueError:
            raise RuntimeError(
                f"copy_: the source's shape {list(src.array.shape)} can't be broadcast to "
                f"the destination's shape {list(tensor.array.shape)}"
            ) from None
        tensor._version[0] += 1
        return tensor
    # The result depends on src alone; never on the old values, which may hold NaN or inf.
    return apply_inplace(tensor, lambda t: Overwrite.apply(t, src), "copy_")


def _random_fill(tensor, draw, op: str):
    with grad_mode.no_grad():
        values = draw()
    return apply_inplace(tensor, lambda t: values, op)


def normal_(tensor, mean: float = 0.0, std: float = 1.0, *, generator=None):
    from ..creation import randn

    check_leaf(tensor, "normal_")
    return _random_fill(
        tensor,
        lambda: (
            randn(*tensor.array.shape, generator=generator, dtype=tensor.dtype, device=tensor.device) * std
            + mean
        ),
        "normal_",
    )


def uniform_(tensor, a: float = 0.0, b: float = 1.0, *, generator=None):
    from ..creation import rand

    check_leaf(tensor, "uniform_")
    return _random_fill(
        tensor,
        lambda: (
            rand(*tensor.array.shape, generator=generator, dtype=tensor.dtype, device=tensor.device) * (b - a)
            + a
        ),
        "uniform_",
    )


TENSOR_METHODS = {"zero_": zero_, "fill_": fill_, "copy_": copy_, "normal_": normal_, "uniform_": uniform_}
