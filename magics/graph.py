"""``%graph EXPR [--input SHAPE] [--grads] [--depth N]``: the autograd graph of a tensor or of a model."""

from __future__ import annotations

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .cell_error import OptionError, first_line
from .display import show, widget_class
from .graph_svg import autograd_graph
from .options import parse_shape


@magics_class
class GraphMagics(Magics):
    def __init__(self, shell, session):
        super().__init__(shell)
        self.session = session

    @magic_arguments()
    @argument("expression", nargs="+", help="a Tensor, or a Module (then give --input)")
    @argument("--input", "-i", metavar="SHAPE", help="run the Module on zeros of this shape (batch included)")
    @argument("--grads", action="store_true", help="show each parameter's gradient norm (after a backward)")
    @argument("--depth", type=int, default=None, metavar="N", help="draw only N ops back from the output")
    @line_magic
    def graph(self, line: str) -> None:
        """The autograd graph of a tensor (``%graph loss``) or of a model (``%graph net --input 1,784``)."""
        args = parse_argstring(self.graph, line)
        if args.depth is not None and args.depth < 1:
            raise OptionError(f"--depth {args.depth}: expected a positive number of ops")
        expression = " ".join(args.expression)
        try:
            value = eval(expression, self.shell.user_ns)
        except Exception as exc:
            raise OptionError(f"%graph {expression}: {type(exc).__name__}: {first_line(exc)}") from None
        output, names, shapes = self._trace(value, expression, args.input)
        picture = autograd_graph(output, names=names, shapes=shapes, depth=args.depth, grads=args.grads)
        view = widget_class("GraphView")
        live = (lambda: view(output, grads=args.grads, names=names)) if view is not None else None
        show(picture.bundle(), live)

    def _trace(self, value, expression: str, input_text: str | None):
        from nbframe import Tensor
        from nbframe.nn import Module

        names = known_tensors(self.shell.user_ns)
        if isinstance(value, Module):
            if input_text is None:
                raise OptionError(f"%graph {expression}: a Module needs an example input: add --input SHAPE")
            output, shapes = run_recording_shapes(value, parse_shape(input_text))  # on the model's device
            names.update({id(p): f"{expression}.{n}" for n, p in value.named_parameters()})
            return output, names, shapes
        if not isinstance(value, Tensor):
            raise OptionError(f"%graph {expression}: expected a Tensor or a Module, "
                              f"got {type(value).__name__}")
        if value.grad_fn is None:
            raise OptionError(f"%graph {expression}: this tensor has no graph (no grad_fn): it is a leaf or "
                              "was made without gradients; compute it from tensors with requires_grad=True")
        return value, names, {}


def known_tensors(user_ns: dict) -> dict[int, str]:
    """Names for leaves: the notebook's tensors by variable name, its models' parameters by path."""
    from nbframe import Tensor
    from nbframe.nn import Module

    names: dict[int, str] = {}
    for var, value in list(user_ns.items()):
        if var.startswith("_"):
            continue
        if isinstance(value, Tensor):
            names.setdefault(id(value), var)
        elif isinstance(value, Module):
            for name, parameter in value.named_parameters():
                names.setdefault(id(parameter), f"{var}.{name}")
    return names


def run_recording_shapes(model, input_size, device=None):
    """Run ``model`` on zeros with gradients on, recording each op's output shapes for the labels."""
    from nbframe.autograd.observers import add_op_observer

    from .summary import example_inputs

    shapes: dict = {}

    def record(op, inputs, outputs):
        shapes[op] = [tuple(o.shape) for o in outputs]

    inputs = example_inputs(model, input_size, device=device)
    with add_op_observer(record):
        output = model(*inputs)
    if isinstance(output, (tuple, list)):
        output = output[0]
    return output, shapes
