"""Elementwise fusion: a chain of elementwise ops becomes one node.

A chain is ops like ``relu(x @ w + b) * 2`` where each intermediate has a single reader. With
gradients needed, the fused node runs the original ops one by one (autograd exactly as in eager
mode). Without (inference), it runs them on one output buffer: on the CPU each NumPy ufunc writes
``out=`` into the same array, so a chain of k ops makes one array instead of k; on the GPU it
generates a C expression and runs it as one kernel through ``backend.cuda.fused_elementwise``
(the ``kernels/elementwise_fusion.cu`` template).
"""

from __future__ import annotations

import numpy as np

from ...autograd import grad_mode
from ...backend import get_array_module
from ...tensor import Tensor, _wrap
from ..ir import COMPUTED, Graph, Node, Value

# label -> (NumPy steps writing into `out`, C expression template); {0}, {1} are the operands.
_UNARY_NUMPY = {
    "neg": lambda x, out: np.negative(x, out=out),
    "relu": lambda x, out: np.maximum(x, 0, out=out),
    "exp": lambda x, out: np.exp(x, out=out),
    "log": lambda x, out: np.log(x, out=out),
    "sqrt": lambda x, out: np.sqrt(x, out=out),
    "tanh": lambda x, out: np.tanh(x, out=out),
    "sigmoid": lambda x, out: np.reciprocal(np.add(np.exp(np.negative(x, out=out), out=out), 1, out=out),
                                            out=out),
}
_BINARY_NUMPY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}
_C = {
    "add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})", "div": "({0} / {1})",
    "neg": "(-{0})", "relu": "({0} > (A)0 ? {0} : (A)0)", "exp": "exp({0})", "log": "log({0})",
    "sqrt": "sqrt({0})", "tanh": "tanh({0})", "sigmoid": "((A)1 / ((A)1 + exp(-{0})))",
}
_MAX_INPUTS = 8  # the CUDA template's limit


def _fusable(node: Node) -> bool:
    """An elementwise op of nbframe.ops.elementwise with default extra arguments, on floats."""
    if node.op is None or node.label not in _C or node.kwargs or len(node.outputs) != 1:
        return False
    if node.op.__module__ != "nbframe.ops.elementwise":
        return False
    arity = 1 if node.label in _UNARY_NUMPY else 2
    operands, extra = node.args[:arity], node.args[arity:]
    if node.label in ("add", "sub") and extra not in ((), (1,)):
        return False
    if node.label == "div" and extra not in ((), (None,)):
        return False
    if node.label not in ("add", "sub", "div") and extra:
        return False
    if any(not isinstance(a, (Value, int, float)) or isinstance(a, bool) for a in operands):
        return False
    out = node.outputs[0]
    return out.dtype is not None and np.dtype(out.dtype).kind == "f"


class FusedElementwise:
    """What a fused node calls: ``steps`` are (op class, label, operands), operands ("in", i),
    ("prev",) or ("const", number); each step reads the previous step's result at most once."""

    def __init__(self, steps: list, shape: tuple, dtype, extras: list | None = None):
        self.steps = steps
        self.extras = extras or [()] * len(steps)  # each op's arguments after its operands (alpha, ...)
        self.shape = shape
        self.dtype = np.dtype(dtype)
        self.buffer = None  # a preallocated output array, set by the buffer_reuse pass
        self.label = "fused[" + ", ".join(label for _, label, _ in steps) + "]"
        self._expression = None

    def __call__(self, *inputs):
        if grad_mode._state.enabled and any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
            return self._eager(inputs)
        arrays = [t.array for t in inputs]
        if get_array_module(arrays[0]) is np:
            return _wrap(self._numpy(arrays), False, None, 0)
        from ...backend import cuda

        return _wrap(cuda.fused_elementwise(self.expression(), *arrays), False, None, 0)

    def _eager(self, inputs):
        prev = None
        for (op, _, operands), extra in zip(self.steps, self.extras):
            args = [inputs[o[1]] if o[0] == "in" else prev if o[0] == "prev" else o[1] for o in operands]
            prev = op.apply(*args, *extra)
        return prev

    def _numpy(self, arrays):
        out = self.buffer
        if out is None or out.shape != self.shape:
            out = np.empty(self.shape, self.dtype)
        with np.errstate(all="ignore"):
            for _, label, operands in self.steps:
                args = [arrays[o[1]] if o[0] == "in" else out if o[0] == "prev" else o[1] for o in operands]
                if len(args) == 1:
                    _UNARY_NUMPY[label](args[0], out)
                else:
                    _BINARY_NUMPY[label](args[0], args[1], out=out)
        return out

    def expression(self) -> str:
        """The C expression over a0..a7 for the CUDA template."""
        if self._expression is None:
            text = None
            for _, label, operands in self.steps:
                parts = [f"a{o[1]}" if o[0] == "in" else text if o[0] == "prev" else f"(A)({float(o[1])!r})"
                         for o in operands]
                text = _C[label].format(*parts)
            self._expression = text
        return self._expression


def fusion(graph: Graph) -> str:
    users = graph.users()
    outputs = set(graph.output_values())
    groups: list[list[Node]] = []
    tail_group: dict[Node, list[Node]] = {}
    for node in graph.nodes:
        if not _fusable(node):
            continue
        joined = None
        for value in node.inputs():
            producer = value.node if value.kind == COMPUTED else None
            group = tail_group.get(producer)
            if (group is not None and len(users.get(value, ())) == 1 and value not in outputs
                    and node.args.count(value) == 1 and value.shape == node.outputs[0].shape
                    and value.dtype == node.outputs[0].dtype):
                joined = group
                del tail_group[producer]
                break
        if joined is None:
            joined = [node]
            groups.append(joined)
        else:
            joined.append(node)
        tail_group[node] = joined
    fused = [g for g in groups if len(g) > 1 and _build(graph, g)]
    count = sum(len(g) for g in fused)
    return f"fused {count} elementwise node(s) into {len(fused)} kernel(s)"


def _build(graph: Graph, group: list[Node]) -> bool:
    """Replace ``group`` by one fused node at the place of its last node (False if too many inputs)."""
    inputs: list[Value] = []
    steps, extras = [], []
    prev = None
    for node in group:
        arity = 1 if node.label in _UNARY_NUMPY else 2
        operands = []
        for a in node.args[:arity]:
            if isinstance(a, Value) and prev is not None and a is prev:
                operands.append(("prev",))
            elif isinstance(a, Value):
                if a not in inputs:
                    inputs.append(a)
                operands.append(("in", inputs.index(a)))
            else:
                operands.append(("const", a))
        steps.append((node.op, node.label, operands))
        extras.append(tuple(node.args[arity:]))
        prev = node.outputs[0]
    if len(inputs) > _MAX_INPUTS or not inputs:
        return False
    last = group[-1]
    out = last.outputs[0]
    kernel = FusedElementwise(steps, out.shape, out.dtype, extras)
    fused = Node(graph.unique_name("fused"), None, kernel, kernel.label, tuple(inputs), source=last.source)
    fused.outputs = [out]
    out.node = fused
    out.name = fused.name  # the value is the fused node's now; its old name was a node that is gone
    members = set(group)
    position = graph.nodes.index(last)
    graph.nodes[position] = fused
    graph.nodes = [n for n in graph.nodes if n not in members]
    return True
