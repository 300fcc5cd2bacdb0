"""One translation per IR node label: ``convert(builder, node, args)`` emits ONNX nodes.

``args`` are the node's arguments with Values replaced by ONNX tensor names (strings) and other
arguments as they were recorded. Each converter returns the ONNX names of the node's outputs.
"""

from __future__ import annotations

import inspect
import math

import numpy as np


class UnsupportedOperatorError(NotImplementedError):
    """The graph holds an op that nbframe.onnx cannot translate."""


CONVERTERS: dict = {}


def converter(*labels: str):
    def register(fn):
        for label in labels:
            CONVERTERS[label] = fn
        return fn

    return register


def _operand(b, x, node):
    """An ONNX name for an operand: a tensor name stays, a Python number becomes a constant."""
    if isinstance(x, str):
        return x
    return b.constant(np.asarray(x, dtype=node.outputs[0].dtype))


@converter("add", "sub", "mul", "div")
def _binary(b, node, args):
    a, c = _operand(b, args[0], node), _operand(b, args[1], node)
    extra = args[2] if len(args) > 2 else None
    if node.label in ("add", "sub") and extra not in (None, 1):
        c = b.emit("Mul", [c, b.constant(np.asarray(extra, dtype=node.outputs[0].dtype))])
    if node.label == "div" and extra is not None:
        raise UnsupportedOperatorError(f"onnx.export: div with rounding_mode={extra!r} (node {node.name})")
    op = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div"}[node.label]
    return [b.emit(op, [a, c])]


_UNARY = {"neg": "Neg", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "tanh": "Tanh", "sigmoid": "Sigmoid",
          "relu": "Relu", "abs": "Abs", "clone": "Identity", "contiguous": "Identity", "sin": "Sin",
          "cos": "Cos", "erf": "Erf", "floor": "Floor", "ceil": "Ceil", "reciprocal": "Reciprocal"}


@converter(*_UNARY)
def _unary(b, node, args):
    return [b.emit(_UNARY[node.label], [args[0]])]


@converter("matmul")
def _matmul(b, node, args):
    return [b.emit("MatMul", [args[0], args[1]])]


@converter("linear")
def _linear(b, node, args):
    x, w, bias = args
    if len(node.inputs()[0].shape) == 2:
        inputs = [x, w] + ([bias] if bias is not None else [])
        return [b.emit("Gemm", inputs, transB=1)]
    out = b.emit("MatMul", [x, b.emit("Transpose", [w], perm=[1, 0])])
    return [b.emit("Add", [out, bias])] if bias is not None else [out]


@converter("softmax", "log_softmax")
def _softmax(b, node, args):
    return [b.emit("Softmax" if node.label == "softmax" else "LogSoftmax", [args[0]], axis=int(args[1]))]


@converter("gelu")
def _gelu(b, node, args):
    x, approximate = args[0], (args[1] if len(args) > 1 else "none")
    dtype = node.outputs[0].dtype
    half, one = b.constant(np.asarray(0.5, dtype)), b.constant(np.asarray(1.0, dtype))
    if approximate == "tanh":
        cube = b.emit("Mul", [b.emit("Mul", [x, x]), x])
        inner = b.emit("Add", [x, b.emit("Mul", [cube, b.constant(np.asarray(0.044715, dtype))])])
        t = b.emit("Tanh", [b.emit("Mul", [inner, b.constant(np.asarray(math.sqrt(2 / math.pi), dtype))])])
    else:
        t = b.emit("Erf", [b.emit("Div", [x, b.constant(np.asarray(math.sqrt(2.0), dtype))])])
    return [b.emit("Mul", [b.emit("Mul", [x, half]), b.emit("Add", [t, one])])]


@converter("conv2d")
def _conv(b, node, args):
    x, w, bias, geo = args
    top, bottom, left, right = geo.padding
    inputs = [x, w] + ([bias] if bias is not None else [])
    return [b.emit("Conv", inputs, strides=list(geo.stride), pads=[top, left, bottom, right],
                   dilations=list(geo.dilation), group=int(geo.groups))]


def _bind(fn, node, args) -> dict:
    bound = inspect.signature(fn).bind(*args, **node.kwargs)
    bound.apply_defaults()
    return bound.arguments


def _pair(v) -> list:
    return [int(v), int(v)] if isinstance(v, int) else [int(i) for i in v]


@converter("max_pool")
def _max_pool(b, node, args):
    a = _bind(node.fn, node, args)
    if a["dims"] != 2 or a["return_indices"]:
        raise UnsupportedOperatorError(f"onnx.export: {a['fname']} with return_indices or 1-d input "
                                       f"(node {node.name})")
    kernel = _pair(a["kernel_size"])
    stride = kernel if a["stride"] in (None, (), []) else _pair(a["stride"])
    pad = _pair(a["padding"])
    return [b.emit("MaxPool", [a["input"]], kernel_shape=kernel, strides=stride, pads=pad + pad,
                   dilations=_pair(a["dilation"]), ceil_mode=int(bool(a["ceil_mode"])))]


