"""One direction of one recurrent layer over a whole sequence as one op: ``RecurrentSequence``.

Run step by step with Tensor ops, a layer costs a handful of op dispatches per
time step (a slice, a ``linear``, a fused gate op, ...), which dominates at
small sizes. This op runs the time loop on raw arrays instead: the input
projection of every step as one GEMM up front, then per step one GEMM of the
hidden state and the gate arithmetic of ``recurrent``. Its backward is
backpropagation through time on arrays, ending with one GEMM per weight; a plain
``loss.backward()`` calls it as ``backward_arrays`` with one gradient array per
output (zeros for an output the loss does not use), no Tensor in between.

The input is time-major rows, the rows of step ``t`` being the first
``batch_sizes[t]`` sequences of the batch (a packed sequence; padded input has
all sizes equal). Where the batch shrinks the finished sequences leave their
state in ``h_n``; running in reverse, the batch grows and new sequences start
from their rows of ``h0``.

The loops are written once against a math namespace ``m`` (``recurrent``'s):
on arrays for the forward and a plain backward, on Tensors for a backward under
``create_graph=True``, which reruns the forward from the saved inputs with
Tensor ops and backpropagates through it with Tensor ops, so that the gradient
is itself differentiable (as the per-step path's cell ops do).
"""

from __future__ import annotations

from ..autograd import function as _fn
from ..autograd.function import Op
from ..autograd.grad_mode import _state
from .recurrent import (
    _TENSOR_MATH,
    _array_math,
    _gru_activations,
    _gru_backward,
    _lstm_activations,
    _lstm_backward,
    _lstm_factors,
)

__all__: list[str] = []
TENSOR_METHODS: dict = {}


# --------------------------------------------------------------------------- one time step of each kind
# ``forward(m, xg, hg, h, c)`` -> ``(h_new, c_new, saved)`` from the step's two projections and state;
# ``backward(m, saved, h, grad_h, grad_c)`` -> ``(grad of xg, grad of hg, grad of h besides through hg,
# grad of c)``. ``fold_hidden_bias``: ``b_hh`` may be added once to the input projection.
class LSTMStep:
    """``h = o tanh(c)``, ``c = f c_prev + i g``; both biases add to the input projection."""

    has_cell_state = True
    fold_hidden_bias = True

    @staticmethod
    def forward(m, xg, hg, h, c):
        act, c_new, tanh_c = _lstm_activations(m, xg, hg, c)
        return act[..., 3 * c.shape[-1]:] * tanh_c, c_new, (act, c, tanh_c)

    @staticmethod
    def backward(m, saved, h, grad_h, grad_c):
        grad_gates, grad_c = _lstm_backward(m, _lstm_factors(m, *saved), grad_h, grad_c)
        return grad_gates, grad_gates, None, grad_c


class GRUStep:
    """``h = (1 - z) n + z h_prev``; ``b_hh`` stays per step (``b_hn`` is scaled by ``r``)."""

    has_cell_state = False
    fold_hidden_bias = False

    @staticmethod
    def forward(m, xg, hg, h, c):
        rz, n, h_new = _gru_activations(m, xg, hg, h)
        return h_new, None, (rz, n, hg[..., 2 * h.shape[-1]:])

    @staticmethod
    def backward(m, saved, h, grad_h, grad_c):
        rz, n, hg_n = saved
        grad_xg, grad_hg, grad_h = _gru_backward(m, rz, n, hg_n, h, grad_h)
        return grad_xg, grad_hg, grad_h, None


class ElmanStep:
    """``h = tanh(xg + hg)`` or ``relu(xg + hg)``."""

    has_cell_state = False
    fold_hidden_bias = True

    def __init__(self, nonlinearity: str) -> None:
        self.relu = nonlinearity == "relu"

    def forward(self, m, xg, hg, h, c):
        a = xg + hg
        h_new = m.relu(a) if self.relu else m.tanh(a)
        return h_new, None, h_new

    def backward(self, m, h_new, h, grad_h, grad_c):
        grad = grad_h * m.positive(h_new) if self.relu else grad_h * (1 - h_new * h_new)
        return grad, grad, None, None


CELLS = {"LSTM": LSTMStep(), "GRU": GRUStep(), "RNN_TANH": ElmanStep("tanh"), "RNN_RELU": ElmanStep("relu")}


# --------------------------------------------------------------------------- the time loop
class _Schedule:
    """The steps in the order a direction runs them, each step's first row, and the first state's size."""

    __slots__ = ("batch_sizes", "order", "offsets", "first", "full")

    def __init__(self, batch_sizes: tuple, reverse: bool, full: int) -> None:
        self.batch_sizes = batch_sizes
        steps = len(batch_sizes)
        self.order = range(steps - 1, -1, -1) if reverse else range(steps)
        offsets, row = [], 0
        for size in batch_sizes:
            offsets.append(row)
            row += size
        self.offsets = offsets
        self.first = batch_sizes[self.order[0]] if steps else full
        self.full = full


