"""The ``load`` subcommand: run the Locust load profile headless and report on it (docs/load.md).

Locust runs in a child process (gevent's monkey-patching stays out of this one): alone, as the
master of ``--expect-workers`` workers, or as a worker of ``--master-host``. The master (or the lone
process) writes the outcome file; this process turns it into the report.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from conformance.argtypes import positive_int
from conformance.option_table import ENV_KEY

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
DEFAULT_USERS = 8  # LP-OPS-2: "Under 8 concurrent valid requests"
DEFAULT_DURATION = "60s"
MAX_DURATION = 24 * 3600  # s: a load run always ends by itself
DEFAULT_MAX_REQUESTS = 10_000
DEFAULT_MASTER_PORT = 5557  # Locust's default
STOP_TIMEOUT = 5  # s Locust lets in-flight requests finish
WORKER_WAIT = 60  # s the master waits for --expect-workers
START_MARGIN = 60  # s for pool building, imports and the final report
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")


def parse_duration(text: str) -> int:
    """``"60s"``, ``"2m"``, ``"1h30m"`` or ``"90"`` → seconds (1 … 24 h)."""
    match = _DURATION.match(text.strip())
    if not match or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; write e.g. 60s, 2m or 1h30m")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if not 1 <= total <= MAX_DURATION:
        raise argparse.ArgumentTypeError(f"the duration must be between 1 s and 24 h, got {text!r}")
    return total


def add_load_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``load --target URL --users N --spawn-rate R --duration 60s …``."""
    parser = subparsers.add_parser(
        "load",
        help="load-test a target with Locust, every answer judged by the suite's checks",
        description=(
            "Send a mix of valid and invalid requests from many concurrent users (Locust, headless) "
            "and judge every answer with the suite's checks. Every run ends by itself: after "
            "--duration or --max-requests, whichever comes first. Distributed: run one --master "
            "--expect-workers N and N --worker --master-host HOST (see docs/load.md)."
        ),
    )
    parser.add_argument("--target", help="base URL of the API under test (not needed on a --worker)")
    parser.add_argument(
        "--users", type=positive_int, default=DEFAULT_USERS, help="concurrent users (default 8)"
    )
    parser.add_argument(
        "--spawn-rate", type=float, default=None, help="users started per second (default: all)"
    )
    parser.add_argument("--duration", type=parse_duration, default=DEFAULT_DURATION, help="e.g. 60s, 5m")
    parser.add_argument(
        "--mix", default="success=1,errors=1", help="request weights, e.g. success=3,errors=1"
    )
    parser.add_argument("--api-key", default=None, help="the target's API key (default: $LIVEPHOTO_API_KEY)")
    parser.add_argument(
        "--max-requests", type=positive_int, default=DEFAULT_MAX_REQUESTS, help="request cap (default 10000)"
    )
    parser.add_argument(
        "--video-every",
        type=positive_int,
        default=5,
        help="fully judge the video of 1 success in N (default 5)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the request pool (default 0)")
    parser.add_argument(
        "--request-timeout", type=float, default=60.0, help="seconds per request (default 60)"
    )
    parser.add_argument(
        "--artefacts-dir", default="livephoto-artefacts", help="where failing videos are saved"
    )
    parser.add_argument("--report-json", type=Path, default=None, help="write the JSON report here")
    parser.add_argument("--report-md", type=Path, default=None, help="write the Markdown report here")
    parser.add_argument("--report-html", type=Path, default=None, help="write the HTML report here")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--master", action="store_true", help="coordinate --expect-workers workers")
    mode.add_argument("--worker", action="store_true", help="send load for the master at --master-host")
    parser.add_argument("--expect-workers", type=positive_int, default=1, help="workers the master waits for")
    parser.add_argument("--master-host", default="127.0.0.1", help="the master a --worker connects to")
    parser.add_argument("--master-port", type=positive_int, default=DEFAULT_MASTER_PORT, help="default 5557")
    parser.add_argument(
        "--master-bind-host",
        default="127.0.0.1",
        help="interface the master listens on (default 127.0.0.1; 0.0.0.0 for workers on other machines)",
    )
    parser.set_defaults(run=run_load)


