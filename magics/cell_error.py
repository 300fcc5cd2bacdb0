"""The short errors a magic shows: what went wrong, on which cell line, and how to fix it.

A ``CellError`` renders as its own few lines (IPython calls ``_render_traceback_``
instead of printing the 40 frames of the framework under the cell), and the
cell still counts as failed, so a notebook run stops there as it should.
"""

from __future__ import annotations


class CellError(Exception):
    """A mistake in a magic's cell, told in the user's terms, without a traceback."""

    kind = "Error"

    def __init__(self, message: str, *, line: int | None = None, source: str | None = None,
                 hint: str | None = None):
        self.message, self.line, self.source, self.hint = message, line, source, hint
        super().__init__(self.text())

    def lines(self) -> list[str]:
        where = f"cell line {self.line}: " if self.line is not None else ""
        out = [f"{self.kind}: {where}{self.message}"]
        if self.source:
            out.append(f"    {self.source.strip()}")
        if self.hint:
            out.append(self.hint)
        return out

    def text(self) -> str:
        return "\n".join(self.lines())

    def _render_traceback_(self) -> list[str]:
        return self.lines()


class CellSyntaxError(CellError):
    kind = "SyntaxError"


class UnknownNameError(CellError):
    kind = "NameError"


class LayerError(CellError):
    """A layer that could not be built from its line (bad arguments)."""

    kind = "LayerError"


class ShapeError(CellError):
    kind = "ShapeError"


class CellFormError(CellError):
    """A cell that is neither a stack of layers nor layers plus ``def forward``."""

    kind = "ModelCellError"


class NanError(CellError):
    """``%%watch --nan`` found the first op that made a NaN or an Inf."""

    kind = "NaNError"


class OptionError(CellError):
    kind = "UsageError"


def first_line(exc: BaseException) -> str:
    """An exception's message, first line only (the rest is usually a hint we replace)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