def _rows(state, size: int):
    return state if state is None or state.shape[0] == size else state[:size]


def _input_projection(m, cell, x, w_ih, b_ih, b_hh):
    """``x W_ih^T + b_ih`` (``+ b_hh`` where the cell lets the hidden bias be added once, here)."""
    xg = m.matmul(x, m.t(w_ih))
    if b_ih is not None:
        xg = xg + (b_ih + b_hh if cell.fold_hidden_bias else b_ih)
    return xg


def _run_forward(m, cell, schedule: _Schedule, xg, h0, c0, w_hh, b_hh, w_hr):
    """``(output rows, h_n, c_n, steps)``; ``steps[k]`` is ``(h fed in, cell's saved values, h before
    the projection)`` of the k-th step run."""
    sizes, offsets = schedule.batch_sizes, schedule.offsets
    w_hh_t, w_hr_t = m.t(w_hh), (None if w_hr is None else m.t(w_hr))
    hidden_bias = None if cell.fold_hidden_bias else b_hh
    h, c = _rows(h0, schedule.first), _rows(c0, schedule.first)
    outputs, steps, finished = [None] * len(sizes), [], []
    for t in schedule.order:
        size, current = sizes[t], h.shape[0]
        if size < current:  # the shortest sequences ended: their state is final
            finished.append((h[size:], None if c is None else c[size:]))
            h, c = h[:size], _rows(c, size)
        elif size > current:  # running backwards in time: longer sequences start here
            h = m.cat0([h, h0[current:size]])
            c = None if c is None else m.cat0([c, c0[current:size]])
        hg = m.matmul(h, w_hh_t)
        if hidden_bias is not None:
            hg = hg + hidden_bias
        row = offsets[t]
        h_new, c, saved = cell.forward(m, xg[row:row + size], hg, h, c)
        unprojected = h_new
        if w_hr_t is not None:
            h_new = m.matmul(h_new, w_hr_t)
        steps.append((h, saved, unprojected))
        outputs[t] = h_new
        h = h_new
    if finished:
        h = m.cat0([h] + [f[0] for f in reversed(finished)])
        c = None if c is None else m.cat0([c] + [f[1] for f in reversed(finished)])
    return m.cat0(outputs), h, c, steps


def _run_backward(m, cell, schedule: _Schedule, steps, w_hh, w_hr, grad_out, grad_h_n, grad_c_n):
    """Backpropagation through time: per-step gradients (in time order) and the initial state's.

    Returns ``(grad_xg, grad_hg, h_in, grad_projected, unprojected, grad_h0, grad_c0)``, the first
    five lists of per-step pieces to be joined (``grad_hg is grad_xg`` when the cell's two
    projections get the same gradient).
    """
    sizes, offsets, order = schedule.batch_sizes, schedule.offsets, schedule.order
    count = len(sizes)
    last = sizes[order[-1]] if count else schedule.full
    dh = _rows(grad_h_n, last)
    dc = _rows(grad_c_n, last) if cell.has_cell_state else None
    grad_xg, grad_hg, h_in = [None] * count, [None] * count, [None] * count
    grad_projected, unprojected = ([None] * count, [None] * count) if w_hr is not None else (None, None)
    started = []  # reverse direction: gradients of the rows of h0 that joined after the first step
    for k in range(count - 1, -1, -1):
        t = order[k]
        size, row = sizes[t], offsets[t]
        h, saved, h_unprojected = steps[k]
        grad = grad_out[row:row + size] + dh
        if w_hr is not None:
            grad_projected[t], unprojected[t] = grad, h_unprojected
            grad = m.matmul(grad, w_hr)
        grad_xg[t], grad_hg[t], direct, dc = cell.backward(m, saved, h, grad, dc)
        h_in[t] = h
        dh = m.matmul(grad_hg[t], w_hh)
        if direct is not None:
            dh = dh + direct
        before = sizes[order[k - 1]] if k else schedule.first
        if size < before:  # these rows' state left for h_n before this step
            dh = m.cat0([dh, grad_h_n[size:before]])
            dc = None if dc is None else m.cat0([dc, grad_c_n[size:before]])
        elif size > before:  # these rows started from h0 at this step
            started.append((dh[before:], None if dc is None else dc[before:]))
            dh, dc = dh[:before], _rows(dc, before)
    grad_h0, grad_c0 = dh, dc
    if started:
        grad_h0 = m.cat0([dh] + [s[0] for s in reversed(started)])
        grad_c0 = None if dc is None else m.cat0([dc] + [s[1] for s in reversed(started)])
    return grad_xg, grad_hg, h_in, grad_projected, unprojected, grad_h0, grad_c0


