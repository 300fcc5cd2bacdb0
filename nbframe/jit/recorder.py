"""Turning a run into a Graph: every op call reported to the op-observer hook becomes a Node.

Tensors are mapped to Values by identity. A tensor the recorder has not seen is
a parameter or buffer (when it is one of the module's, or of a module running
now, named by its path; or a leaf that requires grad), else a constant of the
graph. A placeholder recorder (``record_all=False``) records only ops that read
a placeholder or a value computed from one: eager work on ordinary tensors
never joins its graph, even when it uses the same parameters. A few functions are
recorded whole, as *leaf* nodes, because part of their work happens outside
any op and depends on the data (max pooling's argmax, dropout's random mask,
batch norm's running statistics): replaying their inner ops would replay
the recorded mask or argmax instead of computing new ones.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import warnings

from ..autograd.observers import add_op_observer
from ..tensor import _DATA_HOOKS, Tensor
from .ir import BUFFER, COMPUTED, INPUT, PARAM, Graph, Node, Value
from .module_paths import path_of

_ACTIVE: list[Recorder] = []


class TracerWarning(UserWarning):
    """Python read a traced tensor's values: the traced graph keeps what that run decided."""


class Recorder:
    """Builds ``graph`` from observed op calls while it is active (``with recorder.recording():``)."""

    def __init__(self, graph: Graph, names: dict[int, tuple[str, str]] | None = None, *,
                 record_all: bool = True):
        self.graph = graph
        self.names = names or {}  # id(tensor) -> (module path, PARAM or BUFFER)
        self.known: dict[int, tuple[Value, Tensor, int]] = {}
        self.depth = 0  # > 0 inside a leaf function: its inner ops are not recorded
        self.record_all = record_all  # False: only ops that read a placeholder-derived value
        # values computed from inputs (and, when tracing, from parameters): what ops are recorded for
        # (placeholder recorder) and what TracerWarning is about
        self.dependent: set[Value] = set()
        self._keep: list = []  # op contexts kept alive so ids stay unique while recording
        self.results: dict[Value, Tensor] = {}  # each node output's tensor from the recorded run

    # ----------------------------------------------------------------- values
    def bind(self, tensor: Tensor, value: Value) -> None:
        self.known[id(tensor)] = (value, tensor, tensor._version[0])

    def add_input(self, tensor: Tensor, name: str) -> Value:
        value = self.graph.add_input(name, tensor.array.shape, tensor.array.dtype)
        self.bind(tensor, value)
        self.dependent.add(value)
        return value

    def lookup(self, tensor: Tensor) -> Value | None:
        entry = self.known.get(id(tensor))
        if entry is None or entry[1] is not tensor:
            return None
        value, _, version = entry
        if tensor._version[0] != version:
            if not self.record_all and value not in self.dependent:
                # a placeholder graph reads parameters and constants live (an optimizer step between
                # building and running is seen by the run), so their eager updates are not graph ops
                self.bind(tensor, value)
                return value
            value = self._after_inplace(tensor, value)
        return value

    def value_of(self, tensor: Tensor) -> Value:
        value = self.lookup(tensor)
        if value is not None:
            return value
        name, kind = self.names.get(id(tensor)) or path_of(tensor) or (None, None)
        if name is None and tensor.requires_grad and tensor.grad_fn is None:
            name, kind = "param", PARAM
        if name is not None:
            value = self.graph.add_param(name, tensor, kind)
            if self.record_all:
                self.dependent.add(value)
        else:
            value = self.graph.add_constant(tensor)
        self.bind(tensor, value)
        return value

    def _after_inplace(self, tensor: Tensor, old: Value) -> Value:
        """The tensor was changed in place: its new value is the latest recorded result equal to it.

        An in-place op runs the out-of-place op (maybe on a clone) and copies the result into the
        tensor, so that result's node computes the tensor's new value.
        """
        xp = __import__("nbframe.backend", fromlist=["get_array_module"]).get_array_module(tensor.array)
        for node in reversed(self.graph.nodes):
            for value in node.outputs:
                out = self.results.get(value)
                if (out is not None and out is not tensor and out.array.shape == tensor.array.shape
                        and out.array.dtype == tensor.array.dtype
                        and bool(xp.array_equal(out.array, tensor.array, equal_nan=True))):
                    self.bind(tensor, value)
                    return value
        raise NotImplementedError(
            f"jit.trace: the value {old.name} was changed in place by something the tracer could not "
            "see; use the out-of-place op (y = y + 1 instead of y += 1) inside traced code")

    def template(self, structure):
        """``structure`` with Tensors replaced by Values (nested tuples, lists and dicts)."""
        if isinstance(structure, Tensor):
            return self.value_of(structure)
        if type(structure) in (tuple, list):
            return type(structure)(self.template(item) for item in structure)
        if type(structure) is dict:
            return {k: self.template(v) for k, v in structure.items()}
        return structure

    def wants(self, structure) -> bool:
        """Whether an op reading ``structure`` (its arguments) is recorded: always when tracing; for a
        placeholder graph, only when it reads a placeholder or a value computed from one."""
        return self.record_all or self._reads_dependent(structure)

    def _reads_dependent(self, items) -> bool:
        """Whether a tuple/list of arguments holds a dependent tensor (nested containers searched).
        Runs for every eager op while a placeholder graph is alive, so it is a plain loop."""
        known, dependent = self.known, self.dependent
        for item in items:
            if isinstance(item, Tensor):
                entry = known.get(id(item))
                if entry is not None and entry[1] is item and entry[0] in dependent:
                    return True
            elif type(item) in (tuple, list):
                if self._reads_dependent(item):
                    return True
            elif type(item) is dict and self._reads_dependent(tuple(item.values())):
                return True
        return False

    # ----------------------------------------------------------------- nodes
    def add(self, node: Node, outputs: tuple) -> None:
        meta = [(o.array.shape, o.array.dtype) if isinstance(o, Tensor) else ((), None) for o in outputs]
        self.graph.add_node(node, meta)
        dependent = any(v in self.dependent for v in node.inputs())
        for out, value in zip(outputs, node.outputs):
            if isinstance(out, Tensor):
                self.bind(out, value)
                self.results[value] = out
                if dependent:
                    self.dependent.add(value)
        self._keep.append(outputs)

    def observe(self, op, inputs, outputs) -> None:
        if self.depth or not self.wants(inputs):
            return
        cls = type(op)
        label = getattr(cls, "label", None) or cls.__name__.lower()
        multi = len(outputs) > 1 or bool(op._outputs_meta) or label in ("split", "unbind")
        node = Node(self.graph.unique_name(label), cls, cls.apply, label, self.template(tuple(inputs)),
                    multi=multi, source=_user_line())
        self._keep.append(op)
        self.add(node, outputs)

    def on_data_access(self, tensor: Tensor, how: str) -> None:
        value = self.lookup(tensor)
        if value is None or value not in self.dependent:
            return
        filename, lineno = _user_frame()
        warnings.warn_explicit(
            f"jit.trace: {how} on the traced value {value.name} turns it into a Python value; the graph "
            "keeps what this run decided (control flow or numbers computed from it are frozen) and "
            "will not follow other inputs", TracerWarning, filename, lineno)

    @contextlib.contextmanager
    def recording(self):
        handle = add_op_observer(self.observe)
        _DATA_HOOKS.append(self.on_data_access)
        _ACTIVE.append(self)
        patches = _patch_leaves()
        try:
            yield self
        finally:
            _unpatch_leaves(patches)
            _ACTIVE.remove(self)
            _DATA_HOOKS.remove(self.on_data_access)
            handle.remove()


