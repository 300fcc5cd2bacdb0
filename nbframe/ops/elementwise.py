"""Element-wise ops: arithmetic, powers and logs, trigonometry, rounding, clamping, comparisons, logic.

Each op is a class: ``forward`` computes on arrays with ``xp`` (NumPy or CuPy),
``backward`` says how the gradient flows back, in Tensor ops. Binary ops
broadcast; their backward sums the gradient back to each input's shape.
Where a derivative is piecewise constant (``abs``, ``clamp``, ``maximum``),
backward multiplies by a constant array: the exact gradient, cheaper than a
chain of Tensor ops, and still right under ``create_graph``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..autograd import function as _function
from ..autograd.function import Op, wrap_gradients
from ..autograd.grad_mode import _state as _grad_state
from ..backend import get_array_module
from .broadcast import sum_to, sum_to_array
from .promotion import as_floating, broadcast_error, promote, promote_to_float, times_alpha

__all__ = [
    # arithmetic
    'add', 'sub', 'mul', 'div', 'neg', 'pow', 'subtract', 'multiply', 'divide', 'true_divide', 'negative',
    'remainder', 'fmod', 'floor_divide', 'reciprocal', 'square', 'lerp', 'addcmul', 'addcdiv',
    # exponentials, logarithms, powers
    'exp', 'exp2', 'expm1', 'log', 'log1p', 'log2', 'log10', 'sqrt', 'rsqrt', 'erf', 'erfc',
    # trigonometric and hyperbolic
    'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh',
    'atanh', 'arcsin', 'arccos', 'arctan', 'arctan2', 'arcsinh', 'arccosh', 'arctanh',
    # activations
    'relu', 'sigmoid',
    # sign, rounding, clamping, selection
    'abs', 'absolute', 'sign', 'sgn', 'copysign', 'floor', 'ceil', 'round', 'trunc', 'fix', 'frac',
    'clamp', 'clip', 'clamp_min', 'clamp_max', 'maximum', 'minimum', 'fmax', 'fmin', 'where',
    'nan_to_num',
    # comparisons and tests
    'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'greater', 'greater_equal', 'less', 'less_equal', 'not_equal',
    'isnan', 'isinf', 'isfinite', 'isposinf', 'isneginf', 'isclose', 'allclose', 'equal',
    # logic and bits
    'logical_and', 'logical_or', 'logical_xor', 'logical_not',
    'bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_not',
]


_ndarray = np.ndarray
_PY_NUMBERS = (int, float)  # by exact type: bool and NumPy scalars take promote's general path
#: NumPy float dtype -> {Python number: that number as a read-only 0-d array of the dtype} (``_number_array``)
_NUMBERS: dict = {np.dtype(np.float16): {}, np.dtype(np.float32): {}, np.dtype(np.float64): {}}


def _number_array(value, dtype):
    """A Python number as a cached read-only 0-d array of the float ``dtype`` (NumPy), or as it is.

    NumPy multiplies by a 0-d array about 2.4k instructions faster than by a Python number, which it
    converts on every call; and since NEP 50 it converts the number to the array's dtype first, so
    the result is the same. Only finite nonzero values are kept (``-0.0 == 0.0`` as a key), at most
    256 per dtype, so that a changing number (a learning rate) cannot grow the table.
    """
    table = _NUMBERS.get(dtype)
    if table is None:
        return value
    array = table.get(value)
    if array is None:
        if not value or len(table) >= 256:
            return value
        try:
            with np.errstate(all="raise"):
                array = np.array(value, dtype)
        except (OverflowError, FloatingPointError):
            return value
        if not np.isfinite(array):
            return value
        array.flags.writeable = False
        table[value] = array
    return array


def _shape(x):
    return getattr(x, "shape", ())


def _shapes(a, b) -> tuple:
    """Both operands' shapes (``()`` for a Python number): what a binary op's backward sums back to."""
    return (a.shape if type(a) is _ndarray else _shape(a), b.shape if type(b) is _ndarray else _shape(b))


def _binary(fn, a, b, op: str):
    try:
        return fn(a, b)
    except ValueError as error:
        raise _broadcast_failure(a, b, op, error) from None


def _broadcast_failure(a, b, op: str, error: ValueError) -> Exception:
    """What to raise for NumPy's ``error`` in ``op``: ours, naming both shapes, when they don't broadcast."""
    if _shape(a) and _shape(b) and not _broadcastable(_shape(a), _shape(b)):
        return broadcast_error(op, a, b)
    return error


def _broadcastable(sa: tuple, sb: tuple) -> bool:
    return all(x == y or x == 1 or y == 1 for x, y in zip(reversed(sa), reversed(sb)))


def _refuse_bool(a, b, kernel: str) -> None:
    """PyTorch has no bool kernel for arithmetic like %, // and **: say so (NumPy would give int8)."""
    if _kind(a, b) == "b":
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _is_bool(x) -> bool:
    return x.dtype.kind == "b" if hasattr(x, "dtype") else isinstance(x, bool)


def _const(array):
    """A Tensor around ``array`` that is a constant of the graph (masks, piecewise-constant factors)."""
    return _function._wrap(array, False, None, 0)


def _times(grad, factor):
    """``grad * factor`` (a Tensor or an array constant) in backward.

    Under plain ``backward()`` no graph is recorded, so when the dtypes agree the
    product is taken on the arrays directly, skipping an op dispatch.
    """
    is_tensor = isinstance(factor, _function._Tensor)  # (views are a subclass: ops/inplace.py's _View)
    array = factor.array if is_tensor else factor
    if not _grad_state.enabled and getattr(array, "dtype", None) == grad.array.dtype:
        return _function._wrap(grad.array * array, False, None, 0)
    return Mul.apply(grad, factor if is_tensor or not hasattr(factor, "dtype") else _const(factor))


def _in_dtype(operand, dtype):
    """A saved operand in the result's dtype, for a backward in Tensor ops.

    Forward computed with a promoted copy of a mixed-dtype operand; backward saves the input itself and
    casts it here, so that a gradient of the gradient (create_graph) still reaches that input.
    """
    if hasattr(operand, "array") and operand.array.dtype != dtype.numpy:
        return operand.to(dtype)
    return operand.item() if isinstance(operand, np.generic) else operand  # as promote takes a NumPy scalar


def _array_in_dtype(operand, dtype):
    """``_in_dtype`` for ``backward_arrays``: a saved array as forward's promoted copy was."""
    if isinstance(operand, np.generic):
        return operand.item()
    return operand.astype(dtype) if hasattr(operand, "dtype") and operand.dtype != dtype else operand


