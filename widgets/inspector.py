"""``TensorInspector``: a ``%%watch`` / ``nf.debug.watch()`` record as a filterable table with histograms.

Filter by op name (a substring or regular expression), by output shape text
(``"64, 10"``) and to rows with NaN/Inf only; pick a row to see its statistics
and, when the record kept the tensor, a histogram; "first bad value" jumps to
the first op whose output holds a NaN or an Inf.
"""

from __future__ import annotations

import html
import re

from .svg import histogram

HEADER = ["#", "op", "inputs", "output", "dtype", "ms", "min", "max", "mean", "std", "NaN", "Inf", "line"]
SHOWN_ROWS = 200


def _shapes(meta: list) -> str:
    return ", ".join("[" + ", ".join(map(str, shape)) + "]" for shape, _ in meta) or "—"


def _bad(record) -> bool:
    return bool(record.stats.get("nan") or record.stats.get("inf"))


def _cells(record) -> list[str]:
    s = record.stats

    def number(key):
        return f"{s[key]:.4g}" if s.get(key) is not None else "—"

    return [str(record.index), record.op, _shapes(record.inputs), _shapes(record.outputs),
            record.outputs[0][1] if record.outputs else "—", f"{record.seconds * 1e3:.3f}",
            number("min"), number("max"), number("mean"), number("std"),
            str(s.get("nan", 0)), str(s.get("inf", 0)), str(record.line) if record.line else "—"]


class TensorInspector:
    """Works with any list of records having index/op/inputs/outputs/seconds/line/stats (and maybe tensor)."""

    def __init__(self, record) -> None:
        self.record = list(record)
        self.op_filter, self.shape_filter, self.bad_only = "", "", False
        self.selected: int | None = None
        self._widget = None
        self._parts: dict = {}

    def filtered(self, op: str | None = None, shape: str | None = None, bad_only: bool | None = None) -> list:
        """The records passing the filters (arguments default to the widget's current filters)."""
        op = self.op_filter if op is None else op
        shape = self.shape_filter if shape is None else shape
        bad_only = self.bad_only if bad_only is None else bad_only
        try:
            pattern = re.compile(op, re.IGNORECASE) if op else None
        except re.error:
            pattern = re.compile(re.escape(op), re.IGNORECASE)
        wanted = shape.replace(" ", "")
        return [r for r in self.record
                if (pattern is None or pattern.search(r.op) or pattern.search(getattr(r, "node", "")))
                and (not wanted or wanted in _shapes(r.outputs).replace(" ", ""))
                and (not bad_only or _bad(r))]

    def first_bad(self):
        """The first record whose output has a NaN or an Inf (None when all are finite); selects it."""
        found = next((r for r in self.record if _bad(r)), None)
        if found is not None:
            self.select(found.index)
        return found

    def select(self, index: int) -> None:
        self.selected = index
        if self._parts:
            self._parts["details"].value = self.details(index)
            if self._parts["picker"].value != index and index in self._parts["picker"].options:
                self._parts["picker"].value = index

    def details(self, index: int) -> str:
        record = next(r for r in self.record if r.index == index)
        cells = dict(zip(HEADER, _cells(record)))
        rows = "".join(f"<tr><td>{k}</td><td>{html.escape(v)}</td></tr>" for k, v in cells.items())
        tensor = getattr(record, "tensor", None)
        picture = histogram(tensor.cpu().numpy(), title=f"#{index} {record.op}") if tensor is not None else \
            "<i>no tensor kept (nf.debug.watch(keep_tensors=True) keeps them)</i>"
        return f"<div><table>{rows}</table>{picture}</div>"

    def table_html(self) -> str:
        rows = self.filtered()
        head = "".join(f"<th>{h}</th>" for h in HEADER)
        body = "".join("<tr{}>{}</tr>".format(' style="background:#ffcdd2"' if _bad(r) else "",
                                               "".join(f"<td>{html.escape(c)}</td>" for c in _cells(r)))
                       for r in rows[:SHOWN_ROWS])
        more = f"<p>… {len(rows) - SHOWN_ROWS} more rows</p>" if len(rows) > SHOWN_ROWS else ""
        return (f'<div style="max-height:400px;overflow:auto"><table class="nbframe-watch">'
                f"<tr>{head}</tr>{body}</table>{more}</div><p>{len(rows)} of {len(self.record)} ops</p>")

    def text(self) -> str:
        rows = [HEADER] + [_cells(r) for r in self.filtered()[:SHOWN_ROWS]]
        widths = [max(len(row[k]) for row in rows) for k in range(len(HEADER))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows)

    @property
    def widget(self):
        if self._widget is None:
            import ipywidgets as widgets

            op = widgets.Text(description="op", placeholder="name or regex")
            shape = widgets.Text(description="shape", placeholder="e.g. 64, 10")
            bad = widgets.Checkbox(description="NaN/Inf only")
            jump = widgets.Button(description="first bad value", icon="bug")
            table = widgets.HTML(self.table_html())
            picker = widgets.Dropdown(description="op #", options=self._options(), value=None)
            details = widgets.HTML("")
            for control, name in ((op, "op_filter"), (shape, "shape_filter"), (bad, "bad_only")):
                control.observe(lambda change, name=name: self._on_filter(name, change["new"]), names="value")
            picker.observe(self._on_pick, names="value")
            jump.on_click(lambda _: self.first_bad())
            self._parts = {"table": table, "picker": picker, "details": details}
            self._widget = widgets.VBox([widgets.HBox([op, shape, bad, jump]),
                                         widgets.HBox([table, widgets.VBox([picker, details])])])
        return self._widget

    def _options(self) -> list[tuple[str, int]]:
        return [(f"#{r.index} {r.op} {_shapes(r.outputs)}", r.index) for r in self.filtered()[:SHOWN_ROWS]]

    def _on_pick(self, change) -> None:
        if change["new"] is not None:
            self.select(change["new"])

    def _on_filter(self, name: str, value) -> None:
        setattr(self, name, value)
        self._parts["table"].value = self.table_html()
        self._parts["picker"].options = self._options()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {}
        try:
            bundle.update(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        except ImportError:
            pass
        bundle.update({"text/html": self.table_html(), "text/plain": self.text()})
        return bundle
