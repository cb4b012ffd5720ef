"""Inline SVG line charts for the HTML pages (history trend, load timeline): drawn here, in
Python, so a page shows its charts with scripts off and needs no charting library or network."""

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


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) >= 1 or value == 0 else f"{value:.2g}"


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
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def x_at(index: int) -> float:
        return MARGIN_LEFT + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y_at(value: float) -> float:
        return MARGIN_TOP + plot_h * (1 - min(value, top) / top)

    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" data-points="{count}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{MARGIN_LEFT}" y="16" class="chart-title" font-size="13" font-weight="600">'
        f"{escape(title)}</text>",
    ]
    for step in range(5):  # gridlines and y ticks at 0, 25, 50, 75, 100 % of the axis
        value = top * step / 4
        y = y_at(value)
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
            f'<text x="14" y="{MARGIN_TOP + plot_h / 2:.1f}" font-size="11" fill="#4b5563" '
            f'transform="rotate(-90 14 {MARGIN_TOP + plot_h / 2:.1f})" text-anchor="middle">'
            f"{escape(y_label)}</text>"
        )
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
        legend_x = MARGIN_LEFT + 150 * number
        parts.append(
            f'<rect x="{legend_x}" y="{HEIGHT - 14}" width="12" height="4" fill="{color}"/>'
            f'<text x="{legend_x + 16}" y="{HEIGHT - 9}" font-size="11" fill="#111827">'
            f"{escape(line.name)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
