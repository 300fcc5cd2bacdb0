"""Fused recurrent cells: the gate arithmetic of one RNN, LSTM or GRU time step as one op.

A recurrent layer does its matrix products with ``linear`` (the input
projection of the whole sequence at once, the hidden projection once per step).
What is left per step, the sigmoids, tanhs and products of the gates, would be
a dozen small ops; here it is one, forward and backward. Each op takes the two
projections ``xg = x W_ih^T + b_ih`` and ``hg = h W_hh^T + b_hh`` side by side,
with the gates in PyTorch's order (LSTM ``i, f, g, o``; GRU ``r, z, n``).

The formulas are written once against a small namespace ``m`` (``tanh``,
``cat``, ``dense``, ``mul_``, ``rsub_`` and, for the whole-sequence loop of
``recurrent_sequence``, ``cat0``, ``matmul``, ``t``, ``relu``, ``positive``): on
arrays for the forward and a plain backward (saved activations, no
recomputation), on Tensors for a backward under ``create_graph=True``, which
recomputes the activations from the saved inputs so that the gradient is itself
differentiable. Both run the same operations in the same order, so they agree to
the bit (``mul_``/``rsub_`` reuse a temporary on arrays, give a new Tensor on
Tensors: the same values). ``sigmoid(x)`` is computed as ``tanh(x / 2) / 2 + 1/2``:
stable for any ``x``, and one transcendental call covers all the gates of an LSTM.

Speed notes, measured at LSTM(32, 64), batch 16: an elementwise op between a time
step's ``(16, 256)`` gates and a ``(256,)`` vector takes about twice as long as one
between two arrays of one shape, so the LSTM scales are kept as whole matrices per
batch size; and temporaries of a few hundred kB (all steps at once) can cost more in
fresh pages from malloc than their arithmetic saves, so the backward works per step.
"""

from __future__ import annotations

from ..autograd import function as _fn
from ..autograd.function import Op
from ..autograd.grad_mode import _state
from ..backend import get_array_module

__all__: list[str] = []
TENSOR_METHODS: dict = {}


class _ArrayMath:
    __slots__ = ("xp",)
    is_array = True

    def __init__(self, xp):
        self.xp = xp

    def tanh(self, x):
        return self.xp.tanh(x)

    def cat(self, pieces):
        return self.xp.concatenate(pieces, axis=-1)

    def cat0(self, pieces):
        return pieces[0] if len(pieces) == 1 else self.xp.concatenate(pieces, axis=0)

    @staticmethod
    def matmul(a, b):
        return a @ b

    @staticmethod
    def t(x):
        return x.T

    def relu(self, x):
        return self.xp.maximum(x, 0)

    def dense(self, x):
        """``x`` as a C-contiguous array: later elementwise ops on it run as one flat loop."""
        return self.xp.ascontiguousarray(x)

    # In place on a temporary the formula just made (``a``): one large array less to allocate, whose
    # fresh pages can cost more than the arithmetic. The Tensor versions compute the same values anew.
    def mul_(self, a, b):
        """``a * b``, into ``a``."""
        return self.xp.multiply(a, b, out=a)

    def rsub_(self, a, b):
        """``b - a``, into ``a``."""
        return self.xp.subtract(b, a, out=a)

    @staticmethod
    def positive(x):
        """``1`` where ``x > 0``, else ``0``, in ``x``'s dtype (relu's derivative, a constant)."""
        return (x > 0).astype(x.dtype)


class _TensorMath:
    __slots__ = ()
    is_array = False

    @staticmethod
    def tanh(x):
        from .elementwise import tanh

        return tanh(x)

    @staticmethod
    def cat(pieces):
        from .shape import cat

        return cat(pieces, -1)

    @staticmethod
    def cat0(pieces):
        from .shape import cat

        return pieces[0] if len(pieces) == 1 else cat(pieces, 0)

    @staticmethod
    def matmul(a, b):
        from .linalg import matmul

        return matmul(a, b)

    @staticmethod
    def t(x):
        return x.t()

    @staticmethod
    def relu(x):
        return x.relu()

    @staticmethod
    def dense(x):
        return x

    @staticmethod
    def mul_(a, b):
        return a * b

    @staticmethod
    def rsub_(a, b):
        return b - a

    @staticmethod
    def positive(x):
        return _fn._wrap((x.array > 0).astype(x.array.dtype), False, None, 0)


_TENSOR_MATH = _TensorMath()
_ARRAY_MATH: dict = {}
_LSTM_SCALES: dict = {}
_SPREAD_ROWS = 256  # up to this batch size, a time step's LSTM scales are whole matrices (_lstm_scale)


