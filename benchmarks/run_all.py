"""Run every benchmark script in this folder, one after the other, and collect their figures.

Run on demand: ``.venv/bin/python benchmarks/run_all.py [--only NAME ...] [--timeout S]``. Each
script runs in its own process (so one's imports and threads do not skew the next) with a time
limit; every line it prints that carries a number is a figure. The figures go to
``benchmarks/RESULTS.md`` as one Markdown table, with the machine and the date above it. With
``--only`` the other scripts' recorded rows are kept, and the page names the scripts re-run since.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
DEFAULT_TIMEOUT = 600  # s per script: a stuck benchmark does not hold the others up forever
# Scripts that need longer by design: latency_scaling runs the whole suite four times against slow
# servers (about 10 minutes before issue 18; each run is bounded by the script itself).
TIMEOUTS = {"latency_scaling": 3600}
_FIGURE = re.compile(r"\d")
_RULE = re.compile(r"^[\s\-=|:+]*$")  # table rules and separators printed by some scripts


def scripts(only: list[str] | None = None) -> list[Path]:
    """The benchmark scripts present (this one excluded), by name, filtered by ``only``."""
    found = sorted(
        p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_")
    )
    if only:
        found = [p for p in found if p.stem in only]
    return found


def figures(output: str) -> list[str]:
    """The lines of a script's output that carry a figure (a number), stripped."""
    lines = [line.strip() for line in output.splitlines()]
    return [line for line in lines if line and _FIGURE.search(line) and not _RULE.match(line)]


def run(script: Path, timeout: float) -> tuple[str, float, list[str]]:
    """Run one script; its status, wall time and figures (the 1-minute load average first: the
    machine may be shared, and every time figure depends on it)."""
    load = f"load average {os.getloadavg()[0]:.2f} when the script started"
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    # As on a user's machine, where Python caches bytecode: with PYTHONDONTWRITEBYTECODE set (CI
    # sets it), every suite and server process the scripts start compiles the package again, about
    # 1.5 s that a user's runs do not spend.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=HERE.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return f"timed out after {timeout:g} s", time.perf_counter() - started, [load, *figures(partial)]
    status = "ok" if done.returncode == 0 else f"exit {done.returncode}"
    found = [load, *figures(done.stdout)]
    if done.returncode != 0 and done.stderr.strip():
        found.append("error: " + done.stderr.strip().splitlines()[-1])
    return status, time.perf_counter() - started, found


def cell(text: str) -> str:
    """Text made safe for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


Row = tuple[str, str, float, list[str]]  # script, status, wall seconds, figure lines
_ROW = re.compile(
    r"^\| (?:`(?P<name>[^`]+)`)? \| (?P<status>[^|]*?) \| (?P<wall>[^|]*?) \| (?P<figure>.*) \|$"
)
_RERUN = "Re-run alone since: "


def recorded(page: Path) -> tuple[list[Row], str]:
    """The rows of a written page, and its note of scripts re-run alone ("" when none)."""
    rows: list[Row] = []
    note = ""
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    for line in text.splitlines():
        if line.startswith(_RERUN):
            note = line
        match = _ROW.match(line)
        if match is None or match["status"] == "status" or line.startswith("|---"):
            continue
        figure = match["figure"].replace("\\|", "|")
        if match["name"]:
            rows.append((match["name"], match["status"], float(match["wall"] or 0), [figure]))
        elif rows:
            rows[-1][3].append(figure)
    return rows, note


def merged(old: list[Row], fresh: list[Row]) -> list[Row]:
    """The recorded rows with the fresh ones in their place, by script name; a script no longer
    present is dropped."""
    by_name = {row[0]: row for row in old} | {row[0]: row for row in fresh}
    return [by_name[p.stem] for p in scripts() if p.stem in by_name]


def render(rows: list[Row], rerun: str = "") -> str:
    """The RESULTS.md text; ``rerun`` notes the scripts re-run alone since the full measurement."""
    cpu = platform.processor() or platform.machine()
    head = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, by `.venv/bin/python benchmarks/run_all.py`. Each script ran "
        "alone, one after the other; the figures are the lines each printed. Re-run to refresh.",
        "",
    ]
    if rerun:
        head += [rerun, ""]
    head += ["| benchmark | status | wall (s) | figure |", "|---|---|---:|---|"]
    body = []
    for name, status, wall, found in rows:
        lines = found or ["(no figure printed)"]
        for index, line in enumerate(lines):
            first = index == 0
            body.append(
                f"| {f'`{name}`' if first else ''} | {status if first else ''} | "
                f"{f'{wall:.1f}' if first else ''} | {cell(line)} |"
            )
    return "\n".join(head + body) + "\n"


def write(path: Path, rows: list[Row], only: list[str] | None) -> None:
    """Write the page: the rows of a whole run; with ``only``, merged into the recorded ones, whose
    header (the full measurement's date) stays, with the re-run scripts named below it."""
    if not only or not path.exists():
        path.write_text(render(rows), encoding="utf-8")
        return
    old, note = recorded(path)
    text = path.read_text(encoding="utf-8")
    names = dict.fromkeys([*re.findall(r"`([^`]+)`", note), *(row[0] for row in rows)])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rerun = _RERUN + ", ".join(f"`{name}`" for name in names) + f" (last {stamp})."
    measured = next(line for line in text.splitlines() if line.startswith("Measured "))
    fresh = [
        measured if line.startswith("Measured ") else line
        for line in render(merged(old, rows), rerun).splitlines()
    ]
    path.write_text("\n".join(fresh) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the scripts, print progress, write RESULTS.md; 1 when a script failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="script names (without .py) to run")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help=f"seconds per script (default {DEFAULT_TIMEOUT}, latency_scaling {TIMEOUTS['latency_scaling']})",
    )
    parser.add_argument("-o", "--output", type=Path, default=RESULTS, help="the Markdown file to write")
    args = parser.parse_args(argv)
    rows = []
    for script in scripts(args.only):
        print(f"running {script.name} …", flush=True)
        limit = args.timeout if args.timeout is not None else TIMEOUTS.get(script.stem, DEFAULT_TIMEOUT)
        status, wall, found = run(script, limit)
        print(f"  {status} in {wall:.1f} s, {len(found)} figure lines", flush=True)
        rows.append((script.stem, status, wall, found))
    write(args.output, rows, args.only)
    print(f"wrote {args.output}")
    return 0 if all(status == "ok" for _, status, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