# Exit codes besides 0/1: a bad option or a failed run; an unreachable target or a rejected key
# (as the suite says it); interrupted.
USAGE_ERROR, TARGET_UNUSABLE, INTERRUPTED = 2, 4, 2


def _error(message: str, code: int = USAGE_ERROR) -> int:
    print(f"livephoto-conformance load: error: {message}", file=sys.stderr)
    return code


def locust_report_path(report_html: Path | None) -> Path | None:
    """Where Locust's own HTML report goes: next to ours (``load.html`` → ``load.locust.html``)."""
    return report_html.with_name(f"{report_html.stem}.locust.html") if report_html else None


def locust_command(args: argparse.Namespace, spawn_rate: float) -> list[str]:
    """The Locust command line for this process's role (the key travels in the environment)."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary"]
    command += [
        "--lp-mix", args.mix,
        "--lp-max-requests", str(args.max_requests),
        "--lp-video-every", str(args.video_every),
        "--lp-seed", str(args.seed),
        "--lp-request-timeout", str(args.request_timeout),
        "--lp-artefacts-dir", str(args.artefacts_dir),
    ]  # fmt: skip
    if args.worker:
        return [
            *command,
            "--worker",
            "--master-host",
            args.master_host,
            "--master-port",
            str(args.master_port),
        ]
    command += ["-u", str(args.users), "-r", f"{spawn_rate:g}", "-t", f"{args.duration}s"]
    command += ["--host", args.target, "--stop-timeout", str(STOP_TIMEOUT)]
    locust_html = locust_report_path(args.report_html)
    if locust_html is not None:
        command += ["--html", str(locust_html)]
    if args.master:
        command += ["--master", "--expect-workers", str(args.expect_workers)]
        command += ["--expect-workers-max-wait", str(WORKER_WAIT)]
        command += ["--master-bind-host", args.master_bind_host, "--master-bind-port", str(args.master_port)]
    return command


def _preflight(args: argparse.Namespace, api_key: str) -> str | None:
    """An unreachable target or a rejected key stops the run at once (exit 4), not after
    --duration. A master without a key of its own only checks that the target answers."""
    from conformance.client import ClientSettings
    from conformance.preflight import preflight

    source = ("--api-key" if args.api_key else f"${ENV_KEY}") if api_key else None
    client = ClientSettings(base_url=args.target, api_key=api_key, timeout=args.request_timeout)
    return preflight(client, source).problem


def _run_with_progress(
    args: argparse.Namespace, command: list[str], env: dict[str, str], limit: int
) -> int | None:
    """Run Locust, showing progress and its output; None when it ended by itself, else the
    exit code to stop with (timed out, interrupted)."""
    import time

    from rich.console import Console

    from conformance.load.progress import LoadProgress, watch

    console = Console(stderr=True, highlight=False)
    live = console.is_terminal
    view = LoadProgress(console, live=live, duration=args.duration, max_requests=args.max_requests)
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )

    def out(line: str) -> None:
        if live:
            view.echo(line)
        else:
            sys.stdout.write(line)
            sys.stdout.flush()

    try:
        with view:
            code = watch(
                process,
                view,
                Path(env["LIVEPHOTO_LOAD_PROGRESS"]),
                deadline=time.monotonic() + limit,
                out=out,
            )
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT + 5)
        except subprocess.TimeoutExpired:
            process.kill()
        return _error("interrupted; no report written", INTERRUPTED)
    if code is None:
        return _error(f"Locust did not finish within {limit} s; the run was stopped")
    return None


def run_load(args: argparse.Namespace) -> int:
    """Run the load profile; 0 when every answer kept the contract, 1 on a violation or a request
    left unanswered, 2 on usage errors (and when interrupted), 4 when the target cannot be reached
    or rejects the key (found before the load starts)."""
    from conformance.client import check_base_url
    from conformance.load.pool import MixError, parse_mix

    try:
        parse_mix(args.mix)
    except MixError as exc:
        return _error(str(exc))
    api_key = args.api_key or os.environ.get(ENV_KEY, "")
    if not api_key and not args.master:
        return _error("give the target's API key with --api-key or $LIVEPHOTO_API_KEY")
    if not args.worker:
        if not args.target:
            return _error("give the API under test with --target URL")
        try:
            args.target = check_base_url(args.target)
        except ValueError as exc:
            return _error(str(exc))
        problem = _preflight(args, api_key)
        if problem:
            return _error(problem, TARGET_UNUSABLE)
    spawn_rate = args.spawn_rate if args.spawn_rate and args.spawn_rate > 0 else float(args.users)
    env = {**os.environ, ENV_KEY: api_key}
    # A worker has no duration of its own: it ends with its master, or after 24 h at worst.
    limit = (MAX_DURATION if args.worker else args.duration + WORKER_WAIT) + STOP_TIMEOUT + START_MARGIN
    with tempfile.TemporaryDirectory(prefix="livephoto-load-") as scratch:
        out = Path(scratch) / "outcome.json"
        env["LIVEPHOTO_LOAD_OUT"] = "" if args.worker else str(out)
        if args.worker:
            try:
                subprocess.run(locust_command(args, spawn_rate), env=env, timeout=limit, check=False)
            except subprocess.TimeoutExpired:
                return _error(f"Locust did not finish within {limit} s; the run was stopped")
            return 0
        env["LIVEPHOTO_LOAD_PROGRESS"] = str(Path(scratch) / "progress.json")
        finished = _run_with_progress(args, locust_command(args, spawn_rate), env, limit)
        if finished is not None:
            return finished
        if not out.exists():
            return _error("Locust ended without writing its results (see its output above)")
        outcome = json.loads(out.read_text(encoding="utf-8"))
    return _report(args, outcome, api_key, spawn_rate)


def _report(args: argparse.Namespace, outcome: dict[str, Any], api_key: str, spawn_rate: float) -> int:
    from conformance.load.html import write_load_html
    from conformance.load.report import build_report, figures_markdown, summary_line
    from conformance.redact import Redactor
    from conformance.reports import write_reports
    from conformance.settings import Settings

    settings = Settings(
        target_url=args.target,
        api_key=api_key,
        request_timeout=args.request_timeout,
        artefacts_dir=Path(args.artefacts_dir),
    )
    redactor = Redactor([api_key])
    run = {
        "users": args.users,
        "spawn_rate": spawn_rate,
        "duration_s": args.duration,
        "max_requests": args.max_requests,
        "mix": args.mix,
        "video_every": args.video_every,
        "seed": args.seed,
        "mode": "master" if args.master else "local",
    }
    report = build_report(outcome, settings, redactor, run)
    if not report.metrics.get("workers"):
        return _error("no worker reported any result (were the workers started, and the target reachable?)")
    try:
        written = write_reports(report, json=args.report_json, md=args.report_md, redactor=redactor)
        if args.report_html:
            locust_html = locust_report_path(args.report_html)
            shown = locust_html if locust_html is not None and locust_html.exists() else None
            written.append(write_load_html(report, args.report_html, redactor, shown))
            if shown is not None:
                written.append(shown)
        if args.report_md:
            with Path(args.report_md).open("a", encoding="utf-8") as md:
                md.write(redactor.text(figures_markdown(report.metrics)))
    except OSError as exc:
        return _error(f"cannot write a report: {exc.strerror or exc}")
    print(f"livephoto load: {summary_line(report.metrics)}")
    print(f"livephoto load: {report.verdict_line}")
    for path in written:
        print(f"livephoto load: wrote {path}")
    unjudged = report.counts["error"]  # requests the target did not answer
    return 1 if report.metrics["contract_violations"] or unjudged else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m conformance.load``: the ``load`` subcommand on its own."""
    parser = argparse.ArgumentParser(prog="livephoto-conformance")
    add_load_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["load", *(sys.argv[1:] if argv is None else argv)])
    return int(args.run(args))
