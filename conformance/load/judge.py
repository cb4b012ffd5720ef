"""Judge every response of a load run with the suite's checks, at a bounded CPU cost.

Every response gets the planned checks of ``conformance.engine`` (envelope, errors, security, the
§5 clause its request breaks, LP-OPS-1 latency budgets). Decoding videos is the costly part, so the
full video checks (LP-OK-2, LP-VID-*) run on one success response in ``video_every`` (the first one
always); the others get every check but those. The fully judged videos of the same pooled request
are compared for LP-OPS-3 (same shape). LP-OPS-2 is judged over windows of 8 valid
requests (all non-200 answers plus the fully judged successes, whose videos must have their own
request's aspect ratio), and LP-ENV-2 over every ``request_id`` the worker saw.

A worker's findings travel to the master as one compact dict (``summary``): counts of every
outcome plus a bounded set of representative results, so a long run stays small on the wire.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance.check_context import DEFAULT_INVALID_KEY
from conformance.engine import (
    CONSISTENCY_WINDOW,
    REQUEST_ID_GROUP,
    SAME_REQUEST_PAIR,
    WINDOW_SIZE,
    Recorder,
    judges_video,
    latency_check,
    sampled_plan,
    shape_stand_in,
    unanswered_check,
)
from conformance.exchange import ApiRequest, Exchange
from conformance.redact import Redactor
from conformance.reports.model import CheckResult
from conformance.settings import Settings
from conformance.verdicts import Verdict

DEFAULT_VIDEO_EVERY = 5  # fully judge the video of one success response in 5
KEPT_PER_OUTCOME = 20  # representative results kept per (check, verdict)


def status_label(exchange: Exchange) -> str:
    """``"200"`` or ``"400 ERROR_INVALID_PARAMETER"``: the bucket of the error-rate table."""
    code = exchange.code
    return f"{exchange.status} {code}" if exchange.status != 200 and code else str(exchange.status)


@dataclass
class LoadJudge:
    """Judges the responses of one worker and summarises what it found."""

    settings: Settings
    redactor: Redactor
    video_every: int = DEFAULT_VIDEO_EVERY
    node: str = "local"
    recorder: Recorder = field(init=False)
    outcomes: Counter[tuple[str, str, str, str]] = field(
        default_factory=Counter
    )  # check, clause, level, verdict
    kept: dict[tuple[str, str], list[CheckResult]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"success": [], "errors": []})
    transport_errors: Counter[str] = field(default_factory=Counter)
    successes: int = 0
    videos_judged: int = 0
    request_ids: dict[str, Exchange] = field(default_factory=dict)
    window: list[Exchange] = field(default_factory=list)
    shapes: dict[int, Exchange] = field(default_factory=dict)  # first judged video per pooled request

    def __post_init__(self) -> None:
        if self.video_every < 1:
            raise ValueError(f"video_every must be ≥ 1 (1 judges every video), got {self.video_every}")
        self.recorder = Recorder(self.settings.check_context(), self.redactor, nodeid=f"load[{self.node}]")

    @property
    def requests(self) -> int:
        """Requests that got an answer or a transport error."""
        return sum(self.statuses.values()) + sum(self.transport_errors.values())

    def judge(self, exchange: Exchange, expect: str) -> int:
        """Judge one response to a request sent with ``expect``; the number of violations (MUST and
        SHOULD findings: the request then counts as failed in Locust's statistics)."""
        kind = "success" if expect == "success" else "errors"
        self.statuses[status_label(exchange)] += 1
        self.latencies[kind].append(round(exchange.elapsed * 1000, 2))
        full = False
        if expect == "success" and exchange.status == 200:
            self.successes += 1
            full = judges_video(self.successes, self.video_every)
            self.videos_judged += full
        found = self.recorder.run_all(sampled_plan(exchange, expect=expect, video=full), exchange)
        found += self.recorder.run_all([latency_check(expect)], [exchange])
        found += self._request_id(exchange)
        if expect == "success" and (exchange.status != 200 or full):
            found += self._window(exchange)
        if full:
            found += self._same_shape(exchange)
        self._collect()
        return sum(
            1 for violation in found if violation.level is not None and not violation.level.informational
        )

    def transport_error(self, kind: str, message: str) -> None:
        """Count a request the target did not answer (refused, reset, timed out): the suite could
        not judge it, which the report shows as an error of the operations clauses."""
        self.transport_errors[f"{kind}: {message}"[:200]] += 1
        self.recorder.error(unanswered_check(kind), f"no answer under load: {message}")
        self._collect()

    def _request_id(self, exchange: Exchange) -> list[Any]:
        request_id = (exchange.envelope or {}).get("request_id")
        if not isinstance(request_id, str) or not request_id:
            return []
        first = self.request_ids.get(request_id)
        if first is None:
            self.request_ids[request_id] = ghost(
                exchange.request, exchange.url, request_id, invalid_api_key=exchange.invalid_api_key
            )
            return []
        return self.recorder.run_all(REQUEST_ID_GROUP, [first, exchange])

    def _same_shape(self, exchange: Exchange) -> list[Any]:
        """LP-OPS-3: a pooled request is sent many times; its videos must keep one shape."""
        first = self.shapes.get(id(exchange.request))
        if first is not None:
            return self.recorder.run_all(SAME_REQUEST_PAIR, first, exchange)
        kept = shape_stand_in(exchange)
        if kept is not None:
            self.shapes[id(exchange.request)] = kept
        return []

    def _window(self, exchange: Exchange) -> list[Any]:
        self.window.append(exchange)
        if len(self.window) < WINDOW_SIZE:
            return []
        return self.flush_window()

    def flush_window(self) -> list[Any]:
        """Judge LP-OPS-2 on the valid requests gathered so far (the last, partial window at the end)."""
        window, self.window = self.window, []
        if not window:
            return []
        found = self.recorder.run_all(CONSISTENCY_WINDOW, window)
        self._collect()
        return found

    def _collect(self) -> None:
        """Move the recorder's fresh results into counts and the bounded representative set."""
        for result in self.recorder.results:
            self.outcomes[(result.check, result.clause, result.level, str(result.verdict))] += 1
            kept = self.kept.setdefault((result.check, str(result.verdict)), [])
            if len(kept) < KEPT_PER_OUTCOME and all(r.message != result.message for r in kept):
                kept.append(result)
        self.recorder.results.clear()

    def finish(self) -> dict[str, Any]:
        """Close the last window, record the run-wide LP-ENV-2 verdict, and summarise."""
        self.flush_window()
        if self.request_ids:
            self.recorder.run_all(REQUEST_ID_GROUP, list(self.request_ids.values()))
            self._collect()
        return self.summary()

    def summary(self) -> dict[str, Any]:
        """Everything the master needs, as plain data (msgpack- and JSON-ready)."""
        return {
            "node": self.node,
            "requests": self.requests,
            "statuses": dict(self.statuses),
            "transport_errors": dict(self.transport_errors),
            "latencies_ms": self.latencies,
            "successes": self.successes,
            "videos_judged": self.videos_judged,
            "outcomes": [[*key, count] for key, count in self.outcomes.items()],
            "results": [_plain(r) for kept in self.kept.values() for r in kept],
            "request_ids": {rid: g.request.description for rid, g in self.request_ids.items()},
        }


def ghost(
    request: ApiRequest, url: str, request_id: str, *, invalid_api_key: str = DEFAULT_INVALID_KEY
) -> Exchange:
    """A stand-in for an answered exchange that keeps only its request and ``request_id`` (the video
    and the rest of the body are dropped so a long run's memory stays bounded)."""
    body = json.dumps({"request_id": request_id}).encode()
    return Exchange(
        request=request,
        url=url,
        status=200,
        headers=[],
        body=body,
        elapsed=0.0,
        invalid_api_key=invalid_api_key,
    )


def _plain(result: CheckResult) -> dict[str, Any]:
    data = asdict(result)
    data["verdict"] = str(result.verdict)
    return json.loads(json.dumps(data, default=str))  # type: ignore[no-any-return]


def results_of(summary: dict[str, Any]) -> list[CheckResult]:
    """The representative CheckResults of a worker summary."""
    return [CheckResult(**data) for data in summary.get("results", [])]


def failing_outcomes(summary: dict[str, Any]) -> Counter[str]:
    """Failed checks per clause in a worker summary (every occurrence, not just the kept ones)."""
    failed: Counter[str] = Counter()
    for _check, clause, _level, verdict, count in summary.get("outcomes", []):
        if verdict == Verdict.FAIL:  # the recorder already turned MAY-level failures into info
            failed[clause] += count
    return failed
