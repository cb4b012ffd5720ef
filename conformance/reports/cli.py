"""The ``diff`` and ``badge`` subcommands of ``livephoto-conformance`` (registered in conformance.cli)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.reports.json_report import ReportError, load_report


def add_diff_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``diff BASELINE.json CURRENT.json [--level must|should] [--format text|md]``."""
    parser = subparsers.add_parser(
        "diff",
        help="compare two JSON reports; exit 1 when a clause that passed now fails",
        description=(
            "Print the clauses whose verdict changed between two JSON reports. Exit 1 when a "
            "clause that passed in the baseline now fails at the gate level (MUST by default), "
            "0 otherwise, 2 when a report cannot be read."
        ),
    )
    parser.add_argument("baseline", type=Path, help="the reference run's JSON report")
    parser.add_argument("current", type=Path, help="this run's JSON report")
    parser.add_argument(
        "--level",
        type=str.upper,
        choices=("MUST", "SHOULD"),
        default="MUST",
        help="gate level: MUST (default) or SHOULD to fail on SHOULD regressions too",
    )
    parser.add_argument(
        "--format",
        choices=("text", "md"),
        default="text",
        help="text table (default) or Markdown for CI comments",
    )
    parser.add_argument("-o", "--output", type=Path, default=None, help="also write the table to this file")
    parser.set_defaults(run=run_diff)


def run_diff(args: argparse.Namespace) -> int:
    """Compare the two reports and print the table; the gate's exit code."""
    from conformance.reports.diff import diff_reports, render_diff_markdown, render_diff_text

    try:
        baseline = load_report(args.baseline)
        current = load_report(args.current)
    except ReportError as exc:
        print(f"livephoto-conformance diff: error: {exc}", file=sys.stderr)
        return 2
    result = diff_reports(baseline, current, level=args.level)
    text = render_diff_markdown(result) if args.format == "md" else render_diff_text(result)
    sys.stdout.write(text)
    if args.output is not None and not _write(args.output, text, "diff"):
        return 2
    return result.exit_code


def add_badge_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``badge REPORT.json -o badge.svg``."""
    parser = subparsers.add_parser(
        "badge",
        help="write the compatibility badge (SVG) of a JSON report",
        description='Write "livephoto | compatible 92%%" (green) or "not compatible" (red).',
    )
    parser.add_argument("report", type=Path, help="a JSON report")
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("livephoto-badge.svg"), help="the SVG to write"
    )
    parser.set_defaults(run=run_badge)


def run_badge(args: argparse.Namespace) -> int:
    """Write the badge; 0 on success, 2 when the report cannot be read or the SVG written."""
    from conformance.reports.badge import badge_message, render_badge

    try:
        report = load_report(args.report)
    except ReportError as exc:
        print(f"livephoto-conformance badge: error: {exc}", file=sys.stderr)
        return 2
    if not _write(args.output, render_badge(report), "badge"):
        return 2
    print(f"{args.output}: livephoto | {badge_message(report)[0]}")
    return 0


def _write(path: Path, text: str, command: str) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(
            f"livephoto-conformance {command}: error: cannot write {path}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return False
    return True
