"""Plain-text and HTML tables, the two faces of every table the magics show."""

from __future__ import annotations

import html


def text_table(header: list[str], rows: list[list[str]], *, numbers: bool = True) -> str:
    """Columns padded to their widest cell; the first left-aligned, the rest right-aligned (``numbers``)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 or not numbers else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *[line(r) for r in rows]])


def html_table(header: list[str], rows: list[list[str]], *, css_class: str = "nbframe-table",
               indents: list[int] | None = None) -> str:
    """An HTML table; ``indents`` (one per row) indent the first column, for nested layers."""
    indents = indents or [0] * len(rows)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(c, i, depth) for i, c in enumerate(r)) + "</tr>"
                   for r, depth in zip(rows, indents))
    return f"<table class='{css_class}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(text: str, column: int, depth: int) -> str:
    align = "left" if column == 0 else "right"
    indent = "&nbsp;" * 2 * depth if column == 0 else ""
    return f"<td style='font-family:monospace;text-align:{align}'>{indent}{html.escape(text.strip())}</td>"