def _saved_in_dtype(ctx, dtype) -> tuple:
    """``ctx.saved_tensors`` with each saved operand in ``dtype`` (``_in_dtype``): for a backward in Tensor
    ops of an op that saved its inputs unpromoted. A saved output already has ``dtype``; None stays."""
    return tuple([_in_dtype(x, dtype) for x in ctx.saved_tensors])


def _saved_arrays_in_dtype(ctx, dtype) -> tuple:
    """``_saved_in_dtype`` for ``backward_arrays``: ``ctx.saved_arrays`` as forward's promoted copies were."""
    return tuple([_array_in_dtype(x, dtype) for x in ctx.saved_arrays])


def _zeros_like(t):
    return _const(get_array_module(t.array).zeros_like(t.array))


def _quiet():
    """Silence NumPy's divide/invalid/overflow warnings: NaN and Inf results are values, as in PyTorch."""
    return np.errstate(all="ignore")


def _kind(a, b) -> str:
    """The dtype kind ('b', 'i', 'u', 'f') of promoted operands (one of them is an array)."""
    return a.dtype.kind if hasattr(a, "dtype") else b.dtype.kind


def _type_name(array) -> str:
    """PyTorch's scalar-type name for an array's dtype (Float, Long, Bool, ...)."""
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
             "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
    return names.get(str(array.dtype), str(array.dtype))


def _c_type_name(array) -> str:
    """The C++ name PyTorch's dtype checks print (double, float, long int, ...)."""
    names = {"float64": "double", "float32": "float", "float16": "c10::Half", "int64": "long int",
             "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
             "bool": "bool"}
    return names.get(str(array.dtype), str(array.dtype))


def _promote_all(op: str, *operands):
    """PyTorch's promotion over any number of operands (Tensors' arrays or Python numbers; None skipped)."""
    present = [x for x in operands if x is not None]
    target = dtypes.to_numpy(dtypes.result_type(*present))
    return tuple(x.astype(target) if hasattr(x, "dtype") and x.dtype != target else x for x in operands)


def _broadcast_error3(op: str, *operands) -> RuntimeError:
    shapes = " and ".join(str(list(_shape(x))) for x in operands if x is not None)
    return RuntimeError(
        f"{op}: the shapes {shapes} can't be broadcast together: sizes must match, or be 1, "
        "dimension by dimension from the right"
    )


def _check_integer_divisor(b, op: str) -> None:
    """Integer division by zero: PyTorch raises instead of NumPy's silent 0."""
    if hasattr(b, "dtype"):
        if b.dtype.kind in "iub" and not b.all():
            raise RuntimeError(f"ZeroDivisionError: {op} of integer tensors by zero")
    elif isinstance(b, int) and b == 0:
        raise RuntimeError(f"ZeroDivisionError: {op} of integer tensors by zero")


# --------------------------------------------------------------------------- arithmetic
def _sum_backward_arrays(ctx, grad):
    """Add's and Sub's ``backward_arrays``: ``grad`` for a, ``grad * alpha`` (``-grad * alpha`` for Sub)
    for b, each summed back to its input's shape (the same shape, the common case, checked inline)."""
    sa, sb = ctx.shapes
    need = ctx.needs_input_grad
    shape = grad.shape
    ga = None
    if need[0]:
        ga = grad if shape == sa else sum_to_array(grad, sa)
    if not need[1]:
        return ga, None, None
    scale = ctx.alpha * ctx.sign
    gb = grad if scale == 1 else -grad if scale == -1 else grad * scale
    return ga, gb if shape == sb else sum_to_array(gb, sb), None


class Add(Op):
    label = "add"
    _small_ctx = True  # see Node._small_ctx

    alpha = 1  # set on the node only when it differs
    sign = 1  # of b in the result

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        # promote's and _shapes' hot cases inline (two calls less an op, ~10% of its bookkeeping): arrays
        # of one dtype (NumPy's builtin dtypes are singletons), a float array and a Python number.
        if type(a) is _ndarray and (
            type(b) is _ndarray and a.dtype is b.dtype or type(b) in _PY_NUMBERS and a.dtype.kind == "f"
        ):
            ctx.shapes = (a.shape, b.shape if type(b) is _ndarray else ())
        else:
            a, b = promote(a, b, "add")
            ctx.shapes = _shapes(a, b)
        if alpha != 1:
            ctx.alpha = alpha
            b = times_alpha(a, b, alpha)
        try:
            return a + b
        except ValueError as error:
            raise _broadcast_failure(a, b, "add", error) from None

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        ga = sum_to(grad, sa) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            gb = sum_to(grad if ctx.alpha == 1 else grad * ctx.alpha, sb)
        return ga, gb, None

    backward_arrays = staticmethod(_sum_backward_arrays)


class Sub(Op):
    label = "sub"
    _small_ctx = True  # see Node._small_ctx
    alpha = 1  # set on the node only when it differs
    sign = -1  # of b in the result

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        if _is_bool(a) or _is_bool(b):
            raise RuntimeError(
                "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                "invert a mask, use the `~` or `logical_not()` operator instead (`^` for two masks)."
            )
        a, b = promote(a, b, "sub")
        ctx.shapes = _shapes(a, b)
        if alpha != 1:
            ctx.alpha = alpha
            b = times_alpha(a, b, alpha)
        try:
            return a - b
        except ValueError as error:
            raise _broadcast_failure(a, b, "sub", error) from None

    @staticmethod
    def backward(ctx, grad):
        if not _grad_state.enabled and not _function._OBSERVERS:
            return wrap_gradients(Sub.backward_arrays(ctx, grad.array))
        sa, sb = ctx.shapes
        ga = sum_to(grad, sa) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            gb = sum_to(-grad if ctx.alpha == 1 else grad * -ctx.alpha, sb)
        return ga, gb, None

    backward_arrays = staticmethod(_sum_backward_arrays)


