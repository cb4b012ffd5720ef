"""Reports of a run: one results model, one writer per format, the regression diff and the badge.

Never imports pytest: the plugin, the proxy and the CLI all build reports through this package.
"""

from __future__ import annotations

from pathlib import Path

from conformance.redact import Redactor
from conformance.reports.badge import render_badge, write_badge
from conformance.reports.diff import (
    DiffResult,
    DiffRow,
    diff_reports,
    render_diff_markdown,
    render_diff_text,
)
from conformance.reports.html import render_html, write_html
from conformance.reports.json_report import ReportError, load_report, render_json, write_json
from conformance.reports.junit import render_junit, write_junit
from conformance.reports.markdown import append_step_summary, render_markdown, write_markdown
from conformance.reports.model import (
    CheckResult,
    ClauseResult,
    RunReport,
    Sample,
    aggregate,
)

__all__ = [
    "CheckResult",
    "ClauseResult",
    "DiffResult",
    "DiffRow",
    "ReportError",
    "RunReport",
    "Sample",
    "aggregate",
    "append_step_summary",
    "diff_reports",
    "load_report",
    "render_badge",
    "render_diff_markdown",
    "render_diff_text",
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
    "write_badge",
    "write_html",
    "write_json",
    "write_junit",
    "write_markdown",
    "write_reports",
]


def write_reports(
    report: RunReport,
    *,
    json: str | Path | None = None,
    html: str | Path | None = None,
    md: str | Path | None = None,
    badge: str | Path | None = None,
    junit: str | Path | None = None,
    redactor: Redactor | None = None,
) -> list[Path]:
    """Write every requested format (``--report-json/-html/-md/-badge``, ``--junitxml``); returns
    the paths."""
    written = []
    if json:
        written.append(write_json(report, json, redactor))
    if html:
        written.append(write_html(report, html, redactor))
    if md:
        written.append(write_markdown(report, md, redactor))
    if badge:
        written.append(write_badge(report, badge))
    if junit:
        written.append(write_junit(report, junit, redactor))
    return written
