"""Binary special functions: ``hypot``, ``xlogy``, ``logaddexp`` and ``logaddexp2``.

Each is one NumPy kernel forward and a short Tensor-op backward, so gradients can be
differentiated again. ``hypot`` and ``logaddexp`` take two Tensors of a floating dtype, as
PyTorch's kernels do; ``xlogy`` also takes Python numbers and computes integers in the default float.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import get_array_module
from .broadcast import sum_to, sum_to_array
from .elementwise import (
    _binary,
    _const,
    _quiet,
    _saved_arrays_in_dtype,
    _saved_in_dtype,
    _shape,
    _type_name,
    exp,
    exp2,
    where,
)
from .inplace import inplace_method
from .promotion import promote, promote_to_float

__all__ = ["hypot", "xlogy", "logaddexp", "logaddexp2"]


def _float_kernel_operands(a, b, op: str):
    """Promote two Tensors' arrays; PyTorch has only floating kernels for ``op`` (no int or bool)."""
    a, b = promote(a, b, op)
    if a.dtype.kind != "f":
        raise NotImplementedError(f'"{op}_cpu" not implemented for \'{_type_name(a)}\'')
    return a, b


def _require_tensors(op: str, input, other) -> None:
    """``hypot`` and ``logaddexp`` take Tensors only, as in PyTorch: name the argument that is not."""
    for position, (name, value) in enumerate((("input", input), ("other", other)), start=1):
        if not hasattr(value, "array"):
            raise TypeError(
                f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__}"
            )


def _summed_back(ctx, gradient_a, gradient_b) -> tuple:
    """A ``backward_arrays`` result: each needed input's gradient (computed on demand) summed to its shape."""
    sa, sb = ctx.shapes
    need = ctx.needs_input_grad
    ga = sum_to_array(gradient_a(), sa) if need[0] else None
    return ga, sum_to_array(gradient_b(), sb) if need[1] else None


class Hypot(Op):
    label = "hypot"

    @staticmethod
    def forward(ctx, a, b):
        promoted_a, promoted_b = _float_kernel_operands(a, b, "hypot")
        out = _binary(get_array_module(a).hypot, promoted_a, promoted_b, "hypot")
        ctx.save_for_backward(a, b, out)  # unpromoted: see elementwise._in_dtype
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = _saved_in_dtype(ctx, grad.dtype)
        sa, sb = ctx.shapes
        scaled = grad / out  # NaN at a == b == 0, as PyTorch's
        ga = sum_to(scaled * a, sa) if ctx.needs_input_grad[0] else None
        gb = sum_to(scaled * b, sb) if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def backward_arrays(ctx, grad):
        a, b, out = _saved_arrays_in_dtype(ctx, grad.dtype)
        with _quiet():
            scaled = grad / out
        return _summed_back(ctx, lambda: scaled * a, lambda: scaled * b)


class Xlogy(Op):
    """``x * log(y)``, 0 where ``x == 0`` (even at ``y == 0``) unless ``y`` is NaN."""

    label = "xlogy"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)  # unpromoted: see elementwise._in_dtype
        a, b = promote_to_float(a, b, "xlogy")
        ctx.shapes = (_shape(a), _shape(b))
        xp = get_array_module(a if hasattr(a, "dtype") else b)
        dtype = a.dtype if hasattr(a, "dtype") else b.dtype
        a, b = xp.asarray(a, dtype), xp.asarray(b, dtype)  # numbers as 0-d arrays of that dtype
        with _quiet():
            product = _binary(xp.multiply, a, xp.log(b), "xlogy")
            zero = xp.logical_and(xp.equal(a, 0), xp.logical_not(xp.isnan(b)))
        return xp.where(zero, 0, product).astype(product.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, b = _saved_in_dtype(ctx, grad.dtype)
        sa, sb = ctx.shapes
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # d/dx = log(y), taken as xlogy(grad, y), and 0 where x == 0 and y <= 0 (PyTorch's choice):
            # y is replaced by 1 there, so that no log(0) reaches a second derivative either.
            xp = get_array_module(grad.array)
            y = b if hasattr(b, "array") else _const(xp.asarray(b, grad.array.dtype))
            masked = _const(xp.logical_and(a.array == 0, y.array <= 0))
            ga = sum_to(Xlogy.apply(grad, where(masked, 1.0, y)), sa)
        if ctx.needs_input_grad[1]:
            gb = sum_to(grad * a / b, sb)
        return ga, gb


def _logaddexp_op(name: str, kernel: str, power, power_kernel: str):
    """The Op for ``log(base**a + base**b)``; ``power`` is ``exp`` or ``exp2`` on Tensors, ``power_kernel``
    its array function's name."""

    class LogAddExp(Op):
        label = name

        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)  # unpromoted: see elementwise._in_dtype
            ctx.shapes = (_shape(a), _shape(b))
            promoted_a, promoted_b = _float_kernel_operands(a, b, name)
            with _quiet():
                return _binary(getattr(get_array_module(a), kernel), promoted_a, promoted_b, name)

        @staticmethod
        def backward(ctx, grad):
            a, b = _saved_in_dtype(ctx, grad.dtype)
            sa, sb = ctx.shapes
            ga = sum_to(grad / (1 + power(b - a)), sa) if ctx.needs_input_grad[0] else None
            gb = sum_to(grad / (1 + power(a - b)), sb) if ctx.needs_input_grad[1] else None
            return ga, gb

        @staticmethod
        def backward_arrays(ctx, grad):
            a, b = _saved_arrays_in_dtype(ctx, grad.dtype)
            power_array = getattr(get_array_module(grad), power_kernel)
            with _quiet():
                return _summed_back(ctx, lambda: grad / (1 + power_array(b - a)),
                                    lambda: grad / (1 + power_array(a - b)))

    LogAddExp.__name__ = LogAddExp.__qualname__ = "LogAddExp2" if name.endswith("2") else "LogAddExp"
    return LogAddExp


LogAddExp = _logaddexp_op("logaddexp", "logaddexp", exp, "exp")
LogAddExp2 = _logaddexp_op("logaddexp2", "logaddexp2", exp2, "exp2")


def hypot(input, other):
    """``sqrt(input**2 + other**2)`` element-wise, without overflow for large values."""
    _require_tensors("hypot", input, other)
    return Hypot.apply(input, other)


def xlogy(input, other):
    """``input * log(other)``, defined as 0 where ``input == 0`` (unless ``other`` is NaN)."""
    return Xlogy.apply(input, other)


def logaddexp(input, other):
    """``log(exp(input) + exp(other))``, computed without overflow."""
    _require_tensors("logaddexp", input, other)
    return LogAddExp.apply(input, other)


def logaddexp2(input, other):
    """``log2(2**input + 2**other)``, computed without overflow."""
    _require_tensors("logaddexp2", input, other)
    return LogAddExp2.apply(input, other)


TENSOR_METHODS = {
    "hypot": hypot,
    "xlogy": xlogy,
    "logaddexp": logaddexp,
    "logaddexp2": logaddexp2,
    # PyTorch has in-place hypot_ and xlogy_ but no logaddexp_.
    "hypot_": inplace_method(hypot, "hypot_"),
    "xlogy_": inplace_method(xlogy, "xlogy_"),
}