class Mul(Op):
    label = "mul"
    _small_ctx = True  # see Node._small_ctx
    mixed = False  # set on the node when forward promoted its operands (they are saved unpromoted)

    @staticmethod
    def forward(ctx, a, b):
        if type(a) is _ndarray and type(b) in _PY_NUMBERS and a.dtype.kind == "f":
            # x * 2: only a needs a gradient (b is a number); the number as a cached 0-d array.
            ctx.shapes = (a.shape, ())
            ctx._to_save = (None, b)
            return a * _number_array(b, a.dtype)
        need = ctx.needs_input_grad
        # Keep only what backward will read: b for a's gradient, a for b's (save_for_backward, inlined).
        # The inputs themselves, not promoted copies: see _in_dtype.
        ctx._to_save = (a if need[1] else None, b if need[0] else None)
        if type(a) is _ndarray and type(b) is _ndarray and a.dtype is b.dtype:
            ctx.shapes = (a.shape, b.shape)  # as in Add.forward
        else:
            a, b = promote(a, b, "mul")
            ctx.shapes = _shapes(a, b)
            ctx.mixed = True
        try:
            return a * b
        except ValueError as error:
            raise _broadcast_failure(a, b, "mul", error) from None

    @staticmethod
    def backward(ctx, grad):
        if not _grad_state.enabled and not _function._OBSERVERS:
            # No graph recorded and no observer to tell (%%watch shows backward's ops): on the arrays.
            return wrap_gradients(Mul.backward_arrays(ctx, grad.array))
        need = ctx.needs_input_grad
        sa, sb = ctx.shapes
        a, b = ctx.saved_tensors
        ga = sum_to(_times(grad, b), sa) if need[0] else None
        gb = sum_to(_times(grad, a), sb) if need[1] else None
        return ga, gb

    @staticmethod
    def backward_arrays(ctx, grad):
        # a and b share grad's dtype after promote, or are Python numbers, which keep it.
        need = ctx.needs_input_grad
        sa, sb = ctx.shapes
        a, b = _saved_arrays_in_dtype(ctx, grad.dtype) if ctx.mixed else ctx.saved_arrays
        if type(b) in _PY_NUMBERS and type(grad) is _ndarray:
            ga = grad * _number_array(b, grad.dtype)
            return ga if ga.shape == sa else sum_to_array(ga, sa), None
        ga = gb = None
        if need[0]:
            ga = grad * b
            if ga.shape != sa:
                ga = sum_to_array(ga, sa)
        if need[1]:
            gb = grad * a
            if gb.shape != sb:
                gb = sum_to_array(gb, sb)
        return ga, gb


class Div(Op):
    label = "div"
    mixed = False  # as Mul's

    @staticmethod
    def forward(ctx, a, b, rounding_mode=None):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)  # unpromoted: see _in_dtype
        inputs = a, b
        if rounding_mode is None:
            a, b = promote_to_float(a, b, "div")
        else:
            a, b = promote(a, b, "div")
            if _kind(a, b) in "iub":
                _check_integer_divisor(b, "div")
        if a is not inputs[0] or b is not inputs[1]:
            ctx.mixed = True
        ctx.shapes = (_shape(a), _shape(b))
        ctx.rounding_mode = rounding_mode
        xp = get_array_module(a if hasattr(a, "dtype") else b)
        with _quiet():
            if rounding_mode == "floor":
                return _binary(xp.floor_divide, a, b, "div")
            if rounding_mode == "trunc":
                out = _binary(_truediv, a, b, "div")
                return xp.trunc(out).astype(out.dtype) if out.dtype.kind == "f" else out
            if rounding_mode is not None:
                raise ValueError(
                    f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}"
                )
            return _binary(_truediv, a, b, "div")

    @staticmethod
    def backward(ctx, grad):
        if ctx.rounding_mode is not None or not _grad_state.enabled and not _function._OBSERVERS:
            # A rounded quotient is a step function: zero gradient almost everywhere, as in PyTorch.
            return wrap_gradients(Div.backward_arrays(ctx, grad.array))
        a, b = _saved_in_dtype(ctx, grad.dtype)
        sa, sb = ctx.shapes
        ga = sum_to(grad / b, sa) if ctx.needs_input_grad[0] else None
        gb = sum_to(-grad * a / (b * b), sb) if ctx.needs_input_grad[1] else None
        return ga, gb, None

    @staticmethod
    def backward_arrays(ctx, grad):
        need = ctx.needs_input_grad
        sa, sb = ctx.shapes
        if ctx.rounding_mode is not None:
            xp = get_array_module(grad)
            return (xp.zeros(sa, grad.dtype) if need[0] else None,
                    xp.zeros(sb, grad.dtype) if need[1] else None, None)
        a, b = _saved_arrays_in_dtype(ctx, grad.dtype) if ctx.mixed else ctx.saved_arrays
        ga = gb = None
        with _quiet():  # x / 0 is a value, as in the Tensor path's Div
            if need[0]:
                ga = sum_to_array(grad / b, sa)
            if need[1]:
                gb = sum_to_array(-grad * a / (b * b), sb)
        return ga, gb, None


class Neg(Op):
    label = "neg"
    _small_ctx = True  # see Node._small_ctx

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind == "b":
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. "
                "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
            )
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad

    @staticmethod
    def backward_arrays(ctx, grad):
        return -grad


class Pow(Op):
    label = "pow"

    @staticmethod
    def forward(ctx, a, b):
        inputs = a, b
        a, b = promote(a, b, "pow")
        xp = get_array_module(a if hasattr(a, "dtype") else b)
        if _kind(a, b) == "b":
            if not isinstance(b, bool):
                _refuse_bool(a, b, "pow")
            return a | (not b)  # x ** True is x, x ** False is True
        with _quiet():
            try:
                out = _binary(xp.power, a, b, "pow")
            except ValueError:
                if _kind(a, b) not in "iu":
                    raise
                out = _integer_power(xp, a, b)
        ctx.save_for_backward(*inputs, out if ctx.needs_input_grad[1] else None)  # see _in_dtype
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = _saved_in_dtype(ctx, grad.dtype)
        sa, sb = ctx.shapes
        ga = gb = None
        # PyTorch's masks: a zero exponent gives the base no gradient (not 0 * 0**-1 = nan), and a zero base
        # with a non-negative exponent gives the exponent none (not 0 * log 0 = nan).
        if ctx.needs_input_grad[0]:
            if isinstance(b, (int, float)):
                ga = grad * b * a ** (b - 1) if b != 0 else grad * 0
            else:
                ga = where(_const(b.array == 0), 0.0, grad * b * a ** (b - 1))
            ga = sum_to(ga, sa)
        if ctx.needs_input_grad[1]:
            if isinstance(a, (int, float)):
                log_a = _log_scalar(a)
                zero_base = (b.array >= 0) & (a == 0)
            else:
                log_a = log(a)
                zero_base = (a.array == 0) & (b.array >= 0)
            gb = sum_to(where(_const(zero_base), 0.0, grad * out * log_a), sb)
        return ga, gb


def _integer_power(xp, a, b):
    """Integer powers with negative exponents, as PyTorch: 1 and -1 keep their magnitude, the rest give 0."""
    negative = xp.asarray(b) < 0
    out = xp.power(a, xp.where(negative, 0, b))
    a = xp.asarray(a)
    odd = xp.asarray(b) % 2 == 1
    special = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
    return xp.where(negative, special, out).astype(out.dtype, copy=False)


def _log_scalar(a: float) -> float:
    """``log`` of a Python number as NumPy's log of an array gives it: -inf at 0, nan below."""
    return math.log(a) if a > 0 else -math.inf if a == 0 else math.nan


class Square(Op):
    label = "square"

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind == "b":
            x = x.astype(np.int64)  # PyTorch: bool ** 2 is int64
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x * 2


