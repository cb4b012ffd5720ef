"""Run checks on exchanges and record what each found: the bridge from checks to reports.

Used by the pytest plugin, the proxy and the load profile alike; it imports no pytest.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from conformance.check_context import CheckContext
from conformance.checks import envelope, errors, operations, request, security, success, video
from conformance.exchange import Exchange
from conformance.redact import Redactor
from conformance.registry import CHECKS, RUNNABLE, check_of
from conformance.reports.model import CheckResult, Sample
from conformance.spec import Level
from conformance.verdicts import Blocked, Evidence, NotApplicable, Verdict, Violation

CheckFunc = Callable[..., Any]

# Checks every response of the endpoint gets, whatever was asked (SPEC §2, LP-OK-3, LP-SEC-1).
COMMON: tuple[CheckFunc, ...] = (
    envelope.response_is_json_object,
    envelope.request_and_log_ids_are_strings,
    envelope.request_id_is_not_empty,
    envelope.error_code_matches_http_status,
    envelope.error_detail_is_complete,
    envelope.error_msg_is_present,
    envelope.error_code_str_is_well_formed,
    envelope.success_and_error_are_not_mixed,
    envelope.additional_fields_are_reported,
    success.success_carries_data_object,
    success.error_carries_no_video,
    security.api_key_is_not_echoed,
)
# Checks of every error response (LP-ERR-14, LP-SEC-2).
ERROR_COMMON: tuple[CheckFunc, ...] = (
    errors.code_message_is_documented,
    errors.message_is_human_readable,
    security.errors_reveal_no_internals,
)
# Checks of the answer to a valid request (LP-OK-*, LP-VID-*).
SUCCESS: tuple[CheckFunc, ...] = (
    request.endpoint_answers_post,
    success.valid_request_succeeds,
    video.video_is_strict_base64,
    *video.VIDEO_CHECKS,
)
# The latency bounds every exchange of the run is held to (LP-OPS-1).
LATENCY: tuple[CheckFunc, ...] = (operations.success_arrives_in_time, operations.client_error_arrives_in_time)
# What a request's labels ask of the target when it is valid (LP-REQ-*).
LABEL_CHECKS: dict[str, CheckFunc] = {
    "LP-REQ-2": request.multipart_variant_is_accepted,
    "LP-REQ-3": request.key_header_casing_is_accepted,
    "LP-REQ-5": request.valid_type_is_accepted,
    "LP-REQ-6": request.valid_image_is_accepted,
    "LP-REQ-7": request.extra_fields_are_ignored,
}


def failure_checks(clause: str) -> tuple[CheckFunc, ...]:
    """The checks of a request that breaks ``clause`` (a §5 failure), beyond the common ones."""
    extra: tuple[CheckFunc, ...] = ()
    if clause == "LP-ERR-3":
        extra = (request.image_target_is_required,)
    elif clause == "LP-ERR-5":
        extra = (request.invalid_type_is_refused,)
    return (*errors.FAILURE_CHECKS[clause], errors.client_error_is_never_5xx, *extra)


def plan(exchange: Exchange, *, expect: str | None) -> list[CheckFunc]:
    """The checks for one exchange.

    ``expect`` is ``"success"`` for a valid request, a §5 clause id for a request built to break
    it, or None when the suite does not know (the proxy): then the response decides.
    """
    checks = list(COMMON)
    if expect == "success" or (expect is None and exchange.status == 200):
        checks += SUCCESS
        checks += [LABEL_CHECKS[label] for label in _clause_labels(exchange) if label in LABEL_CHECKS]
    if exchange.status != 200:
        checks += ERROR_COMMON
    if expect and expect.startswith("LP-ERR-"):
        checks += failure_checks(expect)
    return checks


def _clause_labels(exchange: Exchange) -> list[str]:
    return sorted({label.split(":", 1)[0] for label in exchange.request.labels})


@dataclass
class Recorder:
    """Runs checks, turns outcomes into CheckResults (redacted), and keeps them."""

    context: CheckContext
    redactor: Redactor
    selected: frozenset[str] | None = None
    results: list[CheckResult] = field(default_factory=list)
    nodeid: str = ""
    samples: list[Sample] = field(default_factory=list)  # success videos for the HTML report
    # Per exchange (by id), the clauses that failed on it: what later checks are blocked by.
    _failed: dict[int, set[str]] = field(default_factory=dict, repr=False)
    _why: dict[str, str] = field(default_factory=dict, repr=False)
    _keep: list[Exchange] = field(default_factory=list, repr=False)
    _founded: set[tuple[int, str]] = field(default_factory=set, repr=False)

    def run(self, check: CheckFunc, *args: Any) -> Violation | None:
        """Run one check on its arguments (exchanges) and record the outcome.

        A check whose ``needs`` failed on one of its exchanges is not run: it is recorded as
        blocked by that clause (one defect, one failing clause). A check of a clause outside the
        selection still runs when other checks build on its clause, to know what it blocks, but
        records nothing. Returns the Violation when the check failed; raises nothing but the
        suite's own bugs.
        """
        registered = check_of(check)
        selected = self.selected is None or registered.clause.id in self.selected
        if not selected and registered.clause.id not in foundations():
            return None
        exchanges = _exchanges(args)
        for exchange in exchanges:
            self._ensure_foundations(exchange, registered.needs)
        roots = sorted({c for e in exchanges for c in self._failed.get(id(e), ())} & set(registered.needs))
        if roots:
            if selected:
                self._record(
                    check,
                    Verdict.BLOCKED,
                    f"blocked by {roots[0]}: {self._why[roots[0]]}",
                    blocked_by=roots[0],
                )
            return None
        started = time.perf_counter()
        violation: Violation | None = None
        blocked_by = ""
        try:
            note = check(*args, self.context)
            verdict = Verdict.INFO if registered.level is Level.MAY else Verdict.PASS
            message = str(note or "")
            evidence: dict[str, Any] = {}
        except Violation as failed:
            violation = failed
            verdict = Verdict.INFO if registered.level is Level.MAY else Verdict.FAIL
            message = failed.render()
            evidence = failed.evidence.as_dict()
        except Blocked as blocked:
            verdict, message, evidence, blocked_by = Verdict.BLOCKED, str(blocked), {}, blocked.by
        except NotApplicable as skipped:
            verdict, message, evidence = Verdict.SKIPPED, skipped.reason, {}
        if verdict is Verdict.FAIL:
            for exchange in exchanges:
                self._keep.append(exchange)  # ids stay unique while the exchange is alive
                self._failed.setdefault(id(exchange), set()).add(registered.clause.id)
            self._why.setdefault(registered.clause.id, violation.title if violation else "")
        if not selected:
            return None
        self._record(check, verdict, message, evidence, time.perf_counter() - started, blocked_by=blocked_by)
        if violation is not None:
            # str(violation) renders from these fields (pytest prints it): redact them in place.
            violation.received = self.redactor.text(violation.received)
            violation.expected = self.redactor.text(violation.expected)
            violation.evidence = Evidence(**self.redactor(evidence))
            violation.args = (self.redactor.text(violation.render()),)
        return violation

    def _ensure_foundations(self, exchange: Exchange, clauses: Iterable[str]) -> None:
        """Judge the clauses a check builds on, once per exchange, before the check itself: a
        test that picks its checks by hand still gets the root cause, not its consequence."""
        for clause in clauses:
            if (id(exchange), clause) in self._founded:
                continue
            self._founded.add((id(exchange), clause))
            self._keep.append(exchange)
            for check in foundation_checks(clause):
                self.run(check, exchange)

    def judge(self, exchange: Exchange, *, expect: str | None) -> list[Violation]:
        """Run the planned checks on one exchange; the violations found."""
        return self.run_all(plan(exchange, expect=expect), exchange)

    def run_all(self, checks: Iterable[CheckFunc], *args: Any) -> list[Violation]:
        """Run several checks on the same arguments."""
        found = [self.run(check, *args) for check in checks]
        return [v for v in found if v is not None]

    def skip(self, checks: Sequence[CheckFunc], reason: str, *, permitted: bool = False) -> None:
        """Record checks that cannot be exercised against this target, with the reason.

        ``permitted``: the SPEC allows the skip (LP-ERR-12 without a way to put the target in a
        rate-limited state), so the clause still counts as judged.
        """
        for check in checks:
            self._record(check, Verdict.SKIPPED, reason, permitted=permitted)

    def judge_latency(self, exchanges: Sequence[Exchange]) -> None:
        """LP-OPS-1 on every exchange a test sent, however else it was judged: the bounds hold
        for the slowest answer of the run, not for a sample."""
        if exchanges:
            self.run_all(LATENCY, list(exchanges))

    def record_pass(self, check: CheckFunc, message: str) -> None:
        """Record a pass the check function cannot see (e.g. a connection closed on purpose)."""
        self._record(check, Verdict.PASS, message)

    def record_fail(self, check: CheckFunc, message: str) -> None:
        """Record a failure the check function cannot see (no answer after a hostile request)."""
        self._record(check, Verdict.FAIL, message)

    def error(self, check: CheckFunc, message: str) -> None:
        """Record that the suite could not judge a check (target unreachable mid-run)."""
        self._record(check, Verdict.ERROR, message)

    def _record(
        self,
        check: CheckFunc,
        verdict: Verdict,
        message: str,
        evidence: dict[str, Any] | None = None,
        duration: float = 0.0,
        *,
        permitted: bool = False,
        blocked_by: str = "",
    ) -> None:
        registered = check_of(check)
        if self.selected is not None and registered.clause.id not in self.selected:
            return
        evidence = evidence or {}
        self.results.append(
            CheckResult(
                check=registered.name,
                clause=registered.clause.id,
                level=registered.level.value,
                verdict=verdict,
                message=self.redactor.text(message),
                evidence=self.redactor(evidence),
                nodeid=self.nodeid,
                duration=duration,
                videos=[a for a in evidence.get("artefacts", []) if _is_video(a)],
                permitted=permitted,
                blocked_by=blocked_by,
            )
        )


def _exchanges(args: Sequence[Any]) -> list[Exchange]:
    """The exchanges among a check's arguments (one, or a sequence of them)."""
    found: list[Exchange] = []
    for arg in args:
        if isinstance(arg, Exchange):
            found.append(arg)
        elif isinstance(arg, list | tuple):
            found.extend(a for a in arg if isinstance(a, Exchange))
    return found


@cache
def foundations() -> frozenset[str]:
    """The clauses other checks build on (their ``needs``): run even outside a selection."""
    return frozenset(c for check in CHECKS.values() for c in check.needs)


@cache
def foundation_checks(clause: str) -> tuple[CheckFunc, ...]:
    """The single-exchange checks of a clause that others build on, in registration order."""
    return tuple(
        RUNNABLE[check.name]
        for check in CHECKS.values()
        if check.clause.id == clause and len(inspect.signature(check.func).parameters) == 2
    )


def _is_video(path: str) -> bool:
    return path.rsplit(".", 1)[-1] in ("mp4", "webm", "avi", "mov", "mkv", "bin")
