"""Run checks on exchanges and record what each found: the bridge from checks to reports.

Used by the pytest plugin, the proxy and the load profile alike; it imports no pytest. The result
rules live here once: a MAY finding is information, a failure of a clause others build on blocks
them (``needs``), a check that cannot judge is skipped with its reason.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from conformance.check_context import CheckContext
from conformance.engine.plans import LATENCY, CheckFunc, plan
from conformance.exchange import Exchange
from conformance.redact import Redactor
from conformance.registry import CHECKS, RUNNABLE, check_of
from conformance.reports.model import CheckResult, Sample
from conformance.verdicts import Blocked, Evidence, NotApplicable, Verdict, Violation


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
    # Per exchange (by id), the clauses blocked on it and the root each was blocked by: a check that
    # needs a blocked clause is blocked by the same root (the root, not the link, is the defect).
    _blocked: dict[int, dict[str, str]] = field(default_factory=dict, repr=False)

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
        roots = roots or sorted(
            {
                self._blocked[id(e)][c]
                for e in exchanges
                for c in registered.needs
                if c in self._blocked.get(id(e), {})
            }
        )
        if roots:
            self._note_blocked(exchanges, registered.clause.id, roots[0])
            if selected:
                self._record(
                    check,
                    Verdict.BLOCKED,
                    f"blocked by {roots[0]}: {self._why.get(roots[0], 'it failed on this exchange')}",
                    blocked_by=roots[0],
                )
            return None
        started = time.perf_counter()
        violation: Violation | None = None
        blocked_by = ""
        try:
            note = check(*args, self.context)
            verdict = Verdict.INFO if registered.level.informational else Verdict.PASS
            message = str(note or "")
            evidence: dict[str, Any] = {}
        except Violation as failed:
            violation = failed
            verdict = Verdict.INFO if registered.level.informational else Verdict.FAIL
            message = failed.render()
            evidence = failed.evidence.as_dict()
        except Blocked as blocked:
            verdict, message, evidence, blocked_by = Verdict.BLOCKED, str(blocked), {}, blocked.by
            self._note_blocked(exchanges, registered.clause.id, blocked.by)
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
            violation.evidence = Evidence.from_dict(self.redactor(evidence))
            violation.args = (self.redactor.text(violation.render()),)
        return violation

    def _note_blocked(self, exchanges: Sequence[Exchange], clause: str, root: str) -> None:
        """Remember that ``clause`` was blocked by ``root`` on these exchanges."""
        for exchange in exchanges:
            self._keep.append(exchange)  # ids stay unique while the exchange is alive
            self._blocked.setdefault(id(exchange), {}).setdefault(clause, root)

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

    def block(self, checks: Sequence[CheckFunc], by: str, reason: str) -> None:
        """Record checks that cannot judge because clause ``by`` failed first (its consequence)."""
        for check in checks:
            self._record(check, Verdict.BLOCKED, f"blocked by {by}: {reason}", blocked_by=by)

    def mark(self) -> int:
        """A point to ``rollback`` to: the results recorded so far."""
        return len(self.results)

    def rollback(self, mark: int) -> None:
        """Forget the results recorded since ``mark`` (an exchange judged again on a fresh answer)."""
        del self.results[mark:]

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