class Remainder(Op):
    """Python's ``%``: the result has the sign of the divisor."""

    label = "remainder"
    fn, quotient = "remainder", "floor"

    @classmethod
    def forward(cls, ctx, a, b):
        a, b = promote(a, b, cls.label)
        _refuse_bool(a, b, f"{cls.fn}_cpu")
        if _kind(a, b) in "iu":
            _check_integer_divisor(b, cls.label)
        ctx.save_for_backward(a, b)
        ctx.shapes = (_shape(a), _shape(b))
        xp = get_array_module(a if hasattr(a, "dtype") else b)
        with _quiet():
            return _binary(getattr(xp, cls.fn), a, b, cls.label)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        ga = sum_to(grad, sa) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            if isinstance(a, (int, float)) and cls is Remainder:  # number % tensor: PyTorch has no derivative
                raise RuntimeError("derivative for aten::remainder is not implemented")
            # d/db (a - b * q) = -q, where the quotient q is a step function of (a, b).
            av, bv = getattr(a, "array", a), getattr(b, "array", b)
            xp = get_array_module(av if hasattr(av, "dtype") else bv)
            with _quiet():
                q = getattr(xp, cls.quotient)(av / bv)
            gb = sum_to(_times(grad, -q), sb)
        return ga, gb


class Fmod(Remainder):
    """C's ``fmod``: the result has the sign of the dividend."""

    label = "fmod"
    fn, quotient = "fmod", "trunc"


class FloorDivide(Op):
    label = "floor_divide"

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b, "floor_divide")
        _refuse_bool(a, b, "div_floor_cpu")
        if _kind(a, b) in "iu":
            _check_integer_divisor(b, "floor_divide")
        xp = get_array_module(a if hasattr(a, "dtype") else b)
        with _quiet():
            return _binary(xp.floor_divide, a, b, "floor_divide")

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


class Lerp(Op):
    """``input + weight * (end - input)``, written as PyTorch does for accuracy near ``weight = 1``."""

    label = "lerp"

    @staticmethod
    def forward(ctx, start, end, weight):
        # PyTorch takes no mixed dtypes here (a 0-d weight excepted): say so rather than promote.
        for name, value in (("end", end), ("weight", weight)):
            if hasattr(value, "dtype") and value.dtype != start.dtype and (name == "end" or value.ndim):
                raise RuntimeError(
                    f"expected dtype {_c_type_name(start)} for `{name}` but got dtype {_c_type_name(value)}"
                )
        ctx.save_for_backward(start, end, weight)  # unpromoted: see _in_dtype
        start, end, weight = _promote_all("lerp", start, end, weight)
        ctx.shapes = (_shape(start), _shape(end), _shape(weight))
        xp = get_array_module(start)
        try:
            diff = end - start
            low = start + weight * diff
            return xp.where(weight < 0.5, low, end - diff * (1 - weight)).astype(low.dtype, copy=False)
        except ValueError:
            raise _broadcast_error3("lerp", start, end, weight) from None

    @staticmethod
    def backward(ctx, grad):
        start, end, weight = _saved_in_dtype(ctx, grad.dtype)
        s_start, s_end, s_weight = ctx.shapes
        need = ctx.needs_input_grad
        g_start = sum_to(grad * (1 - weight), s_start) if need[0] else None
        g_end = sum_to(grad * weight, s_end) if need[1] else None
        g_weight = sum_to(grad * (end - start), s_weight) if need[2] else None
        return g_start, g_end, g_weight


class Addcmul(Op):
    """``input + value * tensor1 * tensor2`` in one op (optimisers' inner loop)."""

    label = "addcmul"

    @staticmethod
    def forward(ctx, x, t1, t2, value):
        ctx.save_for_backward(t1, t2)  # unpromoted: see _in_dtype
        x, t1, t2 = _promote_all("addcmul", x, t1, t2)
        ctx.shapes, ctx.value = (_shape(x), _shape(t1), _shape(t2)), value
        try:
            return x + (t1 * t2) * value if value != 1 else x + t1 * t2
        except ValueError:
            raise _broadcast_error3("addcmul", x, t1, t2) from None

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = _saved_in_dtype(ctx, grad.dtype)
        sx, s1, s2 = ctx.shapes
        need = ctx.needs_input_grad
        scaled = grad * ctx.value if ctx.value != 1 and (need[1] or need[2]) else grad
        return (sum_to(grad, sx) if need[0] else None,
                sum_to(scaled * t2, s1) if need[1] else None,
                sum_to(scaled * t1, s2) if need[2] else None, None)


class Addcdiv(Op):
    """``input + value * tensor1 / tensor2`` in one op (Adam's update)."""

    label = "addcdiv"

    @staticmethod
    def forward(ctx, x, t1, t2, value):
        if getattr(t1, "dtype", np.float32).kind in "iub" and getattr(t2, "dtype", np.float32).kind in "iub":
            raise RuntimeError(
                "Integer division with addcdiv is no longer supported; use "
                "input + value * torch.true_divide(tensor1, tensor2) instead"
            )
        ctx.save_for_backward(t1, t2)  # unpromoted: see _in_dtype
        x, t1, t2 = _promote_all("addcdiv", x, t1, t2)
        ctx.shapes, ctx.value = (_shape(x), _shape(t1), _shape(t2)), value
        try:
            with _quiet():
                return x + (t1 / t2) * value if value != 1 else x + t1 / t2
        except ValueError:
            raise _broadcast_error3("addcdiv", x, t1, t2) from None

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = _saved_in_dtype(ctx, grad.dtype)
        sx, s1, s2 = ctx.shapes
        need = ctx.needs_input_grad
        scaled = grad * ctx.value if ctx.value != 1 and (need[1] or need[2]) else grad
        g1 = g2 = None
        if need[1] or need[2]:
            g1 = scaled / t2
        if need[2]:
            g2 = sum_to(-g1 * t1 / t2, s2)
        return sum_to(grad, sx) if need[0] else None, sum_to(g1, s1) if need[1] else None, g2, None


# --------------------------------------------------------------------------- float functions of one input
class _FloatUnary(Op):
    """``y = f(x)`` for a float-valued ``f``; integer and bool inputs compute in the default float dtype.

    A subclass (made by ``_float_unary`` below) gives the array function ``fn(xp, x)``
    and ``gradient(grad, saved)`` in Tensor ops, where ``saved`` is the input or,
    when ``uses_output``, the output (cheaper for exp, sqrt, tanh, ...).
    """

    fn = None
    uses_output = False
    _small_ctx = True  # see Node._small_ctx

    @classmethod
    def forward(cls, ctx, x):
        if x.dtype.kind != "f":
            x = as_floating(x)
        with _quiet():
            out = cls.fn(get_array_module(x), x)
        ctx.save_for_backward(out if cls.uses_output else x)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        if cls.backward_arrays is not None and not _grad_state.enabled and not _function._OBSERVERS:
            return wrap_gradients(cls.backward_arrays(ctx, grad.array))
        (saved,) = ctx.saved_tensors
        return cls.gradient(grad, saved)


