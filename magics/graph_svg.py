"""A static picture of the autograd graph: DOT from the nodes, SVG from graphviz, text where neither runs.

The graph is walked breadth-first from the output along each node's
``next_edges`` (PyTorch's ``next_functions``), in order, and nodes are
numbered as found, so the same code draws the same picture every time.
Op nodes show the op's short ``label`` (and its output shape when known);
leaves show their name (a parameter's module path) and shape.

Layout is graphviz's ``dot`` on PATH, else the ``graphviz-pure`` binary that
installs with nbframe. If no engine runs, the user gets the DOT text and one
line on how to get graphviz — never a traceback.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sysconfig
from dataclasses import dataclass, field

INSTALL_HINT = ("no graphviz layout engine ran, so here is the DOT source; for a picture install graphviz "
                "(`pip install graphviz-pure`, or your system's `graphviz` package that provides `dot`)")


@dataclass
class GraphPicture:
    """The DOT source, the SVG (None when no engine ran), a one-line text per node, the engine used."""

    dot: str
    svg: str | None
    lines: list[str] = field(default_factory=list)
    engine: str | None = None
    problem: str | None = None

    def bundle(self) -> dict[str, str]:
        """The MIME bundle: SVG and a text listing, or the DOT text and how to install graphviz."""
        text = "\n".join(self.lines)
        if self.svg is not None:
            return {"image/svg+xml": self.svg, "text/plain": text}
        note = self.problem or INSTALL_HINT
        return {"text/html": f"<p>{html.escape(note)}</p><pre>{html.escape(self.dot)}</pre>",
                "text/plain": f"{note}\n{self.dot}"}

    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.bundle()


def find_engine() -> str | None:
    """The ``dot`` on PATH, else ``graphviz-pure`` next to this Python's scripts, else None."""
    found = shutil.which("dot")
    if found:
        return found
    scripts = sysconfig.get_path("scripts")
    for name in ("graphviz-pure", "graphviz-pure.exe"):
        candidate = os.path.join(scripts, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("graphviz-pure")


def engine_version(engine: str) -> str:
    try:
        run = subprocess.run([engine, "-V"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"does not run ({exc})"
    return (run.stderr or run.stdout).strip().splitlines()[0] if (run.stderr or run.stdout).strip() else "?"


def render_svg(dot: str, engine: str | None = None) -> tuple[str | None, str | None]:
    """(svg, None) or (None, why not)."""
    engine = engine or find_engine()
    if engine is None:
        return None, INSTALL_HINT
    try:
        run = subprocess.run([engine, "-Kdot", "-Tsvg"], input=dot, capture_output=True, text=True,
                             timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"graphviz ({engine}) did not run: {exc}; here is the DOT source"
    if run.returncode != 0 or "<svg" not in run.stdout:
        first = (run.stderr.strip().splitlines() or ["no output"])[0]
        return None, f"graphviz ({engine}) failed: {first}; here is the DOT source"
    return run.stdout[run.stdout.index("<svg"):], None


def autograd_graph(outputs, *, names: dict[int, str] | None = None, shapes: dict | None = None,
                   depth: int | None = None, grads: bool = False, engine: str | None = None) -> GraphPicture:
    """Draw the graph that made ``outputs`` (a Tensor or a list of them).

    ``names`` maps ``id(tensor)`` to a label (parameters by module path);
    ``shapes`` maps a node to its output shapes (recorded while the forward
    ran); ``depth`` stops the walk that many ops from the output; ``grads``
    shows each leaf's gradient norm and marks vanishing or exploding ones.
    """
    import graphviz

    from nbframe import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    names, shapes = names or {}, shapes or {}
    dot = graphviz.Digraph("autograd", graph_attr={"rankdir": "TB"},
                           node_attr={"fontname": "Helvetica", "fontsize": "11"})
    walker = _Walker(dot, names, shapes, grads)
    for k, out in enumerate(outputs):
        label = names.get(id(out), "output" if len(outputs) == 1 else f"output {k}")
        out_id = walker.add(f"out{k}", f"{label}\n{_shape(out.shape)}", shape="box", style="filled",
                            fillcolor="#c8e6c9")
        if out.grad_fn is not None:
            walker.edge(walker.node(out.grad_fn, 0), out_id)
    walker.walk(depth)
    svg, problem = render_svg(dot.source, engine)
    return GraphPicture(dot.source, svg, walker.lines, engine or find_engine(), problem)


class _Walker:
    """Breadth-first over nodes; ids in discovery order, so the drawing is deterministic."""

    def __init__(self, dot, names, shapes, grads):
        self.dot, self.names, self.shapes, self.grads = dot, names, shapes, grads
        self.ids: dict[int, str] = {}
        self.queue: list[tuple[object, int]] = []
        self.lines: list[str] = []
        self.inputs_of: dict[str, list[str]] = {}

    def add(self, node_id: str, label: str, **attrs) -> str:
        self.dot.node(node_id, label, **attrs)
        self.lines.append(f"{node_id}: {label.replace(chr(10), ' ')}")
        return node_id

    def edge(self, source: str, target: str, **attrs) -> None:
        self.dot.edge(source, target, **attrs)
        self.inputs_of.setdefault(target, []).append(source)

    def node(self, fn, level: int) -> str:
        key = id(fn)
        if key not in self.ids:
            self.ids[key] = f"n{len(self.ids)}"
            self.queue.append((fn, level))
        return self.ids[key]

    def leaf(self, tensor) -> str:
        key = id(tensor)
        if key not in self.ids:
            self.ids[key] = node_id = f"n{len(self.ids)}"
            name = self.names.get(key, "leaf")
            label, attrs = f"{name}\n{_shape(tensor.shape)}", {"fillcolor": "#bbdefb"}
            if self.grads and tensor.grad is not None:
                norm = float((tensor.grad.double() ** 2).sum().item()) ** 0.5
                label += f"\n|grad| {norm:.2e}"
                if norm < 1e-7 or norm > 1e3:
                    attrs = {"fillcolor": "#ffcdd2", "color": "#c62828"}
            self.add(node_id, label, shape="box", style="filled", **attrs)
        return self.ids[key]

    def walk(self, depth: int | None) -> None:
        position = 0
        while position < len(self.queue):
            fn, level = self.queue[position]
            position += 1
            node_id = self.ids[id(fn)]
            self.add(node_id, self._label(fn), shape="ellipse")
            if depth is not None and level + 1 >= depth:
                if any(edge is not None for edge in (fn.next_edges or ())):
                    more = self.add(f"{node_id}_more", "…", shape="plaintext")
                    self.edge(more, node_id, style="dashed")
                continue
            for edge in fn.next_edges or ():
                if edge is None:
                    continue
                source, _ = edge
                if hasattr(source, "next_edges"):
                    self.edge(self.node(source, level + 1), node_id)
                else:
                    self.edge(self.leaf(source), node_id)
        for line_no, line in enumerate(self.lines):
            node_id = line.split(":", 1)[0]
            if node_id in self.inputs_of:
                self.lines[line_no] = f"{line} <- {', '.join(self.inputs_of[node_id])}"

    def _label(self, fn) -> str:
        label = getattr(type(fn), "label", None) or fn.name()
        if label == "op":  # a user's autograd.Function: its class name says more
            label = type(fn).__name__
        shape = self.shapes.get(fn)
        if shape is None and len(getattr(fn, "_outputs_meta", ())) > 0:
            shape = [meta[0] for meta in fn._outputs_meta]
        if shape is not None:
            shapes = shape if isinstance(shape, list) else [shape]
            label += "\n" + ", ".join(_shape(s) for s in shapes)
        return label


def _shape(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"
