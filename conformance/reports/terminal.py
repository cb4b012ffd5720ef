"""The verdict at the end of a pytest run: a table per clause, then one line to gate on."""

from __future__ import annotations

from conformance.reports.model import RunReport
from conformance.verdicts import Verdict

EVIDENCE_WIDTH = 70
MARKS = {
    Verdict.PASS: "pass",
    Verdict.INFO: "info",
    Verdict.SKIPPED: "skipped",
    Verdict.FAIL: "FAIL",
    Verdict.ERROR: "ERROR",
}


def _short(text: str, width: int = EVIDENCE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _evidence(report_clause: object) -> str:
    from conformance.reports.model import ClauseResult

    assert isinstance(report_clause, ClauseResult)
    if report_clause.failures:
        first = report_clause.failures[0]
        received = next(
            (
                line[len("Received: ") :]
                for line in first.message.splitlines()
                if line.startswith("Received: ")
            ),
            first.title,
        )
        return _short(received)
    if report_clause.verdict is Verdict.SKIPPED:
        return _short(report_clause.reason)
    notes = [c.message for c in report_clause.checks if c.message and c.verdict is not Verdict.SKIPPED]
    return _short(notes[0]) if notes else ""


def render_terminal(report: RunReport) -> list[str]:
    """Lines for the terminal: header, one row per clause, the verdict line."""
    lines = ["", "=" * 26 + " Live Photos API conformance " + "=" * 26]
    lines.append(f"{'clause':<10} {'level':<6} {'verdict':<8} evidence")
    for clause in report.clauses:
        lines.append(f"{clause.id:<10} {clause.level:<6} {MARKS[clause.verdict]:<8} {_evidence(clause)}")
    score = report.should_score
    score_text = "n/a" if score is None else f"{score:g}%"
    if report.compatible:
        verdict = "COMPATIBLE"
    else:
        errors = report.counts[Verdict.ERROR.value]
        reasons = [f"{report.must_failures} MUST failures"]
        if errors:
            reasons.append(f"{errors} clauses could not be judged")
        if report.level == "SHOULD":
            should = sum(1 for c in report.clauses if c.failed_level == "SHOULD")
            reasons.append(f"{should} SHOULD failures")
        verdict = f"NOT COMPATIBLE ({', '.join(reasons)})"
    lines.append("")
    lines.append(
        f"{verdict} — SHOULD score {score_text} — target {report.target_url} — edition {report.edition}"
    )
    return lines
