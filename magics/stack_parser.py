"""The stack form of a ``%%model`` cell: one layer a line, becoming an ``nn.Sequential``.

Named lines (``fc1 = Linear(784, 128)``) give the child its name; unnamed ones
are numbered by position, as ``nn.Sequential`` numbers them.
"""

from __future__ import annotations

from collections import OrderedDict

from .cell_error import CellFormError
from .cell_parser import LayerLine


def build_stack(layers: list[tuple[LayerLine, object]]):
    """``nn.Sequential`` of the layers; returns it and the map child name -> its cell line."""
    from nbframe.nn import Sequential

    children: OrderedDict = OrderedDict()
    lines: dict[str, LayerLine] = {}
    for position, (layer, module) in enumerate(layers):
        name = layer.name if layer.name is not None else str(position)
        if name in lines:
            raise CellFormError(f"the name {name!r} is already used on line {lines[name].line}",
                                line=layer.line, source=layer.source, hint="give each layer its own name")
        children[name] = module
        lines[name] = layer
    return Sequential(children), lines
