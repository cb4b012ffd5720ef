"""Same target, same verdict (issue 14): run the mutant catalogue under several Hypothesis seeds and
check that every seed kills the same mutants and passes the same benign variants.

    .venv/bin/python tools/mutant_seeds.py                     # 5 seeds + the CI configuration
    .venv/bin/python tools/mutant_seeds.py --only req-type-lenient   # re-run one, keep the others
    .venv/bin/python tools/mutant_seeds.py --ci     # only the CI configuration, against the record

Runs: the whole catalogue once per seed in ``SEEDS`` at the mutation default ``--max-examples``,
and once at ``--max-examples 1`` with the two ``CI_SEEDS`` taking turns along the catalogue (what
``tests/mock/test_seed_stability.py`` replays in CI). The outcomes go into docs/mutants.md between
the markers below; with ``--only`` the other mutants' recorded rows are kept. Exit status 0 when
every configuration gives every mutant the same outcome and it is the one the catalogue asks for
(killed, or passed for a benign variant); 1 otherwise.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, sys.path[0] is tools/ and not the checkout
    sys.path.insert(0, str(ROOT))

from conformance.mutants import Mutant, all_mutants, get  # noqa: E402
from conformance.mutation import MutantRun, run_mutant  # noqa: E402
from tools._mutant_runs import (  # noqa: E402
    PAGE,
    chosen_mutants,
    merged,
    mutant_rows,
    parser,
    publish,
    recorded_block,
    run_each,
    write_page,
)

START, END = "<!-- seed-stability:start -->", "<!-- seed-stability:end -->"
COMMAND = ".venv/bin/python tools/mutant_seeds.py"
SEEDS = (11, 23, 101, 4242, 90210)  # five arbitrary, different Hypothesis seeds
CI_SEEDS = (7, 8)  # tests/mock/test_seed_stability.py: catalogue entry i runs with CI_SEEDS[i % 2]
DEFAULT_EXAMPLES = 3  # conformance.mutation's default --max-examples

Cells = dict[str, dict[str, str]]  # mutant name → configuration title → outcome


def ci_seed(mutant: Mutant) -> int:
    """The seed the CI test runs ``mutant`` with: the two seeds take turns along the catalogue."""
    names = [m.name for m in all_mutants()]
    return CI_SEEDS[names.index(mutant.name) % len(CI_SEEDS)]


def outcome(run: MutantRun) -> str:
    """One cell per run: ``killed`` / ``survived`` for a mutant (with the failing clauses beyond
    its own and its ``also``), ``passed`` / ``failed`` for a benign variant, ``unsound`` when the
    server logged an unexpected exception."""
    if not run.sound:
        return "unsound"
    if run.mutant.benign:
        return "passed" if run.passed else f"failed ({', '.join(run.failing) or 'exit status'})"
    if not run.killed:
        return "survived"
    others = sorted(set(run.failing) - {run.mutant.clause, *run.mutant.also})
    return f"killed (+{', '.join(others)})" if others else "killed"


def as_asked(mutant: Mutant, cell: str) -> bool:
    """The outcome the catalogue asks for (``MutantRun.ok`` read back from a cell)."""
    if mutant.benign:
        return cell == "passed"
    return cell == "killed" or (cell.startswith("killed (+") and not mutant.exact)


Config = tuple[str, int | None, int]  # column title, seed (None: CI_SEEDS by turns), max examples


def configurations() -> list[Config]:
    """The columns: each seed at the default max examples, then the CI configuration."""
    columns: list[Config] = [(f"seed {seed}", seed, DEFAULT_EXAMPLES) for seed in SEEDS]
    return [*columns, (f"CI: seeds {'/'.join(map(str, CI_SEEDS))}, max 1", None, 1)]


def run_all(mutants: list[Mutant], jobs: int, columns: list[Config] | None = None) -> Cells:
    """Every mutant under every configuration (or only ``columns``), ``jobs`` suite runs at a time."""
    chosen = configurations() if columns is None else columns
    tasks = [(m, title, seed, examples) for title, seed, examples in chosen for m in mutants]

    def one(task: tuple[Mutant, str, int | None, int], workdir: Path) -> tuple[str, MutantRun]:
        mutant, title, seed, examples = task
        chosen = seed if seed is not None else ci_seed(mutant)
        where = workdir / f"{mutant.name}-{chosen}-{examples}"
        # Whole-suite runs (issue 18): a kill must not hang on a selection naming tests by hand.
        return title, run_mutant(mutant, where, max_examples=examples, seed=chosen, full=True)

    def line(result: tuple[str, MutantRun]) -> str:
        title, run = result
        cell = outcome(run)
        mark = "ok  " if as_asked(run.mutant, cell) else "FAIL"
        return f"{mark} {run.name:32} {title:24} {cell:10} {run.seconds:5.1f} s"

    cells: Cells = {m.name: {} for m in mutants}
    for title, run in run_each(tasks, one, jobs, line, prefix="livephoto-seeds-"):
        cells[run.name][title] = outcome(run)
    return cells


def stable(cells: Cells) -> bool:
    """Every configuration gave every mutant the same outcome, the one the catalogue asks for."""
    return all(
        len(set(row.values())) == 1 and all(as_asked(get(name), cell) for cell in row.values())
        for name, row in cells.items()
    )


def table(cells: Cells, minutes: float) -> str:
    """The Markdown block: the kill set per configuration, then one row per mutant."""
    titles = [title for title, _, _ in configurations()]
    lines = [
        START,
        f"Regenerate with `{COMMAND}` (about {minutes:.0f} min on 2 cores).",
        "",
        "| configuration | mutants killed | benign variants passed | not as the catalogue asks |",
        "|---|---|---|---|",
    ]
    for title in titles:
        column = {name: row[title] for name, row in cells.items() if title in row}
        mutants = [name for name in column if not get(name).benign]
        benign = [name for name in column if get(name).benign]
        off = [name for name, cell in column.items() if not as_asked(get(name), cell)]
        lines.append(
            f"| {title} | {sum(column[n].startswith('killed') for n in mutants)}/{len(mutants)} | "
            f"{sum(column[n] == 'passed' for n in benign)}/{len(benign)} | {', '.join(off) or 'none'} |"
        )
    lines += [
        "",
        f"Outcomes {'identical' if stable(cells) else 'NOT identical'} across the "
        f"{len(titles)} configurations, and {'all' if stable(cells) else 'not all'} as the catalogue asks.",
        "",
        "| mutant | " + " | ".join(titles) + " |",
        "|---|" + "---|" * len(titles),
    ]
    for name, row in cells.items():
        lines.append(f"| `{name}` | " + " | ".join(row.get(t, "–") for t in titles) + " |")
    lines.append(END)
    return "\n".join(lines)


def recorded_cells(page: Path = PAGE) -> tuple[Cells, float]:
    """The rows of the block in docs/mutants.md and the minutes it says a full run takes."""
    block = recorded_block(START, END, page)
    if block is None:
        return {}, 0.0
    titles = [title for title, _, _ in configurations()]
    minutes = 0.0
    for line in block.splitlines():
        if line.startswith("Regenerate with") and "(about " in line:
            minutes = float(line.split("(about ", 1)[1].split(" ", 1)[0])
    rows = mutant_rows(block, 1 + len(titles))
    return {name: dict(zip(titles, row[1:], strict=True)) for name, row in rows.items()}, minutes


def recorded_outcomes(page: Path = PAGE) -> dict[str, str]:
    """The CI column of the block: mutant name → outcome (empty without a block)."""
    ci_title = configurations()[-1][0]
    return {name: row[ci_title] for name, row in recorded_cells(page)[0].items() if ci_title in row}


def compare_with_record(cells: Cells, page: Path = PAGE) -> list[str]:
    """The mutants whose CI-configuration outcome differs from the one recorded on the page (a move
    of the catalogue must leave every one alike: issue 16), each as one line."""
    ci_title = configurations()[-1][0]
    recorded = recorded_outcomes(page)
    return [
        f"{name}: now {row[ci_title]!r}, recorded {recorded.get(name, 'nothing')!r}"
        for name, row in cells.items()
        if ci_title in row and row[ci_title] != recorded.get(name)
    ]


def main(argv: list[str] | None = None) -> int:
    """Parse options, run, print the table, write the page."""
    options = parser((__doc__ or "").split("\n\n")[0])
    options.add_argument(
        "--ci",
        action="store_true",
        help="run only the CI configuration and compare each outcome with the recorded one (no write)",
    )
    options.add_argument(
        "--record-ci",
        action="store_true",
        help="run only the CI configuration and write its column, keeping the others",
    )
    args = options.parse_args(argv)
    mutants = chosen_mutants(options, args.only)
    started = time.perf_counter()
    if args.ci:
        differ = compare_with_record(run_all(mutants, args.jobs, configurations()[-1:]))
        print("\n".join(differ) or f"all {len(mutants)} outcomes as recorded in {PAGE.relative_to(ROOT)}")
        return 1 if differ else 0
    if args.record_ci:
        ci = run_all(mutants, args.jobs, configurations()[-1:])
        recorded, minutes = recorded_cells()
        rows = {name: {**recorded.get(name, {}), **ci.get(name, {})} for name in {*recorded, *ci}}
        block = table(merged(rows, {}), minutes)
        write_page(block)
        print(block)
        return 0 if all(as_asked(get(n), c) for n, row in ci.items() for c in row.values()) else 1
    fresh = run_all(mutants, args.jobs)
    minutes = (time.perf_counter() - started) / 60
    if args.only:  # keep the other recorded rows, in catalogue order
        recorded, minutes = recorded_cells()
        fresh = merged(recorded, fresh)
    block = table(fresh, minutes)
    publish(block, args.no_write)
    return 0 if stable(fresh) else 1


if __name__ == "__main__":
    sys.exit(main())
