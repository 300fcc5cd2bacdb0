"""Reverse-mode automatic differentiation: ``backward``, ``grad``, ``Function``, checks and modes."""

from __future__ import annotations

import numpy as _np

from ..backend import get_array_module
from . import function as _function
from .anomaly import _enabled as _anomaly_enabled
from .anomaly import detect_anomaly, set_detect_anomaly
from .engine import run_backward, run_backward_arrays
from .function import Function, Op
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from .observers import add_op_observer

__all__ = [
    "backward",
    "grad",
    "Function",
    "Op",
    "gradcheck",
    "gradgradcheck",
    "detect_anomaly",
    "set_detect_anomaly",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_grad_enabled",
    "add_op_observer",
]


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


_ndarray = _np.ndarray
_ONES: dict = {}  # dtype -> a read-only 0-d NumPy one: the usual loss's gradient, made once


def _ones_like(array):
    """Ones of ``array``'s shape, dtype and device; for a 0-d NumPy array (a loss) a shared read-only one.

    CuPy arrays can't be made read-only, so on the GPU each call makes its own.
    """
    if array.shape or type(array) is not _ndarray:
        return get_array_module(array).ones(array.shape, array.dtype)
    ones = _ONES.get(array.dtype)
    if ones is None:
        ones = _ONES[array.dtype] = _np.array(1, dtype=array.dtype)
        ones.flags.writeable = False  # shared: a leaf that receives it unchanged gets a copy
    return ones


def _root_grads(outputs: tuple, grad_outputs: tuple, what: str) -> list:
    # Bound by tensor.py once both modules exist (an import here would cost a microsecond a call).
    Tensor, _wrap = _function._Tensor, _function._wrap
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"{what}: got {len(grad_outputs)} gradients for {len(outputs)} outputs; pass one per output"
        )
    grads = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"{what}: expected Tensors to differentiate, got {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn "
                "(it was computed from tensors without requires_grad=True, or under no_grad())"
            )
        g = grad_outputs[i] if grad_outputs else None
        if g is None:
            if out.array.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs: this output has shape "
                    f"{list(out.array.shape)}. Pass gradient= a tensor of that shape (for example "
                    "torch.ones_like(y) to sum the outputs), or reduce it first (y.sum().backward())"
                )
            array = out.array
            xp = get_array_module(array)
            # xp.array(1) is five times faster than xp.ones(()) for the usual 0-d loss.
            ones = xp.array(1, dtype=array.dtype) if not array.shape else xp.ones(array.shape, array.dtype)
            g = _wrap(ones, False, None, 0)
        elif not isinstance(g, Tensor):
            from ..creation import tensor

            g = tensor(g, dtype=out.dtype, device=out.device)
        elif tuple(g.array.shape) != tuple(out.array.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {list(g.array.shape)} and output[{i}] "
                f"has a shape of {list(out.array.shape)}."
            )
        grads.append(g)
    return grads


def backward(
    tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False, inputs=None
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves they came from."""
    if (
        grad_tensors is None
        and inputs is None
        and not create_graph
        and not _function._OBSERVERS
        and not _anomaly_enabled[0]
        and (type(tensors) is _function._Tensor or isinstance(tensors, _function._Tensor))  # a view too
        and tensors.grad_fn is not None
    ):
        # The everyday loss.backward(): gradients flow as arrays (see engine.run_backward_arrays).
        array = tensors.array
        if array.size != 1:
            _root_grads((tensors,), (), "backward")  # raises: a non-scalar output needs gradient=
        run_backward_arrays(tensors, _ones_like(array), bool(retain_graph))
        return
    outputs = _as_tuple(tensors)
    grads = _root_grads(outputs, _as_tuple(grad_tensors), "backward")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_tuple(inputs)
        captured = run_backward(outputs, grads, retain_graph, create_graph, capture=list(inputs))
        for t, g in zip(inputs, captured):
            if g is not None:
                g = g if create_graph else g.detach()
                t.grad = g if t.grad is None else t.grad + g
        return
    run_backward(outputs, grads, retain_graph, create_graph)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, returned instead of accumulated."""
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported by nbframe")
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    grads = _root_grads(outs, _as_tuple(grad_outputs), "grad")
    if retain_graph is None:
        retain_graph = create_graph
    captured = run_backward(outs, grads, retain_graph, create_graph, capture=list(ins))
    result = []
    for i, (t, g) in enumerate(zip(ins, captured)):
        if g is None:
            if materialize_grads:
                from ..creation import zeros_like

                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}, shape {list(t.array.shape)}) appears "
                    "to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)
