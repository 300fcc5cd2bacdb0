"""``%%watch [--nan] [--ops PATTERN] [--out NAME]``: run a cell recording every op (tfdbg in the notebook).

Each op the cell runs (forward, and backward's own ops too) is recorded with
its name, input and output shapes and dtypes, the time since the previous op
(the op plus any Python between the two), min/max/mean/std and NaN/Inf counts
of its output, and the cell line that called it. ``--nan`` stops at the first
op whose output holds a NaN or an Inf and says which line and why.
"""

from __future__ import annotations

import ast
import linecache
import re
import sys
import time
from dataclasses import dataclass

import numpy as np
from IPython.core.magic import Magics, cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .cell_error import NanError, OptionError
from .display import show, widget_class
from .tables import html_table, text_table

#: How many rows the static table shows (the rest are in the record object).
SHOWN_ROWS = 200


@dataclass
class OpRecord:
    index: int
    op: str
    node: str
    inputs: list  # (shape, dtype) of each tensor input
    outputs: list  # (shape, dtype) of each output
    seconds: float
    line: int | None
    stats: dict  # min, max, mean, std, nan, inf, numel of the first output (floats only)

    def cells(self) -> list[str]:
        s = self.stats
        number = (lambda k: f"{s[k]:.4g}" if s.get(k) is not None else "—")  # noqa: E731
        return [str(self.index), self.op, _shapes(self.inputs), _shapes(self.outputs),
                self.outputs[0][1] if self.outputs else "—", f"{self.seconds * 1e3:.3f}",
                number("min"), number("max"), number("mean"), number("std"),
                str(s.get("nan", 0)), str(s.get("inf", 0)), str(self.line) if self.line else "—"]


HEADER = ["#", "op", "inputs", "output", "dtype", "ms", "min", "max", "mean", "std", "NaN", "Inf", "line"]


class WatchRecord(list):
    """The ops a ``%%watch`` cell ran (a list of OpRecord), shown as a table."""

    def _rows(self) -> list[list[str]]:
        return [r.cells() for r in self[:SHOWN_ROWS]]

    def _more(self) -> str:
        return f"… {len(self) - SHOWN_ROWS} more ops in the record" if len(self) > SHOWN_ROWS else ""

    def __str__(self) -> str:
        return "\n".join(filter(None, [f"%%watch: {len(self)} ops", text_table(HEADER, self._rows()),
                                       self._more()]))

    def __repr__(self) -> str:
        return f"<WatchRecord of {len(self)} ops>"

    def _repr_html_(self) -> str:
        return (f"<div><b>%%watch</b>: {len(self)} ops (ms: time since the previous op)"
                f"{html_table(HEADER, self._rows(), css_class='nbframe-watch')}{self._more()}</div>")

    def bundle(self) -> dict[str, str]:
        return {"text/html": self._repr_html_(), "text/plain": str(self)}


class _StopAtNan(BaseException):
    """Raised from the observer to stop the cell at the op that made a NaN/Inf (not an Exception, so
    a broad ``except Exception`` in the cell can't swallow it)."""

    def __init__(self, record: OpRecord, inputs: tuple):
        super().__init__(record.op)
        self.record, self.inputs = record, inputs


class _Recorder:
    def __init__(self, filename: str, pattern: re.Pattern | None, stop_at_nan: bool):
        self.filename, self.pattern, self.stop_at_nan = filename, pattern, stop_at_nan
        self.record = WatchRecord()
        self.count = 0
        self.last = time.perf_counter()

    def __call__(self, op, inputs, outputs) -> None:
        seconds = time.perf_counter() - self.last
        label = getattr(type(op), "label", None) or type(op).__name__
        if label == "op":
            label = type(op).__name__
        self.count += 1
        wanted = self.pattern is None or self.pattern.search(label) or self.pattern.search(op.name())
        bad = self.stop_at_nan and _has_nonfinite(outputs)
        if wanted or bad:
            record = OpRecord(self.count, label, op.name(), _meta(inputs), _meta(outputs), seconds,
                              self._cell_line(), _stats(outputs))
            if wanted:
                self.record.append(record)
            if bad:
                raise _StopAtNan(record, inputs)
        self.last = time.perf_counter()

    def _cell_line(self) -> int | None:
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                return frame.f_lineno
            frame = frame.f_back
        return None


