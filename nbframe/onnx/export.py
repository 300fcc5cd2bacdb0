"""``nf.onnx.export(model, example_input, "model.onnx", dynamic_batch=True, opset_version=17)``.

The model is traced into the jit Graph IR (with gradients off; dead code removed), and each node
is translated by ``converters.CONVERTERS``. Parameters and buffers become initializers under their
module paths; constants become initializers too. With ``dynamic_batch`` the first dimension of the
inputs and outputs is the symbolic ``batch``.
"""

from __future__ import annotations

import os

import numpy as np

from ..autograd import grad_mode
from ..jit.ir import Graph, Value, map_values
from ..jit.passes import run_passes
from ..jit.trace import _as_tuple, module_names, record
from .converters import CONVERTERS, UnsupportedOperatorError


def _onnx():
    try:
        import onnx
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("nbframe.onnx needs the onnx package: pip install 'nbframe[onnx]'") from error
    return onnx


class _Builder:
    """Collects ONNX nodes and initializers with unique names."""

    def __init__(self, onnx, dynamic_batch: bool, batch: int | None):
        self.onnx, self.helper = onnx, onnx.helper
        self.nodes: list = []
        self.initializers: list = []
        self.dynamic_batch, self.batch = dynamic_batch, batch
        self._count = 0

    def fresh(self, base: str) -> str:
        self._count += 1
        return f"{base}_{self._count}"

    def emit(self, op_type: str, inputs: list, **attrs) -> str:
        out = self.fresh(op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, [i if i is not None else "" for i in inputs], [out],
                                                name=out, **attrs))
        return out

    def emit_multi(self, op_type: str, inputs: list, count: int, **attrs) -> list[str]:
        """Like ``emit`` for an op with ``count`` outputs; returns their names."""
        base = self.fresh(op_type.lower())
        outs = [f"{base}.{i}" for i in range(count)]
        self.nodes.append(self.helper.make_node(op_type, [i if i is not None else "" for i in inputs], outs,
                                                name=base, **attrs))
        return outs

    def constant(self, array, name: str | None = None) -> str:
        name = name or self.fresh("const")
        array = np.asarray(array)
        array = array if array.flags.c_contiguous else array.copy()  # (ascontiguousarray makes 0-d 1-d)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name


def _host(tensor) -> np.ndarray:
    array = tensor.array
    return array if isinstance(array, np.ndarray) else array.get()


def to_onnx_model(graph: Graph, *, dynamic_batch: bool = False, opset_version: int = 17,
                  input_names=None, output_names=None):
    """The ``onnx.ModelProto`` of a jit Graph."""
    onnx = _onnx()
    helper = onnx.helper
    batch = graph.inputs[0].shape[0] if graph.inputs and graph.inputs[0].shape else None
    b = _Builder(onnx, dynamic_batch, batch)
    names: dict[Value, str] = {}
    for i, v in enumerate(graph.inputs):
        names[v] = input_names[i] if input_names else v.name
    for v in graph.params + graph.constants:
        names[v] = b.constant(_host(v.tensor), v.name)
    for node in graph.nodes:
        convert = CONVERTERS.get(node.label)
        if convert is None:
            raise UnsupportedOperatorError(
                f"onnx.export: the op {node.label!r} (graph node {node.name}, from {node.source}) has no "
                f"ONNX translation yet; supported ops: {', '.join(sorted(CONVERTERS))}")
        args = map_values(node.args, lambda v: names[v])
        results = convert(b, node, args)
        for value, name in zip(node.outputs, results):
            if name is not None:
                names[value] = name
    outputs = []
    map_values(graph.outputs, outputs.append)
    graph_inputs = [_info(helper, onnx, names[v], v, dynamic_batch) for v in graph.inputs]

    def build(graph_outputs: list):
        proto = helper.make_graph(b.nodes, "nbframe", graph_inputs, graph_outputs, initializer=b.initializers)
        model = helper.make_model(proto, opset_imports=[helper.make_opsetid("", opset_version)],
                                  producer_name="nbframe")
        model.ir_version = min(model.ir_version, 9)
        return model

    wanted = [output_names[i] if output_names else ("output" if len(outputs) == 1 else f"output_{i}")
              for i in range(len(outputs))]
    for name, v in zip(wanted, outputs):
        b.nodes.append(helper.make_node("Identity", [names[v]], [name], name=f"{name}_identity"))
    shapes = [list(v.shape) for v in outputs]
    if dynamic_batch:
        shapes = _dynamic_output_shapes(onnx, build([]), [names[v] for v in outputs], shapes)
    return build([_info(helper, onnx, name, v, False, shape)
                  for name, v, shape in zip(wanted, outputs, shapes)])


def _dynamic_output_shapes(onnx, model, internal: list[str], shapes: list[list]) -> list[list]:
    """Output shapes with the symbolic batch where ONNX shape inference puts it (the batch is not
    always the first dimension of an output: an LSTM's ``h_n`` has it second); the first dimension
    where inference cannot tell."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
    except Exception:  # noqa: BLE001 - inference is a refinement; fall back to the first-dimension rule
        inferred = []
    found = {info.name: info.type.tensor_type.shape.dim for info in inferred}
    result = []
    for name, shape in zip(internal, shapes):
        dims = found.get(name)
        if dims is not None and len(dims) == len(shape) and any(d.dim_param == "batch" for d in dims):
            result.append([d.dim_param if d.dim_param else (d.dim_value if d.HasField("dim_value") else s)
                           for d, s in zip(dims, shape)])
        else:
            result.append(["batch"] + shape[1:] if shape else shape)
    return result


def _info(helper, onnx, name: str, value: Value, dynamic_batch: bool, shape: list | None = None):
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(value.dtype))
    shape = list(value.shape) if shape is None else shape
    if dynamic_batch and shape:
        shape[0] = "batch"
    return helper.make_tensor_value_info(name, elem, shape)


def export(model, example_input, f, *, dynamic_batch: bool = False, opset_version: int = 17,
           input_names=None, output_names=None, verbose: bool = False):
    """Trace ``model(*example_input)`` and write it as ONNX to ``f`` (a path or a binary file).

    Put the model in eval mode first (batch norm and dropout in training mode are refused).
    Returns the ``onnx.ModelProto``.
    """
    if opset_version < 17:
        raise ValueError(f"onnx.export: opset_version must be 17 or newer (LayerNormalization), "
                         f"got {opset_version}")
    inputs = _as_tuple(example_input)
    with grad_mode.no_grad():
        graph, _ = record(model, inputs, module_names(model))
    run_passes(graph, ("dce", "constant_folding"))
    proto = to_onnx_model(graph, dynamic_batch=dynamic_batch, opset_version=opset_version,
                          input_names=input_names, output_names=output_names)
    if verbose:
        print(graph)
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as handle:
            handle.write(data)
    else:
        f.write(data)
    return proto
