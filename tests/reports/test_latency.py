"""Per-exchange latency: the figures kept in ``metrics``, the points read back, the charts."""

from __future__ import annotations

import json

import pytest

from conformance.reports import latency
from conformance.reports.latency import (
    METRICS_KEY,
    Timing,
    budget_line,
    latency_charts,
    latency_metrics,
    points_of,
)
from tests.reports.conftest import TIMINGS, all_passing, build


def test_metrics_hold_the_figures_and_the_points_relative_to_the_run() -> None:
    block = latency_metrics(
        [Timing(500.0, 40.0, 400), Timing(100.0, 10.0, 200), Timing(300.0, 20.0, 200, True)]
    )
    assert block == {
        METRICS_KEY: {
            "exchanges": 3,
            "p50_ms": 20.0,
            "p95_ms": 38.0,
            "max_ms": 40.0,
            "points": [[0.0, 10.0, 200, 0], [200.0, 20.0, 200, 1], [400.0, 40.0, 400, 0]],
        }
    }
    assert latency_metrics([]) == {}


def test_many_points_are_thinned_but_figures_use_every_exchange(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(latency, "MAX_POINTS", 10)
    timings = [Timing(float(i), 1.0 if i != 57 else 9000.0, 200) for i in range(100)]
    block = latency_metrics(timings)[METRICS_KEY]
    assert len(block["points"]) == 10 and block["exchanges"] == 100
    assert block["max_ms"] == 9000.0  # the slowest exchange counts though its point was thinned out


def test_points_survive_the_json_report_and_garbage_is_skipped() -> None:
    report = build(all_passing(), metrics=latency_metrics(TIMINGS))
    metrics = json.loads(json.dumps(report.to_dict()))["metrics"]
    assert len(points_of(metrics)) == len(TIMINGS)
    metrics[METRICS_KEY]["points"] += [["x", 1, 200, 0], [1, 2], None, [1.0, float("nan"), 200, 0]]
    assert len(points_of(metrics)) == len(TIMINGS)
    assert points_of({METRICS_KEY: "nonsense"}) == [] and points_of({}) == []


def test_kinds_split_successes_client_errors_others_and_concurrent_requests() -> None:
    kinds = [p.kind for p in points_of(latency_metrics(TIMINGS))]
    assert kinds.count("success") == 6 and kinds.count("client error") == 10
    assert kinds.count("other") == 1 and kinds.count(latency.CONCURRENT) == 8


def test_charts_and_budget_line() -> None:
    metrics = latency_metrics(TIMINGS)
    over_run, spread = latency_charts(metrics)
    assert 'id="latency-over-run"' in over_run and over_run.count("<circle") == len(TIMINGS)
    assert 'id="latency-histogram"' in spread and 'class="bar"' in spread
    assert budget_line(metrics) == (
        "slowest success: 500 ms (budget 30 s); slowest client error: 12 ms (budget 5 s); "
        "slowest other: 12 ms; slowest concurrent (LP-OPS-2): 1130 ms"
    )
    assert latency_charts({}) == []
