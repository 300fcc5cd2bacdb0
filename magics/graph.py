"""``%graph EXPR [--input SHAPE] [--grads] [--depth N]``: the autograd graph of a tensor or of a model.

Drawn by ``nbframe.widgets.GraphView`` (live in a kernel; SVG, or the DOT text,
elsewhere). Leaves are named after the notebook's variables and parameters
by their module path; the notebook's tensors also label, with their shapes,
the ops that made them.
"""

from __future__ import annotations

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .cell_error import OptionError, first_line
from .display import show_graph
from .options import parse_shape


@magics_class
class GraphMagics(Magics):
    def __init__(self, shell, session):
        super().__init__(shell)
        self.session = session

    @magic_arguments()
    @argument("expression", nargs="+", help="a Tensor, or a Module (then give --input)")
    @argument("--input", "-i", metavar="SHAPE", help="run the Module on zeros of this shape (batch included)")
    @argument("--grads", action="store_true",
              help="colour edges by gradient norm and show each leaf's (after a backward)")
    @argument("--depth", type=int, default=None, metavar="N",
              help="a tensor: draw only N ops back from it; a Module: fold modules deeper than N levels")
    @line_magic
    def graph(self, line: str) -> None:
        """The autograd graph of a tensor (``%graph loss``) or of a model (``%graph net --input 1,784``)."""
        from nbframe import Tensor
        from nbframe.nn import Module

        args = parse_argstring(self.graph, line)
        expression = " ".join(args.expression)
        try:
            value = eval(expression, self.shell.user_ns)
        except Exception as exc:
            raise OptionError(f"%graph {expression}: {type(exc).__name__}: {first_line(exc)}") from None
        if isinstance(value, Module):
            if args.depth is not None and args.depth < 0:
                raise OptionError(f"--depth {args.depth}: expected module levels to draw (0 or more)")
            if args.input is None:
                raise OptionError(f"%graph {expression}: a Module needs an example input: add --input SHAPE")
            draw_model(self.shell.user_ns, value, expression, parse_shape(args.input), depth=args.depth,
                       grads=args.grads)
            return
        if not isinstance(value, Tensor):
            raise OptionError(f"%graph {expression}: expected a Tensor or a Module, "
                              f"got {type(value).__name__}")
        if args.depth is not None and args.depth < 1:
            raise OptionError(f"--depth {args.depth}: expected a positive number of ops")
        if value.grad_fn is None:
            raise OptionError(f"%graph {expression}: this tensor has no graph (no grad_fn): it is a leaf or "
                              "was made without gradients; compute it from tensors with requires_grad=True")
        names, tensors = known_tensors(self.shell.user_ns)
        show_graph(value, steps=args.depth, grads=args.grads, names=names, known=tensors)


def draw_model(user_ns: dict, model, name: str, input_size, device=None, **options) -> None:
    """Show ``model`` traced on zeros of ``input_size``: modules as clusters, parameters as ``name.path``."""
    from .summary import example_inputs

    names, _ = known_tensors(user_ns)
    names.update({id(p): f"{name}.{path}" for path, p in model.named_parameters()})
    inputs = example_inputs(model, input_size, device=device)  # on the model's device unless told
    show_graph(model, tuple(inputs), names=names, **options)


def known_tensors(user_ns: dict) -> tuple[dict[int, str], list]:
    """Names by id (variables; models' parameters by module path), and the notebook's tensors."""
    from nbframe import Tensor
    from nbframe.nn import Module

    names: dict[int, str] = {}
    tensors = []
    for var, value in list(user_ns.items()):
        if var.startswith("_"):
            continue
        if isinstance(value, Tensor):
            names.setdefault(id(value), var)
            tensors.append(value)
        elif isinstance(value, Module):
            for name, parameter in value.named_parameters():
                names.setdefault(id(parameter), f"{var}.{name}")
    return names, tensors
