"""``%%watch [--nan] [--ops PATTERN] [--out NAME]``: run a cell recording every op (tfdbg in the notebook).

Each op the cell runs (forward, and backward's own ops too) is recorded with
its name, input and output shapes and dtypes, the time since the previous op
(the op plus any Python between the two), min/max/mean/std and NaN/Inf counts
of its output, and the cell line that called it. ``--nan`` stops at the first
op whose output holds a NaN or an Inf and says which line and why.

The recording is ``nf.debug.watch()`` (one recorder for Python and the magic),
shown in the TensorInspector widget, or as a table where widgets can't render.
"""

from __future__ import annotations

import ast
import linecache
from contextlib import ExitStack

import numpy as np
from IPython.core.magic import Magics, cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .cell_error import NanError, OptionError
from .display import show_record


@magics_class
class WatchMagics(Magics):
    def __init__(self, shell, session):
        super().__init__(shell)
        self.session = session

    @magic_arguments()
    @argument("--nan", action="store_true", help="stop at the first op whose output has a NaN or an Inf")
    @argument("--ops", metavar="PATTERN", help="record only ops whose name matches this regular expression")
    @argument("--out", "-o", metavar="NAME", help="also bind the record (a list of OpRecord) to NAME")
    @argument("--no-tensors", action="store_true",
              help="keep only statistics, not each op's output (less memory; no histograms)")
    @no_var_expand
    @cell_magic
    def watch(self, line: str, cell: str):
        """Run the cell recording every op: shapes, dtypes, times, statistics and the calling line."""
        from nbframe.debug import NonFiniteStop, watch

        args = parse_argstring(self.watch, line)
        filename = self.session.cell_filename("%%watch")
        code, last = self._compile(cell, filename, line)
        recording = ExitStack()
        try:
            record = recording.enter_context(watch(args.ops, keep_tensors=not args.no_tensors,
                                                   stop_at_nonfinite=args.nan, source=filename))
        except ValueError as exc:  # a bad --ops pattern, found before the cell runs
            why = exc.__context__ or exc
            raise OptionError(f"--ops {args.ops!r} is not a regular expression: {why}") from None
        result = None
        try:
            with recording:
                exec(code, self.shell.user_ns)
                if last is not None:
                    result = eval(last, self.shell.user_ns)
        except NonFiniteStop as stop:
            self._finish(record, args.out)
            raise nan_error(stop.record, stop.inputs, filename) from None
        except BaseException:
            self._finish(record, args.out)
            raise
        self._finish(record, args.out)
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

    def _finish(self, record, out: str | None) -> None:
        if out:
            self.shell.push({out: record})
        show_record(record, "%%watch")


def nan_error(record, inputs: tuple, filename: str) -> NanError:
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


def _host(array):
    return array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else array
