"""The Markdown summary: verdict line, score, failed-clause table, GitHub step summary."""

from __future__ import annotations

from pathlib import Path

from conformance.reports.markdown import (
    append_step_summary,
    cell,
    fenced,
    render_markdown,
    write_markdown,
)
from conformance.reports.model import RunReport
from tests.reports.conftest import all_passing, build, curl_for


def _table_rows(text: str) -> list[str]:
    section = text.split("### Failed clauses", 1)[1]
    return [line for line in section.splitlines() if line.startswith("| LP-")]


def test_broken_report_lists_exactly_the_failed_clauses(broken_report: RunReport) -> None:
    text = render_markdown(broken_report)
    first = text.splitlines()[0]
    assert first.startswith("## ❌ livephoto-conformance: NOT COMPATIBLE (3 MUST failures")
    assert "SHOULD score 91.3%" in first
    rows = _table_rows(text)
    assert [row.split("|")[1].strip() for row in rows] == [
        "LP-ENV-3",
        "LP-OK-2",
        "LP-VID-3",
        "LP-ERR-3",
    ]
    assert "| LP-VID-3 | SHOULD | video |" in text
    assert "### Failed clauses (4)" in text
    assert curl_for() in text
    assert "<summary>Reproduce LP-ENV-3</summary>" in text


def test_passing_report_has_no_table() -> None:
    text = render_markdown(build(all_passing()))
    assert text.startswith("## ✅ livephoto-conformance: COMPATIBLE (0 MUST failures")
    assert "No clause failed." in text
    assert "### Failed clauses" not in text
    assert "**Score:** 100%" in text


def test_cells_and_fences_cannot_break_the_layout() -> None:
    assert cell("a | b\nc") == "a \\| b c"
    assert len(cell("x" * 500)) == 200
    block = fenced("echo ```x```")
    assert block.startswith("````\n") and block.endswith("\n````")


def test_write_and_step_summary_append(tmp_path: Path, broken_report: RunReport) -> None:
    written = write_markdown(broken_report, tmp_path / "deep" / "summary.md")
    assert written.read_text(encoding="utf-8") == render_markdown(broken_report)
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    assert append_step_summary(broken_report, env) == summary
    assert append_step_summary(broken_report, env) == summary
    content = summary.read_text(encoding="utf-8")
    assert content.startswith("earlier step\n## ❌")
    assert content.count("### Failed clauses (4)") == 2


def test_no_step_summary_without_the_variable(broken_report: RunReport) -> None:
    assert append_step_summary(broken_report, {}) is None


def test_reproductions_are_capped_per_clause() -> None:
    from conformance.reports.markdown import MAX_CURLS_PER_CLAUSE
    from tests.reports.conftest import failing

    many = []
    for i in range(MAX_CURLS_PER_CLAUSE + 2):
        check = failing("LP-ENV-5", f"exchange {i}")
        check.evidence["curl"] += f" # {i}"
        many.append(check)
    results = [r for r in all_passing() if r.clause != "LP-ENV-5"] + many
    text = render_markdown(build(results))
    assert text.count("curl -X POST") == MAX_CURLS_PER_CLAUSE
    assert "… and 2 more in the JSON report." in text
