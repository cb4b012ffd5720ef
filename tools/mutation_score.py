"""Run the suite against every mutant of the catalogue and write the mutation score table (issue 8).

    .venv/bin/python tools/mutation_score.py            # all mutants, 2 at a time, writes docs/mutants.md
    .venv/bin/python tools/mutation_score.py --only env-no-content-type --only benign-charset --no-write
    .venv/bin/python tools/mutation_score.py --full     # exact kills: whole-suite runs, no selection

The table goes into docs/mutants.md between the markers below; the rest of that page is left alone.
With ``--only`` the other mutants' recorded rows are kept (the run ones replace theirs), the totals
are recounted from the merged rows, and the table's text keeps the recorded timing and names the
mutants re-run alone since. Exit status 0 when every MUST mutant is killed, ≥ 90 % of SHOULD mutants
are, and no benign variant fails; 1 otherwise.

With ``--full`` each mutant is judged by the run a user makes (``pytest --target URL`` with the
fault headers at the mutant's level: no ``--family``, no ``-k``) and the table counts *exact* kills
(issue 17): the failing clauses are exactly the mutant's clause (``blocked`` ones do not fail). It
goes between its own markers; exit status 0 when ≥ 90 % of the mutants are killed exactly, every
MUST mutant is killed and no benign variant fails.
"""

from __future__ import annotations

import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, sys.path[0] is tools/ and not the checkout
    sys.path.insert(0, str(ROOT))

from conformance.mutants import Mutant, all_mutants, get  # noqa: E402
from conformance.mutation import RUN_TIMEOUT, MutantRun, run_mutant  # noqa: E402
from conformance.spec import Level  # noqa: E402
from tools._mutant_runs import (  # noqa: E402
    PAGE,
    chosen_mutants,
    merged,
    mutant_rows,
    parser,
    publish,
    recorded_block,
    run_each,
)
from tools._mutant_runs import write_page as write_page  # noqa: E402  (the tests write a page with it)

START, END = "<!-- mutation-score:start -->", "<!-- mutation-score:end -->"
EXACT_START, EXACT_END = "<!-- exact-kills:start -->", "<!-- exact-kills:end -->"
COMMAND = ".venv/bin/python tools/mutation_score.py"
SHOULD_TARGET = 0.90  # issue 8: ≥ 90 % of SHOULD mutants killed
EXACT_TARGET = 0.90  # issue 17: ≥ 90 % of the mutants killed exactly, on full runs
FULL_TIMEOUT = 3 * RUN_TIMEOUT  # a whole-suite run takes several times a selection's
RERUN = "Re-run alone with `--only` since:"  # the intro line naming the rows measured apart

# A table is computed from its per-mutant rows (name → cells, as printed), not from the runs: the
# rows recorded on the page and the fresh ones of an ``--only`` run are then counted alike.
Rows = dict[str, list[str]]
SCORE_CELLS, SCORE_RESULT = 7, 4  # cells in a row of the score table; the index of its result
EXACT_CELLS, EXACT_RESULT = 6, 2  # the same for the exact-kills table


def run_all(mutants: list[Mutant], jobs: int, *, full: bool = False) -> list[MutantRun]:
    """Run the suite against each mutant (its selection, or the whole suite when ``full``), ``jobs``
    at a time; print one line per finished run."""
    timeout = FULL_TIMEOUT if full else RUN_TIMEOUT

    def one(mutant: Mutant, workdir: Path) -> MutantRun:
        return run_mutant(mutant, workdir / mutant.name, full=full, timeout=timeout)

    def line(run: MutantRun) -> str:
        status = "ok  " if (run.ok and (not full or run.mutant.benign or run.exact)) else "FAIL"
        return f"{status} {run.name:32} {run.seconds:5.1f} s  failing: {', '.join(run.failing) or '-'}"

    return run_each(mutants, one, jobs, line, prefix="livephoto-mutants-")


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f} %)" if whole else "–"


def _cells(row: list[str]) -> str:
    return "| " + " | ".join(row) + " |"


def _benign_summary(rows: Rows, result: int) -> str:
    benign = [name for name in rows if get(name).benign]
    false_failures = [name for name in benign if rows[name][result] != "passed"]
    return (
        f"Benign variants: **{len(false_failures)} false failures** out of {len(benign)} "
        f"({', '.join(false_failures) or 'none'})."
    )


