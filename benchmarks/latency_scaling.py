"""How the default run scales with a slow target: wall time, requests, successes and peak RSS (issue 18).

Run on demand: ``.venv/bin/python benchmarks/latency_scaling.py [--only MODE ...]``. For each mode a
reference server runs in its own process (``python -m conformance serve``, i.e. ``livephoto-conformance
serve``) and the default suite runs against it in another, the way a user runs it::

    python -m pytest --target URL --api-key-env VAR --report-json PATH -p no:randomly

from an empty temporary folder. Modes: every answer delayed by 0, 1 and 2 s (``--latency``), and only
the successes delayed by 5 s (``--success-latency 5``: a real replacement generates video for
seconds but refuses a bad request at once).

Requests and successes come from the JSON report's ``traffic`` object; the server's access log
counts them too (the figure used when the report has none, and a cross-check when it has). Peak RSS
is sampled every 50 ms over the pytest process and all its descendants, summed.

Targets (issue 18, 2 cores): latency 1 s ≤ 30 s; latency 0 ≤ 10 s; ≤ 16 successes in every mode;
wall(latency 1) / wall(latency 0) ≤ 2.5.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil

HERE = Path(__file__).resolve().parent
KEY_VARIABLE = "LIVEPHOTO_BENCH_KEY"
MODES: dict[str, list[str]] = {
    "latency 0": ["--latency", "0"],
    "latency 1": ["--latency", "1"],
    "latency 2": ["--latency", "2"],
    "success latency 5": ["--success-latency", "5"],
}
LATENCY_1_TARGET = 30.0  # s, issue 18
LATENCY_0_TARGET = 10.0  # s, issue 18
SUCCESS_TARGET = 16  # success requests per default run, issue 18
RATIO_TARGET = 2.5  # wall(latency 1) / wall(latency 0), issue 18
RUN_TIMEOUT = 900.0  # s per suite run: today's runs take up to ~5 min; a stuck one ends here
START_TIMEOUT = 60.0  # s for the server to print its URL
SAMPLE_EVERY = 0.05  # s between RSS samples
READY_PREFIX = "listening on "
VERDICT_EXIT_CODES = (0, 1, 6)  # COMPATIBLE, NOT COMPATIBLE, INCOMPLETE: the run judged the target


@dataclass(frozen=True)
class Run:
    """The figures of one suite run against one server mode."""

    mode: str
    wall: float
    exit_code: int | str
    verdict: str
    requests: int | None
    successes: int | None
    counted_by: str  # "report" or "server log"
    server_requests: int
    server_successes: int
    peak_rss_mib: float
    why: str  # pytest's last line when the run ended without a verdict
    failed: tuple[str, ...]  # clauses that failed or errored: a slow target must not change them


@contextmanager
def server(options: list[str], key: str, log: IO[str]) -> Iterator[str]:
    """A reference server in its own process with ``options``; yields its base URL. Its access log
    (one JSON line per answer) goes to ``log``."""
    command = [sys.executable, "-m", "conformance", "serve", "--port", "0", "--api-key-env", KEY_VARIABLE]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", KEY_VARIABLE: key}
    process = subprocess.Popen(
        [*command, *options], stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=HERE.parent
    )
    try:
        assert process.stdout is not None
        url = ""
        deadline = time.monotonic() + START_TIMEOUT
        while not url and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith(READY_PREFIX):
                url = line[len(READY_PREFIX) :].strip()
        if not url:
            raise RuntimeError(f"the reference server ({' '.join(options)}) did not come up")
        threading.Thread(target=process.stdout.read, daemon=True).start()  # never a full pipe
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def tree_rss(process: psutil.Process) -> int:
    """RSS in bytes of a process and all its descendants (those that vanish meanwhile skipped)."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def run_suite(url: str, key: str, scratch: Path) -> tuple[float, int | str, int, dict[str, Any]]:
    """Run the default suite once; wall time, exit code (or "timed out"), peak RSS in bytes and the
    JSON report (empty when none was written)."""
    report = scratch / "report.json"
    command = [
        sys.executable, "-m", "pytest", "--target", url, "--api-key-env", KEY_VARIABLE,
        "--report-json", str(report), "-p", "no:randomly", "-q",
    ]  # fmt: skip
    env = {**os.environ, KEY_VARIABLE: key}
    started = time.perf_counter()
    output = (scratch / "pytest.out").open("w", encoding="utf-8")
    process = subprocess.Popen(command, cwd=scratch, env=env, stdout=output, stderr=subprocess.STDOUT)
    output.close()  # the child holds its own copy
    watched = psutil.Process(process.pid)
    peak = 0
    code: int | str
    while True:
        peak = max(peak, tree_rss(watched))
        try:
            code = process.wait(timeout=SAMPLE_EVERY)
            break
        except subprocess.TimeoutExpired:
            if time.perf_counter() - started > RUN_TIMEOUT:
                process.kill()
                process.wait()
                code = f"timed out after {RUN_TIMEOUT:g} s"
                break
    wall = time.perf_counter() - started
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    return wall, code, peak, data if isinstance(data, dict) else {}


