"""Result transport: each test's check results ride on its pytest report to the controller.

A test's ``Recorder`` results (and the error verdicts of a test the target stopped answering),
its success samples and the timings of its exchanges are attached to the teardown report as a
user property. xdist workers forward reports to the controller untouched, so one collector on the
controller sees every process's results, whether the run is parallel or not; it strips the
property before other plugins (JUnit) see it.

A test failing on a Violation is reported in three lines (the clause, received, expected), without
pytest's frames of the suite's own code or Hypothesis' reproduction hints: the evidence and the
curl command are printed once per clause, in the triage of the terminal summary. ``--full-trace``
keeps pytest's own report (for debugging the suite).
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import asdict
from typing import Any

import pytest

from conformance.client import TargetUnreachable
from conformance.engine.schedule import OVER_BUDGET
from conformance.pytest.collection import item_clauses
from conformance.pytest.state import (
    RunState,
    recorder_key,
    settings_key,
    state_key,
    timings_key,
    unanswered_key,
)
from conformance.redact import Redactor
from conformance.reports.latency import Timing
from conformance.reports.model import CheckResult, Sample
from conformance.reports.triage import received_expected
from conformance.selection import selected_clauses
from conformance.spec import catalogue
from conformance.verdicts import Verdict, Violation

RESULTS_PROPERTY = "livephoto_results"
SURVIVAL_CLAUSE = "LP-SEC-4"  # "after any hostile request … the next valid request MUST still succeed"
COLLECTOR_NAME = "livephoto-results"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Attach the test's check results to its report (xdist workers forward them)."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    skipped = report.when == "call" and report.skipped and call.excinfo is not None
    if skipped and call.excinfo is not None and OVER_BUDGET in str(call.excinfo.value):
        _record_over_budget(item, str(call.excinfo.value))
    if report.when == "call" and report.failed and call.excinfo is not None:
        _record_unanswered(item, call.excinfo.value)
        if not item.config.getoption("fulltrace", False):
            _shorten(report, call.excinfo)
    if report.when != "teardown":
        return
    rec = item.stash.get(recorder_key, None)
    results = [*(rec.results if rec is not None else []), *item.stash.get(unanswered_key, [])]
    samples = rec.samples if rec is not None else []
    timings = item.stash.get(timings_key, [])
    if results or samples or timings:
        payload = {
            "results": [asdict(r) for r in results],
            "samples": [asdict(s) for s in samples],
            "timings": [asdict(t) for t in timings],
        }
        report.user_properties.append((RESULTS_PROPERTY, json.dumps(payload)))


def _violations(exc: BaseException) -> list[Violation]:
    """The Violations a test failed with (one, or several from Hypothesis); [] when anything else
    is among them: a bug of the suite keeps pytest's full report."""
    if isinstance(exc, Violation):
        return [exc]
    if isinstance(exc, BaseExceptionGroup):
        found = [_violations(inner) for inner in exc.exceptions]
        return [v for group in found for v in group] if all(found) else []
    return []


def _shorten(report: pytest.TestReport, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Replace the report of a test failing on Violations with their clause, received and expected:
    no frames of the suite's code, no Hypothesis hints. The same text stays a Python exception, so
    pytest's short summary still names the clause and xdist forwards the report unchanged."""
    violations = _violations(excinfo.value)
    if not violations:
        return
    lines = []
    for violation in violations:
        level = f" {violation.level}" if violation.level else ""
        lines.append(f"[{violation.clause}{level}] {violation.title}")
        lines.append(f"  {received_expected(violation.received, violation.expected)}")
    lines.append("(request, response and curl command: once per clause, in the triage below)")
    brief = AssertionError("\n".join(lines)).with_traceback(excinfo.tb)
    report.longrepr = pytest.ExceptionInfo.from_exception(brief).getrepr(style="value", chain=False)


def _record_over_budget(item: pytest.Item, reason: str) -> None:
    """A test whose requests ``--budget`` left out: a skipped result for each of its clauses, so
    the report says why (and, when other tests judged the clause, that it had fewer samples)."""
    settings = item.config.stash.get(settings_key, None)
    if settings is None:
        return
    selected = selected_clauses(settings)
    item.stash[unanswered_key] = [
        CheckResult(
            check="within_budget",
            clause=clause,
            level=catalogue()[clause].level.value,
            verdict=Verdict.SKIPPED,
            message=reason,
            nodeid=item.nodeid,
        )
        for clause in sorted(item_clauses(item))
        if selected is None or clause in selected
    ]


def _record_unanswered(item: pytest.Item, exc: BaseException) -> None:
    """A test that failed because the target stopped answering: an ``error`` verdict for each of
    its clauses (the suite could not judge them), never a silent "not exercised"."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, TargetUnreachable):
        cause = cause.__cause__ or (None if cause.__suppress_context__ else cause.__context__)
    settings = item.config.stash.get(settings_key, None)
    if cause is None or settings is None:
        return
    selected = selected_clauses(settings)
    message = Redactor([settings.api_key]).text(f"the target did not answer: {cause}")
    # A target that died of the hostile requests (LP-SEC-4 failed): what could not be judged
    # after that is the consequence of that one defect, not a failure of its own (issue 17).
    state = item.config.stash.get(state_key, None)
    died = state is not None and any(
        r.clause == SURVIVAL_CLAUSE and r.verdict is Verdict.FAIL for r in state.results
    )
    item.stash[unanswered_key] = [
        CheckResult(
            check="target_answers",
            clause=clause,
            level=catalogue()[clause].level.value,
            verdict=Verdict.BLOCKED if died and clause != SURVIVAL_CLAUSE else Verdict.ERROR,
            message=f"blocked by {SURVIVAL_CLAUSE}: {message}" if died else message,
            nodeid=item.nodeid,
            blocked_by=SURVIVAL_CLAUSE if died else "",
        )
        for clause in sorted(item_clauses(item))
        if selected is None or clause in selected
    ]


class ResultCollector:
    """The controller's end of the transport: a plugin object holding the run's state.

    ``pytest_runtest_logreport`` receives no config, so the hook is a method of an object
    registered on the run's own plugin manager (as pytest-randomly and pytest-httpserver do):
    no module global, and two runs in one process stay apart.
    """

    def __init__(self, state: RunState) -> None:
        self.state = state

    @classmethod
    def register(cls, config: pytest.Config, state: RunState) -> None:
        """Collect this run's results into ``state`` (the controller only: workers forward)."""
        config.pluginmanager.register(cls(state), COLLECTOR_NAME)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect results (from this process or an xdist worker) on the controller."""
        kept = []
        for name, value in report.user_properties:
            if name == RESULTS_PROPERTY:
                payload = json.loads(str(value))
                self.state.results.extend(CheckResult(**r) for r in payload["results"])
                self.state.samples.extend(Sample(**sample) for sample in payload["samples"])
                self.state.timings.extend(Timing(**timing) for timing in payload["timings"])
            else:
                kept.append((name, value))
        report.user_properties[:] = kept