@converter("batch_norm")
def _batch_norm(b, node, args):
    a = _bind(node.fn, node, args)
    if a["training"]:
        raise UnsupportedOperatorError(
            f"onnx.export: batch_norm in training mode (node {node.name}); call model.eval() before export")
    channels = node.inputs()[0].shape[1]
    dtype = node.outputs[0].dtype
    scale = a["weight"] if a["weight"] is not None else b.constant(np.ones(channels, dtype))
    bias = a["bias"] if a["bias"] is not None else b.constant(np.zeros(channels, dtype))
    return [b.emit("BatchNormalization", [a["input"], scale, bias, a["running_mean"], a["running_var"]],
                   epsilon=float(a["eps"]))]


@converter("dropout")
def _dropout(b, node, args):
    a = _bind(node.fn, node, args)
    if a["training"] and a["p"] > 0:
        raise UnsupportedOperatorError(
            f"onnx.export: dropout in training mode (node {node.name}); call model.eval() before export")
    return [b.emit("Identity", [a["input"]])]


@converter("norm")
def _layer_norm(b, node, args):
    x, weight, bias, spec, eps = args
    view, axes = spec[0], spec[1]
    rank = len(node.inputs()[0].shape)
    if axes != (1,) or len(view) != 2:
        raise UnsupportedOperatorError(f"onnx.export: only layer_norm of the norm family (node {node.name})")
    normalized = len(spec[2])
    dtype = node.outputs[0].dtype
    shape = node.inputs()[0].shape[rank - normalized:]
    scale = weight if weight is not None else b.constant(np.ones(shape, dtype))
    inputs = [x, scale] + ([bias] if bias is not None else [])
    y = b.emit("LayerNormalization", inputs, axis=rank - normalized, epsilon=float(eps))
    return [y, None, None]


@converter("reshape", "view")
def _reshape(b, node, args):
    x, shape = args[0], list(args[1])
    source = node.inputs()[0].shape
    if b.dynamic_batch and shape and source and shape[0] == source[0] == b.batch:
        shape[0] = 0  # ONNX: copy the input's (symbolic) batch dimension
    return [b.emit("Reshape", [x, b.constant(np.asarray(shape, np.int64))])]


@converter("split")
def _split(b, node, args):
    x, sizes, dim = args
    sizes = b.constant(np.asarray(sizes, np.int64))
    return b.emit_multi("Split", [x, sizes], len(node.outputs), axis=int(dim))


@converter("permute")
def _permute(b, node, args):
    return [b.emit("Transpose", [args[0]], perm=[int(d) for d in args[1]])]


@converter("cat")
def _cat(b, node, args):
    return [b.emit("Concat", list(args[1:]), axis=int(args[0]))]


@converter("sum", "mean")
def _reduce(b, node, args):
    x, dims, keepdim = args[0], args[1], args[2]
    rank = len(node.inputs()[0].shape)
    axes = list(range(rank)) if dims is None else [int(d) % max(rank, 1) for d in (
        dims if isinstance(dims, (tuple, list)) else (dims,))]
    if node.label == "sum":
        return [b.emit("ReduceSum", [x, b.constant(np.asarray(axes, np.int64))], keepdims=int(bool(keepdim)))]
    return [b.emit("ReduceMean", [x], axes=axes, keepdims=int(bool(keepdim)))]


@converter("expand")
def _expand(b, node, args):
    return [b.emit("Expand", [args[0], b.constant(np.asarray(node.outputs[0].shape, np.int64))])]


@converter("getitem")
def _getitem(b, node, args):
    """Integer indexing along one dimension (``x[2]``, ``x[:, 0]``): ONNX Gather with a scalar index."""
    x, index = args[0], args[1]
    index = index if isinstance(index, tuple) else (index,)
    if index and index[-1] is Ellipsis:
        index = index[:-1]
    full = slice(None)
    axis = 0
    while axis < len(index) and index[axis] == full:
        axis += 1
    if axis != len(index) - 1 or isinstance(index[axis], bool) or not isinstance(index[axis], int):
        raise UnsupportedOperatorError(
            f"onnx.export: getitem with index {index!r} (node {node.name}); only one integer index works")
    return [b.emit("Gather", [x, b.constant(np.asarray(index[axis], np.int64))], axis=axis)]


@converter("avg_pool2d")
def _avg_pool(b, node, args):
    """Pad explicitly, average full windows, then rescale: exact for PyTorch's divisor rules
    (``count_include_pad``, ``ceil_mode``'s partial windows, ``divisor_override``)."""
    x, win, divisor = args
    top, bottom, left, right = win.sides
    if any(win.sides):
        pads = b.constant(np.asarray([0, 0, top, left, 0, 0, bottom, right], np.int64))
        x = b.emit("Pad", [x, pads], mode="constant")
    y = b.emit("AveragePool", [x], kernel_shape=list(win.kernel), strides=list(win.stride))
    dtype = node.outputs[0].dtype
    scale = (win.kernel[0] * win.kernel[1]) / np.asarray(_to_host(divisor), np.float64)
    if np.any(scale != 1):
        y = b.emit("Mul", [y, b.constant(scale.astype(dtype))])
    return [y]