def _array_math(array) -> _ArrayMath:
    xp = get_array_module(array)
    m = _ARRAY_MATH.get(xp)
    if m is None:
        m = _ARRAY_MATH[xp] = _ArrayMath(xp)
    return m


def _wrap_all(*arrays):
    return tuple(None if a is None else _fn._wrap(a, False, None, 0) for a in arrays)


# --------------------------------------------------------------------------- LSTM
def _lstm_scale(a, hidden: int, rows: int = 0):
    """``(s, 1 - s, s * s)`` with ``s`` such that ``s tanh(s x) + 1 - s`` is ``sigmoid`` on i, f, o
    (``s = 1/2``) and ``tanh`` on g (``s = 1``); cached per kind of array, dtype, size and ``rows``.

    With ``rows``, as ``(rows, 4 hidden)`` matrices: a vector broadcast along a few rows makes an
    elementwise op about twice as slow as one on two arrays of one shape (a time step's gates).
    """
    key = (type(a), a.dtype, hidden, rows)
    scales = _LSTM_SCALES.get(key)
    if scales is None:
        raw = getattr(a, "array", a)
        xp = get_array_module(raw)
        s = xp.full(4 * hidden, 0.5, dtype=raw.dtype)
        s[2 * hidden:3 * hidden] = 1.0
        if rows:
            s = xp.ascontiguousarray(xp.broadcast_to(s, (rows, 4 * hidden)))
        scales = _LSTM_SCALES[key] = (s, 1 - s, s * s)
    return scales


def _spread_rows(a) -> int:
    """``_lstm_scale``'s ``rows`` for gates ``a``: its rows if a time step's (2-D, up to _SPREAD_ROWS)."""
    shape = a.shape
    return shape[0] if len(shape) == 2 and shape[0] <= _SPREAD_ROWS else 0


def _lstm_activations(m, xg, hg, c):
    """``(act, c_new, tanh(c_new))``; ``act`` holds ``i, f, g, o`` side by side."""
    a = xg + hg
    hidden = c.shape[-1]
    s, offset, _ = _lstm_scale(a, hidden, _spread_rows(a))
    act = m.tanh(a * s) * s + offset
    c_new = act[..., hidden:2 * hidden] * c + act[..., :hidden] * act[..., 2 * hidden:3 * hidden]
    return act, c_new, m.tanh(c_new)


def _lstm_factors(m, act, c, tanh_c):
    """What an LSTM step's backward multiplies its incoming gradients by: ``(p, q, f)``.

    ``grad_c += grad_h * p`` (``p = o (1 - tanh(c)^2)``); the gates' gradient is
    ``[grad_c, grad_c, grad_c, grad_h] * q`` (``q = [g, c_prev, i, tanh(c)]`` times each gate's
    derivative); ``grad_c * f`` goes to the previous cell state. Each gate's derivative
    comes from its value ``y`` in one expression for all four: ``s^2 - (y - 1 + s)^2`` is
    ``y (1 - y)`` where ``s = 1/2`` (sigmoid) and ``1 - y^2`` where ``s = 1``.
    """
    hidden = c.shape[-1]
    _, offset, s2 = _lstm_scale(act, hidden, _spread_rows(act))
    centred = act - offset
    derivative = m.rsub_(m.mul_(centred, centred), s2)
    q = m.mul_(m.cat([act[..., 2 * hidden:3 * hidden], c, act[..., :hidden], tanh_c]), derivative)
    p = m.mul_(m.rsub_(tanh_c * tanh_c, 1), act[..., 3 * hidden:])
    return p, q, m.dense(act[..., hidden:2 * hidden])


def _lstm_backward(m, factors, grad_h, grad_c):
    """Gradients of the gates' pre-activations and of the previous cell state (``factors``: as
    ``_lstm_factors``)."""
    p, q, f = factors
    grad_c = grad_h * p + grad_c
    return m.cat([grad_c, grad_c, grad_c, grad_h]) * q, grad_c * f


