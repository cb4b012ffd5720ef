"""The trend of one target: its JSON reports over time, as a table, a chart and the clauses that
started or stopped failing. Reports of another target or another kind are refused (use
``compare`` for several targets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from conformance.redact import Redactor
from conformance.reports.charts import Series, line_chart
from conformance.reports.html import _environment
from conformance.reports.json_report import ReportError
from conformance.reports.markdown import cell
from conformance.reports.model import RunReport


@dataclass(frozen=True)
class Point:
    """One run of the target."""

    path: str
    report: RunReport

    @property
    def failing(self) -> list[str]:
        """The clauses the run failed or could not judge because of an error, in SPEC order."""
        return [c.id for c in self.report.failed]

    @property
    def when(self) -> str:
        """The run's start, minutes precision, for tables and the chart's axis."""
        return _moment(self.report.started_at).strftime("%Y-%m-%d %H:%M")

    @property
    def score_text(self) -> str:
        """The SHOULD score as the reports print it."""
        score = self.report.should_score
        return "n/a" if score is None else f"{score:g}%"


@dataclass(frozen=True)
class Change:
    """What differs between a run and the one before it."""

    newly_failing: tuple[str, ...]
    fixed: tuple[str, ...]


@dataclass(frozen=True)
class History:
    """The runs of one target in time order."""

    target: str
    points: tuple[Point, ...]

    def changes(self) -> list[Change | None]:
        """Per run, the change since the previous one (None for the first)."""
        found: list[Change | None] = [None]
        for before, after in zip(self.points, self.points[1:], strict=False):
            old, new = set(before.failing), set(after.failing)
            found.append(
                Change(
                    tuple(c for c in after.failing if c not in old),
                    tuple(c for c in before.failing if c not in new),
                )
            )
        return found

    def clause_rows(self) -> list[tuple[str, list[str]]]:
        """The clauses that failed in at least one run, with their verdict in every run."""
        ever = dict.fromkeys(c for p in self.points for c in p.failing)
        rows = []
        for clause in ever:
            verdicts = []
            for point in self.points:
                found = next((c for c in point.report.clauses if c.id == clause), None)
                verdicts.append(found.verdict.value if found is not None else "—")
            rows.append((clause, verdicts))
        return rows

    def trend(self) -> str:
        """One sentence: the SHOULD score and MUST failures from the first run to the last."""
        first, last = self.points[0], self.points[-1]
        parts = [f"SHOULD score {first.score_text} → {last.score_text}"]
        a, b = first.report.should_score, last.report.should_score
        if a is not None and b is not None and a != b:
            parts[-1] += f" ({b - a:+.1f} points)"
        parts.append(f"MUST failures {first.report.must_failures} → {last.report.must_failures}")
        parts.append(f"verdict {first.report.outcome} → {last.report.outcome}")
        return "; ".join(parts)


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.min


def build_history(loaded: Sequence[tuple[Path, RunReport]]) -> History:
    """The runs in time order; ReportError (one line) when they are not all of one target and kind."""
    if not loaded:
        raise ReportError("history needs at least one report")
    first_path, first = loaded[0]
    for path, report in loaded[1:]:
        if report.kind != first.kind:
            raise ReportError(
                f"report {path} is a {report.kind} report but {first_path} a {first.kind} one: "
                "a history follows one kind of run"
            )
        if report.target_url != first.target_url:
            raise ReportError(
                f"report {path} is of {report.target_url or '(no target)'} but {first_path} of "
                f"{first.target_url or '(no target)'}: a history follows one target (compare several "
                "targets with `livephoto-conformance compare`)"
            )
    ordered = sorted(loaded, key=lambda item: _moment(item[1].started_at).timestamp())
    return History(first.target_url, tuple(Point(str(path), report) for path, report in ordered))


def _failing_text(clauses: Sequence[str]) -> str:
    return ", ".join(clauses) if clauses else "none"


def render_text(history: History) -> str:
    """A table of the runs, then the trend and the last change."""
    header = ["run", "started", "suite", "verdict", "MUST", "SHOULD", "failing clauses"]
    table = [header]
    for number, point in enumerate(history.points, 1):
        r = point.report
        table.append(
            [str(number), point.when, r.suite_version, r.outcome, str(r.must_failures), point.score_text,
             _failing_text(point.failing)]
        )  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = [f"history of {history.target or '(no target)'}: {len(history.points)} runs", ""]
    for row in table:
        lines.append("  ".join([*(v.ljust(w) for v, w in zip(row, widths, strict=False)), row[-1]]).rstrip())
    lines += ["", f"trend: {history.trend()}"]
    last = history.changes()[-1]
    if last is not None:
        lines.append(
            f"since the previous run: newly failing {_failing_text(last.newly_failing)}; "
            f"fixed {_failing_text(last.fixed)}"
        )
    return "\n".join(lines) + "\n"


def render_markdown(history: History) -> str:
    """The runs as a Markdown table, then the trend."""
    lines = [f"## livephoto-conformance history of `{history.target or '(no target)'}`", ""]
    lines += ["| run | started | suite | verdict | MUST failures | SHOULD score | failing clauses | change |"]
    lines += ["|---:|---|---|---|---:|---:|---|---|"]
    for number, (point, change) in enumerate(zip(history.points, history.changes(), strict=True), 1):
        r = point.report
        delta = ""
        if change is not None:
            bits = [f"+{c}" for c in change.newly_failing] + [f"fixed {c}" for c in change.fixed]
            delta = ", ".join(bits)
        lines.append(
            f"| {number} | {point.when} | {r.suite_version} | {r.outcome} | {r.must_failures} | "
            f"{point.score_text} | {cell(_failing_text(point.failing))} | {cell(delta)} |"
        )
    lines += ["", f"**Trend:** {history.trend()}"]
    return "\n".join(lines) + "\n"


def charts(history: History) -> list[str]:
    """The SVG charts of the HTML page: the SHOULD score, and the failing clauses, per run."""
    labels = [point.when for point in history.points]
    score = line_chart(
        [Series("SHOULD score (%)", [p.report.should_score for p in history.points])],
        labels,
        title="SHOULD score per run",
        y_label="%",
        y_max=100.0,
        chart_id="score-chart",
    )
    failures = line_chart(
        [
            Series("MUST failures", [float(p.report.must_failures) for p in history.points]),
            Series("failing clauses", [float(len(p.failing)) for p in history.points]),
        ],
        labels,
        title="Failing clauses per run",
        y_label="clauses",
        chart_id="failures-chart",
    )
    return [score, failures]


def render_html(history: History, redactor: Redactor | None = None) -> str:
    """One self-contained page: the charts (inline SVG), the runs, and the clauses that failed."""
    page = (
        _environment()
        .get_template("history.html.j2")
        .render(
            history=history,
            changes=history.changes(),
            clause_rows=history.clause_rows(),
            charts=charts(history),
        )
    )
    return redactor.text(page) if redactor is not None else page
