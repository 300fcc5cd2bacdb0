"""Small SVG pictures drawn in Python: line charts and histograms, shared by every widget.

Plain strings, no plotting library: they render in any front end, travel through
the widget channel as HTML and double as the static ``image/svg+xml`` fallback.
Coordinates are rounded to 0.1 px so the same data always gives the same text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

#: Colours for runs/series, in order (colour-blind friendly, Okabe-Ito).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


def escape(text: object) -> str:
    """Text made safe for SVG/HTML content and attributes."""
    return html.escape(str(text), quote=True)


@dataclass
class Series:
    """One curve: ``points`` as (x, y); ``dash`` for validation curves; ``marker`` circles one point (the
    best epoch); ``partial`` squares one (an epoch a stop cut short)."""

    name: str
    points: Sequence[tuple[float, float]]
    color: str = PALETTE[0]
    width: float = 1.5
    dash: bool = False
    opacity: float = 1.0
    marker: tuple[float, float] | None = None
    partial: tuple[float, float] | None = None  # a point drawn as a hollow square: a partial epoch
    extra: dict = field(default_factory=dict)


def _finite(points, log_y: bool):
    return [(x, y) for x, y in points
            if math.isfinite(x) and math.isfinite(y) and (not log_y or y > 0)]


def _nice_step(span: float, count: int) -> float:
    """A step of 1, 2 or 5 times a power of ten that cuts ``span`` into about ``count`` parts."""
    raw = span / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _nice_range(low: float, high: float, count: int = 4) -> tuple[float, float, float]:
    """Axis bounds widened to whole steps, and the step: ticks read 0, 0.5, 1 rather than 0.498."""
    step = _nice_step(high - low, count)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _ticks(low: float, high: float, step: float) -> list[float]:
    n = int(round((high - low) / step))
    return [low + k * step for k in range(n + 1)]


def _number(value: float) -> str:
    """One value in a short form (tooltips, log-axis ticks): 0.25, 1500, 12.35k, 3.4M, 1e-05."""
    if value == 0:
        return "0"
    scale, suffix = _scale(abs(value))
    return f"{value / scale:.4g}{suffix}" if abs(value) >= 1 else f"{value:.3g}"


_SUFFIXES = ((1e9, "G"), (1e6, "M"), (1e4, "k"))  # k from 10,000: 1000 and 1500 read better whole


def _scale(top: float) -> tuple[float, str]:
    """The divisor and suffix for numbers up to ``top``."""
    for at, suffix in _SUFFIXES:
        if top >= at:
            return (1e3 if suffix == "k" else at), suffix
    return 1.0, ""
_CHAR_W = 6  # px: about the width of a character at font-size 10, to keep labels inside the picture


def _tick_labels(ticks: Sequence[float], step: float) -> list[str]:
    """Labels of evenly spaced ticks in one format for the whole axis: the decimals the step needs
    (0.05, 0.1), whole numbers below 10,000 (500, 1000, 1500), then one k/M/G suffix (5k, 10k, 15k),
    and a shared exponent style only for steps under 0.001."""
    top = max(abs(t) for t in ticks)
    scale, suffix = _scale(top)
    if scale == 1.0 and step < 1e-3:
        digits = max(0, math.floor(math.log10(top)) - math.floor(math.log10(step) + 1e-9)) if top else 0
        return ["0" if abs(t) < step / 2 else f"{t:.{digits}e}" for t in ticks]
    decimals = max(0, -math.floor(math.log10(step / scale) + 1e-9))
    labels = []
    for t in ticks:
        text = f"{t / scale:.{decimals}f}"
        labels.append("0" if float(text) == 0 else text + suffix)
    return labels


_LEGEND_KEY, _LEGEND_GAP, _LEGEND_ROW = 20, 12, 13  # px: the line sample + its gap, between entries, row
# Advance widths of sans-serif glyphs at font-size 10 (the wider of Arial and DejaVu Sans, rounded up): legend
# layout needs a text's width without a font engine, and a generous guess only costs some space.
_NARROW, _MEDIUM, _WIDE = "iljI.,:;'|!()[] ", "frt-*/", "mwMW@%"


def text_width(text: str, bold: bool = False) -> float:
    """About how wide ``text`` is drawn at font-size 10 in px (rounded up, never less than it is)."""
    width = 0.0
    for char in text:
        if char in _NARROW:
            width += 3.2
        elif char in _MEDIUM:
            width += 4.0
        elif char in _WIDE:
            width += 10.0
        elif char in "+=<>~#&":
            width += 8.4
        elif char.isupper():
            width += 7.8
        else:  # lower case, digits
            width += 6.4
    return round(width * (1.1 if bold else 1.0), 1)


def _root(width: float, height: float) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">')


def _legend(entries: Sequence[Series], start: float, width: float) -> tuple[list[list[str]], int]:
    """Legend entries laid out in rows from ``start`` on the title line, wrapping at ``width``; returns the
    rows' SVG and the number of rows (at least 1)."""
    rows: list[list[str]] = [[]]
    x = start
    for s in entries:
        size = _LEGEND_KEY + text_width(s.name)
        if x > 2 and x + size > width - 2:  # does not fit on this row: start the next one at the left
            rows.append([])
            x = 2
        y = 11 + _LEGEND_ROW * (len(rows) - 1)
        dash = ' stroke-dasharray="5,3"' if s.dash else ""
        rows[-1].append(f'<g class="legend"><line x1="{x}" y1="{y}" x2="{x + 16}" y2="{y}" '
                        f'stroke="{s.color}" stroke-width="2"{dash}/><text x="{x + _LEGEND_KEY}" y="{y + 3}">'
                        f'{escape(s.name)}</text></g>')
        x = round(x + size + _LEGEND_GAP, 1)
    return rows, len(rows)


