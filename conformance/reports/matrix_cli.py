"""The ``compare`` and ``history`` subcommands of ``livephoto-conformance`` (registered in
conformance.cli): several targets side by side, or one target over time. Exit 0 when the
outputs are written, 2 when a report is missing, unreadable, invalid or does not match the
others (one line on stderr)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.reports.json_report import ReportError

BAD_INPUT = 2


def add_compare_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``compare A.json B.json … [--html M.html] [--md M.md] [--label NAME …]``."""
    parser = subparsers.add_parser(
        "compare",
        help="clause × target matrix of several JSON reports (choosing among replacements)",
        description=(
            "Put the JSON reports of several targets side by side: the verdict of every clause for "
            "every target, then each target's verdict, MUST failures, SHOULD score and rank. The "
            "reports must share kind, edition, gating level and clause selection. Exit 0 when "
            "written, 2 when a report is missing, invalid or not comparable."
        ),
    )
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json", help="one report per target")
    parser.add_argument("--html", type=Path, default=None, metavar="PATH", help="write the matrix as HTML")
    parser.add_argument("--md", type=Path, default=None, metavar="PATH", help="write the matrix as Markdown")
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="NAME",
        help="a column's name, once per report in order (default: the target URL)",
    )
    parser.set_defaults(run=run_compare)


def add_history_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``history R1.json … RN.json [--html H.html] [--md H.md]``."""
    parser = subparsers.add_parser(
        "history",
        help="the trend of one target over its JSON reports (score, failing clauses, chart)",
        description=(
            "Order the JSON reports of one target by time and show the SHOULD score, the MUST "
            "failures and the failing clauses of each run, what changed since the run before, and "
            "(in HTML) a chart. Exit 0 when written, 2 when a report is missing, invalid, or of "
            "another target or kind."
        ),
    )
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json", help="reports of one target")
    parser.add_argument("--html", type=Path, default=None, metavar="PATH", help="write the trend as HTML")
    parser.add_argument("--md", type=Path, default=None, metavar="PATH", help="write the trend as Markdown")
    parser.set_defaults(run=run_history)


def _fail(command: str, message: str) -> int:
    print(f"livephoto-conformance {command}: error: {message}", file=sys.stderr)
    return BAD_INPUT


def _write(command: str, outputs: list[tuple[Path | None, str]]) -> int:
    for path, text in outputs:
        if path is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            return _fail(command, f"cannot write {path}: {exc.strerror or exc}")
        print(f"written: {path}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    """Print the matrix; write the HTML and Markdown pages asked for."""
    from conformance.reports import compare

    try:
        matrix = compare.build_matrix(compare.load_reports(args.reports), args.label)
    except ReportError as exc:
        return _fail("compare", str(exc))
    sys.stdout.write(compare.render_text(matrix))
    outputs = []
    if args.html is not None:
        outputs.append((args.html, compare.render_html(matrix)))
    if args.md is not None:
        outputs.append((args.md, compare.render_markdown(matrix)))
    return _write("compare", outputs)


def run_history(args: argparse.Namespace) -> int:
    """Print the trend; write the HTML and Markdown pages asked for."""
    from conformance.reports import history
    from conformance.reports.compare import load_reports

    try:
        found = history.build_history(load_reports(args.reports))
    except ReportError as exc:
        return _fail("history", str(exc))
    sys.stdout.write(history.render_text(found))
    outputs = []
    if args.html is not None:
        outputs.append((args.html, history.render_html(found)))
    if args.md is not None:
        outputs.append((args.md, history.render_markdown(found)))
    return _write("history", outputs)
