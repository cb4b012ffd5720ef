"""What the two measurement tools over the mutant catalogue share (``tools/mutation_score.py``,
``tools/mutant_seeds.py``): their common options, the loop that runs suites against mutants a few at a
time, and the reading, merging and writing of their blocks in docs/mutants.md.

One copy, so that the tools cannot drift apart: ``--only`` merging the re-run rows into the recorded
table was right in one tool and overwrote the whole table in the other.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from conformance.mutants import Mutant, all_mutants, get

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "mutants.md"

Task = TypeVar("Task")
Result = TypeVar("Result")
Row = TypeVar("Row")


def parser(description: str) -> argparse.ArgumentParser:
    """The options every tool has: ``--only NAME`` (repeatable), ``--jobs N``, ``--no-write``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="run only these mutants")
    parser.add_argument("--jobs", type=int, default=2, help="suite runs at a time (default 2)")
    parser.add_argument(
        "--no-write", action="store_true", help="print the table, leave docs/mutants.md alone"
    )
    return parser


def chosen_mutants(parser: argparse.ArgumentParser, only: list[str]) -> list[Mutant]:
    """The mutants named by ``--only`` (the whole catalogue without it); an unknown name is a usage
    error, with the catalogue's suggestion of the closest names."""
    try:
        return [get(name) for name in only] if only else list(all_mutants())
    except ValueError as exc:
        parser.error(str(exc))


def run_each(
    tasks: Iterable[Task],
    one: Callable[[Task, Path], Result],
    jobs: int,
    line: Callable[[Result], str],
    *,
    prefix: str,
) -> list[Result]:
    """``one(task, workdir)`` for every task, ``jobs`` at a time, in a temporary directory removed
    afterwards; ``line(result)`` printed as each run finishes (in task order), so a long measurement
    shows its progress. Threads are enough: each run is two subprocesses (the server and the suite)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as workdir, ThreadPoolExecutor(max(1, jobs)) as pool:
        results = []
        for result in pool.map(lambda task: one(task, Path(workdir)), tasks):
            print(line(result), flush=True)
            results.append(result)
        return results


def recorded_block(start: str, end: str, page: Path = PAGE) -> str | None:
    """The text between the markers on the page (None when the page or the block is missing)."""
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    if start not in text:
        return None
    return text.split(start, 1)[1].split(end, 1)[0]


def mutant_rows(block: str, cells: int) -> dict[str, list[str]]:
    """The rows of a block's per-mutant table: name → the row's ``cells`` cells (the first one the
    name in backticks); rows of other tables (per family, per configuration) are not named so."""
    rows: dict[str, list[str]] = {}
    for line in block.splitlines():
        found = [c.strip() for c in line.strip().strip("|").split("|")]
        named = found[0].startswith("`") and found[0].endswith("`")
        if line.startswith("|") and len(found) == cells and named:
            rows[found[0].strip("`")] = found
    return rows


def merged(recorded: Mapping[str, Row], fresh: Mapping[str, Row]) -> dict[str, Row]:
    """The recorded rows with the fresh ones in their place, in catalogue order; a recorded row of a
    mutant no longer in the catalogue is dropped."""
    both = {**recorded, **fresh}
    return {m.name: both[m.name] for m in all_mutants() if m.name in both}


def write_page(block: str, page: Path = PAGE) -> None:
    """Replace the block between its markers (its first and last lines) and leave the rest of the page
    alone; append the block when the page has no such markers."""
    start, end = block.splitlines()[0], block.splitlines()[-1]
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    page.write_text(text, encoding="utf-8")


def publish(block: str, no_write: bool, page: Path = PAGE) -> None:
    """Print the block, and write it into the page unless ``--no-write``."""
    print(block)
    if not no_write:
        write_page(block, page)
        print(f"written: {page.relative_to(ROOT) if page.is_relative_to(ROOT) else page}")
