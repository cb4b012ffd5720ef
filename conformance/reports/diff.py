"""The regression gate: which clauses changed verdict between two JSON reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.reports.markdown import cell
from conformance.reports.model import ClauseResult, RunReport
from conformance.spec import Level, catalogue
from conformance.verdicts import Verdict

PASSED = frozenset({Verdict.PASS.value, Verdict.INFO.value})
FAILED = frozenset({Verdict.FAIL.value, Verdict.ERROR.value})
NOT_JUDGED = "not judged"  # a clause of the current run that it reached no verdict on
CHANGES = ("regressed", "fixed", "changed", "added", "removed")


@dataclass(frozen=True)
class DiffRow:
    """One clause whose verdict differs (or that exists on one side only)."""

    clause: str
    level: str  # the failing level when it fails now, else the clause's level
    before: str | None
    after: str | None
    change: str
    title: str = ""
    reason: str = ""


@dataclass
class DiffResult:
    """The changed clauses and whether the gate passes at ``level``."""

    rows: list[DiffRow]
    level: str = Level.MUST.value
    baseline: dict[str, str] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)

    @property
    def regressions(self) -> list[DiffRow]:
        """Clauses that passed before, fail now, at a level the gate covers."""
        return [r for r in self.rows if r.change == "regressed" and Level(r.level).gates(self.level)]

    @property
    def exit_code(self) -> int:
        """1 when there is a regression the gate covers, else 0."""
        return 1 if self.regressions else 0


def _classify(before: str | None, after: str | None) -> str:
    if before is None:
        return "added"
    if after is None:
        return "removed"
    if before in PASSED and (after in FAILED or after == NOT_JUDGED):
        return "regressed"  # a clause that passed and is now not judged proves nothing any more
    if before in FAILED and after in PASSED:
        return "fixed"
    return "changed"


def _row_level(before: ClauseResult | None, after: ClauseResult | None) -> str:
    if after is not None and after.failed_level:
        return after.failed_level
    return (after or before).level  # type: ignore[union-attr]


def _facts(report: RunReport) -> dict[str, str]:
    return {
        "suite_version": report.suite_version,
        "target_url": report.target_url,
        "started_at": report.started_at,
        "verdict": report.verdict_line,
    }


def _state(clause: ClauseResult | None) -> str | None:
    """The clause's verdict, or "not judged" for one selected but left without a verdict."""
    if clause is None:
        return None
    return clause.verdict.value if clause.judged else NOT_JUDGED


def diff_reports(baseline: RunReport, current: RunReport, *, level: str = "MUST") -> DiffResult:
    """Compare two runs clause by clause; ``level`` is the gate (MUST, or SHOULD to include it).

    A regression is a clause whose verdict was pass/info and is now fail/error or not judged (left
    without a verdict, or absent from a run of the same suite version: a run that judged less
    proves less); across suite versions a clause on one side only is added or removed.
    """
    gate = Level(level.upper()).value
    same_suite = baseline.suite_version == current.suite_version
    known = set(catalogue())
    old = {c.id: c for c in baseline.clauses}
    new = {c.id: c for c in current.clauses}
    rows = []
    for clause_id in list(old) + [c for c in new if c not in old]:
        before, after = old.get(clause_id), new.get(clause_id)
        b = _state(before)
        a = (
            _state(after)
            if after is not None
            else (NOT_JUDGED if same_suite and clause_id in known else None)
        )
        if b == a:
            continue
        source = after or before
        assert source is not None
        rows.append(
            DiffRow(
                clause=clause_id,
                level=_row_level(before, after),
                before=b,
                after=a,
                change=_classify(b, a),
                title=source.title,
                reason=after.reason if after is not None else "",
            )
        )
    rows.sort(key=lambda r: CHANGES.index(r.change))
    return DiffResult(rows, gate, _facts(baseline), _facts(current))


def _summary(result: DiffResult) -> str:
    counts = {change: sum(1 for r in result.rows if r.change == change) for change in CHANGES}
    parts = [f"{n} {change}" for change, n in counts.items() if n]
    head = (
        f"{len(result.regressions)} regression(s) at gate {result.level}"
        if result.regressions
        else f"no regression at gate {result.level}"
    )
    return head + (f" ({', '.join(parts)})" if parts else " (no clause changed verdict)")


def render_diff_text(result: DiffResult) -> str:
    """A plain-text table for a terminal or a CI log."""
    lines = [_summary(result)]
    if result.rows:
        header = ("clause", "level", "before", "after", "change", "title")
        table = [header] + [
            (r.clause, r.level, r.before or "—", r.after or "—", r.change, r.title) for r in result.rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
        for row in table:
            cells = [value.ljust(width) for value, width in zip(row, widths, strict=False)]
            lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines) + "\n"


def render_diff_markdown(result: DiffResult) -> str:
    """A Markdown table for a pull-request comment or a job summary."""
    mark = "❌" if result.regressions else "✅"
    lines = [
        f"### {mark} livephoto-conformance diff: {_summary(result)}",
        "",
        f"Baseline: {result.baseline.get('verdict', '')} · suite "
        f"{result.baseline.get('suite_version', '')}  ",
        f"Current: {result.current.get('verdict', '')} · suite {result.current.get('suite_version', '')}",
        "",
    ]
    if result.rows:
        lines += ["| clause | level | before | after | change | title |", "|---|---|---|---|---|---|"]
        gated = {id(r) for r in result.regressions}
        for r in result.rows:
            change = f"**{r.change}**" if id(r) in gated else r.change
            lines.append(
                f"| {r.clause} | {r.level} | {r.before or '—'} | {r.after or '—'} | {change} "
                f"| {cell(r.title)} |"
            )
    return "\n".join(lines) + "\n"