def _result(run: MutantRun, kill: str) -> str:
    """A run's result cell: ``kill`` (how it was killed) for a killed mutant that ran as designed;
    ``HOOK CRASHED`` for one whose hook raised unexpectedly; passed / FALSE FAILURE for a benign one."""
    if run.mutant.benign:
        return "passed" if run.ok else "FALSE FAILURE"
    if not run.sound:
        return "HOOK CRASHED"
    return kill if run.killed else "SURVIVED"


def score_row(run: MutantRun) -> list[str]:
    """A run's row in the score table. A kill counts only by a mutant that ran as designed (no
    unexpected server exception): ``HOOK CRASHED`` otherwise."""
    m = run.mutant
    result = _result(run, "killed" if run.precise else "killed (also others)")
    level = "benign" if m.benign else m.level.value
    failing = ", ".join(run.failing) or "–"
    return [f"`{m.name}`", m.clause, level, m.family, result, failing, f"{run.seconds:.0f}"]


def _score_killed(row: list[str]) -> bool:
    return row[SCORE_RESULT].startswith("killed")


def score_block(rows: Rows, intro: list[str]) -> str:
    """The Markdown block of the score table from its rows: score per family and level, benign false
    failures, then the rows; ``intro`` is the text above the tables."""
    per_family: dict[str, dict[Level, list[list[str]]]] = defaultdict(lambda: defaultdict(list))
    for name, row in rows.items():
        m = get(name)
        if not m.benign:
            per_family[m.family][m.level].append(row)
    lines = [
        START,
        *intro,
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
            "must": (sum(map(_score_killed, must)), len(must)),
            "should": (sum(map(_score_killed, should)), len(should)),
            "precise": (sum(r[SCORE_RESULT] == "killed" for r in every), len(every)),
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
    lines += [
        "",
        _benign_summary(rows, SCORE_RESULT),
        "",
        "| mutant | clause | level | family | result | failing clauses | s |",
        "|---|---|---|---|---|---|---|",
        *map(_cells, rows.values()),
        END,
    ]
    return "\n".join(lines)


def score_goals(rows: Rows) -> bool:
    """100 % of MUST mutants killed, ≥ 90 % of SHOULD mutants killed, no benign false failure."""
    must = [r for n, r in rows.items() if not get(n).benign and get(n).level is Level.MUST]
    should = [r for n, r in rows.items() if not get(n).benign and get(n).level is Level.SHOULD]
    benign = [r for n, r in rows.items() if get(n).benign]
    should_ok = not should or sum(map(_score_killed, should)) / len(should) >= SHOULD_TARGET
    return all(map(_score_killed, must)) and should_ok and all(r[SCORE_RESULT] == "passed" for r in benign)


def table(runs: list[MutantRun], seconds: float) -> str:
    """The Markdown block of a measurement: score per family and level, benign false failures, one
    row per mutant."""
    intro = f"Regenerate with `{COMMAND}` (about {seconds / 60:.0f} min on 2 cores)."
    return score_block({r.name: score_row(r) for r in runs}, [intro])


def goals_met(runs: list[MutantRun]) -> bool:
    """100 % of MUST mutants killed, ≥ 90 % of SHOULD mutants killed, no benign false failure."""
    return score_goals({r.name: score_row(r) for r in runs})


def exact_row(run: MutantRun) -> list[str]:
    """A run's row in the exact-kills table, with the clauses it failed beyond its own."""
    m = run.mutant
    result = _result(run, "exact" if run.exact else "killed")
    others = ", ".join(c for c in run.failing if c != m.clause) or "–"
    return [f"`{m.name}`", m.clause, result, others, f"{len(run.blocked) or '–'}", f"{run.seconds:.0f}"]


def _exact_killed(row: list[str]) -> bool:
    return row[EXACT_RESULT] in ("exact", "killed")


def exact_block(rows: Rows, intro: list[str]) -> str:
    """The Markdown block of the exact-kills table from its rows: exact kills per family and overall,
    benign false failures, then the rows; ``intro`` is the text above the tables."""
    per_family: dict[str, list[list[str]]] = defaultdict(list)
    for name, row in rows.items():
        if not get(name).benign:
            per_family[get(name).family].append(row)
    lines = [
        EXACT_START,
        *intro,
        "",
        "| family | killed | killed exactly (only the mutant's clause fails) |",
        "|---|---|---|",
    ]
    for family in sorted(per_family):
        every = per_family[family]
        killed = sum(map(_exact_killed, every))
        exact = sum(r[EXACT_RESULT] == "exact" for r in every)
        lines.append(f"| {family} | {_pct(killed, len(every))} | {_pct(exact, len(every))} |")
    mutants = [r for every in per_family.values() for r in every]
    killed = sum(map(_exact_killed, mutants))
    exact = sum(r[EXACT_RESULT] == "exact" for r in mutants)
    lines.append(f"| **all** | **{_pct(killed, len(mutants))}** | **{_pct(exact, len(mutants))}** |")
    lines += [
        "",
        _benign_summary(rows, EXACT_RESULT),
        "",
        "| mutant | clause | result | other failing clauses | blocked clauses | s |",
        "|---|---|---|---|---|---|",
        *map(_cells, rows.values()),
        EXACT_END,
    ]
    return "\n".join(lines)


def exact_goals(rows: Rows) -> bool:
    """≥ 90 % of the mutants killed exactly, every MUST mutant killed, no benign false failure."""
    mutants = [(get(n), r) for n, r in rows.items() if not get(n).benign]
    exact = sum(r[EXACT_RESULT] == "exact" for _, r in mutants)
    must_killed = all(_exact_killed(r) for m, r in mutants if m.level is Level.MUST)
    benign_ok = all(r[EXACT_RESULT] == "passed" for n, r in rows.items() if get(n).benign)
    return must_killed and benign_ok and (not mutants or exact / len(mutants) >= EXACT_TARGET)


def exact_table(runs: list[MutantRun], seconds: float) -> str:
    """The Markdown block of a full-run measurement: exact kills per family and overall, benign
    false failures, and one row per mutant with the clauses it failed beyond its own."""
    intro = (
        f"Regenerate with `{COMMAND} --full` (about {seconds / 60:.0f} min on 2 cores): each run is the "
        "whole suite at the mutant's level, no `--family` or `-k`."
    )
    return exact_block({r.name: exact_row(r) for r in runs}, [intro])


def exact_goal_met(runs: list[MutantRun]) -> bool:
    """≥ 90 % of the mutants killed exactly, every MUST mutant killed, no benign false failure."""
    return exact_goals({r.name: exact_row(r) for r in runs})


def _merged_intro(recorded: str, rerun: list[str]) -> list[str]:
    """The recorded text above the tables (its timing is the whole measurement's, and notes written
    by hand stay), with the line naming the mutants re-run alone since, ``rerun`` added to it."""
    intro = recorded.split("\n|", 1)[0].splitlines()
    named = [line for line in intro if line.startswith(RERUN)]
    names = {*rerun, *(n for line in named for n in re.findall(r"`([^`]+)`", line))}
    kept = [line for line in intro if line.strip() and not line.startswith(RERUN)]
    ordered = [m.name for m in all_mutants() if m.name in names]
    return [*kept, f"{RERUN} " + ", ".join(f"`{n}`" for n in ordered) + "."]


def page_block(
    runs: list[MutantRun], seconds: float, *, full: bool = False, merge: bool = False, page: Path = PAGE
) -> tuple[str, bool]:
    """The block to print and write for these runs, and whether its rows meet the goals. With
    ``merge`` (``--only``) the rows recorded on ``page`` are kept but for the run mutants' own, and
    the totals and the goals are those of the merged rows: a partial run must not drop the others."""
    start, end, cells = (EXACT_START, EXACT_END, EXACT_CELLS) if full else (START, END, SCORE_CELLS)
    row: Callable[[MutantRun], list[str]] = exact_row if full else score_row
    block: Callable[[Rows, list[str]], str] = exact_block if full else score_block
    goals: Callable[[Rows], bool] = exact_goals if full else score_goals
    rows = {r.name: row(r) for r in runs}
    recorded = recorded_block(start, end, page) if merge else None
    if recorded is None:
        text = exact_table(runs, seconds) if full else table(runs, seconds)
        return text, goals(rows)
    rows = merged(mutant_rows(recorded, cells), rows)
    return block(rows, _merged_intro(recorded, [r.name for r in runs])), goals(rows)


def main(argv: list[str] | None = None) -> int:
    """Parse options, run, print the table, write the page."""
    options = parser((__doc__ or "").split("\n\n")[0])
    options.add_argument(
        "--full",
        action="store_true",
        help="judge exact kills on whole-suite runs (no selection), as a user runs the suite",
    )
    args = options.parse_args(argv)
    mutants = chosen_mutants(options, args.only)
    started = time.perf_counter()
    runs = run_all(mutants, args.jobs, full=args.full)
    block, met = page_block(runs, time.perf_counter() - started, full=args.full, merge=bool(args.only))
    publish(block, args.no_write)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
