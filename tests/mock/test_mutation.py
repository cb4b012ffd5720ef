"""How a suite run against a mutant is judged, and the score table (issue 8); no suite is run here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conformance.mutation import MUTANT_KEY, MutantRun, suite_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def score() -> ModuleType:
    """tools/mutation_score.py, imported from its path (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("mutation_score", ROOT / "tools" / "mutation_score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_score"] = module
    spec.loader.exec_module(module)
    return module


def _run(name: str, exit_code: int, *failing: str) -> MutantRun:
    return MutantRun(name, exit_code, failing, 1.0)


def test_a_mutant_is_killed_only_when_the_run_fails_on_its_clause() -> None:
    assert _run("vid-still", 1, "LP-VID-4").ok
    assert not _run("vid-still", 0).killed  # the suite passed: the mutant survived
    assert not _run("vid-still", 1, "LP-VID-2").killed  # failed, but not on the mutant's clause
    spread = _run("vid-still", 1, "LP-VID-4", "LP-VID-2")
    assert spread.killed and not spread.precise and not spread.ok  # exact mutants must be precise
    assert _run("err-corrupt-500", 1, "LP-ERR-7", "LP-ERR-13").ok  # LP-ERR-13 is declared in also
    assert _run("req-endpoint-moved", 1, "LP-REQ-1", "LP-REQ-5").ok  # not exact


def test_a_benign_variant_passes_only_without_failing_clauses() -> None:
    assert _run("benign-charset", 0).ok
    assert not _run("benign-charset", 1, "LP-ENV-1").ok
    assert not _run("benign-charset", 0, "LP-ENV-5").ok  # a recorded failure below the gate still counts
    assert "expected a passing run" in _run("benign-charset", 1, "LP-ENV-1").explain()


def test_suite_command_targets_the_server_with_the_mutants_selection() -> None:
    command = suite_command(MutantRun("vid-still", 0, (), 0).mutant, "http://127.0.0.1:9", Path("r.json"))
    assert command[command.index("--target") + 1] == "http://127.0.0.1:9"
    assert command[command.index("--api-key") + 1] == MUTANT_KEY
    assert command[-2:] == ["--level", "should"]  # vid-still breaks a SHOULD clause
    assert "--family" in command and "video" in command
    assert command.count("--fault-header") == 4


def test_a_full_run_is_the_whole_suite_at_the_mutants_level_and_edition() -> None:
    """issue 17: exact kills are measured on the run a user makes — no --family, no -k."""
    url, report = "http://127.0.0.1:9", Path("r.json")
    vid = suite_command(MutantRun("vid-still", 0, (), 0).mutant, url, report, full=True)
    assert "--family" not in vid and "-k" not in vid and vid[-2:] == ["--level", "should"]
    edition = suite_command(MutantRun("ed-corrupt-2025-09-status", 0, (), 0).mutant, url, report, full=True)
    assert edition[-2:] == ["--edition", "2026-01"] and "--family" not in edition


def test_an_exact_kill_is_the_mutants_clause_alone() -> None:
    assert _run("vid-still", 1, "LP-VID-4").exact
    assert not _run("vid-still", 1, "LP-VID-4", "LP-OPS-1").exact
    assert not _run("err-corrupt-500", 1, "LP-ERR-7", "LP-ERR-13").exact  # precise, not exact
    assert not _run("vid-still", 0).exact


def test_score_table_counts_per_family_and_benign_false_failures(score: ModuleType) -> None:
    runs = [
        _run("vid-still", 1, "LP-VID-4"),
        _run("vid-webm", 0),  # survived
        _run("vid-not-a-video", 1, "LP-VID-1"),
        _run("benign-charset", 0),
        _run("benign-chunked", 1, "LP-ENV-1"),  # a false failure
    ]
    block = score.table(runs, 120.0)
    assert block.startswith(score.START) and block.endswith(score.END)
    assert "| video | 1/1 (100 %) | 1/2 (50 %) | 2/3 (67 %) |" in block
    assert "**1 false failures** out of 2 (benign-chunked)" in block
    assert "| `vid-webm` | LP-VID-2 | SHOULD | video | SURVIVED | – | 1 |" in block
    assert not score.goals_met(runs)
    assert score.goals_met([runs[0], runs[2], runs[3]])


def test_score_page_keeps_the_text_around_the_markers(score: ModuleType, tmp_path: Path) -> None:
    page = tmp_path / "mutants.md"
    page.write_text(f"# Title\n\n{score.START}\nold\n{score.END}\n\nafter\n", encoding="utf-8")
    score.write_page(f"{score.START}\nnew\n{score.END}", page)
    assert page.read_text(encoding="utf-8") == f"# Title\n\n{score.START}\nnew\n{score.END}\n\nafter\n"
    fresh = tmp_path / "fresh.md"
    score.write_page(f"{score.START}\nx\n{score.END}", fresh)
    assert fresh.read_text(encoding="utf-8") == f"{score.START}\nx\n{score.END}\n"


def test_unknown_mutant_in_the_score_tool_is_a_usage_error(
    score: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        score.main(["--only", "nope", "--no-write"])
    assert exited.value.code == 2
    assert "unknown mutant 'nope'" in capsys.readouterr().err


def test_a_kill_by_a_crashing_hook_does_not_count() -> None:
    crashed = MutantRun("ops-slow-client-errors", 1, ("LP-OPS-1",), 1.0, server_crashes=3)
    assert crashed.killed and not crashed.sound and not crashed.ok
    assert "3 unexpected server exception(s)" in crashed.explain()
    bomb = MutantRun("lim-bomb-500", 1, ("LP-ERR-9", "LP-ERR-13"), 1.0, server_crashes=2)
    assert bomb.ok  # its fault *is* the crash


def test_exact_kill_table_counts_per_family_and_keeps_its_own_markers(
    score: ModuleType, tmp_path: Path
) -> None:
    runs = [
        _run("vid-still", 1, "LP-VID-4"),
        _run("vid-webm", 1, "LP-VID-2", "LP-OPS-1"),  # killed, not exactly
        _run("benign-charset", 0),
    ]
    block = score.exact_table(runs, 60.0)
    assert block.startswith(score.EXACT_START) and block.endswith(score.EXACT_END)
    assert "| video | 2/2 (100 %) | 1/2 (50 %) |" in block
    assert "| `vid-webm` | LP-VID-2 | killed | LP-OPS-1 | – | 1 |" in block
    assert not score.exact_goal_met(runs) and score.exact_goal_met(runs[:1] + runs[2:])
    page = tmp_path / "mutants.md"
    page.write_text(f"{score.START}\nscore\n{score.END}\n{score.EXACT_START}\nold\n{score.EXACT_END}\n")
    score.write_page(block, page)
    assert f"{score.START}\nscore\n{score.END}" in page.read_text() and "old" not in page.read_text()


@pytest.mark.parametrize("full", [False, True], ids=["score", "exact-kills"])
def test_only_replaces_the_run_mutants_rows_and_recounts_the_others(
    score: ModuleType, tmp_path: Path, full: bool
) -> None:
    """``--only`` used to overwrite the whole table with the rows of the mutants it ran (issue: a
    ``--full --only X`` run left the exact-kills table with one row)."""
    start, render = (score.EXACT_START, score.exact_table) if full else (score.START, score.table)
    recorded = [_run("vid-still", 1, "LP-VID-4"), _run("vid-webm", 1, "LP-VID-2"), _run("benign-charset", 0)]
    page = tmp_path / "mutants.md"
    page.write_text(f"# Title\n\n{render(recorded, 1500.0)}\n\nafter\n", encoding="utf-8")
    before = page.read_text(encoding="utf-8").splitlines()

    block, met = score.page_block([_run("vid-webm", 0)], 20.0, full=full, merge=True, page=page)
    score.write_page(block, page)
    after = page.read_text(encoding="utf-8").splitlines()

    kept = [line for line in before if "`vid-webm`" not in line and "| video |" not in line]
    kept = [line for line in kept if "**all**" not in line]
    assert [line for line in after if line in kept] == kept  # every other line, in its place
    webm = [line for line in after if line.startswith("| `vid-webm` |")]
    assert len(webm) == 1 and "| SURVIVED |" in webm[0]
    assert len([line for line in after if line.startswith("| `")]) == 3
    recount = {  # the totals, recounted from the merged rows
        True: ["| video | 1/2 (50 %) | 1/2 (50 %) |", "| **all** | **1/2 (50 %)** | **1/2 (50 %)** |"],
        False: [
            "| video | – | 1/2 (50 %) | 1/2 (50 %) |",
            "| **all** | **–** | **1/2 (50 %)** | **1/2 (50 %)** |",
        ],
    }
    assert set(recount[full]) <= set(after)
    assert "(about 25 min on 2 cores)" in block  # the whole measurement's timing, not the re-run's
    assert f"{score.RERUN} `vid-webm`." in after and not met  # a SHOULD mutant survived

    block, _ = score.page_block([_run("vid-still", 1, "LP-VID-4")], 20.0, full=full, merge=True, page=page)
    assert f"{score.RERUN} `vid-webm`, `vid-still`." in block  # the names add up, in catalogue order
    assert sum(line.startswith(score.RERUN) for line in block.splitlines()) == 1
    assert "SURVIVED" in block  # vid-webm's re-run row stays

    block, _ = score.page_block([_run("vid-still", 1, "LP-VID-4")], 20.0, full=full, page=page)
    assert block == render([_run("vid-still", 1, "LP-VID-4")], 20.0)  # a whole run: the fresh table
    assert start in block and score.RERUN not in block


def test_only_keeps_every_other_row_of_the_recorded_page(score: ModuleType, tmp_path: Path) -> None:
    """On a copy of docs/mutants.md: a ``--full --only`` run replaces one row of the exact-kills
    table and leaves every other row, the score table and the text around them as they were."""
    page = tmp_path / "mutants.md"
    page.write_text((ROOT / "docs" / "mutants.md").read_text(encoding="utf-8"), encoding="utf-8")
    before = page.read_text(encoding="utf-8")
    exact = before.split(score.EXACT_START, 1)[1].split(score.EXACT_END, 1)[0]
    rows = [line for line in exact.splitlines() if line.startswith("| `")]
    assert len(rows) > 50 and any(line.startswith("| `vid-still` |") for line in rows)

    block, _ = score.page_block([_run("vid-still", 0)], 20.0, full=True, merge=True, page=page)
    score.write_page(block, page)
    after = page.read_text(encoding="utf-8")

    others = [line for line in rows if not line.startswith("| `vid-still` |")]
    assert [line for line in after.splitlines() if line in others] == others
    assert "| `vid-still` | LP-VID-4 | SURVIVED | – | – | 1 |" in after.splitlines()
    assert exact.strip().splitlines()[0] in after  # the recorded timing line
    assert after.split(score.EXACT_START)[0] == before.split(score.EXACT_START)[0]
    assert after.split(score.EXACT_END)[1] == before.split(score.EXACT_END)[1]  # the score table too
