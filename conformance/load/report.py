"""Turn the master's outcome file (every worker's summary + Locust's figures) into a RunReport."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from statistics import fmean, quantiles
from typing import Any

from conformance.engine import REQUEST_ID_GROUP, Recorder
from conformance.exchange import ApiRequest
from conformance.load.judge import failing_outcomes, ghost, results_of
from conformance.redact import Redactor
from conformance.reports.markdown import cell
from conformance.reports.model import CheckResult, RunReport, aggregate
from conformance.settings import Settings
from conformance.spec import catalogue

MAX_TIMELINE_POINTS = 300  # points of the load timeline kept in the report (charts need no more)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / p99 / mean / max of latencies in ms (empty dict when there are none)."""
    if not values:
        return {}
    ordered = sorted(values)
    if len(ordered) == 1:
        only = round(ordered[0], 1)
        return {"p50": only, "p95": only, "p99": only, "mean": only, "max": only}
    cuts = quantiles(ordered, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 1),
        "p95": round(cuts[94], 1),
        "p99": round(cuts[98], 1),
        "mean": round(fmean(ordered), 1),
        "max": round(ordered[-1], 1),
    }


def cross_worker_ids(
    nodes: Sequence[dict[str, Any]], settings: Settings, redactor: Redactor
) -> list[CheckResult]:
    """LP-ENV-2 across workers: a ``request_id`` two workers both received is a violation.

    Each worker already judged its own answers; only ids seen by more than one are re-judged here,
    on stand-ins that keep the request and the id (the bodies stayed on the workers).
    """
    owners: dict[str, list[tuple[str, str]]] = {}
    for node in nodes:
        for request_id, description in node.get("request_ids", {}).items():
            owners.setdefault(request_id, []).append((node.get("node", "?"), description))
    recorder = Recorder(settings.check_context(), redactor, nodeid="load[all workers]")
    for request_id, seen in owners.items():
        if len(seen) > 1:
            stand_ins = [
                ghost(
                    ApiRequest(description=f"{description} (worker {node})"), settings.target_url, request_id
                )
                for node, description in seen
            ]
            recorder.run_all(REQUEST_ID_GROUP, stand_ins)
    return recorder.results


def metrics_of(outcome: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """The load figures: throughput, latency percentiles, answers by code, violations."""
    nodes: list[dict[str, Any]] = outcome.get("nodes", [])
    statuses: Counter[str] = Counter()
    transport: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    latencies: dict[str, list[float]] = {"success": [], "errors": []}
    successes = videos = 0
    for node in nodes:
        statuses.update(node.get("statuses", {}))
        transport.update(node.get("transport_errors", {}))
        failed.update(failing_outcomes(node))
        for kind, values in node.get("latencies_ms", {}).items():
            latencies.setdefault(kind, []).extend(values)
        successes += node.get("successes", 0)
        videos += node.get("videos_judged", 0)
    answered = sum(statuses.values())
    requests = answered + sum(transport.values())
    elapsed = max(0.001, float(outcome.get("stopped", 0)) - float(outcome.get("started", 0)))
    return {
        **run,
        "workers": len(nodes),
        "elapsed_s": round(elapsed, 2),
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 2),
        "locust_rps": round(float(outcome.get("stats", {}).get("rps", 0.0)), 2),
        "latency_ms": {
            "all": percentiles([*latencies["success"], *latencies["errors"]]),
            "success": percentiles(latencies["success"]),
            "errors": percentiles(latencies["errors"]),
        },
        "responses_by_code": dict(sorted(statuses.items())),
        "error_rate_by_code": {
            code: round(count / answered, 4) for code, count in sorted(statuses.items()) if code != "200"
        }
        if answered
        else {},
        "transport_errors": dict(transport),
        "contract_violations": sum(failed.values()),
        "violations_by_clause": dict(sorted(failed.items())),
        "success_responses": successes,
        "videos_judged": videos,
        "timeline": thin(outcome.get("timeline", []), MAX_TIMELINE_POINTS),
    }


def thin(points: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """At most ``limit`` points, evenly spaced, the last one kept (a long run stays a small report)."""
    if len(points) <= limit:
        return list(points)
    step = len(points) / limit
    kept = [points[int(i * step)] for i in range(limit - 1)]
    return [*kept, points[-1]]


def build_report(
    outcome: dict[str, Any], settings: Settings, redactor: Redactor, run: dict[str, Any]
) -> RunReport:
    """The load run's report: every worker's check results, aggregated clause by clause."""
    nodes = outcome.get("nodes", [])
    results = [r for node in nodes for r in results_of(node)]
    extra = cross_worker_ids(nodes, settings, redactor)
    metrics = metrics_of(outcome, run)
    metrics["contract_violations"] += sum(1 for r in extra if r.verdict == "fail")
    # The load run's selection is what its mix exercised: a clause no pooled request can reach
    # (e.g. the request family) is out of scope, not "not judged" — else every load run would
    # read INCOMPLETE.
    exercised = {r.clause for r in [*results, *extra]}
    return aggregate(
        [*results, *extra],
        clauses=[clause for clause in catalogue() if clause in exercised],
        kind="load",
        started_at=_iso(outcome.get("started")),
        finished_at=_iso(outcome.get("stopped")),
        target_url=settings.target_url,
        config={**settings.redacted(), **run},
        metrics=metrics,
    )


def _iso(timestamp: float | None) -> str | None:
    if not timestamp:
        return None
    moment = datetime.fromtimestamp(float(timestamp), UTC).isoformat(timespec="seconds")
    return moment.replace("+00:00", "Z")


def figures_markdown(metrics: dict[str, Any]) -> str:
    """The load figures as a Markdown section (appended to the Markdown report)."""
    latency = metrics.get("latency_ms", {})
    rows = [
        ("users / workers", f"{metrics.get('users')} / {metrics.get('workers')}"),
        ("requests", f"{metrics.get('requests')} in {metrics.get('elapsed_s')} s"),
        ("requests/s", str(metrics.get("requests_per_s"))),
        *[
            (f"latency {kind} (ms)", ", ".join(f"{k} {v}" for k, v in latency.get(kind, {}).items()) or "—")
            for kind in ("all", "success", "errors")
        ],
        ("contract violations", str(metrics.get("contract_violations"))),
        ("videos fully judged", f"{metrics.get('videos_judged')} of {metrics.get('success_responses')}"),
    ]
    rows += [(f"answers {code}", str(count)) for code, count in metrics.get("responses_by_code", {}).items()]
    rows += [
        (f"violations {clause}", str(n)) for clause, n in metrics.get("violations_by_clause", {}).items()
    ]
    lines = ["", "## Load figures", "", "| figure | value |", "|---|---|"]
    lines += [f"| {cell(name)} | {cell(value)} |" for name, value in rows]
    return "\n".join(lines) + "\n"


def summary_line(metrics: dict[str, Any]) -> str:
    """One line for the terminal."""
    latency = metrics.get("latency_ms", {}).get("all", {})
    return (
        f"{metrics.get('requests')} requests in {metrics.get('elapsed_s')} s "
        f"({metrics.get('requests_per_s')} req/s), p50 {latency.get('p50', '—')} ms, "
        f"p95 {latency.get('p95', '—')} ms; {metrics.get('contract_violations')} contract violations"
    )
