"""``%%model NAME [--input SHAPE] [--device DEV] [--dtype T] [--keep-weights] [--no-summary] [--graph]``.

The cell is a stack (one layer a line -> ``nn.Sequential``) or a graph (named
layers and ``def forward(x)`` -> a Module subclass). The model is built,
moved, optionally given the old model's weights, dry-run, and only then bound
to NAME: a cell that fails anywhere leaves the old model untouched.
"""

from __future__ import annotations

from IPython.core.magic import Magics, cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .cell_error import CellError, OptionError, first_line
from .cell_parser import CellNamespace, build_layers, parse_cell
from .display import show
from .graph_form import build_graph
from .options import parse_device, parse_dtype, parse_shape
from .shape_errors import explain
from .stack_parser import build_stack
from .summary import LayerFailure, dry_run, example_inputs, summary


@magics_class
class ModelMagics(Magics):
    def __init__(self, shell, session):
        super().__init__(shell)
        self.session = session

    @magic_arguments()
    @argument("name", help="the variable the model is bound to")
    @argument("--input", "-i", metavar="SHAPE",
              help="dry-run on zeros of this shape, batch included (1,784 or (1,1,28,28)); show the summary")
    @argument("--device", metavar="DEV", help="cpu or cuda[:N] (default: %%nbframe device, else cpu)")
    @argument("--dtype", metavar="T", help="float32 (default), float64, float16, bfloat16")
    @argument("--keep-weights", action="store_true",
              help="keep the weights of layers whose name and shape did not change since the last run")
    @argument("--no-summary", action="store_true", help="don't show the summary table")
    @argument("--graph", action="store_true", help="also draw the autograd graph of a run (needs --input)")
    @no_var_expand
    @cell_magic
    def model(self, line: str, cell: str) -> None:
        """Define a model, one layer a line (a stack), or named layers and ``def forward(x)`` (a graph).

        Layer names resolve in nbframe.nn, nbframe.nn.functional, then your namespace. Errors point
        at the cell line, the layer as written, the shape it got and wanted, and suggest a fix.
        """
        args = parse_argstring(self.model, line)
        if not args.name.isidentifier():
            raise OptionError(f"%%model {args.name}: the model's name must be a Python variable name")
        if args.graph and args.input is None:
            raise OptionError("--graph draws the dry run: give an example input with --input SHAPE")
        input_size = parse_shape(args.input) if args.input is not None else None
        device = parse_device(args.device) if args.device else self.session.device
        dtype = parse_dtype(args.dtype) if args.dtype else None

        filename = self.session.cell_filename("%%model", args.name)
        model, lines, cell_info, namespace = self._build(args.name, cell, filename)
        _move(model, device, dtype)
        kept = keep_weights(self.shell.user_ns.get(args.name), model) if args.keep_weights else None
        table = None
        if input_size is not None:
            try:
                _, table = dry_run(model, example_inputs(model, input_size, dtype=dtype, device=device))
            except LayerFailure as failure:
                raise _explained(failure, cell_info, lines, namespace, filename) from None
            table.model_name = f"{args.name} ({type(model).__name__})"
            self.session.summaries[model] = table

        self.shell.push({args.name: model})
        if kept is not None:
            print(kept)
        if not args.no_summary:
            shown = table if table is not None else summary(model)
            show({"text/html": shown._repr_html_(), "text/plain": str(shown)})
        if args.graph:
            self._draw(model, input_size, args.name, device)

    def _build(self, name: str, cell: str, filename: str):
        cell_info = parse_cell(cell)
        namespace = CellNamespace(self.shell.user_ns)
        layers = build_layers(cell_info, namespace)
        if cell_info.form == "graph":
            model, lines = build_graph(cell_info, layers, namespace, name, filename)
        else:
            model, lines = build_stack(layers)
        return model, lines, cell_info, namespace

    def _draw(self, model, input_size, name: str, device) -> None:
        from .graph import draw_model

        draw_model(self.shell.user_ns, model, name, input_size, device)


def _explained(failure: LayerFailure, cell_info, lines, namespace, filename: str) -> CellError:
    """The short message; should explaining itself fail, the original error, still short."""
    try:
        return explain(failure, cell_info, lines, namespace, filename)
    except Exception:
        error = failure.error
        return CellError(f"the dry run failed: {type(error).__name__}: {first_line(error)}")


def _move(model, device, dtype) -> None:
    try:
        if device is not None:
            model.to(device)
        if dtype is not None:
            model.to(dtype)
    except Exception as exc:
        target = " ".join(str(t) for t in (device, dtype) if t is not None)
        raise CellError(f"could not move the model to {target}: {first_line(exc)}") from None


def keep_weights(old, new) -> str:
    """Copy the old model's weights into every layer of ``new`` whose name and shape match; say what happened.

    A layer is "kept" when all its parameters and buffers came from the old model,
    "re-initialised" otherwise (new, renamed, or a shape changed).
    """
    from nbframe import no_grad
    from nbframe.nn import Module

    if not isinstance(old, Module):
        return "--keep-weights: no earlier model under this name, so every layer is freshly initialised"
    previous = dict(old.named_parameters())
    previous.update(old.named_buffers())
    kept, fresh = [], []
    for layer_name, layer in new.named_children():
        tensors = [*layer.named_parameters(prefix=layer_name), *layer.named_buffers(prefix=layer_name)]
        if not tensors:
            continue
        matches = [(t, previous.get(key)) for key, t in tensors]
        if all(o is not None and tuple(o.shape) == tuple(t.shape) for t, o in matches):
            with no_grad():
                for tensor, source in matches:
                    tensor.copy_(source.to(device=tensor.device, dtype=tensor.dtype))
            kept.append(layer_name)
        else:
            fresh.append(layer_name + _why(matches))
    parts = []
    if kept:
        parts.append(f"kept the weights of {', '.join(kept)}")
    if fresh:
        parts.append(f"re-initialised {', '.join(fresh)}")
    return "--keep-weights: " + ("; ".join(parts) if parts else "the model has no weights")


def _why(matches) -> str:
    for tensor, old in matches:
        if old is None:
            return " (new)"
        if tuple(old.shape) != tuple(tensor.shape):
            return f" (shape {list(old.shape)} -> {list(tensor.shape)})"
    return ""
