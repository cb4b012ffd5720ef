"""The verdict at the end of a pytest run: a table per clause, the triage of the failures (MUST
first, then SHOULD; each printed once, with one curl command), then one line to gate on, then what
the run cost the target (issue 18: requests, successes, waiting vs working, what --budget cut)."""

from __future__ import annotations

from conformance.reports.model import COMPATIBLE, NOT_COMPATIBLE, ClauseResult, RunReport
from conformance.reports.triage import GROUP_TITLES, Failure, grouped, received_expected, triage
from conformance.spec import Level
from conformance.verdicts import Verdict

EVIDENCE_WIDTH = 70
MAX_BODY_LINES = 24  # of a pretty-printed response body; the JSON and HTML reports keep it whole
LABEL_WIDTH = 12  # the longest label is a part name: image_target
Markup = dict[str, bool]  # pytest's terminal writer markup ({"red": True, "bold": True})
Line = tuple[str, Markup]
GROUP_NAMES = {Level.MUST.value: "MUST", Level.SHOULD.value: "SHOULD", "ERROR": "in error"}
GROUP_COLOURS: dict[str, Markup] = {
    Level.MUST.value: {"red": True, "bold": True},
    Level.SHOULD.value: {"yellow": True, "bold": True},
    "ERROR": {"purple": True, "bold": True},
}
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
    """Lines for the terminal: header, one row per clause, the triage of the failures, the root
    causes, the verdict line and, when the run recorded it, its traffic (``traffic_lines``)."""
    return [text for text, _ in render_terminal_styled(report)]


def render_terminal_styled(report: RunReport) -> list[Line]:
    """``render_terminal`` with each line's colour (the triage headings and the verdict line)."""
    plain: Markup = {}
    lines: list[Line] = [("", plain), ("=" * 26 + " Live Photos API conformance " + "=" * 26, plain)]
    lines.append((f"{'clause':<10} {'level':<6} {'verdict':<8} evidence", plain))
    for clause in report.clauses:
        row = f"{clause.id:<10} {_row_level(clause):<6} {MARKS[clause.verdict]:<8} {_evidence(clause)}"
        lines.append((row, plain))
    if not report.clauses:
        lines.append(("(no clause selected)", plain))
    lines.extend(render_triage(report))
    lines.append(("", plain))
    if report.root_line:
        lines.append((report.root_line, plain))
    lines.append((verdict_text(report), verdict_markup(report)))
    lines.extend((text, plain) for text in traffic_lines(report))
    return lines


def traffic_lines(report: RunReport) -> list[str]:
    """What the run cost the target, right under the verdict (a reader weighing the verdict sees
    how much evidence it rests on): one line of figures, then one line per clause ``--budget``
    left with fewer samples than the default run. Nothing for a report without traffic (old ones)."""
    traffic = report.traffic
    if traffic is None:
        return []
    return [f"traffic: {traffic.line()}", *(f"{clause} {why}" for clause, why in traffic.reduced.items())]


def render_triage(report: RunReport) -> list[Line]:
    """Every failing clause once, MUST first, then SHOULD, then errors: the clause, received vs
    expected, the request, the response and its body pretty-printed, one curl command."""
    failures = triage(report)
    if not failures:
        return []
    counts = ", ".join(f"{len(found)} {GROUP_NAMES[group]}" for group, found in grouped(failures))
    lines: list[Line] = [("", {}), (f"{'=' * 26} Triage: {counts} {'=' * 26}", {"bold": True})]
    for group, found in grouped(failures):
        lines.append(("", {}))
        lines.append((f"{GROUP_TITLES[group]} ({len(found)})", GROUP_COLOURS[group]))
        for failure in found:
            lines.extend(_failure_lines(failure))
    return lines


def _row(label: str, value: str) -> list[Line]:
    first, *rest = value.splitlines() or [""]
    rows: list[Line] = [(f"  {label:<{LABEL_WIDTH}} {first}", {})]
    rows += [(f"  {'':<{LABEL_WIDTH}} {line}", {}) for line in rest]
    return rows


def _failure_lines(failure: Failure) -> list[Line]:
    head = failure.head
    if failure.blocks:
        head += f" · blocks {', '.join(failure.blocks)}"
    lines: list[Line] = [("", {}), (head, {"bold": True})]
    lines.append((f"  {received_expected(failure.received, failure.expected)}", {}))
    test = failure.shown.nodeid or failure.shown.check
    if failure.others:
        more = len(failure.others)
        test += f" (+{more} more failing exchange{'s' * (more != 1)}: see the JSON or HTML report)"
    lines += _row("test", test)
    if failure.same_as:
        lines += _row("exchange", f"the same request and answer as {failure.same_as} above")
        return lines
    for label, value in failure.request:
        lines += _row(label, value)
    if failure.response:
        lines += _row("response", failure.response)
    if failure.body:
        body = failure.body.splitlines()
        if len(body) > MAX_BODY_LINES:
            body = [*body[:MAX_BODY_LINES], f"… {len(body) - MAX_BODY_LINES} more lines in the JSON report"]
        lines += _row("body", "\n".join(body))
    for note in failure.notes:
        lines += _row("note", note)
    if failure.saved:
        lines += _row("saved", ", ".join(failure.saved))
    if failure.curl:
        lines.append((f"  {failure.curl}", {}))
    return lines


def verdict_text(report: RunReport) -> str:
    """The final line: the verdict line, the target and the edition."""
    return f"{report.verdict_line} — target {report.target_url} — edition {report.edition}"


def verdict_markup(report: RunReport) -> dict[str, bool]:
    """How pytest's terminal writer colours the final line (it drops colour when unsupported)."""
    return COLOURS.get(report.outcome, INCOMPLETE_COLOUR)