def line_chart(series: Sequence[Series], *, width: int = 360, height: int = 200, title: str = "",
               log_y: bool = False, x_label: str = "") -> str:
    """An SVG line chart: one ``<polyline class="series">`` per series with points, axes, ticks, a legend."""
    left, right, top, bottom = 48, 10, 22, 30  # left grows below when the y labels need it
    kept = [(s, _finite(s.points, log_y)) for s in series]
    xs = [x for _, pts in kept for x, _ in pts]
    ys = [y for _, pts in kept for _, y in pts]
    parts = [_root(width, height), f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{left}" y="14" font-weight="bold">{escape(title)}</text>']
    if not xs:
        parts.append(_note(width, height, "no data yet"))
        return "".join(parts) + "</svg>"
    fy = math.log10 if log_y else (lambda v: v)
    x0, x1 = min(xs), max(xs)
    y0, y1 = fy(min(ys)), fy(max(ys))
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    x0, x1, x_step = _nice_range(x0, x1)
    y0, y1, y_step = _nice_range(y0, y1)
    y_ticks = _ticks(y0, y1, y_step)
    y_labels = [_number(10 ** t) for t in y_ticks] if log_y else _tick_labels(y_ticks, y_step)
    left = max(left, 8 + _CHAR_W * max(map(len, y_labels)))  # room for the widest y label
    # The legend sits above the plot, after the title and wrapped into as many rows as it needs, so
    # it never covers a curve and no name is cut: each extra row makes the picture one row taller
    # (the plot keeps its size), and a name wider than the picture widens it.
    entries = [s for s, pts in kept if pts and s.opacity >= 0.5]
    width = max(width, *(2 + _LEGEND_KEY + text_width(s.name) + 2 for s in entries), 0)
    legend, rows = _legend(entries, start=left + text_width(title, bold=True) + 16, width=width)
    top, height = top + _LEGEND_ROW * (rows - 1), height + _LEGEND_ROW * (rows - 1)
    parts[0] = _root(width, height)
    parts[1] = f'<rect width="{width}" height="{height}" fill="white"/>'
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return round(left + (x - x0) / (x1 - x0) * plot_w, 1)

    def py(y: float) -> float:
        return round(top + plot_h - (fy(y) - y0) / (y1 - y0) * plot_h, 1)

    parts.append(f'<g class="axes" stroke="#ccc"><line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
                 f'y2="{top + plot_h}"/><line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/></g>')
    for tick, label in zip(y_ticks, y_labels):
        y = round(top + plot_h - (tick - y0) / (y1 - y0) * plot_h, 1)
        parts.append(f'<text class="tick" x="{left - 3}" y="{y + 3}" text-anchor="end" fill="#555">'
                     f'{label}</text>')
    x_ticks = _ticks(x0, x1, x_step)
    for tick, label in zip(x_ticks, _tick_labels(x_ticks, x_step)):
        half = _CHAR_W * len(label) / 2  # centred under its tick, but never past the picture's edges
        x = round(min(max(px(tick), half + 1), width - half - 1), 1)
        parts.append(f'<text class="tick" x="{x}" y="{top + plot_h + 12}" text-anchor="middle" '
                     f'fill="#555">{label}</text>')
    if x_label:
        parts.append(f'<text x="{left + plot_w}" y="{height - 4}" text-anchor="end" fill="#555">'
                     f'{escape(x_label)}</text>')
    for s, pts in kept:
        if not pts:
            continue
        coords = " ".join(f"{px(x)},{py(y)}" for x, y in pts)
        dash = ' stroke-dasharray="5,3"' if s.dash else ""
        parts.append(f'<polyline class="series" data-name="{escape(s.name)}" fill="none" stroke="{s.color}" '
                     f'stroke-width="{s.width}" stroke-opacity="{s.opacity}"{dash} points="{coords}"/>')
        if s.marker is not None and math.isfinite(s.marker[1]) and (not log_y or s.marker[1] > 0):
            mx, my = px(s.marker[0]), py(s.marker[1])
            parts.append(f'<circle class="marker" data-name="{escape(s.name)}" cx="{mx}" cy="{my}" r="4" '
                         f'fill="none" stroke="{s.color}" stroke-width="2"><title>best: '
                         f'{_number(s.marker[1])} at {_number(s.marker[0])}</title></circle>')
        if s.partial is not None and math.isfinite(s.partial[1]) and (not log_y or s.partial[1] > 0):
            qx, qy = px(s.partial[0]), py(s.partial[1])
            parts.append(f'<rect class="partial" data-name="{escape(s.name)}" x="{round(qx - 3.5, 1)}" '
                         f'y="{round(qy - 3.5, 1)}" width="7" height="7" fill="white" stroke="{s.color}" '
                         f'stroke-width="1.5"><title>partial epoch (stopped): {_number(s.partial[1])} at '
                         f'{_number(s.partial[0])}</title></rect>')
    for row in legend:
        parts.extend(row)
    return "".join(parts) + "</svg>"


def histogram(values, *, bins: int = 30, width: int = 240, height: int = 100, title: str = "") -> str:
    """An SVG histogram of the finite values (one ``<rect class="bar">`` per bin); NaN/Inf are counted."""
    import numpy as np

    array = np.asarray(values, dtype=np.float64).ravel()
    finite = array[np.isfinite(array)]
    bad = array.size - finite.size
    note = f" ({bad} NaN/Inf left out)" if bad else ""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="2" y="10">{escape(title)}{escape(note)}</text>']
    if finite.size == 0:
        parts.append(_note(width, height, "no finite values"))
        return "".join(parts) + "</svg>"
    counts, edges = np.histogram(finite, bins=bins)
    top, bottom = 14, 14
    plot_h = height - top - bottom
    bar_w = (width - 4) / len(counts)
    peak = max(int(counts.max()), 1)
    for k, count in enumerate(counts):
        h = round(plot_h * int(count) / peak, 1)
        parts.append(f'<rect class="bar" x="{round(2 + k * bar_w, 1)}" y="{round(top + plot_h - h, 1)}" '
                     f'width="{round(max(bar_w - 1, 0.5), 1)}" height="{h}" fill="#0072B2">'
                     f'<title>[{edges[k]:.3g}, {edges[k + 1]:.3g}): {int(count)}</title></rect>')
    parts.append(f'<text x="2" y="{height - 2}" fill="#555">{edges[0]:.3g}</text>')
    right = f'<text x="{width - 2}" y="{height - 2}" text-anchor="end" fill="#555">{edges[-1]:.3g}</text>'
    parts.append(right)
    return "".join(parts) + "</svg>"


def _note(width: int, height: int, text: str) -> str:
    return f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#888">{escape(text)}</text>'
