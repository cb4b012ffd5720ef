"""Run the suite against every mutant of the catalogue and write the mutation score table (issue 8).

    .venv/bin/python tools/mutation_score.py            # all mutants, 2 at a time, writes docs/mutants.md
    .venv/bin/python tools/mutation_score.py --only env-no-content-type --only benign-charset --no-write

The table goes into docs/mutants.md between the markers below; the rest of that page is left alone.
Exit status 0 when every MUST mutant is killed, ≥ 90 % of SHOULD mutants are, and no benign variant
fails; 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conformance.mock.mutants import Mutant, all_mutants, get
from conformance.mutation import MutantRun, run_mutant
from conformance.spec import Level

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "mutants.md"
START, END = "<!-- mutation-score:start -->", "<!-- mutation-score:end -->"
COMMAND = ".venv/bin/python tools/mutation_score.py"
SHOULD_TARGET = 0.90  # issue 8: ≥ 90 % of SHOULD mutants killed


def _run(args: tuple[str, str]) -> MutantRun:
    # threads are enough: each run is two subprocesses (the server and the suite)
    name, workdir = args
    return run_mutant(get(name), Path(workdir) / name)


def run_all(mutants: list[Mutant], jobs: int) -> list[MutantRun]:
    """Run the suite against each mutant, ``jobs`` at a time; print one line per finished run."""
    with (
        tempfile.TemporaryDirectory(prefix="livephoto-mutants-") as workdir,
        ThreadPoolExecutor(jobs) as pool,
    ):
        runs = []
        for run in pool.map(_run, [(m.name, workdir) for m in mutants]):
            status = "ok  " if run.ok else "FAIL"
            print(f"{status} {run.name:32} {run.seconds:5.1f} s  failing: {', '.join(run.failing) or '-'}")
            runs.append(run)
        return runs


def _killed(run: MutantRun) -> bool:
    """Killed by the suite, by a mutant that ran as designed (no unexpected server exception)."""
    return run.killed and run.sound


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f} %)" if whole else "–"


def table(runs: list[MutantRun], seconds: float) -> str:
    """The Markdown block: score per family and level, benign false failures, one row per mutant."""
    per_family: dict[str, dict[Level, list[MutantRun]]] = defaultdict(lambda: defaultdict(list))
    benign = [r for r in runs if r.mutant.benign]
    for run in runs:
        if not run.mutant.benign:
            per_family[run.mutant.family][run.mutant.level].append(run)
    lines = [
        START,
        f"Regenerate with `{COMMAND}` (about {seconds / 60:.0f} min on 2 cores).",
        "",
        "| family | MUST killed | SHOULD killed (`--level should`) | precise (only the mutant's clause) |",
        "|---|---|---|---|",
    ]
    totals: dict[str, list[int]] = {"must": [0, 0], "should": [0, 0], "precise": [0, 0]}
    for family in sorted(per_family):
        by_level = per_family[family]
        must, should = by_level.get(Level.MUST, []), by_level.get(Level.SHOULD, [])
        every = must + should
        counts = {
            "must": (sum(_killed(r) for r in must), len(must)),
            "should": (sum(_killed(r) for r in should), len(should)),
            "precise": (sum(_killed(r) and r.precise for r in every), len(every)),
        }
        for key, (part, whole) in counts.items():
            totals[key][0] += part
            totals[key][1] += whole
        lines.append(
            f"| {family} | {_pct(*counts['must'])} | {_pct(*counts['should'])} | {_pct(*counts['precise'])} |"
        )
    lines.append(
        "| **all** | "
        + " | ".join(f"**{_pct(*totals[key])}**" for key in ("must", "should", "precise"))
        + " |"
    )
    false_failures = [r for r in benign if not r.ok]
    lines += [
        "",
        f"Benign variants: **{len(false_failures)} false failures** out of {len(benign)} "
        f"({', '.join(r.mutant.name for r in false_failures) or 'none'}).",
        "",
        "| mutant | clause | level | family | result | failing clauses | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        m = run.mutant
        if m.benign:
            result = "passed" if run.ok else "FALSE FAILURE"
        elif not run.sound:
            result = "HOOK CRASHED"
        else:
            result = ("killed" if run.precise else "killed (also others)") if run.killed else "SURVIVED"
        level = "benign" if m.benign else m.level.value
        lines.append(
            f"| `{m.name}` | {m.clause} | {level} | {m.family} | {result} | "
            f"{', '.join(run.failing) or '–'} | {run.seconds:.0f} |"
        )
    lines.append(END)
    return "\n".join(lines)


def write_page(block: str, page: Path = PAGE) -> None:
    """Replace the block between the markers (or append it when the page has none)."""
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    page.write_text(text, encoding="utf-8")


def goals_met(runs: list[MutantRun]) -> bool:
    """100 % of MUST mutants killed, ≥ 90 % of SHOULD mutants killed, no benign false failure."""
    must = [r for r in runs if not r.mutant.benign and r.mutant.level is Level.MUST]
    should = [r for r in runs if not r.mutant.benign and r.mutant.level is Level.SHOULD]
    benign = [r for r in runs if r.mutant.benign]
    should_ok = not should or sum(_killed(r) for r in should) / len(should) >= SHOULD_TARGET
    return all(_killed(r) for r in must) and should_ok and all(r.ok for r in benign)


def main(argv: list[str] | None = None) -> int:
    """Parse options, run, print the table, write the page."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="run only these mutants")
    parser.add_argument("--jobs", type=int, default=2, help="suite runs at a time (default 2)")
    parser.add_argument(
        "--no-write", action="store_true", help="print the table, leave docs/mutants.md alone"
    )
    args = parser.parse_args(argv)
    try:
        mutants = [get(name) for name in args.only] if args.only else list(all_mutants())
    except ValueError as exc:
        parser.error(str(exc))
    started = time.perf_counter()
    runs = run_all(mutants, max(1, args.jobs))
    block = table(runs, time.perf_counter() - started)
    print(block)
    if not args.no_write:
        write_page(block)
        print(f"written: {PAGE.relative_to(ROOT)}")
    return 0 if goals_met(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
