"""Recurrent layers ``RNN``, ``LSTM``, ``GRU`` and their one-step cells, with PyTorch's names and gates.

A layer runs each direction of each layer as one op,
``nbframe.ops.recurrent_sequence``, whose time loop runs on raw arrays: one GEMM
for the input projection of every step, then per step one GEMM of the hidden
state and the fused gate arithmetic. Padded input is treated as a packed
sequence whose batch never shrinks, so a ``PackedSequence`` runs through the
same loop: at each step only the sequences still running are computed, longest
first, and the finished ones leave their last state in ``h_n`` — no work on
padding.

While an op observer listens (``%%watch``, ``nf.debug.watch``, ``jit.trace``,
the graph view) the layer runs step by step instead, with Tensor ops: one
``linear`` for the input projection, one ``split`` into steps, then per step
one ``linear`` of the hidden state and one fused gate op
(``nbframe.ops.recurrent``), so that what they record shows every step.

Parameters are named and shaped as PyTorch's (``weight_ih_l0``,
``bias_hh_l1_reverse``, ``weight_hr_l0`` for a projected LSTM) and drawn from
``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``, so a PyTorch state_dict loads by name.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ... import creation
from ...autograd import observers as _observers
from ...autograd.function import Op
from ...backend import get_array_module
from ...ops import recurrent as _cells
from ...ops.nnops import Linear as _LinearOp
from ...ops.recurrent_sequence import recurrent_sequence
from ...ops.shape import cat, split, stack
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    return _LinearOp.apply(x, weight, bias)


def _step(mode: str, xg: Tensor, hg: Tensor, h: Tensor, c: Tensor | None):
    """One time step's gate arithmetic: ``(h, c)`` (``c`` is None except for an LSTM)."""
    if mode == "LSTM":
        return _cells.LSTMCellGates.apply(xg, hg, c)
    if mode == "GRU":
        return _cells.GRUCellGates.apply(xg, hg, h), None
    return _cells.RNNCellGates.apply(xg, hg, "tanh" if mode == "RNN_TANH" else "relu"), None


class _TimeMajorRows(Op):
    """Batch-first ``(batch, steps, size)`` as the time-major rows ``(steps * batch, size)`` that the
    sequence op reads: ``transpose(0, 1)`` and ``reshape`` as one op (a copy but where one of the two
    is 1), forward and backward. Its inverse is ``_BatchMajor``."""

    label = "rnn_time_major"
    _is_view = True

    @staticmethod
    def forward(ctx, x):
        batch, steps, size = x.shape
        out = x.swapaxes(0, 1).reshape(steps * batch, size)
        if x.size and not get_array_module(x).may_share_memory(out, x):
            ctx._is_view = False
        ctx.steps, ctx.batch = steps, batch
        return out

    @staticmethod
    def backward(ctx, grad):
        return _BatchMajor.apply(grad, ctx.steps, ctx.batch)

    @staticmethod
    def backward_arrays(ctx, grad):
        return grad.reshape(ctx.steps, ctx.batch, grad.shape[-1]).swapaxes(0, 1)


class _BatchMajor(Op):
    """Time-major rows ``(steps * batch, size)`` as a batch-first ``(batch, steps, size)`` view:
    ``reshape`` and ``transpose(0, 1)`` as one op. Its inverse is ``_TimeMajorRows``."""

    label = "rnn_batch_major"
    _is_view = True

    @staticmethod
    def forward(ctx, rows, steps: int, batch: int):
        return rows.reshape(steps, batch, rows.shape[-1]).swapaxes(0, 1)

    @staticmethod
    def backward(ctx, grad):
        return _TimeMajorRows.apply(grad), None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        steps, batch, size = grad.shape[1], grad.shape[0], grad.shape[2]
        return grad.swapaxes(0, 1).reshape(steps * batch, size), None, None