@converter("resample2d")
def _resample(b, node, args):
    """``rows @ x @ cols.T`` per plane (adaptive average pooling, interpolation); a global average pool
    (both maps one row of equal weights) is ONNX's GlobalAveragePool."""
    x, rows, cols = args[0], _to_host(args[1]), _to_host(args[2])
    if rows.shape[0] == cols.shape[0] == 1 and np.ptp(rows) == 0 and np.ptp(cols) == 0 and \
            np.isclose(rows.sum(), 1) and np.isclose(cols.sum(), 1):
        return [b.emit("GlobalAveragePool", [x])]
    along_w = b.emit("MatMul", [x, b.constant(np.ascontiguousarray(cols.T))])
    return [b.emit("MatMul", [b.constant(rows), along_w])]


def _to_host(array) -> np.ndarray:
    return array if isinstance(array, np.ndarray) else (array.get() if hasattr(array, "get") else
                                                        np.asarray(array))


# --------------------------------------------------------------------------- LSTM
#: PyTorch stacks an LSTM's gates as i, f, g, o; ONNX as i, o, f, c (c is PyTorch's g).
_ONNX_GATE_ORDER = (0, 3, 1, 2)


@converter("lstm")
def _lstm(b, node, args):
    """``nn.LSTM`` as one ONNX LSTM node per layer (layout 0: time-major), gates reordered by Gather."""
    module = node.kwargs["module"]
    x, h0, c0, *weights = args
    _check_lstm(module, node)
    hidden, directions = module.hidden_size, 2 if module.bidirectional else 1
    gather = b.constant(np.concatenate([np.arange(g * hidden, (g + 1) * hidden) for g in _ONNX_GATE_ORDER]))
    per_direction = len(weights) // (module.num_layers * directions)

    def stacked(groups: list, position: int, concat_with: int | None = None) -> str:
        """The ONNX ``[directions, ...]`` tensor of one weight kind of the current layer."""
        parts = []
        for group in groups:
            w = b.emit("Gather", [group[position], gather], axis=0)
            if concat_with is not None:
                w = b.emit("Concat", [w, b.emit("Gather", [group[concat_with], gather], axis=0)], axis=0)
            parts.append(b.emit("Unsqueeze", [w, b.constant(np.asarray([0], np.int64))]))
        return parts[0] if len(parts) == 1 else b.emit("Concat", parts, axis=0)

    def layer_slice(state, layer: int):
        if state is None:
            return None
        bounds = [np.asarray([v], np.int64) for v in (layer * directions, (layer + 1) * directions, 0)]
        return b.emit("Slice", [state] + [b.constant(v) for v in bounds])

    if module.batch_first:
        x = b.emit("Transpose", [x], perm=[1, 0, 2])
    last_h, last_c = [], []
    for layer in range(module.num_layers):
        first = layer * directions * per_direction
        groups = [weights[first + d * per_direction:][:per_direction] for d in range(directions)]
        bias = stacked(groups, 2, concat_with=3) if module.bias else None
        inputs = [x, stacked(groups, 0), stacked(groups, 1), bias, None,
                  layer_slice(h0, layer), layer_slice(c0, layer)]
        y, y_h, y_c = b.emit_multi("LSTM", inputs, 3, hidden_size=hidden,
                                   direction="bidirectional" if directions == 2 else "forward")
        # Y is (seq, directions, batch, hidden): put the directions side by side, as PyTorch does.
        y = b.emit("Transpose", [y], perm=[0, 2, 1, 3])
        x = b.emit("Reshape", [y, b.constant(np.asarray([0, 0, -1], np.int64))])
        last_h.append(y_h)
        last_c.append(y_c)
    if module.batch_first:
        x = b.emit("Transpose", [x], perm=[1, 0, 2])
    join = lambda states: states[0] if len(states) == 1 else b.emit("Concat", states, axis=0)  # noqa: E731
    return [x, join(last_h), join(last_c)]


def _check_lstm(module, node) -> None:
    where = f"(node {node.name})"
    if len(node.inputs()[0].shape) != 3:
        raise UnsupportedOperatorError(f"onnx.export: nn.LSTM on unbatched (2-D) input {where}; "
                                       "give it a batch dimension")
    if module.proj_size > 0:
        raise UnsupportedOperatorError(f"onnx.export: nn.LSTM with proj_size > 0 has no ONNX form {where}")
    if module.training and module.dropout > 0 and module.num_layers > 1:
        raise UnsupportedOperatorError(
            f"onnx.export: nn.LSTM dropout in training mode {where}; call model.eval() before export")


@converter("hardtanh")
def _hardtanh(b, node, args):
    """``hardtanh(x, min_val, max_val)`` (and ``relu6``) is ONNX's Clip."""
    dtype = node.outputs[0].dtype
    low, high = (b.constant(np.asarray(v, dtype)) for v in args[1:3])
    return [b.emit("Clip", [args[0], low, high])]
