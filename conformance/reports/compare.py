"""The comparison matrix: several targets' JSON reports side by side, clause by clause.

For choosing among replacements: the verdict of every clause for every target, then each target's
outcome, MUST failures and SHOULD score, and a rank (fewest MUST failures, then fewest clauses not
judged, then the highest SHOULD score). The reports must be comparable — same kind, edition,
gating level and clause selection — or the matrix would compare different questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance.redact import Redactor
from conformance.reports.html import _environment
from conformance.reports.json_report import ReportError, load_report
from conformance.reports.markdown import ICONS, cell  # one icon per verdict in every report
from conformance.reports.model import RunReport


@dataclass(frozen=True)
class Column:
    """One target: its label, the report file and the report."""

    label: str
    path: str
    report: RunReport

    @property
    def score_text(self) -> str:
        """The SHOULD score as the reports print it."""
        score = self.report.should_score
        return "n/a" if score is None else f"{score:g}%"


@dataclass(frozen=True)
class Row:
    """One clause: its facts and the verdict of each column (failing ones flagged)."""

    clause: str
    level: str
    family: str
    title: str
    verdicts: tuple[str, ...]
    failing: tuple[bool, ...]

    @property
    def differs(self) -> bool:
        """The targets do not all agree on this clause."""
        return len(set(self.verdicts)) > 1


@dataclass(frozen=True)
class Matrix:
    """Clauses × targets, and the per-target figures under it."""

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]

    def ranks(self) -> list[int]:
        """1 for the best column: fewest MUST failures, then fewest clauses not judged, then the
        highest SHOULD score (ties share a rank)."""

        def key(column: Column) -> tuple[int, int, float]:
            r = column.report
            return (r.must_failures, len(r.not_judged), -(r.should_score or 0.0))

        keys = [key(c) for c in self.columns]
        return [1 + sum(1 for other in keys if other < mine) for mine in keys]


def load_reports(paths: Sequence[str | Path]) -> list[tuple[Path, RunReport]]:
    """Read every report (ReportError, one line, on the first that cannot be read)."""
    return [(Path(path), load_report(path)) for path in paths]


def _check_comparable(loaded: Sequence[tuple[Path, RunReport]]) -> None:
    first_path, first = loaded[0]
    first_ids = [c.id for c in first.clauses]
    for path, report in loaded[1:]:
        for what, mine, theirs, hint in (
            ("kind", report.kind, first.kind, "compare reports of the same kind"),
            ("edition", report.edition, first.edition, "run every candidate with the same --edition"),
            ("gating level", report.level, first.level, "run every candidate with the same --level"),
        ):
            if mine != theirs:
                raise ReportError(f"report {path} has {what} {mine} but {first_path} has {theirs}: {hint}")
        ids = [c.id for c in report.clauses]
        if set(ids) != set(first_ids):
            raise ReportError(
                f"report {path} judged {len(ids)} clauses, {first_path} {len(first_ids)} other ones: "
                "run every candidate with the same --clause/--family selection and suite version"
            )


def _labels(loaded: Sequence[tuple[Path, RunReport]], labels: Sequence[str]) -> list[str]:
    if labels:
        if len(labels) != len(loaded):
            raise ReportError(f"{len(labels)} --label for {len(loaded)} reports: give one per report")
        return list(labels)
    urls = [report.target_url or path.stem for path, report in loaded]
    return [
        f"{url} ({path.name})" if urls.count(url) > 1 else url
        for url, (path, _) in zip(urls, loaded, strict=True)
    ]


def build_matrix(loaded: Sequence[tuple[Path, RunReport]], labels: Sequence[str] = ()) -> Matrix:
    """The matrix of comparable reports; ReportError (one line) when they are not comparable."""
    if len(loaded) < 2:
        raise ReportError("compare needs at least two reports (one per target)")
    _check_comparable(loaded)
    names = _labels(loaded, labels)
    columns = tuple(
        Column(name, str(path), report) for name, (path, report) in zip(names, loaded, strict=True)
    )
    by_id = [{c.id: c for c in col.report.clauses} for col in columns]
    failing = [{c.id for c in col.report.failed} for col in columns]
    rows = []
    for clause in columns[0].report.clauses:
        cells = [found[clause.id] for found in by_id]
        rows.append(
            Row(
                clause=clause.id,
                level=clause.level,
                family=clause.family,
                title=clause.title,
                verdicts=tuple(str(c.verdict.value) for c in cells),
                failing=tuple(clause.id in bad for bad in failing),
            )
        )
    return Matrix(columns, tuple(rows))


def _figures(matrix: Matrix) -> list[tuple[str, list[str]]]:
    ranks = matrix.ranks()
    return [
        ("verdict", [c.report.outcome for c in matrix.columns]),
        ("MUST failures", [str(c.report.must_failures) for c in matrix.columns]),
        ("SHOULD score", [c.score_text for c in matrix.columns]),
        ("not judged", [str(len(c.report.not_judged)) for c in matrix.columns]),
        ("rank", [str(rank) for rank in ranks]),
    ]


def render_text(matrix: Matrix) -> str:
    """A plain-text matrix for a terminal or a CI log (failing verdicts in capitals)."""
    header = ["clause", "level", *(f"[{i + 1}]" for i in range(len(matrix.columns)))]
    table = [header]
    for row in matrix.rows:
        shown = [v.upper() if bad else v for v, bad in zip(row.verdicts, row.failing, strict=True)]
        table.append([row.clause, row.level, *shown])
    table.append(["", "", *("" for _ in matrix.columns)])
    for name, values in _figures(matrix):
        table.append([name, "", *values])
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [f"[{i + 1}] {c.label}  ({c.path})" for i, c in enumerate(matrix.columns)]
    lines.append("")
    for line in table:
        lines.append(
            "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip()
        )
    best = [c.label for c, rank in zip(matrix.columns, matrix.ranks(), strict=True) if rank == 1]
    lines += ["", f"best: {', '.join(best)}"]
    return "\n".join(lines) + "\n"


def render_markdown(matrix: Matrix) -> str:
    """A Markdown matrix for a pull request, an issue or a job summary."""
    lines = [
        "## livephoto-conformance: comparison of " + ", ".join(f"`{c.label}`" for c in matrix.columns),
        "",
    ]
    lines.append("| clause | level | " + " | ".join(cell(c.label) for c in matrix.columns) + " |")
    lines.append("|---|---|" + "---|" * len(matrix.columns))
    for row in matrix.rows:
        cells = [f"{ICONS.get(v, '')} {v}".strip() for v in row.verdicts]
        lines.append(f"| {row.clause} | {row.level} | " + " | ".join(cells) + " |")
    for name, values in _figures(matrix):
        lines.append(f"| **{name}** | | " + " | ".join(f"**{cell(v)}**" for v in values) + " |")
    return "\n".join(lines) + "\n"


def render_html(matrix: Matrix, redactor: Redactor | None = None) -> str:
    """One self-contained page (inline CSS and JS, no network): the matrix, the figures, the rank."""
    page = (
        _environment()
        .get_template("compare.html.j2")
        .render(matrix=matrix, figures=_figures(matrix), ranks=matrix.ranks(), icons=ICONS)
    )
    return redactor.text(page) if redactor is not None else page
