"""Turn a failing dry run into a short message: cell line, the layer as written, got/wanted, a fix.

The dry run (``summary.dry_run``) says which layer was running when the error
came and with which input shape. Knowing the layer's kind (by its attributes:
``in_features``, ``in_channels``, ``num_features``, ``normalized_shape``), we
compare what it wants with what it got and rewrite the line as written into a
suggestion: ``Linear(9, 3)`` fed 16 features -> "did you mean Linear(16, 3)?".
Anything we can't explain keeps the original message, still pointed at its line.
"""

from __future__ import annotations

import ast
import copy
import math

from .cell_error import CellError, ShapeError, first_line
from .cell_parser import CellNamespace, LayerLine, ParsedCell, unknown_name
from .summary import LayerFailure, _shape_text


def explain(failure: LayerFailure, cell: ParsedCell, lines: dict[str, LayerLine], namespace: CellNamespace,
            filename: str) -> CellError:
    """The CellError for a dry run that raised ``failure``."""
    error = failure.error
    called_from = _cell_line_of(error, filename)
    if not failure.path:
        return _forward_error(error, cell, called_from, namespace)
    row, module = failure.path[-1], failure.modules[-1]
    layer = lines.get(row.name.split(".")[0])
    nested = layer is None or row.name != (layer.name or row.name.split(".")[0])
    call = None if nested or layer is None else _constructor_call(layer.expression)
    written = (cell.text(call) if call is not None else f"{row.name} ({type(module).__name__})")
    shape = row.input_shapes[0] if row.input_shapes else None
    message, hint = _diagnose(module, shape, call, written, error)
    line = layer.line if layer is not None else called_from
    source = layer.source if layer is not None and layer.source != written else None
    if called_from is not None and layer is not None and called_from != layer.line:
        message += f" (called from forward, cell line {called_from})"
    return ShapeError(message, line=line, source=source, hint=hint)


def _forward_error(error: BaseException, cell: ParsedCell, line: int | None,
                   namespace: CellNamespace) -> CellError:
    """An error in forward's own code (not inside a layer)."""
    statement = _statement_at(cell, line)
    source = cell.source.splitlines()[line - 1] if line is not None else None
    if isinstance(error, NameError) and error.name and line is not None:
        return unknown_name(error.name, LayerLine(None, line, source.strip(), statement), namespace)
    return ShapeError(f"forward failed: {type(error).__name__}: {first_line(error)}", line=line,
                      source=source)


def _statement_at(cell: ParsedCell, line: int | None) -> ast.expr:
    if line is not None and cell.forward is not None:
        for node in ast.walk(cell.forward):
            if isinstance(node, ast.expr) and getattr(node, "lineno", None) == line:
                return node
    return ast.Constant(None)


def _cell_line_of(error: BaseException, filename: str) -> int | None:
    """The deepest traceback line that is in the cell's compiled forward."""
    line, tb = None, error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _constructor_call(expression: ast.expr) -> ast.Call | None:
    return expression if isinstance(expression, ast.Call) else None


def _diagnose(module, shape, call, written: str, error) -> tuple[str, str | None]:
    if shape is not None:
        for check in (_linear, _conv, _batch_norm, _layer_norm):
            found = check(module, list(shape), call, written)
            if found is not None:
                return found
    got = f"input of shape {_shape_text(shape)}" if shape is not None else "its input"
    return f"{written} failed on {got}: {first_line(error)}", None