def _uniform_init(module: Module, hidden_size: int) -> None:
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for weight in module.parameters():
        init.uniform_(weight, -bound, bound)


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: parameters, argument checks and the time loop."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + str(mode))
        _check_arguments(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for kind, shape in shapes:
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(creation.empty(*shape, device=device, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_init(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """A no-op: nbframe keeps each weight as its own array (PyTorch packs them for cuDNN)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ forward
    def forward(self, input, hx=None):
        return self._forward(input, hx, self.all_weights)

    def _forward(self, input, hx, all_weights: list):
        """``forward`` with the weights given (per layer and direction, as ``all_weights``)."""
        name = type(self).__name__
        is_lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = [int(b) for b in np.asarray(batch_sizes_t.array)]
            batched = True
            batch = batch_sizes[0] if batch_sizes else 0
        else:
            if input.dim() not in (2, 3):
                kind = "RNN" if self.mode.startswith("RNN") else name
                tail = " tensor instead" if kind == "RNN" else " instead"
                raise ValueError(f"{kind}: Expected input to be 2D or 3D, got {input.dim()}D{tail}")
            batched = input.dim() == 3
            if batched and self.batch_first:
                batch, steps = input.shape[0], input.shape[1]
                data = _TimeMajorRows.apply(input)
            else:
                x = input if batched else input.unsqueeze(1)
                steps, batch = x.shape[0], x.shape[1]
                data = x.reshape(steps * batch, x.shape[2])
            batch_sizes = [batch] * steps
            sorted_indices = unsorted_indices = None
        self._check_input(data, packed)
        h_states, c_states = self._initial_state(hx, data, batch, batched, packed, sorted_indices)
        out, h_n, c_n = self._run(data, batch_sizes, h_states, c_states, all_weights)
        if packed:
            output = PackedSequence(out, batch_sizes_t, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                h_n = h_n.index_select(1, unsorted_indices)
                c_n = None if c_n is None else c_n.index_select(1, unsorted_indices)
        elif batched and self.batch_first:
            output = _BatchMajor.apply(out, len(batch_sizes), batch)
        else:
            output = out.reshape(len(batch_sizes), batch, out.shape[-1])
            if not batched:
                output = output.squeeze(1)
                h_n = h_n.squeeze(1)
                c_n = None if c_n is None else c_n.squeeze(1)
        return output, ((h_n, c_n) if is_lstm else h_n)

    def _check_input(self, data: Tensor, packed: bool) -> None:
        weight = self.weight_ih_l0
        if data.dtype != weight.dtype:
            raise ValueError(
                f"RNN input dtype ({data.dtype}) does not match weight dtype ({weight.dtype}). "
                f"Convert input: input.to({weight.dtype}), or convert model: model.to({data.dtype})"
            )
        if packed and data.dim() != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {data.dim()}")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(
                "input.size(-1) must be equal to input_size. "
                f"Expected {self.input_size}, got {data.shape[-1]}"
            )

    def _initial_state(self, hx, data: Tensor, batch: int, batched: bool, packed: bool, sorted_indices):
        """The initial states of each layer and direction, ``(batch, size)`` each in the batch's sorted
        order: ``(h states, c states)``, the c states None but for an LSTM.

        Without ``hx``, fresh zeros per layer and direction (no ``(layers * directions, ...)`` tensor to
        unbind: two op calls less per state).
        """
        directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        h_shape = (self.num_layers * directions, batch, real_hidden)
        c_shape = (self.num_layers * directions, batch, self.hidden_size)
        is_lstm = self.mode == "LSTM"
        if hx is None:
            count, dtype, device = h_shape[0], data.dtype, data.device
            h_states = [creation.zeros(*h_shape[1:], dtype=dtype, device=device) for _ in range(count)]
            if not is_lstm:
                return h_states, [None] * count
            return h_states, [creation.zeros(*c_shape[1:], dtype=dtype, device=device) for _ in range(count)]
        h0, c0 = hx if is_lstm else (hx, None)
        if not packed:
            dims = (h0.dim(), c0.dim()) if is_lstm else (h0.dim(),)
            want = 3 if batched else 2
            if any(d != want for d in dims):
                what = "batched 3-D" if batched else "unbatched 2-D"
                if is_lstm:
                    raise RuntimeError(
                        f"For {what} input, hx and cx should also be {want}-D but got "
                        f"({dims[0]}-D, {dims[1]}-D) tensors"
                    )
                raise RuntimeError(f"For {what} input, hx should also be {want}-D but got {dims[0]}-D tensor")
            if not batched:
                h0 = h0.unsqueeze(1)
                c0 = None if c0 is None else c0.unsqueeze(1)
        if is_lstm:
            _check_hidden(h0, h_shape, "Expected hidden[0] size {}, got {}")
            _check_hidden(c0, c_shape, "Expected hidden[1] size {}, got {}")
        else:
            _check_hidden(h0, h_shape, "Expected hidden size {}, got {}")
        if sorted_indices is not None:
            h0 = h0.index_select(1, sorted_indices)
            c0 = None if c0 is None else c0.index_select(1, sorted_indices)
        return h0.unbind(0), (c0.unbind(0) if c0 is not None else [None] * h_shape[0])

    def _run(self, data: Tensor, batch_sizes: list[int], h_states, c_states, all_weights: list):
        """All layers and directions over time-major rows ``data`` from the initial states of each (as
        ``_initial_state``); ``(output rows, h_n, c_n)``."""
        directions = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        layer_input = data
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                out, h, c = self._run_direction(layer_input, batch_sizes, h_states[index], c_states[index],
                                                all_weights[index], direction == 1)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_input = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        c_n = self._stack_states(c_n) if c_states[0] is not None else None
        return layer_input, self._stack_states(h_n), c_n

    def _stack_states(self, states: list) -> Tensor:
        """``stack(states)``: the final states as ``(layers * directions, batch, size)``.

        One state (one layer, one direction) becomes a view instead of a copy (a reshape: a fifth of
        stack's cost) where the sequence op keeps no reference to it for its backward: LSTM and GRU
        steps save their gates, not their new state, but an Elman step saves its new ``h``, which an
        in-place change to a view of ``h_n`` would silently corrupt.
        """
        if len(states) == 1 and not self.mode.startswith("RNN"):
            state = states[0]
            return state.reshape((1,) + tuple(state.shape))
        return stack(states, 0)

    def _run_direction(self, x: Tensor, batch_sizes: list[int], h0: Tensor, c0: Tensor | None,
                       weights: list[Parameter], reverse: bool):
        """One direction of one layer: ``(output rows, last h, last c)``; one op unless observed."""
        w_ih, w_hh = weights[0], weights[1]
        b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
        w_hr = weights[-1] if self.proj_size > 0 else None
        weights = (w_ih, w_hh, b_ih, b_hh, w_hr)
        if _observers.OBSERVERS or not batch_sizes:
            return self._run_direction_by_steps(x, batch_sizes, h0, c0, weights, reverse)
        return recurrent_sequence(self.mode, x, h0, c0, weights, batch_sizes, reverse)

    def _run_direction_by_steps(self, x: Tensor, batch_sizes: list[int], h0: Tensor, c0: Tensor | None,
                                weights: tuple, reverse: bool):
        """``_run_direction`` with Tensor ops, a few per time step, each seen by the op observers."""
        w_ih, w_hh, b_ih, b_hh, w_hr = weights
        mode = self.mode
        full = h0.shape[0]
        steps = split(_linear(x, w_ih, b_ih), batch_sizes, 0) if batch_sizes else ()
        outputs: list = [None] * len(batch_sizes)
        finished = []  # forward direction: (h, c) of the sequences that ended, shortest last
        if reverse:
            first = batch_sizes[-1] if batch_sizes else full
            h = h0 if first == full else h0[:first]
            c = c0 if c0 is None or first == full else c0[:first]
            order = range(len(batch_sizes) - 1, -1, -1)
        else:
            h, c = h0, c0
            order = range(len(batch_sizes))
        for t in order:
            size, current = batch_sizes[t], h.shape[0]
            if size < current:
                finished.append((h[size:], None if c is None else c[size:]))
                h = h[:size]
                c = None if c is None else c[:size]
            elif size > current:
                h = cat([h, h0[current:size]])
                c = None if c is None else cat([c, c0[current:size]])
            h, c_new = _step(mode, steps[t], _linear(h, w_hh, b_hh), h, c)
            c = c_new if c is not None else None
            if w_hr is not None:
                h = _linear(h, w_hr, None)
            outputs[t] = h
        out = cat(outputs, 0) if outputs else x.new_zeros((0, h.shape[-1]))
        if finished:
            h = cat([h] + [f[0] for f in reversed(finished)])
            c = None if c is None else cat([c] + [f[1] for f in reversed(finished)])
        return out, h, c


def _check_arguments(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size) -> None:
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
        raise ValueError(
            "dropout should be a number in range [0, 1] representing the probability of an element "
            "being zeroed"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
            f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
            stacklevel=3,
        )
    for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                              ("input_size", input_size, int), ("hidden_size", hidden_size, int)):
        if not isinstance(value, kind):
            raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")


def _check_hidden(hx: Tensor, expected: tuple, message: str) -> None:
    if tuple(hx.shape) != expected:
        raise RuntimeError(message.format(expected, list(hx.shape)))


def _reject_extra_arguments(cls: str, kwargs: dict) -> None:
    """``RNN`` and ``GRU`` take ``**kwargs`` only to refuse ``proj_size`` with PyTorch's message."""
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"{cls}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ``relu``)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        **kwargs,
    ) -> None:
        _reject_extra_arguments("RNN", kwargs)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory; gates ``i, f, g, o``; ``proj_size > 0`` projects ``h`` to that size."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit; gates ``r, z, n`` with ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        **kwargs,
    ) -> None:
        _reject_extra_arguments("GRU", kwargs)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)


# --------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """One time step: ``weight_ih (gates * hidden, input)``, ``weight_hh (gates * hidden, hidden)``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(creation.empty(num_chunks * hidden_size, input_size, device=device,
                                                  dtype=dtype))
        self.weight_hh = Parameter(creation.empty(num_chunks * hidden_size, hidden_size, device=device,
                                                  dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_init(self, self.hidden_size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _batched(self, input: Tensor, states: tuple, names: tuple) -> tuple[Tensor, tuple, bool]:
        """Check dims; give 1-D input and states a batch dimension; zero states where None."""
        cls = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{cls}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for state, name in zip(states, names):
            if state is not None and state.dim() not in (1, 2):
                raise ValueError(f"{cls}: Expected {name} to be 1D or 2D, got {state.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}"
            )
        out = []
        for state in states:
            if state is None:
                state = input.new_zeros((input.shape[0], self.hidden_size))
            elif not batched:
                state = state.unsqueeze(0)
            if tuple(state.shape) != (input.shape[0], self.hidden_size):
                raise RuntimeError(
                    f"{cls}: hidden state has shape {list(state.shape)}, expected "
                    f"{[input.shape[0], self.hidden_size]} (batch, hidden_size)"
                )
            out.append(state)
        return input, tuple(out), batched

    def _gates(self, input: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        return _linear(input, self.weight_ih, self.bias_ih), _linear(h, self.weight_hh, self.bias_hh)


class RNNCell(RNNCellBase):
    """``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ``relu``)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), batched = self._batched(input, (hx,), ("hidden",))
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        h, _ = _step(mode, *self._gates(input, h), h, None)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``(h', c')`` from ``x`` and ``(h, c)`` (zeros when ``hx`` is None)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        states = (None, None) if hx is None else tuple(hx)
        input, (h, c), batched = self._batched(input, states, ("hx[0]", "hx[1]"))
        h, c = _step("LSTM", *self._gates(input, h), h, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: ``h' = (1 - z) n + z h``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), batched = self._batched(input, (hx,), ("hidden",))
        h, _ = _step("GRU", *self._gates(input, h), h, None)
        return h if batched else h.squeeze(0)