@magics_class
class WatchMagics(Magics):
    def __init__(self, shell, session):
        super().__init__(shell)
        self.session = session

    @magic_arguments()
    @argument("--nan", action="store_true", help="stop at the first op whose output has a NaN or an Inf")
    @argument("--ops", metavar="PATTERN", help="record only ops whose name matches this regular expression")
    @argument("--out", "-o", metavar="NAME", help="also bind the record (a list of OpRecord) to NAME")
    @no_var_expand
    @cell_magic
    def watch(self, line: str, cell: str):
        """Run the cell recording every op: shapes, dtypes, times, statistics and the calling line."""
        from nbframe.autograd.observers import add_op_observer

        args = parse_argstring(self.watch, line)
        try:
            pattern = re.compile(args.ops, re.IGNORECASE) if args.ops else None
        except re.error as exc:
            raise OptionError(f"--ops {args.ops!r} is not a regular expression: {exc}") from None
        filename = self.session.cell_filename("%%watch")
        code, last = self._compile(cell, filename, line)
        recorder = _Recorder(filename, pattern, args.nan)
        result = None
        try:
            with add_op_observer(recorder):
                recorder.last = time.perf_counter()
                exec(code, self.shell.user_ns)
                if last is not None:
                    result = eval(last, self.shell.user_ns)
        except _StopAtNan as stop:
            self._finish(recorder.record, args.out)
            raise nan_error(stop.record, stop.inputs, filename) from None
        except BaseException:
            self._finish(recorder.record, args.out)
            raise
        self._finish(recorder.record, args.out)
        return result

    def _compile(self, cell: str, filename: str, line: str):
        """Compile the cell with the cell's own line numbers; the last expression is evaluated apart."""
        body = self.shell.transform_cell(cell)
        skipped = len(cell) - len(cell.lstrip("\n\r"))  # blank lines IPython's transform drops
        tree = ast.parse(body, filename)
        ast.increment_lineno(tree, 1 + cell[:skipped].count("\n"))
        source = f"%%watch {line}\n{cell}"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = compile(ast.Expression(tree.body.pop().value), filename, "eval")
        return compile(tree, filename, "exec"), last

    def _finish(self, record: WatchRecord, out: str | None) -> None:
        if out:
            self.shell.push({out: record})
        view = widget_class("TensorInspector")
        show(record.bundle(), (lambda: view(record)) if view is not None else None)


def nan_error(record: OpRecord, inputs: tuple, filename: str) -> NanError:
    """"cell line 3: log(x) produced NaN at 1 of 3 elements; the input had negative values"."""
    stats = record.stats
    kinds = " and ".join(k for k in ("NaN", "Inf") if stats.get(k.lower()))
    count = stats.get("nan", 0) + stats.get("inf", 0)
    source = linecache.getline(filename, record.line).strip() if record.line else ""
    written = _call_in(source, record.op) or record.op
    message = f"{written} produced {kinds} at {count} of {stats.get('numel', '?')} elements"
    cause = nan_cause(record.op, inputs)
    if cause:
        message += f"; {cause}"
    return NanError(message, line=record.line, source=source or None,
                    hint=f"op #{record.index} ({record.node}); the ops before it are in the table above")


def _call_in(source: str, op: str) -> str | None:
    """The call in ``source`` that ran ``op`` (``nf.log(x)`` or ``x.log()``), as written."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names = {op, op.rstrip("_"), op.replace("_", "")}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in names:
                return ast.unparse(node)
    return None


def nan_cause(op: str, inputs: tuple) -> str | None:
    """Why an op typically makes NaN/Inf, judged from its inputs."""
    from nbframe import Tensor

    arrays = [np.asarray(_host(a.array), dtype=np.float64) for a in inputs if isinstance(a, Tensor)
              and a.array.dtype.kind == "f"]
    if not arrays:
        return None
    if any(not np.all(np.isfinite(a)) for a in arrays):
        return "an input already had NaN/Inf (made outside any op, e.g. by nf.tensor or an in-place write)"
    first = arrays[0]
    domain = {"log": (0, "negative values", "zeros"), "log2": (0, "negative values", "zeros"),
              "log10": (0, "negative values", "zeros"), "log1p": (-1, "values below -1", "values of -1"),
              "sqrt": (0, "negative values", None), "rsqrt": (0, "negative values", "zeros")}
    if op in domain:
        low, below, at = domain[op]
        if np.any(first < low):
            return f"the input had {below}"
        if at and np.any(first == low):
            return f"the input had {at}"
    if op in ("div", "true_divide", "divide", "reciprocal") and any(np.any(a == 0) for a in arrays[-1:]):
        return "the divisor had zeros"
    if op in ("acos", "asin", "atanh") and np.any(np.abs(first) > 1):
        return "the input had values outside [-1, 1]"
    if op in ("exp", "expm1", "pow", "mul", "matmul", "sum"):
        return f"the result overflowed (input magnitudes up to {max(np.abs(a).max() for a in arrays):.3g})"
    return None


def _has_nonfinite(outputs) -> bool:
    for out in outputs:
        array = out.array
        if array.dtype.kind == "f" and array.size and not bool(_module(array).isfinite(array).all()):
            return True
    return False


def _stats(outputs) -> dict:
    if not outputs or outputs[0].array.dtype.kind not in "fiub" or outputs[0].array.size == 0:
        return {}
    array = outputs[0].array
    xp = _module(array)
    stats = {"numel": int(array.size)}
    values = array.astype(xp.float64) if array.dtype.kind != "f" else array
    if array.dtype.kind == "f":
        stats["nan"] = int(xp.isnan(array).sum())
        stats["inf"] = int(xp.isinf(array).sum())
        if stats["nan"] or stats["inf"]:
            values = values[xp.isfinite(values)]
    if values.size:
        stats.update(min=float(values.min()), max=float(values.max()),
                     mean=float(values.mean(dtype=xp.float64)), std=float(values.std(dtype=xp.float64)))
    return stats


def _meta(values) -> list:
    from nbframe import Tensor

    return [(tuple(v.shape), str(v.array.dtype)) for v in values if isinstance(v, Tensor)]


def _shapes(meta: list) -> str:
    return ", ".join("[" + ", ".join(map(str, shape)) + "]" for shape, _ in meta) or "—"


def _module(array):
    from nbframe.backend import get_array_module

    return get_array_module(array)


def _host(array):
    return array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else array
