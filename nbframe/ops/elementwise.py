"""Element-wise ops: arithmetic, powers and logs, activations, comparisons.

Each op is a class: ``forward`` computes on arrays with ``xp`` (NumPy or CuPy),
``backward`` says how the gradient flows back, in Tensor ops. Binary ops
broadcast; their backward sums the gradient back to each input's shape.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import get_array_module
from .broadcast import sum_to
from .promotion import as_floating, broadcast_error, promote, promote_to_float

__all__ = ['add', 'sub', 'mul', 'div', 'neg', 'pow', 'exp', 'log', 'sqrt', 'relu', 'sigmoid', 'tanh', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'subtract', 'multiply', 'divide', 'true_divide', 'negative', 'greater', 'greater_equal', 'less', 'less_equal', 'not_equal']


def _shape(x):
    return getattr(x, "shape", ())


def _binary(fn, a, b, op: str):
    try:
        return fn(a, b)
    except ValueError:
        if _shape(a) and _shape(b):
            raise broadcast_error(op, a, b) from None
        raise


# --------------------------------------------------------------------------- arithmetic
class Add(Op):
    label = "add"

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        a, b = promote(a, b, "add")
        ctx.shapes = (_shape(a), _shape(b))
        ctx.alpha = alpha
        if alpha != 1:
            b = b * alpha
        return _binary(_add, a, b, "add")

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        ga = sum_to(grad, sa) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            gb = sum_to(grad if ctx.alpha == 1 else grad * ctx.alpha, sb)
        return ga, gb, None


class Sub(Op):
    label = "sub"

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        a, b = promote(a, b, "sub")
        ctx.shapes = (_shape(a), _shape(b))
        ctx.alpha = alpha
        if alpha != 1:
            b = b * alpha
        return _binary(_sub, a, b, "sub")

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        ga = sum_to(grad, sa) if ctx.needs_input_grad[0] else None
        gb = sum_to(-grad if ctx.alpha == 1 else grad * -ctx.alpha, sb) if ctx.needs_input_grad[1] else None
        return ga, gb, None


class Mul(Op):
    label = "mul"

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b, "mul")
        need = ctx.needs_input_grad
        # Keep only what backward will read: b for a's gradient, a for b's.
        ctx.save_for_backward(a if need[1] else None, b if need[0] else None)
        ctx.shapes = (_shape(a), _shape(b))
        return _binary(_mul, a, b, "mul")

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        ga = sum_to(grad * b, sa) if ctx.needs_input_grad[0] else None
        gb = sum_to(grad * a, sb) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Op):
    label = "div"

    @staticmethod
    def forward(ctx, a, b, rounding_mode=None):
        if rounding_mode is None:
            a, b = promote_to_float(a, b, "div")
        else:
            a, b = promote(a, b, "div")
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        ctx.shapes = (_shape(a), _shape(b))
        ctx.rounding_mode = rounding_mode
        xp = get_array_module(a if hasattr(a, "dtype") else b)
        if rounding_mode == "floor":
            return _binary(xp.floor_divide, a, b, "div")
        if rounding_mode == "trunc":
            out = _binary(_truediv, a, b, "div")
            return xp.trunc(out).astype(out.dtype) if out.dtype.kind == "f" else out
        if rounding_mode is not None:
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
        return _binary(_truediv, a, b, "div")

    @staticmethod
    def backward(ctx, grad):
        if ctx.rounding_mode is not None:
            return None, None, None
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        ga = sum_to(grad / b, sa) if ctx.needs_input_grad[0] else None
        gb = sum_to(-grad * a / (b * b), sb) if ctx.needs_input_grad[1] else None
        return ga, gb, None


class Neg(Op):
    label = "neg"

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Op):
    label = "pow"

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b, "pow")
        xp = get_array_module(a if hasattr(a, "dtype") else b)
        out = _binary(xp.power, a, b, "pow")
        ctx.save_for_backward(a, b, out if ctx.needs_input_grad[1] else None)
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        sa, sb = ctx.shapes
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if isinstance(b, (int, float)):
                ga = grad * b * a ** (b - 1) if b != 0 else grad * 0
            else:
                ga = grad * b * a ** (b - 1)
            ga = sum_to(ga, sa)
        if ctx.needs_input_grad[1]:
            log_a = log(a) if not isinstance(a, (int, float)) else _log_scalar(a)
            gb = sum_to(grad * out * log_a, sb)
        return ga, gb


def _log_scalar(a: float) -> float:
    import math

    return math.log(a) if a > 0 else float("nan")


# --------------------------------------------------------------------------- exp / log
class Exp(Op):
    label = "exp"

    @staticmethod
    def forward(ctx, x):
        out = get_array_module(x).exp(as_floating(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Op):
    label = "log"

    @staticmethod
    def forward(ctx, x):
        x = as_floating(x)
        ctx.save_for_backward(x)
        xp = get_array_module(x)
        with _quiet(xp):
            return xp.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Op):
    label = "sqrt"

    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        with _quiet(xp):
            out = xp.sqrt(as_floating(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (out * 2)


# --------------------------------------------------------------------------- activations
class Relu(Op):
    label = "relu"

    @staticmethod
    def forward(ctx, x):
        out = get_array_module(x).maximum(x, 0).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out > 0)


class Sigmoid(Op):
    label = "sigmoid"

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


class Tanh(Op):
    label = "tanh"

    @staticmethod
    def forward(ctx, x):
        out = get_array_module(x).tanh(as_floating(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


# --------------------------------------------------------------------------- comparisons
class _Compare(Op):
    """Comparisons make bool tensors: no gradient flows through them."""

    fn = None

    @classmethod
    def forward(cls, ctx, a, b):
        a, b = promote(a, b, cls.label)
        return _binary(cls.fn, a, b, cls.label)

    @staticmethod
    def backward(ctx, grad):
        return None, None


def _comparison(name: str, fn):
    return type(name, (_Compare,), {"label": name.lower(), "fn": staticmethod(fn)})


Eq = _comparison("Eq", lambda a, b: a == b)
Ne = _comparison("Ne", lambda a, b: a != b)
Lt = _comparison("Lt", lambda a, b: a < b)
Le = _comparison("Le", lambda a, b: a <= b)
Gt = _comparison("Gt", lambda a, b: a > b)
Ge = _comparison("Ge", lambda a, b: a >= b)


def _add(a, b):
    return a + b


def _sub(a, b):
    return a - b


def _mul(a, b):
    return a * b


def _truediv(a, b):
    return a / b


class _quiet:
    """Silence NumPy's divide/invalid warnings: NaN and Inf results are values, as in PyTorch."""

    __slots__ = ("xp", "old")

    def __init__(self, xp):
        self.xp = xp

    def __enter__(self):
        if self.xp.__name__ == "numpy":
            self.old = self.xp.seterr(divide="ignore", invalid="ignore", over="ignore")

    def __exit__(self, *exc):
        if self.xp.__name__ == "numpy":
            self.xp.seterr(**self.old)