def last_words(output: Path) -> str:
    """The last non-blank line pytest printed: why a run ended without a verdict."""
    lines = [line.strip() for line in output.read_text(encoding="utf-8", errors="replace").splitlines()]
    return next((line for line in reversed(lines) if line.strip("= ")), "(no output)")


def server_counts(log: Path) -> tuple[int, int]:
    """Requests and successes in the server's access log (its JSON lines with a status)."""
    requests = successes = 0
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "status" in entry:
            requests += 1
            successes += entry["status"] == 200
    return requests, successes


def measure(mode: str, options: list[str]) -> Run:
    """One server in its own process, one suite run against it."""
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="latency-scaling-") as folder:
        scratch = Path(folder)
        log_path = scratch / "server.log"
        with log_path.open("w", encoding="utf-8") as log, server(options, key, log) as url:
            suite = scratch / "suite"
            suite.mkdir()
            wall, code, peak, report = run_suite(url, key, suite)
        seen_requests, seen_successes = server_counts(log_path)
        why = "" if code in VERDICT_EXIT_CODES else last_words(suite / "pytest.out")
    clauses = report.get("clauses")
    failed = [
        f"{c.get('id')} {c.get('verdict')}"
        for c in (clauses if isinstance(clauses, list) else [])
        if isinstance(c, dict) and c.get("verdict") in ("fail", "error")
    ]
    summary = report.get("summary")
    summary = summary if isinstance(summary, dict) else {}
    traffic = report.get("traffic", summary.get("traffic"))
    if isinstance(traffic, dict) and isinstance(traffic.get("requests"), int):
        requests, successes, source = traffic["requests"], traffic.get("successes"), "report"
    else:
        requests, successes, source = seen_requests, seen_successes, "server log"
    return Run(
        mode=mode,
        wall=wall,
        exit_code=code,
        verdict=str(summary.get("verdict", "no report")),
        requests=requests,
        successes=successes if isinstance(successes, int) else None,
        counted_by=source,
        server_requests=seen_requests,
        server_successes=seen_successes,
        peak_rss_mib=peak / 2**20,
        why=why,
        failed=tuple(failed),
    )


def target(name: str, figure: str, ok: bool) -> str:
    """One target line, ending with the word the benchmarks print beside a target."""
    return f"target {name}: {figure} {'ok' if ok else 'MISSED'}"


def targets(runs: dict[str, Run]) -> list[str]:
    """One line per target of issue 18 that the runs measured."""
    lines = []
    one, zero = runs.get("latency 1"), runs.get("latency 0")
    if one is not None:
        limit = LATENCY_1_TARGET
        lines.append(target(f"latency 1 s wall ≤ {limit:g} s", f"{one.wall:.1f} s", one.wall <= limit))
    if zero is not None:
        limit = LATENCY_0_TARGET
        lines.append(target(f"latency 0 wall ≤ {limit:g} s", f"{zero.wall:.1f} s", zero.wall <= limit))
    counted = [run.successes for run in runs.values() if run.successes is not None]
    if counted:
        most = max(counted)
        lines.append(
            target(f"successes ≤ {SUCCESS_TARGET} per run", f"at most {most}", most <= SUCCESS_TARGET)
        )
    if one is not None and zero is not None and zero.wall > 0:
        ratio = one.wall / zero.wall
        lines.append(
            target(
                f"wall(latency 1) / wall(latency 0) ≤ {RATIO_TARGET:g}", f"{ratio:.2f}", ratio <= RATIO_TARGET
            )
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Measure every mode (or those named), print the table and the targets; 1 when a run did not
    produce a verdict (a usage or internal error, a timeout), so its figures mean nothing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(MODES), default=None, help="modes to run")
    args = parser.parse_args(argv)
    runs: dict[str, Run] = {}
    print(f"{'server':18} {'wall':>7} {'requests':>9} {'successes':>10} {'peak RSS':>9}  counted by")
    for mode, options in MODES.items():
        if args.only and mode not in args.only:
            continue
        run = measure(mode, options)
        runs[mode] = run
        successes = "?" if run.successes is None else str(run.successes)
        print(
            f"{mode:18} {run.wall:6.1f}s {run.requests:>9} {successes:>10} {run.peak_rss_mib:7.0f}MiB  "
            f"{run.counted_by} (server log: {run.server_requests} requests, {run.server_successes} 200s); "
            f"exit {run.exit_code}, {run.verdict}",
            flush=True,
        )
        if run.why:
            print(f"  the run ended without a verdict: {run.why}", flush=True)
        if run.failed:
            print(f"  clauses failed or in error: {', '.join(run.failed)}", flush=True)
    for line in targets(runs):
        print(line)
    print(f"load average {os.getloadavg()[0]:.2f} at the end on {os.cpu_count()} CPUs")
    return 0 if all(run.exit_code in VERDICT_EXIT_CODES for run in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
