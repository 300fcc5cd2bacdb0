"""The graph form of a ``%%model`` cell: named layers, then ``def forward(x, ...)`` that uses them.

It becomes an instance of a new ``nn.Module`` subclass named after the model
(``net`` -> ``Net``) whose ``forward`` is the cell's function. The function is
written without ``self``; it is rewritten so that each layer name it reads
means ``self.<name>``: the layers are the module's children, so ``.to()``,
``state_dict()`` and ``--keep-weights`` see them. Line numbers stay the cell's,
so a traceback from ``forward`` points into the cell.
"""

from __future__ import annotations

import ast
import copy
import linecache

from .cell_error import CellFormError
from .cell_parser import CellNamespace, LayerLine, ParsedCell


def build_graph(cell: ParsedCell, layers: list[tuple[LayerLine, object]], namespace: CellNamespace,
                model_name: str, filename: str):
    """The Module instance; returns it and the map child name -> its cell line."""
    from nbframe.nn import Module

    lines: dict[str, LayerLine] = {}
    for layer, _ in layers:
        if layer.name is None:
            raise CellFormError("in a cell with def forward, every layer needs a name so forward can use it",
                                line=layer.line, source=layer.source,
                                hint=f"e.g. layer{len(lines) + 1} = {layer.source}")
        if layer.name in lines:
            raise CellFormError(f"the name {layer.name!r} is already used on line {lines[layer.name].line}",
                                line=layer.line, source=layer.source)
        lines[layer.name] = layer
    forward = _compile_forward(cell, set(lines), namespace, filename)
    attributes = {"forward": forward, "__module__": "__main__",
                  "__doc__": f"The model of the %%model {model_name} cell."}
    cls = type(_class_name(model_name), (Module,), attributes)
    model = cls()
    for layer, module in layers:
        model.add_module(layer.name, module)
    return model, lines


def _class_name(model_name: str) -> str:
    words = [w for w in model_name.split("_") if w]
    return "".join(w[:1].upper() + w[1:] for w in words) or "Model"


def _compile_forward(cell: ParsedCell, layer_names: set[str], namespace: CellNamespace, filename: str):
    definition = cell.forward
    arguments = [a.arg for a in definition.args.posonlyargs + definition.args.args]
    if not arguments:
        raise CellFormError("forward needs at least one argument, the input: def forward(x)",
                            line=definition.lineno)
    has_self = arguments[0] == "self"
    function = _LayersAsAttributes(layer_names - _locals_of(definition)).visit(copy.deepcopy(definition))
    if not has_self:
        function.args.args.insert(0, ast.arg(arg="self"))
    module = ast.fix_missing_locations(ast.Module([function], type_ignores=[]))
    linecache.cache[filename] = (len(cell.source), None, cell.source.splitlines(True), filename)
    exec(compile(module, filename, "exec"), namespace)
    return namespace.pop("forward")


def _locals_of(definition: ast.FunctionDef) -> set[str]:
    """Names forward assigns or takes as arguments: those shadow a layer of the same name."""
    names = {a.arg for a in definition.args.posonlyargs + definition.args.args + definition.args.kwonlyargs}
    for extra in (definition.args.vararg, definition.args.kwarg):
        if extra is not None:
            names.add(extra.arg)
    for node in ast.walk(definition):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


class _LayersAsAttributes(ast.NodeTransformer):
    """``fc1(x)`` -> ``self.fc1(x)`` for every layer name that forward reads."""

    def __init__(self, layer_names: set[str]):
        self.layer_names = layer_names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.layer_names:
            attribute = ast.Attribute(value=ast.Name(id="self", ctx=ast.Load()), attr=node.id, ctx=ast.Load())
            return ast.copy_location(attribute, node)
        return node
