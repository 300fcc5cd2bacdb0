"""``nf.summary(model, input_size)``: the table of layers, output shapes and parameters.

A dry run on zeros (no gradients) with forward hooks on every submodule gives
each layer's output shape in call order. The rows' parameter counts are each
module's own parameters, so the column adds up to the total. When the dry run
fails, ``LayerFailure`` says which layers were running (outermost first) and
with which input shapes: ``shape_errors`` turns that into the user's message.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from .. import Tensor, no_grad, zeros
from .tables import html_table, text_table

Shape = tuple


@dataclass
class Row:
    """One module call: its path (``fc1``, ``block.conv1``), class, depth, output shape, parameters."""

    name: str
    kind: str
    depth: int
    input_shapes: list
    output_shape: object = None
    params: int = 0
    trainable: str = "—"
    output_bytes: int = 0


class LayerFailure(Exception):
    """The dry run failed inside ``path[-1]`` (the innermost running module)."""

    def __init__(self, path: list[Row], modules: list, error: BaseException):
        super().__init__(str(error))
        self.path, self.modules, self.error = path, modules, error


@dataclass
class Summary:
    """The table; ``str()`` is text, ``_repr_html_`` an HTML table (both in notebooks and terminals)."""

    model_name: str
    rows: list[Row]
    input_shapes: list = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    param_bytes: int = 0
    input_bytes: int = 0
    activation_bytes: int = 0
    ran: bool = True

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def _table(self) -> tuple[list[str], list[list[str]]]:
        header = ["Layer (type)", "Output shape", "Param #", "Trainable"]
        body = [["  " * row.depth + f"{row.name} ({row.kind})", _shape_text(row.output_shape),
                 f"{row.params:,}" if row.params else "—", row.trainable] for row in self.rows]
        if not self.ran:
            header.pop(1)
            body = [r[:1] + r[2:] for r in body]
        return header, body

    def _totals(self) -> list[tuple[str, str]]:
        totals = [("Total params", f"{self.total_params:,}"),
                  ("Trainable params", f"{self.trainable_params:,}"),
                  ("Non-trainable params", f"{self.non_trainable_params:,}"),
                  ("Params size", _bytes_text(self.param_bytes))]
        if self.ran:
            inputs = ", ".join(_shape_text(s) for s in self.input_shapes)
            totals += [("Input", f"{inputs} ({_bytes_text(self.input_bytes)})"),
                       ("Forward activations", _bytes_text(self.activation_bytes)),
                       ("Estimated total", _bytes_text(self.param_bytes + self.input_bytes
                                                      + self.activation_bytes))]
        return totals

    def __str__(self) -> str:
        header, body = self._table()
        totals = "\n".join(f"{k}: {v}" for k, v in self._totals())
        return f"{self.model_name}\n{text_table(header, body)}\n{totals}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        header, body = self._table()
        table = html_table(header, body, css_class="nbframe-summary", indents=[r.depth for r in self.rows])
        totals = "<br>".join(f"{html.escape(k)}: <b>{html.escape(v)}</b>" for k, v in self._totals())
        return f"<div><b>{html.escape(self.model_name)}</b>{table}<small>{totals}</small></div>"


def summary(model, input_size=None, *, dtype=None, device=None) -> Summary:
    """The summary table of ``model``; with ``input_size`` (batch included) it runs it on zeros.

    ``input_size`` is one shape (``(1, 784)``) or a list of shapes for a
    forward that takes several inputs. Without it the table lists the layers
    and their parameters only.
    """
    if input_size is None:
        return _static_summary(model)
    inputs = example_inputs(model, input_size, dtype=dtype, device=device)
    try:
        return dry_run(model, inputs)[1]
    except LayerFailure as failure:
        where = failure.path[-1] if failure.path else None
        if where is not None:
            failure.error.add_note(f"(in layer {where.name} ({where.kind}), input of shape "
                                   f"{_shape_text(where.input_shapes[0] if where.input_shapes else None)})")
        raise failure.error from None


def example_inputs(model, input_size, *, dtype=None, device=None) -> list[Tensor]:
    """Zeros of each shape, on the model's device and in its floating dtype (unless told otherwise)."""
    shapes = input_size if _is_shape_list(input_size) else [input_size]
    first = next(iter(model.parameters()), None)
    dtype = dtype if dtype is not None else (first.dtype if first is not None else None)
    device = device if device is not None else (first.device if first is not None else None)
    return [zeros(tuple(int(n) for n in shape), dtype=dtype, device=device) for shape in shapes]


