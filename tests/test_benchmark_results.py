"""benchmarks/run_all.py writes RESULTS.md: a run of some scripts (``--only``) merges into the page.

Regression: ``--only NAME`` rewrote the page with that one script's rows, so every other figure in
RESULTS.md (the ones the README and the closing notes point at) was lost on a partial re-run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _load_run_all() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmarks_run_all", ROOT / "benchmarks" / "run_all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


run_all = _load_run_all()
FULL = [
    ("latency_scaling", "ok", 118.7, ["latency 0 11.0s 162 15", "target | ratio ≤ 2.5: 2.58 MISSED"]),
    ("proxy_overhead", "ok", 28.9, ["success (enforce) 3.7% ≤ 5% ok"]),
    ("suite_runtime", "exit 1", 21.9, ["pytest exit code 6: 68 failed"]),
]
FRESH_SUITE = ("suite_runtime", "ok", 10.0, ["pytest exit code 0: 68 passed"])
FRESH_PROXY = ("proxy_overhead", "ok", 30.0, ["success (enforce) 4.0% ≤ 5% ok"])


def test_a_written_page_reads_back_row_for_row(tmp_path: Path) -> None:
    page = tmp_path / "RESULTS.md"
    page.write_text(run_all.render(FULL), encoding="utf-8")
    assert run_all.recorded(page) == (FULL, "")


def test_only_replaces_its_rows_and_keeps_the_others(tmp_path: Path) -> None:
    page = tmp_path / "RESULTS.md"
    page.write_text(run_all.render(FULL), encoding="utf-8")
    measured = next(line for line in page.read_text().splitlines() if line.startswith("Measured "))
    run_all.write(page, [FRESH_SUITE], ["suite_runtime"])
    rows, note = run_all.recorded(page)
    assert rows == [FULL[0], FULL[1], FRESH_SUITE]
    assert "`suite_runtime`" in note
    assert measured in page.read_text()  # the full measurement's date stays
    run_all.write(page, [FRESH_PROXY], ["proxy_overhead"])
    rows, note = run_all.recorded(page)
    assert rows == [FULL[0], FRESH_PROXY, FRESH_SUITE]
    assert "`suite_runtime`, `proxy_overhead`" in note


def test_a_whole_run_writes_a_fresh_page(tmp_path: Path) -> None:
    page = tmp_path / "RESULTS.md"
    page.write_text(run_all.render(FULL, "Re-run alone since: `suite_runtime` (last x)."), encoding="utf-8")
    run_all.write(page, FULL[:1], None)
    assert run_all.recorded(page) == (FULL[:1], "")
