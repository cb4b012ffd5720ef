"""Per-exchange latency of a suite run: what the plugin keeps, the figures in ``metrics``, the charts.

A ``CheckResult`` carries how long its check took, not how long the target took to answer; the
LP-OPS-1 budgets are about the answer. So the plugin keeps one small ``Timing`` per exchange sent
(the same exchanges LP-OPS-1 judges), carries them on the test reports like the results, and the
report keeps them under ``metrics["exchange_latency"]``: the HTML draws latency over the run and a
histogram against the LP-OPS-1 budgets, with LP-OPS-2's concurrent requests apart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import quantiles
from typing import Any

from conformance.reports.charts import Dots, Series, histogram, scatter_chart

METRICS_KEY = "exchange_latency"
MAX_POINTS = 2000  # points kept in the report; the figures are computed over every exchange
# LP-OPS-1: a success within 30 s (for a ≤ 1 MP image), a client error within 5 s.
SUCCESS_BUDGET_MS, ERROR_BUDGET_MS = 30_000.0, 5_000.0
COLORS = {"success": "#16a34a", "client error": "#2563eb", "other": "#dc2626", "concurrent": "#9333ea"}
CONCURRENT = "concurrent (LP-OPS-2)"


@dataclass(frozen=True)
class Timing:
    """One exchange as the latency charts need it."""

    at: float  # when the request was sent, seconds since the epoch
    elapsed_ms: float
    status: int
    concurrent: bool = False  # one of LP-OPS-2's concurrent requests


def _percentile(ordered: Sequence[float], cut: int) -> float:
    if len(ordered) < 2:
        return ordered[0]
    return quantiles(ordered, n=100, method="inclusive")[cut - 1]


def latency_metrics(timings: Sequence[Timing]) -> dict[str, Any]:
    """``{"exchange_latency": {...}}`` for ``RunReport.metrics``: count, p50/p95/max over every
    exchange, and ``points`` ``[seconds into the run, ms, status, concurrent]`` (at most
    ``MAX_POINTS``, evenly thinned); ``{}`` when nothing was sent."""
    if not timings:
        return {}
    ordered = sorted(timings, key=lambda t: t.at)
    start = ordered[0].at
    times = sorted(t.elapsed_ms for t in ordered)
    step = math.ceil(len(ordered) / MAX_POINTS)
    points = [
        [round(t.at - start, 3), round(t.elapsed_ms, 1), t.status, int(t.concurrent)] for t in ordered[::step]
    ]
    return {
        METRICS_KEY: {
            "exchanges": len(ordered),
            "p50_ms": round(_percentile(times, 50), 1),
            "p95_ms": round(_percentile(times, 95), 1),
            "max_ms": round(times[-1], 1),
            "points": points,
        }
    }


@dataclass(frozen=True)
class Point:
    """One charted exchange, read back from a report."""

    t: float
    ms: float
    status: int
    concurrent: bool

    @property
    def kind(self) -> str:
        """success, client error or other (what the LP-OPS-1 budgets tell apart)."""
        if self.concurrent:
            return CONCURRENT
        if 200 <= self.status < 300:
            return "success"
        return "client error" if 400 <= self.status < 500 else "other"


def points_of(metrics: Mapping[str, Any]) -> list[Point]:
    """The charted exchanges of a report's metrics; malformed entries (a hand-edited or foreign
    report) are skipped, never fatal."""
    block = metrics.get(METRICS_KEY)
    raw = block.get("points") if isinstance(block, Mapping) else None
    found: list[Point] = []
    for item in raw if isinstance(raw, list) else []:
        try:
            t, ms, status, concurrent = item
            point = Point(float(t), float(ms), int(status), bool(concurrent))
        except (TypeError, ValueError):
            continue
        if math.isfinite(point.t) and math.isfinite(point.ms):
            found.append(point)
    return found


def _kinds(points: Sequence[Point]) -> list[tuple[str, list[Point]]]:
    order = ("success", "client error", "other", CONCURRENT)
    grouped = {kind: [p for p in points if p.kind == kind] for kind in order}
    return [(kind, found) for kind, found in grouped.items() if found]


def _color(kind: str) -> str:
    return COLORS["concurrent" if kind == CONCURRENT else kind]


def latency_charts(metrics: Mapping[str, Any]) -> list[str]:
    """The two SVG charts of a suite run: latency over the run, and its histogram with the
    LP-OPS-1 budgets marked (when the axis reaches them); none without points."""
    points = points_of(metrics)
    if not points:
        return []
    kinds = _kinds(points)
    over_time = scatter_chart(
        [Dots(kind, [(p.t, p.ms) for p in found], _color(kind)) for kind, found in kinds],
        title="Request latency over the run (ms)",
        x_unit="s",
        y_label="ms",
        chart_id="latency-over-run",
    )
    spread = histogram(
        [Series(kind, [p.ms for p in found], _color(kind)) for kind, found in kinds],
        title="Latency histogram (ms): LP-OPS-1 budgets, LP-OPS-2 concurrent requests",
        x_unit="ms",
        marks=[("client error budget 5 s", ERROR_BUDGET_MS), ("success budget 30 s", SUCCESS_BUDGET_MS)],
        chart_id="latency-histogram",
    )
    return [over_time, spread]


def budget_line(metrics: Mapping[str, Any]) -> str:
    """One sentence under the charts: the slowest answer of each kind against its budget."""
    points = points_of(metrics)
    parts = []
    for kind, found in _kinds(points):
        slowest = max(p.ms for p in found)
        budget = {"success": SUCCESS_BUDGET_MS, "client error": ERROR_BUDGET_MS}.get(kind)
        against = f" (budget {budget / 1000:g} s)" if budget else ""
        parts.append(f"slowest {kind}: {slowest:.0f} ms{against}")
    return "; ".join(parts)
