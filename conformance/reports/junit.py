"""JUnit XML with one testcase per clause, written from the report model like every other format.

CI systems count testcases: one per clause (name = clause id, classname = family) makes their
counts the report's counts. A gating failure is a ``<failure>``; a SHOULD failure that does not gate
(``--level must``) passes with a warning in ``<system-out>``; a clause not judged is ``<skipped>``
with its reason. Nothing else is ever skipped. The testsuite's properties carry the run's facts,
its traffic (``traffic.requests``, ``traffic.successes``, ``traffic.waited_s``, ``traffic.work_s``, …)
among them, so a CI dashboard can chart what each run cost the target.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.redact import Redactor
from conformance.reports.model import NOT_EXERCISED, ClauseResult, RunReport
from conformance.spec import Level

SUITE_NAME = "livephoto-conformance"


def _gates(clause: ClauseResult, report: RunReport) -> bool:
    return clause.failed_level is not None and Level(clause.failed_level).gates(report.level)


def _failure_text(clause: ClauseResult) -> str:
    return "\n\n".join(check.message for check in clause.failures if check.message) or clause.reason


def _testcase(clause: ClauseResult, report: RunReport) -> ET.Element:
    case = ET.Element(
        "testcase",
        name=clause.id,
        classname=clause.family,
        time=f"{sum(c.duration for c in clause.checks):.3f}",
    )
    props = ET.SubElement(case, "properties")
    ET.SubElement(props, "property", name="level", value=clause.level)
    ET.SubElement(props, "property", name="verdict", value=clause.verdict.value)
    if _gates(clause, report):
        failure = ET.SubElement(
            case, "failure", message=f"{clause.failed_level} failure: {clause.reason}", type="Violation"
        )
        failure.text = _failure_text(clause)
    elif clause.failed_level is not None:  # a SHOULD failure below the gate
        out = ET.SubElement(case, "system-out")
        out.text = (
            f"warning: {clause.id} {clause.failed_level} failure, not gating at --level "
            f"{report.level.lower()}: {clause.reason}\n\n{_failure_text(clause)}"
        )
    elif clause.blocked_by:
        ET.SubElement(case, "skipped", message=f"{clause.reason} (the root clause carries the failure)")
    elif not clause.judged:
        ET.SubElement(case, "skipped", message=f"not judged: {clause.reason or NOT_EXERCISED}")
    elif clause.reason:
        out = ET.SubElement(case, "system-out")
        out.text = f"{clause.verdict.value}: {clause.reason}"
    return case


def _traffic_properties(report: RunReport) -> list[tuple[str, str]]:
    """``traffic.*`` properties (none for a report without traffic); one ``traffic.reduced`` per
    clause ``--budget`` left with fewer samples, like ``incomplete`` per reason."""
    traffic = report.traffic
    if traffic is None:
        return []
    rows = [
        ("traffic.requests", str(traffic.requests)),
        ("traffic.successes", str(traffic.successes)),
        ("traffic.wall_s", f"{traffic.wall_s:.3f}"),
        ("traffic.waited_s", f"{traffic.waited_s:.3f}"),
        ("traffic.work_s", f"{traffic.work_s:.3f}"),
        ("traffic.concurrency", str(traffic.concurrency)),
        ("traffic.budget", "" if traffic.budget is None else str(traffic.budget)),
    ]
    if traffic.rate_limits_retried or traffic.rate_limits_returned:
        rows += [
            ("traffic.rate_limits_retried", str(traffic.rate_limits_retried)),
            ("traffic.rate_limits_returned", str(traffic.rate_limits_returned)),
            ("traffic.backoff_s", f"{traffic.backoff_s:.3f}"),
        ]
    rows += [("traffic.reduced", f"{clause}: {why}") for clause, why in traffic.reduced.items()]
    return rows


def render_junit(report: RunReport, redactor: Redactor | None = None) -> str:
    """The report as a JUnit XML document."""
    cases = [_testcase(clause, report) for clause in report.clauses]
    failures = sum(1 for case in cases if case.find("failure") is not None)
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    suite = ET.Element(
        "testsuite",
        name=SUITE_NAME,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{sum(float(c.get('time', 0)) for c in cases):.3f}",
        timestamp=report.started_at,
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("verdict", report.outcome),
        ("verdict_line", report.verdict_line),
        ("root_causes", report.root_line),
        ("target", report.target_url),
        ("edition", report.edition),
        ("level", report.level),
        ("seed", "" if report.seed is None else str(report.seed)),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    for reason in report.incomplete_reasons:
        ET.SubElement(props, "property", name="incomplete", value=reason)
    for name, value in _traffic_properties(report):
        ET.SubElement(props, "property", name=name, value=value)
    suite.extend(cases)
    root = ET.Element("testsuites", name=SUITE_NAME)
    root.append(suite)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
    return redactor.text(text) if redactor is not None else text


def write_junit(report: RunReport, path: str | Path, redactor: Redactor | None = None) -> Path:
    """Write the JUnit XML to ``path`` (parent folders created); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_junit(report, redactor), encoding="utf-8")
    return target
