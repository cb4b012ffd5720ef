"""Judge proxied exchanges with the suite's checks and keep bounded running totals (issue 9).

Each exchange gets the checks the suite would run on it (``conformance.engine.observed_plan``): the
request decides the expectation when it visibly breaks one §5 clause (``observed.expectation``),
otherwise the response decides. The MUST checks run first and the caller may hear their verdict
at once (``decided``): the enforcing proxy passes an answer on (or withholds it) on that verdict and
does not wait for the SHOULD and MAY checks, e.g. the face detection of LP-VID-6. Judging decodes
videos (CPU work): callers run ``Observer.judge`` in a thread. Totals stay bounded however long
the proxy runs: outcome counts per check, and at most ``KEPT_PER_OUTCOME`` distinct results per
(check, verdict) for the report's evidence.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from conformance import __version__
from conformance.check_context import CheckContext
from conformance.engine import ObservedPlan, Recorder, decisive_first, observed_plan
from conformance.exchange import Exchange
from conformance.proxy.config import ProxyConfig
from conformance.proxy.observed import Observed, expectation
from conformance.redact import Redactor
from conformance.reports.model import CheckResult, RunReport, aggregate
from conformance.spec import Level, catalogue
from conformance.verdicts import Verdict

KEPT_PER_OUTCOME = 20  # distinct results kept per (check, verdict) as the report's evidence


@dataclass(frozen=True)
class Finding:
    """One violated check of an exchange (already redacted)."""

    clause: str
    level: str
    check: str
    title: str


@dataclass(frozen=True)
class Judgement:
    """What the checks found in one exchange: ``verdict`` is pass, fail or unjudged.

    ``undecodable`` marks an answer of the endpoint the checks could not read (an unknown or
    broken content coding, a decoding bomb): enforce mode withholds it, since it cannot vouch for it.
    """

    verdict: str
    expect: str | None = None
    findings: tuple[Finding, ...] = ()
    reason: str = ""
    undecodable: bool = False

    @property
    def must(self) -> tuple[Finding, ...]:
        """The violations of MUST-level checks: what enforce mode refuses to pass on."""
        return tuple(f for f in self.findings if f.level == Level.MUST)

    def labels(self) -> list[str]:
        """``LP-ENV-3 MUST`` for each violated check, deduplicated, for the log line."""
        return list(dict.fromkeys(f"{f.clause} {f.level}" for f in self.findings))


def checks_for(observed: Observed, exchange: Exchange) -> ObservedPlan | None:
    """The engine's plan for this exchange given what its request visibly breaks; None for an
    exchange outside the contract (another path than the endpoint)."""
    return observed_plan(exchange, breaks=expectation(observed))


@dataclass
class Observer:
    """Judges exchanges for one proxy and keeps the totals behind ``/_livephoto/report``."""

    config: ProxyConfig
    started_at: str = field(default_factory=lambda: _now())
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _kept: dict[tuple[str, str], list[CheckResult]] = field(default_factory=dict, repr=False)
    outcomes: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    upstream_errors: Counter[str] = field(default_factory=Counter)
    proxy_answers: Counter[str] = field(default_factory=Counter)
    undecodable: Counter[str] = field(default_factory=Counter)
    enforced: int = 0
    exchanges: int = 0

    def judge(
        self,
        observed: Observed,
        exchange: Exchange,
        number: int,
        decided: Callable[[Judgement], None] | None = None,
    ) -> Judgement:
        """Run the planned checks on one exchange and add the results to the totals (thread-safe).

        ``decided`` hears the verdict of the MUST checks as soon as they have run, before the
        others: a Judgement whose ``must`` findings are those of the whole plan (the engine's
        ``decisive_first`` guarantees it). The request's own key is given to the checks (LP-SEC-1
        needs it) and redacted from everything they produce.
        """
        planned = checks_for(observed, exchange)
        with self._lock:
            self.exchanges += 1
            self.statuses[str(exchange.status)] += 1
        if planned is None:
            with self._lock:
                self.verdicts["unjudged"] += 1
            return Judgement("unjudged", reason=f"{observed.request.path} is not the endpoint")
        expect = planned.expect
        context = CheckContext(
            edition=self.config.edition,
            api_key=observed.key or "",
            artefacts_dir=self.config.artefacts_dir,
        )
        # The upstream's credentials too: an upstream may echo the Basic header the proxy sent.
        redactor = Redactor([observed.key or "", *self.config.upstream_secrets])
        recorder = Recorder(context, redactor, nodeid=f"proxy#{number}")
        must, others = decisive_first(planned.checks)
        recorder.run_all(must, exchange)
        if decided is not None:
            findings = _findings(recorder.results)
            decided(Judgement("fail" if findings else "pass", expect, findings))
        recorder.run_all(others, exchange)
        findings = _findings(recorder.results)
        verdict = "fail" if findings else "pass"
        with self._lock:
            self.verdicts[verdict] += 1
            for result in recorder.results:
                self._keep(result)
        return Judgement(verdict, expect, findings)

    def unjudged(self, status: int, reason: str, *, undecodable: bool = False) -> Judgement:
        """Count an answer the checks cannot read (e.g. an unknown content coding)."""
        with self._lock:
            self.exchanges += 1
            self.statuses[str(status)] += 1
            self.verdicts["unjudged"] += 1
            if undecodable:
                self.undecodable[reason[:200]] += 1
        return Judgement("unjudged", reason=reason, undecodable=undecodable)

    def _keep(self, result: CheckResult) -> None:
        self.outcomes[(result.check, result.clause, result.level, str(result.verdict))] += 1
        kept = self._kept.setdefault((result.check, str(result.verdict)), [])
        if len(kept) < KEPT_PER_OUTCOME and all(k.message != result.message for k in kept):
            kept.append(result)

    def upstream_failed(self, code: str, message: str) -> None:
        """Count an exchange the upstream did not answer (refused, timed out, reset, garbage)."""
        with self._lock:
            self.upstream_errors[f"{code}: {message}"[:200]] += 1

    def answered_itself(self, code: str) -> None:
        """Count a request the proxy answered without the upstream (over the request cap)."""
        with self._lock:
            self.proxy_answers[code] += 1

    def count_enforced(self) -> None:
        """Count a response replaced in enforce mode."""
        with self._lock:
            self.enforced += 1

    def report(self) -> RunReport:
        """The running totals as a report of kind ``proxy`` (the suite's results model)."""
        with self._lock:
            results = [r for kept in self._kept.values() for r in kept]
            metrics: dict[str, Any] = {
                "mode": self.config.mode.value,
                "exchanges": self.exchanges,
                "verdicts": dict(self.verdicts),
                "statuses": dict(self.statuses),
                "upstream_errors": dict(self.upstream_errors),
                "proxy_answers": dict(self.proxy_answers),
                "undecodable": dict(self.undecodable),
                "enforced": self.enforced,
                "outcomes": [[*key, count] for key, count in sorted(self.outcomes.items())],
            }
        return aggregate(
            results,
            kind="proxy",
            suite_version=__version__,
            target_url=self.config.upstream_shown,
            edition=self.config.edition.value,
            level=Level.MUST.value,
            seed=None,
            started_at=self.started_at,
            finished_at=_now(),
            config=config_summary(self.config),
            metrics=metrics,
            # Nothing judged, nothing claimed: an idle proxy is never "compatible".
            incomplete_reasons=[] if metrics["exchanges"] else ["the proxy has seen no exchange"],
        )


def _findings(results: list[CheckResult]) -> tuple[Finding, ...]:
    return tuple(
        Finding(r.clause, r.level, r.check, r.title) for r in results if r.effective_verdict is Verdict.FAIL
    )


def config_summary(config: ProxyConfig) -> dict[str, Any]:
    """The proxy's configuration for reports: no key, no credentials, no local path (the record
    directory by its name only)."""
    return {
        "upstream": config.upstream_shown,
        "mode": config.mode.value,
        "edition": config.edition.value,
        "record_dir": config.record_dir.name if config.record_dir else None,
        "max_request_body": config.max_request_body,
        "max_response_body": config.max_response_body,
        "connect_timeout": config.connect_timeout,
        "upstream_timeout": config.upstream_timeout,
    }


def enforcement_message(judgement: Judgement) -> str:
    """The 502 message of enforce mode: every violated MUST clause with its id and title."""
    cat = catalogue()
    named = []
    for clause in dict.fromkeys(f.clause for f in judgement.must):
        title = cat[clause].title if clause in cat else clause
        named.append(f"{clause} ({title})")
    return "The upstream's response violates " + "; ".join(named) + " and was withheld by the proxy."


def withheld_message(judgement: Judgement) -> str:
    """The 502 message of enforce mode for an answer the checks could not read."""
    return f"The upstream's response could not be judged ({judgement.reason}) and was withheld by the proxy."


def hide_paths(value: Any, config: ProxyConfig) -> Any:
    """A JSON-like report with the proxy's local directories shown by their names only (evidence
    names saved videos by path): what ``/_livephoto/report`` serves."""
    replacements: dict[str, str] = {}
    for directory in (config.artefacts_dir, config.record_dir):
        if directory is not None:
            for spelled in (str(directory.resolve()), str(directory)):
                if spelled not in (".", "", "/"):
                    replacements.setdefault(spelled, directory.name or ".")
    ordered = sorted(replacements.items(), key=lambda item: len(item[0]), reverse=True)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            for spelled, name in ordered:
                item = item.replace(spelled, name)
            return item
        if isinstance(item, dict):
            return {key: walk(inner) for key, inner in item.items()}
        if isinstance(item, list | tuple):
            return [walk(inner) for inner in item]
        return item

    return walk(value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def elapsed_ms(started: float) -> float:
    """Milliseconds since a ``time.perf_counter()`` reading, rounded to 0.1 ms."""
    return round((time.perf_counter() - started) * 1000, 1)