def _gradients(m, cell, needs, x, w_ih, pieces):
    """Join the per-step pieces and turn them into the gradients of every argument of the op."""
    grad_xg, grad_hg, h_in, grad_projected, unprojected, grad_h0, grad_c0 = pieces
    need_x, need_h0, need_c0, need_w_ih, need_w_hh, need_b_ih, need_b_hh, need_w_hr = needs[:8]
    dxg = m.cat0(grad_xg)
    dhg = dxg if cell.fold_hidden_bias else m.cat0(grad_hg)
    d_b_ih = dxg.sum(0) if need_b_ih or (need_b_hh and cell.fold_hidden_bias) else None
    return (
        m.matmul(dxg, w_ih) if need_x else None,
        grad_h0 if need_h0 else None,
        grad_c0 if need_c0 else None,
        m.matmul(m.t(dxg), x) if need_w_ih else None,
        m.matmul(m.t(dhg), m.cat0(h_in)) if need_w_hh else None,
        d_b_ih if need_b_ih else None,
        (d_b_ih if cell.fold_hidden_bias else dhg.sum(0)) if need_b_hh else None,
        m.matmul(m.t(m.cat0(grad_projected)), m.cat0(unprojected)) if need_w_hr else None,
    )


class RecurrentSequence(Op):
    """``(output rows, h_n[, c_n])`` of one direction of an RNN, LSTM or GRU layer over a whole sequence.

    Arguments: ``x`` (rows, input), ``h0``, ``c0`` (None but for an LSTM), ``w_ih``, ``w_hh``,
    ``b_ih``, ``b_hh`` (None without bias), ``w_hr`` (None without projection), then the cell
    (``CELLS[mode]``), ``batch_sizes`` (a tuple of ints, at least one step) and ``reverse``.
    """

    label = "rnn_sequence"

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, cell, batch_sizes, reverse):
        m = _array_math(x)
        schedule = _Schedule(batch_sizes, reverse, h0.shape[0])
        xg = _input_projection(m, cell, x, w_ih, b_ih, b_hh)
        out, h_n, c_n, steps = _run_forward(m, cell, schedule, xg, h0, c0, w_hh, b_hh, w_hr)
        if out is h_n:  # one time step: two outputs must not share an array (an in-place change to one)
            out = out.copy()
        if any(ctx.needs_input_grad[:8]):
            ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
            ctx.cell, ctx.schedule, ctx.steps = cell, schedule, steps
        return (out, h_n, c_n) if cell.has_cell_state else (out, h_n)

    @staticmethod
    def backward(ctx, grad_out, grad_h_n, grad_c_n=None):
        cell, schedule = ctx.cell, ctx.schedule
        if _state.enabled:  # create_graph: rerun the loop with Tensor ops, so the gradient is differentiable
            x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = ctx.saved_tensors
            m = _TENSOR_MATH
            xg = _input_projection(m, cell, x, w_ih, b_ih, b_hh)
            steps = _run_forward(m, cell, schedule, xg, h0, c0, w_hh, b_hh, w_hr)[3]
            pieces = _run_backward(m, cell, schedule, steps, w_hh, w_hr, grad_out, grad_h_n, grad_c_n)
            return _gradients(m, cell, ctx.needs_input_grad, x, w_ih, pieces) + (None, None, None)
        return _fn.wrap_gradients(RecurrentSequence.backward_arrays(
            ctx, grad_out.array, grad_h_n.array, None if grad_c_n is None else grad_c_n.array))

    @staticmethod
    def backward_arrays(ctx, grad_out, grad_h_n, grad_c_n=None):
        """``backward`` on raw arrays (plain ``loss.backward()``): BPTT over the saved steps."""
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = ctx.saved_arrays  # also checks in-place changes
        m = _array_math(grad_out)
        cell = ctx.cell
        pieces = _run_backward(m, cell, ctx.schedule, ctx.steps, w_hh, w_hr, grad_out, grad_h_n, grad_c_n)
        grads = _gradients(m, cell, ctx.needs_input_grad, x, w_ih, pieces)
        if grads[6] is not None and grads[6] is grads[5]:  # folded biases: each leaf gets its own array
            grads = grads[:6] + (grads[6].copy(),) + grads[7:]
        return grads + (None, None, None)


def recurrent_sequence(mode: str, x, h0, c0, weights: tuple, batch_sizes: tuple, reverse: bool):
    """Run one direction of a ``mode`` layer (``"LSTM"``, ``"GRU"``, ``"RNN_TANH"``, ``"RNN_RELU"``).

    ``weights`` is ``(w_ih, w_hh, b_ih, b_hh, w_hr)`` with None for what the layer lacks. Returns
    ``(output rows, h_n, c_n)``; ``c_n`` is None but for an LSTM.
    """
    result = RecurrentSequence.apply(x, h0, c0, *weights, CELLS[mode], tuple(batch_sizes), reverse)
    return result if len(result) == 3 else (result[0], result[1], None)