def _float_unary(name: str, fn, gradient, uses_output: bool = False, arrays: str | None = None):
    """A ``_FloatUnary`` subclass.

    ``arrays`` says that ``gradient`` uses only arithmetic operators, so it also runs on raw arrays
    and gives the op its ``backward_arrays``: ``"divides"`` when it divides (then it runs under
    ``_quiet``: x / 0 is a value, as in the Tensor path's Div), ``"multiplies"`` otherwise.
    """
    cls_name = "".join(part.capitalize() for part in name.split("_"))
    namespace = {
        "label": name, "fn": staticmethod(fn), "gradient": staticmethod(gradient), "uses_output": uses_output,
    }
    if arrays:
        def backward_arrays(ctx, grad):
            (saved,) = ctx.saved_arrays
            if arrays == "multiplies":
                return gradient(grad, saved)
            with _quiet():
                return gradient(grad, saved)

        namespace["backward_arrays"] = staticmethod(backward_arrays)
    return type(cls_name, (_FloatUnary,), namespace)


def _erf_array(xp, x):
    if xp is np:
        try:
            from scipy.special import erf as scipy_erf
        except ImportError:  # exact but slower: math.erf element by element
            return _math_erf(x).astype(x.dtype)
        return scipy_erf(x)
    from cupyx.scipy.special import erf as cupy_erf

    return cupy_erf(x)


_math_erf = np.frompyfunc(math.erf, 1, 1)
_LN2, _LN10, _TWO_OVER_SQRT_PI = math.log(2.0), math.log(10.0), 2.0 / math.sqrt(math.pi)

# name, array function, gradient(grad, saved), whether saved is the output
Exp = _float_unary("exp", lambda xp, x: xp.exp(x), lambda g, y: g * y, True, arrays="multiplies")
Exp2 = _float_unary("exp2", lambda xp, x: xp.exp2(x), lambda g, y: g * y * _LN2, True, arrays="multiplies")
Expm1 = _float_unary("expm1", lambda xp, x: xp.expm1(x), lambda g, y: g * (y + 1), True, arrays="multiplies")
Log = _float_unary("log", lambda xp, x: xp.log(x), lambda g, x: g / x, arrays="divides")
Log1p = _float_unary("log1p", lambda xp, x: xp.log1p(x), lambda g, x: g / (x + 1), arrays="divides")
Log2 = _float_unary("log2", lambda xp, x: xp.log2(x), lambda g, x: g / (x * _LN2), arrays="divides")
Log10 = _float_unary("log10", lambda xp, x: xp.log10(x), lambda g, x: g / (x * _LN10), arrays="divides")
Sqrt = _float_unary("sqrt", lambda xp, x: xp.sqrt(x), lambda g, y: g / (y * 2), True, arrays="divides")
Rsqrt = _float_unary(
    "rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda g, y: g * (y * y * y) * -0.5, True, arrays="multiplies"
)
Reciprocal = _float_unary(
    "reciprocal", lambda xp, x: 1 / x, lambda g, y: g * (y * y) * -1, True, arrays="multiplies"
)
Erf = _float_unary("erf", _erf_array, lambda g, x: g * exp(-(x * x)) * _TWO_OVER_SQRT_PI)
Erfc = _float_unary("erfc", lambda xp, x: 1 - _erf_array(xp, x),
                    lambda g, x: g * exp(-(x * x)) * -_TWO_OVER_SQRT_PI)
Sin = _float_unary("sin", lambda xp, x: xp.sin(x), lambda g, x: g * cos(x))
Cos = _float_unary("cos", lambda xp, x: xp.cos(x), lambda g, x: g * -sin(x))
Tan = _float_unary("tan", lambda xp, x: xp.tan(x), lambda g, y: g * (y * y + 1), True, arrays="multiplies")
Asin = _float_unary("asin", lambda xp, x: xp.arcsin(x), lambda g, x: g * rsqrt(1 - x * x))
Acos = _float_unary("acos", lambda xp, x: xp.arccos(x), lambda g, x: g * -rsqrt(1 - x * x))
Atan = _float_unary("atan", lambda xp, x: xp.arctan(x), lambda g, x: g / (x * x + 1), arrays="divides")
Sinh = _float_unary("sinh", lambda xp, x: xp.sinh(x), lambda g, x: g * cosh(x))
Cosh = _float_unary("cosh", lambda xp, x: xp.cosh(x), lambda g, x: g * sinh(x))
Tanh = _float_unary("tanh", lambda xp, x: xp.tanh(x), lambda g, y: g * (1 - y * y), True, arrays="multiplies")
Asinh = _float_unary("asinh", lambda xp, x: xp.arcsinh(x), lambda g, x: g * rsqrt(x * x + 1))
Acosh = _float_unary("acosh", lambda xp, x: xp.arccosh(x), lambda g, x: g * rsqrt(x * x - 1))
Atanh = _float_unary("atanh", lambda xp, x: xp.arctanh(x), lambda g, x: g / (1 - x * x), arrays="divides")


class Atan2(Op):
    label = "atan2"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)  # unpromoted: see _in_dtype
        a, b = promote_to_float(a, b, "atan2")
        ctx.shapes = (_shape(a), _shape(b))
        xp = get_array_module(a if hasattr(a, "dtype") else b)
        return _binary(xp.arctan2, a, b, "atan2")

    @staticmethod
    def backward(ctx, grad):
        a, b = _saved_in_dtype(ctx, grad.dtype)
        sa, sb = ctx.shapes
        scaled = grad / (a * a + b * b)
        ga = sum_to(scaled * b, sa) if ctx.needs_input_grad[0] else None
        gb = sum_to(scaled * -a, sb) if ctx.needs_input_grad[1] else None
        return ga, gb


# --------------------------------------------------------------------------- activations
_ZEROS: dict = {}  # NumPy dtype -> a read-only 0-d zero of that dtype


def _zero_of(dtype):
    try:
        return _ZEROS[dtype]
    except KeyError:
        zero = np.zeros((), dtype)
        zero.flags.writeable = False
        return _ZEROS.setdefault(dtype, zero)


