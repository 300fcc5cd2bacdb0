"""Reading a ``%%model`` cell: parse it with ``ast``, tell its form, build its layers line by line.

Line numbers are the cell's own, counted as the user sees them in the editor:
the ``%%model`` line is line 1, the first layer line 2. Every layer keeps its
line and its text, so that later errors (a shape mismatch in the dry run) can
quote the line as written.

Names in a cell resolve in ``nbframe.nn``, then ``nbframe.nn.functional``, then the
user's namespace (read live, so a ``forward`` sees the notebook's current values).
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field

from .cell_error import CellFormError, CellSyntaxError, LayerError, UnknownNameError, first_line

#: The magic's own line comes first, so the body's line n is the cell's line n + 1.
LINE_OFFSET = 1


@dataclass
class LayerLine:
    """One layer of the cell: its name (None for an unnamed stack line), cell line and text."""

    name: str | None
    line: int
    source: str
    expression: ast.expr


@dataclass
class ParsedCell:
    """A parsed cell: its statements (cell line numbers) and which form it has."""

    source: str  # the cell body, one blank line in front so that ast line numbers are cell lines
    statements: list[ast.stmt]
    forward: ast.FunctionDef | None = None
    layers: list[LayerLine] = field(default_factory=list)

    @property
    def form(self) -> str:
        return "graph" if self.forward is not None else "stack"

    def text(self, node: ast.AST) -> str:
        """The node's source as written, on one line."""
        segment = ast.get_source_segment(self.source, node) or ast.unparse(node)
        return " ".join(part.strip() for part in segment.splitlines())


class CellNamespace(dict):
    """nn's and nn.functional's public names, then (read live) the user's namespace."""

    def __init__(self, user_ns: dict):
        super().__init__()
        self.user_ns = user_ns
        import nbframe.nn as nn
        from nbframe.nn import functional

        for module in (functional, nn):  # nn last: its names win over functional's
            self.update({k: v for k, v in vars(module).items() if not k.startswith("_")})

    def __missing__(self, key: str):
        return self.user_ns[key]

    def candidates(self) -> list[str]:
        user = [k for k in self.user_ns if not k.startswith("_")]
        return [k for k in self if not k.startswith("_")] + user


def parse_cell(body: str) -> ParsedCell:
    """Parse the body; a SyntaxError becomes a short message naming the cell line."""
    source = "\n" * LINE_OFFSET + body
    try:
        tree = ast.parse(source, filename="<%%model cell>")
    except SyntaxError as exc:
        raise CellSyntaxError(exc.msg, line=exc.lineno, source=_caret(exc)) from None
    cell = ParsedCell(source=source, statements=list(tree.body))
    forwards = [s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == "forward"]
    if len(forwards) > 1:
        raise CellFormError("forward is defined twice (also on line "
                            f"{forwards[0].lineno}); keep one", line=forwards[1].lineno)
    cell.forward = forwards[0] if forwards else None
    if not any(_is_layer_statement(s) for s in tree.body):
        raise CellFormError("the cell has no layers: write one layer a line, e.g. Linear(784, 128)")
    return cell


def _caret(exc: SyntaxError) -> str | None:
    if not exc.text:
        return None
    text = exc.text.rstrip("\n")
    stripped = text.lstrip()
    if exc.offset is None:
        return stripped
    column = max(exc.offset - 1 - (len(text) - len(stripped)), 0)
    return f"{stripped}\n    {' ' * column}^"


def _is_layer_statement(stmt: ast.stmt) -> bool:
    return isinstance(stmt, (ast.Expr, ast.Assign))


def build_layers(cell: ParsedCell, namespace: CellNamespace) -> list[tuple[LayerLine, object]]:
    """Run the cell's statements in order; every Module made on a line becomes a layer.

    Assignments of other values (``hidden = 128``), imports and helper functions
    run into the namespace, so later lines and ``forward`` can use them.
    """
    from nbframe.nn import Module

    layers: list[tuple[LayerLine, object]] = []
    for stmt in cell.statements:
        if stmt is cell.forward:
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            _run(stmt, cell, namespace)
            continue
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name, expression = stmt.targets[0].id, stmt.value
        elif isinstance(stmt, ast.Expr):
            name, expression = None, stmt.value
        else:
            raise CellFormError(
                "a %%model cell holds one layer a line (`fc1 = Linear(784, 128)`), optionally a "
                "`def forward(x)` using them; this line is neither", line=stmt.lineno, source=cell.text(stmt))
        layer = LayerLine(name, stmt.lineno, cell.text(stmt), expression)
        value = _evaluate(layer, namespace)
        if isinstance(value, Module):
            layers.append((layer, value))
        elif name is not None:
            namespace[name] = value
        elif isinstance(value, type) and issubclass(value, Module):
            raise LayerError(f"{layer.source} is a layer class, not a layer", line=layer.line,
                             source=layer.source, hint=f"did you mean {layer.source}(...)? (call it with "
                             "its arguments)")
        else:
            raise LayerError(f"this line makes a {type(value).__name__}, not a layer (an nn.Module)",
                             line=layer.line, source=layer.source)
    return layers


def _run(stmt: ast.stmt, cell: ParsedCell, namespace: CellNamespace) -> None:
    code = compile(ast.Module([stmt], type_ignores=[]), "<%%model cell>", "exec")
    try:
        exec(code, namespace)
    except Exception as exc:
        raise LayerError(first_line(exc), line=stmt.lineno, source=cell.text(stmt)) from None


def _evaluate(layer: LayerLine, namespace: CellNamespace):
    code = compile(ast.Expression(layer.expression), "<%%model cell>", "eval")
    try:
        return eval(code, namespace)
    except NameError as exc:
        if exc.name and _mentions(layer.expression, exc.name):
            raise unknown_name(exc.name, layer, namespace) from None
        raise LayerError(f"could not build this layer: {first_line(exc)}", line=layer.line,
                         source=layer.source) from None
    except Exception as exc:
        raise LayerError(f"could not build this layer: {type(exc).__name__}: {first_line(exc)}",
                         line=layer.line, source=layer.source) from None


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def unknown_name(name: str, layer: LayerLine, namespace: CellNamespace) -> UnknownNameError:
    """``Linaer`` is not defined: say so and offer the closest names (nn's first)."""
    expression = layer.expression
    called = isinstance(expression, ast.Call) and isinstance(expression.func, ast.Name) \
        and expression.func.id == name
    what = "layer" if called else "name"
    matches = closest_names(name, namespace.candidates())
    hint = f"did you mean {' or '.join(matches)}?" if matches else None
    if hint is None and called:
        hint = "layers come from nbframe.nn (Linear, Conv2d, ReLU, ...) or from your own namespace"
    return UnknownNameError(f"unknown {what} {name!r}", line=layer.line, source=layer.source, hint=hint)


def closest_names(name: str, candidates: list[str], n: int = 3) -> list[str]:
    """Close spellings, ignoring case (``linear`` finds ``Linear``), without duplicates."""
    by_lower: dict[str, str] = {}
    same_case_first = sorted(candidates, key=lambda c: c[:1].isupper() != name[:1].isupper())
    for candidate in same_case_first:
        by_lower.setdefault(candidate.lower(), candidate)
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.75)
    return [by_lower[m] for m in matches]
