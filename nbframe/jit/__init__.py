"""nbframe.jit: static graphs from ordinary code.

- ``trace(fn_or_module, example_inputs)`` records one run into a Graph IR and returns a callable
  ``GraphModule`` (re-traced per input signature, like ``tf.function``).
- Passes over the IR (``nbframe.jit.passes``): dead code, common subexpressions, constant folding,
  elementwise fusion, buffer reuse; ``graph.passes`` says what each did.
- ``compile_step(model, loss_fn, optimizer)``: a whole training step from one traced graph.
- ``placeholder(shape, dtype)`` and ``Graph.from_outputs(...).run(outputs, feed={...})``:
  TensorFlow 1's define-then-run style with the same layers.
"""

from .compile_step import compile_step
from .ir import Graph, Node, Value
from .passes import PASSES, run_passes
from .placeholder import placeholder, reset_default_graph
from .recorder import TracerWarning
from .trace import GraphModule, trace

__all__ = ["trace", "GraphModule", "Graph", "Node", "Value", "TracerWarning", "compile_step", "placeholder",
           "reset_default_graph", "PASSES", "run_passes"]