class Relu(Op):
    label = "relu"
    _small_ctx = True  # see Node._small_ctx

    @staticmethod
    def forward(ctx, x):
        if type(x) is _ndarray:
            # A 0-d zero of x's own dtype: NumPy compares with it ~40% faster than with the Python 0
            # (no scalar conversion), and the result keeps x's dtype.
            out = np.maximum(x, _zero_of(x.dtype))
        else:
            out = get_array_module(x).maximum(x, 0)
            if out.dtype is not x.dtype:  # bool and small integer inputs keep their dtype
                out = out.astype(x.dtype)
        ctx._to_save = (out,)  # save_for_backward(out), inlined
        return out

    @staticmethod
    def backward(ctx, grad):
        if not _grad_state.enabled and not _function._OBSERVERS:  # see Mul.backward
            return wrap_gradients(Relu.backward_arrays(ctx, grad.array))
        (out,) = ctx.saved_tensors
        return _times(grad, (out.array > 0).astype(grad.array.dtype))

    @staticmethod
    def backward_arrays(ctx, grad):
        (out,) = ctx.saved_arrays
        # float * bool keeps the float dtype; a NumPy array compares faster with a 0-d zero (forward made it)
        return grad * (out > (_ZEROS[out.dtype] if type(out) is _ndarray else 0))


class Sigmoid(Op):
    label = "sigmoid"
    _small_ctx = True  # see Node._small_ctx

    @staticmethod
    def forward(ctx, x):
        x = as_floating(x)
        xp = get_array_module(x)
        # Two branches so that neither exp overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below.
        e = xp.exp(-xp.abs(x))
        out = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)

    @staticmethod
    def backward_arrays(ctx, grad):
        (out,) = ctx.saved_arrays
        return grad * out * (1 - out)


# --------------------------------------------------------------------------- sign and rounding
class Abs(Op):
    label = "abs"

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind == "b":
            raise RuntimeError("abs: bool tensors are not supported (Boolean inputs not supported for abs)")
        ctx.save_for_backward(x)
        return get_array_module(x).abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # sign(x) is 0 at 0, so the gradient there is 0, as in PyTorch.
        return _times(grad, get_array_module(x.array).sign(x.array))


class _StepFunction(Op):
    """Ops whose value is piecewise constant in the input: their gradient is zero (PyTorch's choice)."""

    fn = None

    @classmethod
    def forward(cls, ctx, x, *args):
        ctx.arg_count = len(args)
        if x.dtype.kind in "iub":
            return cls.on_integer(x)
        return cls.fn(get_array_module(x), x, *args)

    @staticmethod
    def on_integer(x):
        return x.copy()  # integers are already whole

    @staticmethod
    def backward(ctx, grad):
        return (_zeros_like(grad),) + (None,) * ctx.arg_count


def _sign_integer(x):
    return x.copy() if x.dtype.kind == "b" else get_array_module(x).sign(x)


def _round_array(xp, x, decimals=0):
    if decimals == 0:
        return xp.round(x)
    # As PyTorch: scale, round half to even, unscale (division for decimals < 0 keeps exactness).
    if decimals > 0:
        scale = 10.0 ** decimals
        return (xp.round(x * scale) / scale).astype(x.dtype, copy=False)
    scale = 10.0 ** -decimals
    return (xp.round(x / scale) * scale).astype(x.dtype, copy=False)


def _step_function(name: str, fn, on_integer=None):
    attrs = {"label": name, "fn": staticmethod(fn)}
    if on_integer is not None:
        attrs["on_integer"] = staticmethod(on_integer)
    return type(name.capitalize(), (_StepFunction,), attrs)


Sign = _step_function("sign", lambda xp, x: xp.sign(x), _sign_integer)
Floor = _step_function("floor", lambda xp, x: xp.floor(x))
Ceil = _step_function("ceil", lambda xp, x: xp.ceil(x))
Trunc = _step_function("trunc", lambda xp, x: xp.trunc(x))
Round = _step_function("round", _round_array)


