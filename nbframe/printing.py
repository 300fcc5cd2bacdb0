"""Tensor printing in PyTorch's style: ``tensor([[1., 2.], [3., 4.]], requires_grad=True)``.

Floats show 4 decimals, or none (``1.``) when every value is whole, or
scientific notation when the magnitudes span too widely; big tensors show
their first and last three entries per dimension around ``...``.
"""

from __future__ import annotations

import numpy as np

from . import dtypes

THRESHOLD = 1000
EDGE_ITEMS = 3
PRECISION = 4
LINE_WIDTH = 80


def _formatter(values: np.ndarray):
    """One function that formats every element of ``values`` at the same width."""
    kind = values.dtype.kind
    if kind == "b":
        return lambda v: "True" if v else "False", 5
    if kind in "iu":
        width = max((len(str(v)) for v in values.ravel()), default=1)
        return lambda v: str(v), width
    finite = values[np.isfinite(values)].astype(np.float64)
    nonzero = np.abs(finite[finite != 0])
    int_mode = finite.size == 0 or bool(np.all(finite == np.round(finite)))
    sci = False
    if nonzero.size:
        big, small = nonzero.max(), nonzero.min()
        sci = big / small > 1000.0 or big > 1e8 or small < 1e-4
    if int_mode and not sci:

        def fmt(v):
            return f"{v:.0f}." if np.isfinite(v) else str(v).replace("inf", "inf")
    elif sci:

        def fmt(v):
            return f"{v:.{PRECISION}e}" if np.isfinite(v) else str(v)
    else:

        def fmt(v):
            return f"{v:.{PRECISION}f}" if np.isfinite(v) else str(v)

    width = max((len(fmt(v)) for v in values.ravel()), default=1)
    return fmt, width


def _summarized_values(a: np.ndarray) -> np.ndarray:
    if a.ndim == 0:
        return a.reshape(1)
    if a.size <= THRESHOLD:
        return a.ravel()
    parts = [a]
    for axis in range(a.ndim):
        if a.shape[axis] > 2 * EDGE_ITEMS:
            parts = [
                np.concatenate([p.take(range(EDGE_ITEMS), axis), p.take(range(-EDGE_ITEMS, 0), axis)], axis)
                for p in parts
            ]
    return parts[0].ravel()


def _format_array(a: np.ndarray, fmt, width: int, indent: int, summarize: bool) -> str:
    if a.ndim == 0:
        return fmt(a.item()).rjust(width)
    if a.ndim == 1:
        items = (
            [fmt(v).rjust(width) for v in a.tolist()]
            if not (summarize and a.shape[0] > 2 * EDGE_ITEMS)
            else (
                [fmt(v).rjust(width) for v in a[:EDGE_ITEMS].tolist()]
                + [" ..."]
                + [fmt(v).rjust(width) for v in a[-EDGE_ITEMS:].tolist()]
            )
        )
        per_line = max(1, (LINE_WIDTH - indent) // (width + 2))
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(a.shape[0])
    if summarize and a.shape[0] > 2 * EDGE_ITEMS:
        rows = list(range(EDGE_ITEMS)) + [None] + list(range(a.shape[0] - EDGE_ITEMS, a.shape[0]))
    parts = ["..." if r is None else _format_array(a[r], fmt, width, indent + 1, summarize) for r in rows]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def format_values(array) -> str:
    a = array if type(array) is np.ndarray else array.get()
    summarize = a.size > THRESHOLD
    fmt, width = _formatter(_summarized_values(a))
    return _format_array(a, fmt, width, len("tensor("), summarize)


def tensor_repr(t) -> str:
    a = t.array
    body = format_values(a)
    suffix = []
    if a.size == 0 and a.ndim != 1:
        suffix.append(f"size={tuple(a.shape)}")
    if t.is_cuda:
        suffix.append(f"device='{t.device}'")
    d = dtypes.from_numpy(a.dtype)
    default_shown = d in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_)
    if not default_shown or (a.size == 0 and d is not dtypes.get_default_dtype()):
        suffix.append(f"dtype={d}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + s for s in suffix) + ")"
