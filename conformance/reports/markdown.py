"""The Markdown summary: for a CI job summary or a pull-request comment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from conformance.redact import Redactor
from conformance.reports.model import COMPATIBLE, INCOMPLETE, RunReport, RunTraffic

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
MAX_CELL_CHARS = 200  # a table cell longer than this is cut: the JSON report has the full text
MAX_CURLS_PER_CLAUSE = 3  # reproductions shown per failed clause; the JSON report has them all
ICONS = {"pass": "✅", "info": "ℹ️", "skipped": "⏭️", "blocked": "⛓️", "fail": "❌", "error": "💥"}


def cell(text: str, limit: int = MAX_CELL_CHARS) -> str:
    """Text made safe for one Markdown table cell: one line, pipes escaped, length capped."""
    one_line = " ".join(str(text).split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return one_line.replace("\\", "\\\\").replace("|", "\\|")


def fenced(code: str, lang: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run inside ``code``."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{code}\n{fence}"


def render_markdown(report: RunReport, redactor: Redactor | None = None) -> str:
    """Verdict line, run facts, verdict counts, what was not judged, the traffic and a table of
    the failed clauses."""
    if redactor is not None:
        report = RunReport.from_dict(redactor(report.to_dict()))
    mark = {COMPATIBLE: "✅", INCOMPLETE: "⚪"}.get(report.outcome, "❌")
    score = report.should_score
    lines = [
        f"## {mark} livephoto-conformance: {report.verdict_line}",
        "",
        *([f"**{report.root_line}**", ""] if report.root_line else []),
        f"**Target** `{report.target_url or '(none)'}` · **edition** `{report.edition}` · "
        f"**gate** {report.level} · **suite** {report.suite_version} · "
        f"**seed** {report.seed if report.seed is not None else '—'} · "
        f"**run** {report.started_at} → {report.finished_at}",
        "",
        f"**Score:** {'n/a' if score is None else f'{score:g}%'} of applicable SHOULD clauses "
        f"· **MUST failures:** {report.must_failures}",
        "",
        "| " + " | ".join(f"{ICONS[v]} {v}" for v in report.counts) + " |",
        "|" + "---:|" * len(report.counts),
        "| " + " | ".join(str(n) for n in report.counts.values()) + " |",
        "",
    ]
    unjudged = report.not_judged_reasons()
    if unjudged:
        lines += [f"### Not judged ({len(unjudged)})", "", "| clause | why |", "|---|---|"]
        lines += [f"| {clause} | {cell(reason)} |" for clause, reason in unjudged]
        lines.append("")
    if report.traffic is not None:
        lines += traffic_section(report.traffic)
    failed = report.failed
    if not failed:
        lines.append("No clause failed.")
        return "\n".join(lines) + "\n"
    lines += [
        f"### Failed clauses ({len(failed)})",
        "",
        "| clause | level | family | verdict | reason |",
        "|---|---|---|---|---|",
    ]
    for clause in failed:
        level = clause.failed_level or clause.level
        lines.append(
            f"| {clause.id} | {level} | {clause.family} | {ICONS[clause.verdict]} "
            f"{clause.verdict} | {cell(clause.reason or clause.title)} |"
        )
    lines.append("")
    for clause in failed:
        curls = list(dict.fromkeys(c.evidence.get("curl", "") for c in clause.failures))
        curls = [c for c in curls if c]
        if curls:
            more = len(curls) - MAX_CURLS_PER_CLAUSE
            lines += [
                f"<details><summary>Reproduce {clause.id}</summary>",
                "",
                fenced("\n".join(curls[:MAX_CURLS_PER_CLAUSE]), "sh"),
                *(["", f"… and {more} more in the JSON report."] if more > 0 else []),
                "",
                "</details>",
            ]
    return "\n".join(lines) + "\n"


def _share(part: float, whole: float) -> str:
    return f" ({100 * part / whole:.0f}%)" if whole > 0 else ""


def traffic_section(traffic: RunTraffic) -> list[str]:
    """What the run cost the target (issue 18): one row of figures, the rate limits when there
    were any, and the clauses ``--budget`` left with fewer samples than the default run."""
    budget = "—" if traffic.budget is None else f"{traffic.budget} successes"
    lines = [
        "### Traffic",
        "",
        "| requests | successes | wall time | waiting on the target | working in the suite "
        "| concurrency | budget |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {traffic.requests} | {traffic.successes} | {traffic.wall_s:.1f} s "
        f"| {traffic.waited_s:.1f} s{_share(traffic.waited_s, traffic.wall_s)} "
        f"| {traffic.work_s:.1f} s{_share(traffic.work_s, traffic.wall_s)} "
        f"| {traffic.concurrency} | {budget} |",
        "",
    ]
    if traffic.rate_limits_retried or traffic.rate_limits_returned:
        lines += [
            f"Rate limits (429): {traffic.rate_limits_retried} waited out "
            f"({traffic.backoff_s:.1f} s of back-off), {traffic.rate_limits_returned} not.",
            "",
        ]
    if traffic.reduced:
        lines += [
            f"#### Judged on fewer samples than the default run ({len(traffic.reduced)})",
            "",
            "| clause | what the budget cut |",
            "|---|---|",
            *(f"| {clause} | {cell(why)} |" for clause, why in traffic.reduced.items()),
            "",
        ]
    return lines


def write_markdown(report: RunReport, path: str | Path, redactor: Redactor | None = None) -> Path:
    """Write the Markdown summary to ``path`` (parent folders created); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_markdown(report, redactor), encoding="utf-8")
    return target


def append_step_summary(
    report: RunReport,
    env: Mapping[str, str] = os.environ,
    redactor: Redactor | None = None,
) -> Path | None:
    """Append the summary to ``$GITHUB_STEP_SUMMARY`` when it is set; returns the file or None."""
    target = env.get(STEP_SUMMARY_ENV)
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(render_markdown(report, redactor) + "\n")
    return path