# --------------------------------------------------------------------------- functions
def add(input, other, *, alpha=1, out=None):
    return Add.apply(input, other, alpha)


def sub(input, other, *, alpha=1, out=None):
    return Sub.apply(input, other, alpha)


subtract = sub


def mul(input, other, *, out=None):
    return Mul.apply(input, other)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    return Div.apply(input, other, rounding_mode)


divide = true_divide = div


def neg(input, *, out=None):
    return Neg.apply(input)


negative = neg


def pow(input, exponent, *, out=None):
    return Pow.apply(input, exponent)


def exp(input, *, out=None):
    return Exp.apply(input)


def log(input, *, out=None):
    return Log.apply(input)


def sqrt(input, *, out=None):
    return Sqrt.apply(input)


def relu(input):
    return Relu.apply(input)


def sigmoid(input, *, out=None):
    return Sigmoid.apply(input)


def tanh(input, *, out=None):
    return Tanh.apply(input)


def eq(input, other, *, out=None):
    return Eq.apply(input, other)


def ne(input, other, *, out=None):
    return Ne.apply(input, other)


def lt(input, other, *, out=None):
    return Lt.apply(input, other)


def le(input, other, *, out=None):
    return Le.apply(input, other)


def gt(input, other, *, out=None):
    return Gt.apply(input, other)


def ge(input, other, *, out=None):
    return Ge.apply(input, other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

#: Tensor methods this module provides (installed by ``ops.methods``).
TENSOR_METHODS = {
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div,
    "divide": div, "true_divide": div, "neg": neg, "negative": neg, "pow": pow, "exp": exp,
    "log": log, "sqrt": sqrt, "relu": relu, "sigmoid": sigmoid, "tanh": tanh,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge,
    "greater": gt, "greater_equal": ge, "less": lt, "less_equal": le, "not_equal": ne,
}