def _is_shape_list(size) -> bool:
    return isinstance(size, (list, tuple)) and len(size) > 0 and all(isinstance(s, (list, tuple))
                                                                      for s in size)


def dry_run(model, inputs: list[Tensor], *, grad: bool = False):
    """Run ``model(*inputs)`` with hooks on every module: (output, Summary), or raise LayerFailure."""
    rows: list[Row] = []
    running: list[tuple[Row, object]] = []
    names = {id(m): name for name, m in model.named_modules() if name}
    handles = []

    def before(module, args):
        row = Row(names[id(module)], type(module).__name__, names[id(module)].count("."), _shapes(args))
        own = list(module.parameters(recurse=False))
        row.params = sum(p.numel() for p in own)
        if own:
            trainable = [p.requires_grad for p in own]
            row.trainable = "yes" if all(trainable) else ("no" if not any(trainable) else "partly")
        rows.append(row)
        running.append((row, module))

    def after(module, args, output):
        row = running.pop()[0]
        row.output_shape = _output_shape(output)
        row.output_bytes = _bytes_of(output)

    for module in model.modules():
        if id(module) in names:
            handles.append(module.register_forward_pre_hook(before))
            handles.append(module.register_forward_hook(after))
    try:
        if grad:
            output = model(*inputs)
        else:
            with no_grad():
                output = model(*inputs)
    except Exception as error:
        raise LayerFailure([r for r, _ in running], [m for _, m in running], error) from error
    finally:
        for handle in handles:
            handle.remove()
    result = _totals(Summary(type(model).__name__, rows), model)
    result.input_shapes = [tuple(x.shape) for x in inputs]
    result.input_bytes = sum(x.numel() * x.element_size() for x in inputs)
    leaves = {id(m) for m in model.modules() if not any(True for _ in m.children())}
    by_name = {name: id(m) for name, m in model.named_modules()}
    result.activation_bytes = sum(r.output_bytes for r in rows if by_name.get(r.name) in leaves)
    return output, result


def _static_summary(model) -> Summary:
    rows = []
    for name, module in model.named_modules():
        if not name:
            continue
        own = list(module.parameters(recurse=False))
        row = Row(name, type(module).__name__, name.count("."), [], params=sum(p.numel() for p in own))
        if own:
            trainable = [p.requires_grad for p in own]
            row.trainable = "yes" if all(trainable) else ("no" if not any(trainable) else "partly")
        rows.append(row)
    return _totals(Summary(type(model).__name__, rows, ran=False), model)


def _totals(result: Summary, model) -> Summary:
    params = list(model.parameters())
    result.total_params = sum(p.numel() for p in params)
    result.trainable_params = sum(p.numel() for p in params if p.requires_grad)
    result.param_bytes = sum(p.numel() * p.element_size() for p in params)
    result.param_bytes += sum(b.numel() * b.element_size() for b in model.buffers())
    return result


def _shapes(values) -> list:
    return [tuple(v.shape) if isinstance(v, Tensor) else None for v in values]


def _output_shape(output):
    if isinstance(output, Tensor):
        return tuple(output.shape)
    if isinstance(output, (tuple, list)):
        return [_output_shape(o) for o in output]
    return None


def _bytes_of(output) -> int:
    if isinstance(output, Tensor):
        return output.numel() * output.element_size()
    if isinstance(output, (tuple, list)):
        return sum(_bytes_of(o) for o in output)
    return 0


def _shape_text(shape) -> str:
    if shape is None:
        return "—"
    if isinstance(shape, list) and shape and not isinstance(shape[0], int):  # several outputs
        return ", ".join(_shape_text(s) for s in shape)
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _bytes_text(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"