class LSTMCellGates(Op):
    """``(h, c) = lstm(xg + hg, c_prev)``: ``h = o tanh(c)``, ``c = f c_prev + i g``."""

    label = "lstm_cell"

    @staticmethod
    def forward(ctx, xg, hg, c):
        act, c_new, tanh_c = _lstm_activations(_array_math(xg), xg, hg, c)
        ctx.save_for_backward(xg, hg, c, act, tanh_c)
        return act[..., 3 * c.shape[-1]:] * tanh_c, c_new

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        xg, hg, c, act, tanh_c = ctx.saved_tensors
        if _state.enabled:
            act, _, tanh_c = _lstm_activations(_TENSOR_MATH, xg, hg, c)
            factors = _lstm_factors(_TENSOR_MATH, act, c, tanh_c)
            grad_gates, grad_prev = _lstm_backward(_TENSOR_MATH, factors, grad_h, grad_c)
            return grad_gates, grad_gates, grad_prev
        return _wrap_all(*LSTMCellGates.backward_arrays(ctx, grad_h.array, grad_c.array))

    @staticmethod
    def backward_arrays(ctx, grad_h, grad_c):
        """``backward`` on raw arrays (plain ``loss.backward()``: one gradient per output, zeros for an
        output the loss does not use), from the saved activations."""
        _, _, c, act, tanh_c = ctx.saved_arrays
        m = _array_math(grad_h)
        grad_gates, grad_prev = _lstm_backward(m, _lstm_factors(m, act, c, tanh_c), grad_h, grad_c)
        return grad_gates, grad_gates, grad_prev


# --------------------------------------------------------------------------- GRU
def _gru_activations(m, xg, hg, h):
    """``(rz, n, h_new)``: ``rz`` holds ``r, z`` side by side; ``n = tanh(xg_n + r (h W_hn^T + b_hn))``."""
    hidden = h.shape[-1]
    rz = m.tanh((xg[..., :2 * hidden] + hg[..., :2 * hidden]) * 0.5) * 0.5 + 0.5
    n = m.tanh(xg[..., 2 * hidden:] + rz[..., :hidden] * hg[..., 2 * hidden:])
    return rz, n, n + rz[..., hidden:] * (h - n)


def _gru_backward(m, rz, n, hg_n, h, grad):
    hidden = h.shape[-1]
    r, z = rz[..., :hidden], rz[..., hidden:]
    grad_n = grad * (1 - z) * (1 - n * n)
    grad_r = grad_n * hg_n * r * (1 - r)
    grad_z = grad * (h - n) * z * (1 - z)
    return m.cat([grad_r, grad_z, grad_n]), m.cat([grad_r, grad_z, grad_n * r]), grad * z


class GRUCellGates(Op):
    """``h = (1 - z) n + z h_prev`` from the input and hidden projections ``xg``, ``hg``."""

    label = "gru_cell"

    @staticmethod
    def forward(ctx, xg, hg, h):
        rz, n, h_new = _gru_activations(_array_math(xg), xg, hg, h)
        ctx.save_for_backward(xg, hg, h, rz, n)
        return h_new

    @staticmethod
    def backward(ctx, grad):
        xg, hg, h, rz, n = ctx.saved_tensors
        hidden = h.shape[-1]
        if _state.enabled:
            rz, n, _ = _gru_activations(_TENSOR_MATH, xg, hg, h)
            return _gru_backward(_TENSOR_MATH, rz, n, hg[..., 2 * hidden:], h, grad)
        return _wrap_all(*GRUCellGates.backward_arrays(ctx, grad.array))

    @staticmethod
    def backward_arrays(ctx, grad):
        """``backward`` on raw arrays, from the saved activations."""
        _, hg, h, rz, n = ctx.saved_arrays
        return _gru_backward(_array_math(grad), rz, n, hg[..., 2 * h.shape[-1]:], h, grad)


# --------------------------------------------------------------------------- Elman RNN
class RNNCellGates(Op):
    """``h = tanh(xg + hg)`` or ``relu(xg + hg)``."""

    label = "rnn_cell"

    @staticmethod
    def forward(ctx, xg, hg, nonlinearity):
        xp = get_array_module(xg)
        a = xg + hg
        out = xp.tanh(a, out=a) if nonlinearity == "tanh" else xp.maximum(a, 0, out=a)
        ctx.save_for_backward(out)
        ctx.nonlinearity = nonlinearity
        return out

    @staticmethod
    def backward(ctx, grad):
        if not _state.enabled:
            return _wrap_all(*RNNCellGates.backward_arrays(ctx, grad.array))
        (h,) = ctx.saved_tensors
        if ctx.nonlinearity == "tanh":
            d = grad * (1 - h * h)
        else:
            d = grad * _fn._wrap((h.array > 0).astype(grad.array.dtype), False, None, 0)
        return d, d, None

    @staticmethod
    def backward_arrays(ctx, grad):
        """``backward`` on raw arrays, from the saved output."""
        (h,) = ctx.saved_arrays
        d = grad * (1 - h * h) if ctx.nonlinearity == "tanh" else grad * (h > 0)
        return d, d, None