# --------------------------------------------------------------------------- leaf functions
def _record_leaf(fn, label: str, args: tuple, kwargs: dict):
    """Run ``fn(*args, **kwargs)``; while recording, as one node whose inner ops are not recorded."""
    recorder = _ACTIVE[-1] if _ACTIVE else None
    if recorder is None or recorder.depth or not recorder.wants((args, kwargs)):
        return fn(*args, **kwargs)
    args_t, kwargs_t = recorder.template(args), recorder.template(kwargs)
    recorder.depth += 1
    try:
        result = fn(*args, **kwargs)
    finally:
        recorder.depth -= 1
    multi = type(result) is tuple
    node = Node(recorder.graph.unique_name(label), None, fn, label, args_t, kwargs_t, multi=multi,
                source=_user_line())
    recorder.add(node, result if multi else (result,))
    return result


def _leaf(original, label: str):
    @functools.wraps(original)
    def recorded(*args, **kwargs):
        return _record_leaf(original, label, args, kwargs)

    recorded.__wrapped_leaf__ = original
    return recorded


def run_lstm(input: Tensor, h0: Tensor | None, c0: Tensor | None, *weights: Tensor, module):
    """``module(input, (h0, c0))`` for an ``nn.LSTM`` with ``weights`` (its flat weights, in order):
    the ``lstm`` leaf node. Returns ``(output, h_n, c_n)`` flat, so that each is a graph value."""
    per_direction = len(weights) // len(module._all_weights)
    grouped = [list(weights[i:i + per_direction]) for i in range(0, len(weights), per_direction)]
    output, (h_n, c_n) = module._forward(input, None if h0 is None else (h0, c0), grouped)
    return output, h_n, c_n


