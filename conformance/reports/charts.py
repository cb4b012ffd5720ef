"""Inline SVG charts for the HTML pages (history trend, load timeline, a run's request latency):
drawn here, in Python, so a page shows its charts with scripts off and needs no charting library
or network. Line charts over labelled points, scatter charts over a numeric x axis, and stacked
histograms share one frame: title, y gridlines from 0, legend."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 16, 28, 40
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")
MAX_X_LABELS = 8  # more would overlap on the axis


@dataclass(frozen=True)
class Series:
    """One line: a name for the legend and a y value per x (None leaves a gap)."""

    name: str
    values: Sequence[float | None]
    color: str = ""


def _nice_max(value: float) -> float:
    """A round axis maximum ≥ value (1, 2, 2.5, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _tick_max(value: float) -> float:
    """A tighter round axis maximum ≥ value whose quarters are round too (for numeric axes)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10):
        if value <= step * power * (1 + 1e-9):
            return float(step * power)
    return float(10 * power)


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) >= 1 or value == 0 else f"{value:.2g}"


PLOT_W = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
PLOT_H = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM


def _y_at(value: float, top: float) -> float:
    return MARGIN_TOP + PLOT_H * (1 - min(value, top) / top)


def _frame(chart_id: str, title: str, points: int, y_top: float, y_label: str) -> list[str]:
    """The ``<svg>`` opening, its title, the y gridlines and ticks (0–100 % of ``y_top``)."""
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" data-points="{points}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{MARGIN_LEFT}" y="16" class="chart-title" font-size="13" font-weight="600">'
        f"{escape(title)}</text>",
    ]
    for step in range(5):  # gridlines and y ticks at 0, 25, 50, 75, 100 % of the axis
        value = y_top * step / 4
        y = _y_at(value, y_top)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#e5e7eb" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#4b5563">{escape(_fmt(value))}</text>'
        )
    if y_label:
        parts.append(
            f'<text x="14" y="{MARGIN_TOP + PLOT_H / 2:.1f}" font-size="11" fill="#4b5563" '
            f'transform="rotate(-90 14 {MARGIN_TOP + PLOT_H / 2:.1f})" text-anchor="middle">'
            f"{escape(y_label)}</text>"
        )
    return parts


def _legend(number: int, name: str, color: str) -> str:
    legend_x = MARGIN_LEFT + 150 * number
    return (
        f'<rect x="{legend_x}" y="{HEIGHT - 14}" width="12" height="4" fill="{color}"/>'
        f'<text x="{legend_x + 16}" y="{HEIGHT - 9}" font-size="11" fill="#111827">'
        f"{escape(name)}</text>"
    )


def _x_ticks(x_max: float, unit: str) -> list[str]:
    """Five x ticks over a numeric axis from 0 to ``x_max``, the unit after the last one."""
    parts = []
    for step in range(5):
        value = x_max * step / 4
        x = MARGIN_LEFT + PLOT_W * step / 4
        anchor = "start" if step == 0 else "end" if step == 4 else "middle"
        label = _fmt(value) + (f" {unit}" if unit and step == 4 else "")
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}" text-anchor="{anchor}" '
            f'font-size="11" fill="#4b5563">{escape(label)}</text>'
        )
    return parts


def line_chart(
    series: Sequence[Series],
    x_labels: Sequence[str],
    *,
    title: str,
    y_label: str = "",
    y_max: float | None = None,
    chart_id: str = "chart",
) -> str:
    """An ``<svg>`` element: one polyline (and dots) per series over ``x_labels``, a y axis from
    0 with gridlines, a legend. Every text is escaped; each dot has a ``<title>`` tooltip."""
    count = len(x_labels)
    values = [v for s in series for v in s.values if v is not None]
    top = y_max if y_max is not None else _nice_max(max(values, default=0.0))

    def x_at(index: int) -> float:
        return MARGIN_LEFT + (PLOT_W * index / (count - 1) if count > 1 else PLOT_W / 2)

    def y_at(value: float) -> float:
        return _y_at(value, top)

    parts = _frame(chart_id, title, count, top, y_label)
    stride = max(1, math.ceil(count / MAX_X_LABELS))
    for index, label in enumerate(x_labels):
        if index % stride and index != count - 1:
            continue
        # the first and last labels hang inwards, so that the axis' ends are not cut off
        anchor = (
            "start" if index == 0 and count > 1 else "end" if index == count - 1 and count > 1 else "middle"
        )
        parts.append(
            f'<text x="{x_at(index):.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}" text-anchor="{anchor}" '
            f'font-size="11" fill="#4b5563">{escape(label)}</text>'
        )
    for number, line in enumerate(series):
        color = line.color or PALETTE[number % len(PALETTE)]
        points = [(x_at(i), y_at(v), v, x_labels[i]) for i, v in enumerate(line.values) if v is not None]
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
        parts.append(
            f'<polyline class="series" data-series="{escape(line.name)}" points="{coords}" fill="none" '
            f'stroke="{color}" stroke-width="2"/>'
        )
        for x, y, value, label in points:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                f"<title>{escape(line.name)} at {escape(label)}: {escape(_fmt(value))}</title></circle>"
            )
        parts.append(_legend(number, line.name, color))
    parts.append("</svg>")
    return "\n".join(parts)


@dataclass(frozen=True)
class Dots:
    """One set of (x, y) points of a scatter chart, named in the legend."""

    name: str
    points: Sequence[tuple[float, float]]
    color: str = ""


def scatter_chart(
    series: Sequence[Dots],
    *,
    title: str,
    x_unit: str = "",
    y_label: str = "",
    chart_id: str = "scatter",
) -> str:
    """An ``<svg>`` of dots over a numeric x axis from 0 (e.g. seconds into the run), y from 0;
    one colour per series, each dot with a ``<title>`` tooltip."""
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points]
    x_top, y_top = _tick_max(max(xs, default=0.0)), _tick_max(max(ys, default=0.0))
    parts = _frame(chart_id, title, len(xs), y_top, y_label)
    parts.extend(_x_ticks(x_top, x_unit))
    for number, dots in enumerate(series):
        color = dots.color or PALETTE[number % len(PALETTE)]
        parts.append(f'<g class="series" data-series="{escape(dots.name)}" fill="{color}">')
        for x, y in dots.points:
            cx = MARGIN_LEFT + PLOT_W * min(x, x_top) / x_top
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{_y_at(y, y_top):.1f}" r="2.5">'
                f"<title>{escape(dots.name)}: {escape(_fmt(y))} at {escape(_fmt(x))}"
                f"{' ' + escape(x_unit) if x_unit else ''}</title></circle>"
            )
        parts.append("</g>")
        parts.append(_legend(number, dots.name, color))
    parts.append("</svg>")
    return "\n".join(parts)


def histogram(
    series: Sequence[Series],
    *,
    title: str,
    bins: int = 20,
    x_unit: str = "",
    marks: Sequence[tuple[str, float]] = (),
    chart_id: str = "histogram",
) -> str:
    """An ``<svg>`` histogram of every series' values, stacked per bin over 0 … a round maximum.

    ``marks`` are (label, x) lines drawn across the chart (e.g. a latency budget) when they fall
    within the axis; a bar's ``<title>`` gives its range and count.
    """
    values = [[v for v in s.values if v is not None] for s in series]
    x_top = _tick_max(max((v for vs in values for v in vs), default=0.0))
    width = x_top / bins
    counts = [[0] * bins for _ in series]
    for number, vs in enumerate(values):
        for value in vs:
            counts[number][min(bins - 1, int(max(0.0, value) / width))] += 1
    tallest = max((sum(c[b] for c in counts) for b in range(bins)), default=0)
    y_top = float(4 * math.ceil(_tick_max(max(1, tallest)) / 4))  # whole counts at every gridline
    parts = _frame(chart_id, title, sum(len(vs) for vs in values), y_top, "count")
    parts.extend(_x_ticks(x_top, x_unit))
    bar_w = PLOT_W / bins
    stacked = [0] * bins
    for number, line in enumerate(series):
        color = line.color or PALETTE[number % len(PALETTE)]
        for index, count in enumerate(counts[number]):
            if not count:
                continue
            low, high = stacked[index], stacked[index] + count
            stacked[index] = high
            y = _y_at(high, y_top)
            parts.append(
                f'<rect class="bar" data-series="{escape(line.name)}" data-count="{count}" '
                f'x="{MARGIN_LEFT + bar_w * index + 1:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{_y_at(low, y_top) - y:.1f}" fill="{color}">'
                f"<title>{escape(line.name)}: {count} in {escape(_fmt(width * index))}–"
                f"{escape(_fmt(width * (index + 1)))}{' ' + escape(x_unit) if x_unit else ''}</title></rect>"
            )
        parts.append(_legend(number, line.name, color))
    for label, x_value in marks:
        if 0 <= x_value <= x_top:
            x = MARGIN_LEFT + PLOT_W * x_value / x_top
            parts.append(
                f'<line class="mark" x1="{x:.1f}" x2="{x:.1f}" y1="{MARGIN_TOP}" '
                f'y2="{HEIGHT - MARGIN_BOTTOM}" stroke="#dc2626" stroke-dasharray="4 3"/>'
                f'<text x="{x - 4:.1f}" y="{MARGIN_TOP + 10}" text-anchor="end" font-size="11" '
                f'fill="#dc2626">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)
