"""The run's verdict: the report built from the collected results, the exit code, the summary.

The exit code follows the report's one verdict (0 COMPATIBLE, 1 NOT COMPATIBLE, 6 INCOMPLETE;
documented in README and docs/reports.md), so a CI job gates on the same answer the reports give.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conformance import __version__
from conformance.engine.schedule import OVER_BUDGET
from conformance.pytest.state import now, settings_key, state_key
from conformance.redact import Redactor
from conformance.reports.latency import latency_metrics
from conformance.reports.model import (
    COMPATIBLE,
    INCOMPLETE,
    NOT_COMPATIBLE,
    CheckResult,
    RunReport,
    Sample,
    aggregate,
)
from conformance.selection import clause_order, selected_clauses
from conformance.settings import Settings
from conformance.spec import catalogue
from conformance.verdicts import Verdict

EXIT_COMPATIBLE, EXIT_NOT_COMPATIBLE, EXIT_INCOMPLETE = 0, 1, 6
EXIT_CODES = {COMPATIBLE: EXIT_COMPATIBLE, NOT_COMPATIBLE: EXIT_NOT_COMPATIBLE, INCOMPLETE: EXIT_INCOMPLETE}
SAMPLES_IN_REPORT = 6  # success samples the HTML report shows (distinct inputs)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Build the report; the exit code follows its verdict (0 COMPATIBLE, 1 NOT COMPATIBLE,
    6 INCOMPLETE). Runs before the terminal summary (pytest's terminal reporter wraps this hook).
    Usage errors, interruptions and internal errors keep their own exit code."""
    config = session.config
    if exitstatus == pytest.ExitCode.USAGE_ERROR:  # one line says why (the preflight wrote the report)
        return
    report = _build_report(config, exitstatus)
    if report is None:
        return
    config.stash[state_key].report = report
    if exitstatus not in (
        pytest.ExitCode.OK,
        pytest.ExitCode.TESTS_FAILED,
        pytest.ExitCode.NO_TESTS_COLLECTED,
    ):
        return
    session.exitstatus = EXIT_CODES[report.outcome]


def _build_report(config: pytest.Config, exitstatus: int) -> RunReport | None:
    settings = config.stash.get(settings_key, None)
    if settings is None or getattr(config, "workerinput", None) is not None:
        return None
    state = config.stash[state_key]
    selected = selected_clauses(settings)
    clauses = set(selected) if selected is not None else set(catalogue())
    if state.collected_clauses is not None:
        clauses &= state.collected_clauses
    reasons = []
    if config.option.collectonly:
        reasons.append("only collected (--collect-only): no test request was sent")
    elif exitstatus == pytest.ExitCode.INTERRUPTED:
        reasons.append("the run was interrupted")
    elif not clauses:
        reasons.append("no test of the suite was selected (-k, -m, --clause, --family)")
    if state.retired:
        reasons.append("the target is retired (LP-ERR-15): nothing else could be judged")
    report = aggregate(
        [r for r in state.results if r.clause in clauses],
        clauses=sorted(clauses, key=clause_order),
        samples=choose_samples(state.samples, SAMPLES_IN_REPORT),
        metrics=latency_metrics(state.timings),
        incomplete_reasons=reasons,
        **_run_facts(config, settings),
    )
    if state.traffic is not None:
        report.traffic = replace(state.traffic, reduced=_reduced_by_budget(report))
    return report


def _reduced_by_budget(report: RunReport) -> dict[str, str]:
    """The clauses judged, but on fewer samples than the default run: --budget left some out."""
    reduced = {}
    for clause in report.clauses:
        cut = [r for r in clause.checks if r.verdict is Verdict.SKIPPED and OVER_BUDGET in r.message]
        if clause.judged and cut:
            reduced[clause.id] = "judged on fewer samples than the default run (--budget)"
    return reduced


def choose_samples(samples: Sequence[Sample], limit: int) -> list[Sample]:
    """Distinct inputs for the report: first a sample for each image format and each type not yet
    shown, then further (format, type) pairs; never one pair, one photo or one video twice.
    Sorted by format and type."""
    chosen: dict[tuple[str, str], Sample] = {}
    seen: set[str] = set()  # photos and videos already shown

    def take(sample: Sample) -> None:
        chosen[(sample.image_format, sample.type_value)] = sample
        seen.update((sample.image, sample.path))

    def fresh(sample: Sample) -> bool:
        new_pair = (sample.image_format, sample.type_value) not in chosen
        return new_pair and not {sample.image, sample.path} & seen

    def gain(sample: Sample) -> int:
        """How many of its format and type are not shown yet."""
        formats, types = {f for f, _ in chosen}, {t for _, t in chosen}
        return (sample.image_format not in formats) + (sample.type_value not in types)

    # Greedy cover: samples showing a new format and a new type, then either, then other pairs.
    for need in (2, 1, 0):
        for sample in samples:
            if fresh(sample) and gain(sample) >= need:
                take(sample)
    return sorted(list(chosen.values())[:limit], key=lambda s: (s.image_format, s.type_value))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The clause table, the triage of the failures (MUST first) and the verdict line (coloured
    when the terminal supports colour); the reports written."""
    state = config.stash.get(state_key, None)
    if state is None or state.report is None:
        return
    from conformance.reports.terminal import render_terminal_styled

    if state.retired:
        terminalreporter.write_line(
            "RETIRED: the target answers 404 ERROR_AI_NOT_EXISTS (LP-ERR-15); nothing else was judged",
            red=True,
            bold=True,
        )
    for line, markup in render_terminal_styled(state.report):
        terminalreporter.write_line(line, **markup)
    settings = config.stash[settings_key]
    kept = "removed now; keep it with --artefacts DIR" if state.temporary_artefacts else "kept"
    terminalreporter.write_line(f"artefacts: {settings.artefacts_dir} ({kept})")
    for path in _write_reports(config, state.report):
        terminalreporter.write_line(f"report written: {path}")


def write_unjudged_report(config: pytest.Config, settings: Settings, message: str) -> None:
    """The reports asked for, with an ``error`` verdict on every selected clause: nothing could
    be judged (INCOMPLETE). The run then stops as a usage error (exit 4)."""
    selected = selected_clauses(settings)
    clauses = [c for c in catalogue() if selected is None or c in selected]
    results = [
        CheckResult("target_answers", c, catalogue()[c].level.value, Verdict.ERROR, message) for c in clauses
    ]
    report = aggregate(results, clauses=clauses, incomplete_reasons=[message], **_run_facts(config, settings))
    _write_reports(config, report)


def _run_facts(config: pytest.Config, settings: Settings) -> dict[str, Any]:
    """The report's description of this run (everything but the results)."""
    return {
        "kind": "suite",
        "suite_version": __version__,
        "target_url": settings.target_url,
        "edition": settings.edition.value,
        "level": settings.level.value,
        "seed": settings.seed,
        "started_at": config.stash[state_key].started_at,
        "finished_at": now(),
        "config": settings.redacted(),
    }


def _write_reports(config: pytest.Config, report: RunReport) -> list[Path]:
    from conformance.reports import append_step_summary, write_reports

    settings = config.stash[settings_key]
    state = config.stash[state_key]
    written = write_reports(
        report,
        json=config.getoption("report_json"),
        html=config.getoption("report_html"),
        md=config.getoption("report_md"),
        badge=config.getoption("report_badge"),
        junit=state.junit_path,
        redactor=Redactor([settings.api_key]),
    )
    append_step_summary(report)
    return written