class Frac(Op):
    label = "frac"

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind != "f":
            raise RuntimeError(
                f'frac: "frac_cpu" not implemented for \'{_type_name(x)}\' (it needs a float tensor)'
            )
        return x - get_array_module(x).trunc(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Copysign(Op):
    label = "copysign"

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote_to_float(a, b, "copysign")
        xp = get_array_module(a if hasattr(a, "dtype") else b)
        out = _binary(xp.copysign, a, b, "copysign")
        ctx.save_for_backward(a, out)
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # +1 where the sign was kept, -1 where it flipped, 0 at a == 0 (PyTorch's choice).
            av, ov = a.array, out.array
            xp = get_array_module(av)
            with _quiet():
                factor = xp.where(av == 0, 0, ov / av).astype(ov.dtype, copy=False)
            ga = sum_to(_times(grad, factor), ctx.shapes[0])
        if ctx.needs_input_grad[1]:
            gb = sum_to(_zeros_like(grad), ctx.shapes[1])
        return ga, gb


# --------------------------------------------------------------------------- clamping and selection
class Clamp(Op):
    """``min(max(x, min), max)``; the bounds are numbers, Tensors or None."""

    label = "clamp"

    @staticmethod
    def forward(ctx, x, low, high):
        if x.dtype.kind != "f" or hasattr(low, "dtype") or hasattr(high, "dtype"):
            x, low, high = _promote_all("clamp", x, low, high)
        ctx.save_for_backward(x, low, high)
        ctx.shapes = (_shape(x), _shape(low), _shape(high))
        xp = get_array_module(x)
        out = x
        try:
            if low is not None:
                out = xp.maximum(out, low)
            if high is not None:
                out = xp.minimum(out, high)
        except ValueError:
            raise _broadcast_error3("clamp", x, low, high) from None
        return out if out is not x else x.copy()

    @staticmethod
    def backward(ctx, grad):
        x, low, high = ctx.saved_tensors
        sx, s_low, s_high = ctx.shapes
        xv = x.array
        lv, hv = getattr(low, "array", low), getattr(high, "array", high)
        xp, dtype = get_array_module(xv), grad.array.dtype
        # The gradient passes where low <= x <= high (bounds included, as in PyTorch).
        inside = True
        if lv is not None:
            inside = xv >= lv
        if hv is not None:
            inside = inside & (xv <= hv)
        need = ctx.needs_input_grad
        gx = sum_to(_times(grad, xp.asarray(inside).astype(dtype)), sx) if need[0] else None
        g_low = g_high = None
        # Crossed bounds (min > max) give max, so max takes the gradient there, as in PyTorch.
        if need[1]:
            below = xv < lv if hv is None else (xv < lv) & (lv < hv)
            g_low = sum_to(_times(grad, xp.asarray(below).astype(dtype)), s_low)
        if need[2]:
            above = xv > hv if lv is None else (xv > hv) | (hv < lv)
            g_high = sum_to(_times(grad, xp.asarray(above).astype(dtype)), s_high)
        return gx, g_low, g_high


class Maximum(Op):
    """Element-wise larger of two tensors; at ties the gradient is split half and half, as in PyTorch."""

    label = "maximum"
    fn, wins = "maximum", "greater"

    @classmethod
    def forward(cls, ctx, a, b):
        a, b = promote(a, b, cls.label)
        ctx.save_for_backward(a, b)
        ctx.shapes = (_shape(a), _shape(b))
        xp = get_array_module(a if hasattr(a, "dtype") else b)
        return _binary(getattr(xp, cls.fn), a, b, cls.label)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        av, bv = getattr(a, "array", a), getattr(b, "array", b)
        share = cls._share(get_array_module(grad.array), av, bv).astype(grad.array.dtype, copy=False)
        sa, sb = ctx.shapes
        ga = sum_to(_times(grad, share), sa) if ctx.needs_input_grad[0] else None
        gb = sum_to(_times(grad, 1 - share), sb) if ctx.needs_input_grad[1] else None
        return ga, gb

    @classmethod
    def _share(cls, xp, av, bv):
        """a's share of the gradient: 1 where a wins, 1/2 at ties, 0 where b wins."""
        return getattr(xp, cls.wins)(av, bv) + (av == bv) * 0.5


class Minimum(Maximum):
    label = "minimum"
    fn, wins = "minimum", "less"


class Fmax(Maximum):
    """Like ``maximum``, but a NaN loses to a number."""

    label = "fmax"
    fn, wins = "fmax", "greater"

    @classmethod
    def _share(cls, xp, av, bv):
        """All of it to whichever input the result came from (a on ties and when b is NaN)."""
        return getattr(xp, cls.wins)(av, bv) | (av == bv) | xp.isnan(bv)


class Fmin(Fmax):
    label = "fmin"
    fn, wins = "fmin", "less"


class Where(Op):
    label = "where"

    @staticmethod
    def forward(ctx, condition, a, b):
        if getattr(condition, "dtype", None) is None or condition.dtype.kind != "b":
            found = _type_name(condition) if hasattr(condition, "dtype") else type(condition).__name__
            raise RuntimeError(
                f"where expected condition to be a boolean tensor, but got a tensor with dtype {found}"
            )
        if getattr(a, "dtype", None) != getattr(b, "dtype", 0):
            a, b = promote(a, b, "where")
        ctx.save_for_backward(condition)
        ctx.shapes = (_shape(a), _shape(b))
        xp = get_array_module(condition)
        try:
            return xp.where(condition, a, b)
        except ValueError:
            raise _broadcast_error3("where", condition, a, b) from None

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        ga = sum_to(Where.apply(condition, grad, 0.0), sa) if ctx.needs_input_grad[1] else None
        gb = sum_to(Where.apply(condition, 0.0, grad), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class NanToNum(Op):
    label = "nan_to_num"

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        if x.dtype.kind != "f":
            return x.copy()
        return get_array_module(x).nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        finite = get_array_module(x.array).isfinite(x.array).astype(grad.array.dtype)
        return _times(grad, finite), None, None, None


# --------------------------------------------------------------------------- comparisons, tests, logic
class _NoGradient(Op):
    """Ops whose results are bool or integer: no gradient flows through them.

    ``fn(xp, *arrays)`` computes the result; binary ones first promote their operands.
    """

    fn = None
    promotes = True

    @classmethod
    def forward(cls, ctx, a, b=None):
        if b is None:
            return cls.fn(get_array_module(a), a)
        if cls.promotes:
            a, b = promote(a, b, cls.label)
        xp = get_array_module(a if hasattr(a, "dtype") else b)
        return _binary(lambda p, q: cls.fn(xp, p, q), a, b, cls.label)

    @staticmethod
    def backward(ctx, *grads):
        return (None,) * len(ctx.next_edges)


def _no_gradient(name: str, fn, promotes: bool = True):
    cls_name = "".join(part.capitalize() for part in name.split("_"))
    return type(cls_name, (_NoGradient,), {"label": name, "fn": staticmethod(fn), "promotes": promotes})


Eq = _no_gradient("eq", lambda xp, a, b: a == b)
Ne = _no_gradient("ne", lambda xp, a, b: a != b)
Lt = _no_gradient("lt", lambda xp, a, b: a < b)
Le = _no_gradient("le", lambda xp, a, b: a <= b)
Gt = _no_gradient("gt", lambda xp, a, b: a > b)
Ge = _no_gradient("ge", lambda xp, a, b: a >= b)
IsNan = _no_gradient("isnan", lambda xp, x: xp.isnan(x))
IsInf = _no_gradient("isinf", lambda xp, x: xp.isinf(x))
IsFinite = _no_gradient("isfinite", lambda xp, x: xp.isfinite(x))
IsPosInf = _no_gradient("isposinf", lambda xp, x: x == np.inf)
IsNegInf = _no_gradient("isneginf", lambda xp, x: x == -np.inf)
LogicalAnd = _no_gradient("logical_and", lambda xp, a, b: xp.logical_and(a, b), promotes=False)
LogicalOr = _no_gradient("logical_or", lambda xp, a, b: xp.logical_or(a, b), promotes=False)
LogicalXor = _no_gradient("logical_xor", lambda xp, a, b: xp.logical_xor(a, b), promotes=False)
LogicalNot = _no_gradient("logical_not", lambda xp, x: xp.logical_not(x))


class IsClose(_NoGradient):
    """``|a - b| <= atol + rtol * |b|`` element by element; both must have one dtype, as in PyTorch."""

    label = "isclose"

    @staticmethod
    def forward(ctx, a, b, rtol, atol, equal_nan):
        if a.dtype != b.dtype:
            raise RuntimeError(f"{_type_name(a)} did not match {_type_name(b)}")
        xp = get_array_module(a)
        return _binary(lambda p, q: xp.isclose(p, q, rtol=rtol, atol=atol, equal_nan=equal_nan),
                       a, b, "isclose")


class _Bitwise(_NoGradient):
    """Bitwise ops take integer and bool tensors only (bool: the logical op), as in PyTorch."""

    @classmethod
    def forward(cls, ctx, a, b=None):
        for x in (a, b):
            if hasattr(x, "dtype") and x.dtype.kind not in "iub" or isinstance(x, float):
                found = _type_name(x) if hasattr(x, "dtype") else "a Python float"
                raise RuntimeError(
                    f'{cls.label}: "{cls.label}_cpu" not implemented for \'{found}\' '
                    "(bitwise ops need integer or bool tensors)"
                )
        return super().forward(ctx, a, b)


def _bitwise(name: str, fn):
    cls_name = "".join(part.capitalize() for part in name.split("_"))
    return type(cls_name, (_Bitwise,), {"label": name, "fn": staticmethod(fn)})


BitwiseAnd = _bitwise("bitwise_and", lambda xp, a, b: xp.bitwise_and(a, b))
BitwiseOr = _bitwise("bitwise_or", lambda xp, a, b: xp.bitwise_or(a, b))
BitwiseXor = _bitwise("bitwise_xor", lambda xp, a, b: xp.bitwise_xor(a, b))
BitwiseNot = _bitwise("bitwise_not", lambda xp, x: xp.invert(x))


def _truediv(a, b):
    return a / b


# --------------------------------------------------------------------------- functions
def add(input, other, *, alpha=1):
    return Add.apply(input, other, alpha)


def sub(input, other, *, alpha=1):
    return Sub.apply(input, other, alpha)


subtract = sub


def mul(input, other):
    return Mul.apply(input, other)


multiply = mul


def div(input, other, *, rounding_mode: str | None = None):
    return Div.apply(input, other, rounding_mode)


divide = true_divide = div


def neg(input):
    return Neg.apply(input)


negative = neg


def pow(input, exponent):
    return Pow.apply(input, exponent)


def square(input):
    return Square.apply(input)


def remainder(input, other):
    return Remainder.apply(input, other)


def fmod(input, other):
    return Fmod.apply(input, other)


def floor_divide(input, other):
    return FloorDivide.apply(input, other)


def lerp(input, end, weight):
    return Lerp.apply(input, end, weight)


def addcmul(input, tensor1, tensor2, *, value=1):
    return Addcmul.apply(input, tensor1, tensor2, value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    return Addcdiv.apply(input, tensor1, tensor2, value)


def exp(input):
    return Exp.apply(input)


def exp2(input):
    return Exp2.apply(input)


def expm1(input):
    return Expm1.apply(input)


def log(input):
    return Log.apply(input)


def log1p(input):
    return Log1p.apply(input)


def log2(input):
    return Log2.apply(input)


def log10(input):
    return Log10.apply(input)


def sqrt(input):
    return Sqrt.apply(input)


def rsqrt(input):
    return Rsqrt.apply(input)


def reciprocal(input):
    return Reciprocal.apply(input)


def erf(input):
    return Erf.apply(input)


def erfc(input):
    return Erfc.apply(input)


def sin(input):
    return Sin.apply(input)


def cos(input):
    return Cos.apply(input)


def tan(input):
    return Tan.apply(input)


def asin(input):
    return Asin.apply(input)


def acos(input):
    return Acos.apply(input)


def atan(input):
    return Atan.apply(input)


def atan2(input, other):
    return Atan2.apply(input, other)


def sinh(input):
    return Sinh.apply(input)


def cosh(input):
    return Cosh.apply(input)


def tanh(input):
    return Tanh.apply(input)


def asinh(input):
    return Asinh.apply(input)


def acosh(input):
    return Acosh.apply(input)


def atanh(input):
    return Atanh.apply(input)


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def relu(input):
    return Relu.apply1(input)


def sigmoid(input):
    return Sigmoid.apply(input)


def abs(input):
    return Abs.apply(input)


absolute = abs


def sign(input):
    return Sign.apply(input)


sgn = sign


def copysign(input, other):
    return Copysign.apply(input, other)


def floor(input):
    return Floor.apply(input)


def ceil(input):
    return Ceil.apply(input)


def round(input, *, decimals: int = 0):
    return Round.apply(input, int(decimals)) if decimals else Round.apply(input)


def trunc(input):
    return Trunc.apply(input)


fix = trunc


def frac(input):
    return Frac.apply(input)


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return Clamp.apply(input, min, max)


clip = clamp


def clamp_min(input, min):
    return Clamp.apply(input, min, None)


def clamp_max(input, max):
    return Clamp.apply(input, None, max)


def maximum(input, other):
    return Maximum.apply(input, other)


def minimum(input, other):
    return Minimum.apply(input, other)


def fmax(input, other):
    return Fmax.apply(input, other)


def fmin(input, other):
    return Fmin.apply(input, other)


def where(condition, input=None, other=None):
    """``where(condition, input, other)``: input where condition holds, else other.

    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``: the indices of the true elements.
    """
    if input is None and other is None:
        cond = condition.array
        return tuple(_const(i.astype(np.int64, copy=False)) for i in get_array_module(cond).nonzero(cond))
    if input is None or other is None:
        raise TypeError("where() needs both input and other (or neither, for the indices of true elements)")
    return Where.apply(condition, input, other)


def _tensor_where(self, condition, other):
    """``Tensor.where(condition, other)``: self where condition holds, else other."""
    return Where.apply(condition, self, other)


def nan_to_num(input, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None):
    return NanToNum.apply(input, nan, posinf, neginf)


def eq(input, other):
    return Eq.apply(input, other)


def ne(input, other):
    return Ne.apply(input, other)


def lt(input, other):
    return Lt.apply(input, other)


def le(input, other):
    return Le.apply(input, other)


def gt(input, other):
    return Gt.apply(input, other)


def ge(input, other):
    return Ge.apply(input, other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def isnan(input):
    return IsNan.apply(input)


def isinf(input):
    return IsInf.apply(input)


def isfinite(input):
    return IsFinite.apply(input)


def isposinf(input):
    return IsPosInf.apply(input)


def isneginf(input):
    return IsNegInf.apply(input)


def _tensor_pair(op: str, input, other) -> None:
    for name, value in (("input", input), ("other", other)):
        if not hasattr(value, "array"):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """Where ``input`` and ``other`` agree within ``atol + rtol * |other|``: a bool tensor."""
    _tensor_pair("isclose", input, other)
    return IsClose.apply(input, other, rtol, atol, equal_nan)


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see ``isclose``)."""
    _tensor_pair("allclose", input, other)
    return bool(IsClose.apply(input, other, rtol, atol, equal_nan).array.all())


def equal(input, other) -> bool:
    """True when both tensors have the same shape and the same values (NaN never equals NaN)."""
    _tensor_pair("equal", input, other)
    return input.array.shape == other.array.shape and bool((input.array == other.array).all())


def logical_and(input, other):
    return LogicalAnd.apply(input, other)


def logical_or(input, other):
    return LogicalOr.apply(input, other)


def logical_xor(input, other):
    return LogicalXor.apply(input, other)


def logical_not(input):
    return LogicalNot.apply(input)


def bitwise_and(input, other):
    return BitwiseAnd.apply(input, other)


def bitwise_or(input, other):
    return BitwiseOr.apply(input, other)


def bitwise_xor(input, other):
    return BitwiseXor.apply(input, other)


def bitwise_not(input):
    return BitwiseNot.apply(input)


#: Tensor methods this module provides (installed by ``ops.methods``).
TENSOR_METHODS = {
    name: globals()[name] for name in __all__
    if name not in ("where", "true_divide")
}
TENSOR_METHODS.update({"where": _tensor_where, "true_divide": div})