def _rnn_forward(original, label: str):
    """``RNNBase.forward``: an LSTM on a padded tensor is one ``lstm`` node (the ONNX LSTM operator);
    packed sequences, RNN and GRU record their per-step ops."""
    @functools.wraps(original)
    def forward(module, input, hx=None):
        if not _ACTIVE or module.mode != "LSTM" or not isinstance(input, Tensor):
            return original(module, input, hx)
        h0, c0 = hx if hx is not None else (None, None)
        output, h_n, c_n = _record_leaf(run_lstm, label, (input, h0, c0, *module._flat_weights),
                                        {"module": module})
        return output, (h_n, c_n)

    forward.__wrapped_leaf__ = original
    return forward


def _leaf_sites():
    """(owner, attribute, label, wrapper) of the functions recorded whole."""
    from ..nn import functional
    from ..nn.modules.rnn import RNNBase
    from ..ops import nnops, pool

    return [(pool, "_max_poolnd", "max_pool", _leaf), (nnops, "_dropout", "dropout", _leaf),
            (nnops, "batch_norm", "batch_norm", _leaf), (functional, "batch_norm", "batch_norm", _leaf),
            (RNNBase, "forward", "lstm", _rnn_forward)]


def _patch_leaves() -> list:
    if len(_ACTIVE) > 1:
        return []  # already patched by an outer recorder
    patches, wrapped = [], {}
    for module, attribute, label, wrapper in _leaf_sites():
        original = getattr(module, attribute)
        if hasattr(original, "__wrapped_leaf__"):
            continue
        if id(original) not in wrapped:
            wrapped[id(original)] = wrapper(original, label)
        setattr(module, attribute, wrapped[id(original)])
        patches.append((module, attribute, original))
    return patches


def _unpatch_leaves(patches: list) -> None:
    for module, attribute, original in patches:
        setattr(module, attribute, original)


# --------------------------------------------------------------------------- source lines
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_frame() -> tuple[str, int]:
    """File and line of the innermost caller outside nbframe (the user's line)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE + os.sep):
            return filename, frame.f_lineno
        frame = frame.f_back
    return "<unknown>", 0


def _user_line() -> str:
    filename, lineno = _user_frame()
    return f"{os.path.basename(filename)}:{lineno}"


__all__ = ["Recorder", "TracerWarning", "COMPUTED", "INPUT", "BUFFER"]