def _linear(module, shape, call, written):
    if not (hasattr(module, "in_features") and hasattr(module, "out_features")) or not shape:
        return None
    wanted, got = module.in_features, shape[-1]
    features = math.prod(shape[1:]) if len(shape) > 2 else got
    if len(shape) > 2:
        message = (f"{written} wants {wanted} features in the last dimension, got input of shape "
                   f"{_shape_text(shape)}")
        if features == wanted:
            return message, "a Flatten() is missing before this layer"
        fix = _rewrite(call, 0, "in_features", features, f"{type(module).__name__}({features}, "
                                                           f"{module.out_features})")
        return message, f"add Flatten() before it; then did you mean {fix}?"
    if got == wanted:
        return None
    fix = _rewrite(call, 0, "in_features", got, f"{type(module).__name__}({got}, {module.out_features})")
    return (f"{written} wants {wanted} input features, got {got} (input of shape {_shape_text(shape)})",
            f"did you mean {fix}?")


def _conv(module, shape, call, written):
    if not (hasattr(module, "in_channels") and hasattr(module, "kernel_size")):
        return None
    kernel = module.kernel_size
    kernel = tuple(kernel) if isinstance(kernel, (tuple, list)) else (kernel,)
    spatial = len(kernel)
    letters = ("L",) if spatial == 1 else ("H", "W") if spatial == 2 else ("D", "H", "W")
    if len(shape) not in (spatial + 1, spatial + 2):
        layout = ", ".join(("N", "C") + letters)
        return (f"{written} wants a {spatial + 2}-D input ({layout}), got input of shape "
                f"{_shape_text(shape)}",
                f"give it ({layout}) — e.g. Unflatten(1, (C, {', '.join(letters)})) before it"
                if len(shape) == 2 else None)
    channels = shape[-spatial - 1]
    if channels != module.in_channels:
        fix = _rewrite(call, 0, "in_channels", channels, None)
        return (f"{written} wants {module.in_channels} input channels, got {channels} "
                f"(input of shape {_shape_text(shape)})", f"did you mean {fix}?" if fix else None)
    padding = getattr(module, "padding", 0)
    padding = (0,) * spatial if isinstance(padding, str) else \
        tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * spatial
    dilation = getattr(module, "dilation", 1)
    dilation = tuple(dilation) if isinstance(dilation, (tuple, list)) else (dilation,) * spatial
    size = shape[-spatial:]
    if any(n + 2 * p < d * (k - 1) + 1 for n, p, d, k in zip(size, padding, dilation, kernel)):
        return (f"{written}: the input's spatial size {tuple(size)} is smaller than the kernel "
                f"{kernel} (input of shape {_shape_text(shape)})",
                "add padding, use a smaller kernel, or pool less before this layer")
    return None


def _batch_norm(module, shape, call, written):
    if not hasattr(module, "num_features") or len(shape) < 2 or shape[1] == module.num_features:
        return None
    fix = _rewrite(call, 0, "num_features", shape[1], f"{type(module).__name__}({shape[1]})")
    return (f"{written} wants {module.num_features} channels (dimension 1), got {shape[1]} "
            f"(input of shape {_shape_text(shape)})", f"did you mean {fix}?")


def _layer_norm(module, shape, call, written):
    normalized = getattr(module, "normalized_shape", None)
    if normalized is None:
        return None
    normalized = list(normalized)
    trailing = shape[-len(normalized):] if len(normalized) <= len(shape) else shape
    if trailing == normalized:
        return None
    value = trailing[0] if len(trailing) == 1 else tuple(trailing)
    fix = _rewrite(call, 0, "normalized_shape", value, f"{type(module).__name__}({value})")
    return (f"{written} normalises the last dimensions {_shape_text(normalized)}, got input of shape "
            f"{_shape_text(shape)}", f"did you mean {fix}?")


def _rewrite(call: ast.Call | None, index: int, keyword: str, value, fallback: str | None) -> str | None:
    """The layer's call as written, with one argument (positional ``index`` or ``keyword``) replaced."""
    if call is None:
        return fallback
    call = copy.deepcopy(call)
    new = ast.parse(repr(value), mode="eval").body
    for kw in call.keywords:
        if kw.arg == keyword:
            kw.value = new
            return ast.unparse(call)
    if len(call.args) > index:
        call.args[index] = new
        return ast.unparse(call)
    return fallback

