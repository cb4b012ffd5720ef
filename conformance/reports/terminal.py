"""The verdict at the end of a pytest run: a table per clause, then one line to gate on."""

from __future__ import annotations

from conformance.reports.model import COMPATIBLE, NOT_COMPATIBLE, ClauseResult, RunReport
from conformance.spec import Level
from conformance.verdicts import Verdict

EVIDENCE_WIDTH = 70
MARKS = {
    Verdict.PASS: "pass",
    Verdict.INFO: "info",
    Verdict.SKIPPED: "skipped",
    Verdict.BLOCKED: "blocked",
    Verdict.FAIL: "FAIL",
    Verdict.ERROR: "ERROR",
}
# SPEC §5 preamble: every failure clause states two obligations; a row names the one that failed.
ERROR_PARTS = {
    Level.MUST.value: "MUST part (a 4xx error envelope with a valid status/code pair)",
    Level.SHOULD.value: "SHOULD part (the listed code)",
}
# The verdict line's colour (pytest's terminal writer markup).
COLOURS = {COMPATIBLE: {"green": True, "bold": True}, NOT_COMPATIBLE: {"red": True, "bold": True}}
INCOMPLETE_COLOUR = {"yellow": True, "bold": True}


def _short(text: str, width: int = EVIDENCE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _received(clause: ClauseResult) -> str:
    first = next((c for c in clause.failures if c.level == clause.failed_level), clause.failures[0])
    return next(
        (line[len("Received: ") :] for line in first.message.splitlines() if line.startswith("Received: ")),
        first.title,
    )


def _evidence(clause: ClauseResult) -> str:
    if clause.failures:
        text = _received(clause)
        if clause.id.startswith("LP-ERR-") and clause.failed_level in ERROR_PARTS:
            text = f"{ERROR_PARTS[clause.failed_level]}: {text}"
        return _short(text)
    if clause.verdict is Verdict.BLOCKED:
        return _short(clause.reason)
    if clause.verdict is Verdict.SKIPPED or not clause.judged:
        prefix = "" if clause.judged else "not judged: "
        return _short(prefix + clause.reason)
    notes = [c.message for c in clause.checks if c.message and c.verdict is not Verdict.SKIPPED]
    return _short(notes[0]) if notes else ""


def _row_level(clause: ClauseResult) -> str:
    """The level of the obligation that failed (a SHOULD part of a MUST clause says SHOULD)."""
    return clause.failed_level or clause.level


def render_terminal(report: RunReport) -> list[str]:
    """Lines for the terminal: header, one row per clause, what was not judged, the verdict line."""
    lines = ["", "=" * 26 + " Live Photos API conformance " + "=" * 26]
    lines.append(f"{'clause':<10} {'level':<6} {'verdict':<8} evidence")
    for clause in report.clauses:
        lines.append(
            f"{clause.id:<10} {_row_level(clause):<6} {MARKS[clause.verdict]:<8} {_evidence(clause)}"
        )
    if not report.clauses:
        lines.append("(no clause selected)")
    lines.append("")
    if report.root_line:
        lines.append(report.root_line)
    lines.append(verdict_text(report))
    return lines


def verdict_text(report: RunReport) -> str:
    """The final line: the verdict line, the target and the edition."""
    return f"{report.verdict_line} — target {report.target_url} — edition {report.edition}"


def verdict_markup(report: RunReport) -> dict[str, bool]:
    """How pytest's terminal writer colours the final line (it drops colour when unsupported)."""
    return COLOURS.get(report.outcome, INCOMPLETE_COLOUR)
