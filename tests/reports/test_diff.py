"""The regression gate: verdict changes between two reports and the exit code they give."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.reports.diff import diff_reports, render_diff_markdown, render_diff_text
from conformance.reports.json_report import write_json
from conformance.reports.model import CheckResult, RunReport
from tests.reports.conftest import all_passing, build, failing, result


def _with(*replacements: CheckResult, drop: tuple[str, ...] = (), **meta: object) -> RunReport:
    replaced = {r.clause for r in replacements} | set(drop)
    results = [r for r in all_passing() if r.clause not in replaced]
    return build([*results, *replacements], **meta)


BASELINE = _with()
ENTRY = "import sys; from conformance.cli import main; sys.exit(main())"


def main(argv: list[str]) -> int:
    """The project's CLI entry point (imported late: conformance.cli loads lazily)."""
    from conformance.cli import main as cli_main

    return cli_main(argv)


def test_identical_reports_have_no_rows() -> None:
    diff = diff_reports(BASELINE, _with())
    assert diff.rows == []
    assert diff.exit_code == 0
    assert "no clause changed verdict" in render_diff_text(diff)


def test_must_regression_fails_the_gate() -> None:
    diff = diff_reports(BASELINE, _with(failing("LP-ENV-3")))
    (row,) = diff.rows
    assert (row.clause, row.level, row.before, row.after, row.change) == (
        "LP-ENV-3",
        "MUST",
        "pass",
        "fail",
        "regressed",
    )
    assert diff.regressions == [row]
    assert diff.exit_code == 1


def test_error_after_pass_is_a_regression() -> None:
    diff = diff_reports(BASELINE, _with(result("LP-OK-1", "error", message="refused")))
    assert [r.change for r in diff.rows] == ["regressed"]
    assert diff.exit_code == 1


def test_should_regression_gates_only_at_should() -> None:
    current = _with(failing("LP-VID-2"))
    assert diff_reports(BASELINE, current).exit_code == 0
    assert diff_reports(BASELINE, current).rows[0].change == "regressed"
    assert diff_reports(BASELINE, current, level="should").exit_code == 1


def test_should_obligation_of_a_must_clause_gates_at_should() -> None:
    current = _with(result("LP-ENV-2", "pass"), failing("LP-ENV-2", "empty", level="SHOULD"))
    (row,) = diff_reports(BASELINE, current).rows
    assert row.level == "SHOULD"
    assert diff_reports(BASELINE, current).exit_code == 0
    assert diff_reports(BASELINE, current, level="SHOULD").exit_code == 1


def test_fixed_and_changed_do_not_fail() -> None:
    baseline = _with(failing("LP-ENV-3"), result("LP-OK-1", "skipped", message="no face"))
    diff = diff_reports(baseline, _with(result("LP-OK-1", "fail", message="x")))
    changes = {r.clause: r.change for r in diff.rows}
    assert changes == {"LP-ENV-3": "fixed", "LP-OK-1": "changed"}
    assert diff.exit_code == 0


def test_missing_clauses_are_reported_not_crashed() -> None:
    older = build(all_passing()[:-2], clauses=[r.clause for r in all_passing()[:-2]])
    newer = _with(CheckResult("future", "LP-NEW-1", "MUST", "fail", "x"))
    diff = diff_reports(older, newer)
    changes = {r.clause: (r.change, r.before, r.after) for r in diff.rows}
    assert changes == {
        "LP-SEC-3": ("added", None, "pass"),
        "LP-SEC-4": ("added", None, "pass"),
        "LP-NEW-1": ("added", None, "fail"),
    }
    assert diff.exit_code == 0
    removed = diff_reports(newer, older)
    changes = {r.clause: (r.change, r.after) for r in removed.rows}
    # same suite version: a catalogue clause the newer run left out is "not judged", a regression
    assert changes == {
        "LP-SEC-3": ("regressed", "not judged"),
        "LP-SEC-4": ("regressed", "not judged"),
        "LP-NEW-1": ("removed", None),
    }
    assert removed.exit_code == 1
    assert "—" in render_diff_text(removed)


def test_a_clause_that_passed_and_is_now_not_judged_is_a_regression() -> None:
    """Issue 14: a run that judged less proves less; the gate must not stay green."""
    unjudged = [r for r in all_passing() if r.clause != "LP-ERR-5"]
    diff = diff_reports(BASELINE, build(unjudged))
    assert [(r.clause, r.before, r.after, r.change) for r in diff.rows] == [
        ("LP-ERR-5", "pass", "not judged", "regressed")
    ]
    assert diff.exit_code == 1


def test_markdown_table() -> None:
    diff = diff_reports(BASELINE, _with(failing("LP-ENV-3"), failing("LP-VID-2")))
    text = render_diff_markdown(diff)
    assert text.startswith("### ❌ livephoto-conformance diff: 1 regression(s) at gate MUST")
    assert "| LP-ENV-3 | MUST | pass | fail | **regressed** |" in text
    assert "| LP-VID-2 | SHOULD | pass | fail | regressed |" in text


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Reports on disk: baseline, a MUST regression, a SHOULD regression, a fix, garbage."""
    paths = {
        "baseline": write_json(BASELINE, tmp_path / "baseline.json"),
        "must": write_json(_with(failing("LP-ENV-3")), tmp_path / "must.json"),
        "should": write_json(_with(failing("LP-VID-2")), tmp_path / "should.json"),
        "broken": write_json(_with(failing("LP-OK-2")), tmp_path / "broken.json"),
    }
    paths["garbage"] = tmp_path / "garbage.json"
    paths["garbage"].write_text("{]")
    paths["invalid"] = tmp_path / "invalid.json"
    paths["invalid"].write_text(json.dumps({"schema_version": "1.0", "clauses": []}))
    return paths


@pytest.mark.parametrize(
    ("before", "after", "extra", "code"),
    [
        ("baseline", "baseline", [], 0),
        ("baseline", "must", [], 1),
        ("baseline", "should", [], 0),
        ("baseline", "should", ["--level", "should"], 1),
        ("baseline", "should", ["--level", "SHOULD", "--format", "md"], 1),
        ("broken", "baseline", [], 0),
        ("baseline", "garbage", [], 2),
        ("invalid", "baseline", [], 2),
        ("baseline", "absent", [], 2),
    ],
)
def test_cli_exit_codes(
    files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    before: str,
    after: str,
    extra: list[str],
    code: int,
) -> None:
    paths = [str(files.get(name, tmp_path / f"{name}.json")) for name in (before, after)]
    assert main(["diff", *paths, *extra]) == code
    out, err = capsys.readouterr()
    if code == 2:
        assert out == ""
        assert len(err.strip().splitlines()) == 1
        assert err.startswith("livephoto-conformance diff: error: report ")
    else:
        assert err == ""
        assert ("regressed" in out) == (after in ("must", "should"))


def test_cli_markdown_and_output_file(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    target = files["baseline"].parent / "diff.md"
    argv = ["diff", str(files["baseline"]), str(files["must"]), "--format", "md", "-o", str(target)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert out.startswith("### ❌")
    assert target.read_text(encoding="utf-8") == out


def test_cli_subprocess(files: dict[str, Path]) -> None:
    command = [sys.executable, "-c", ENTRY, "diff"]
    done = subprocess.run(
        [*command, str(files["baseline"]), str(files["must"])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "LP-ENV-3" in done.stdout and "regressed" in done.stdout
    bad = subprocess.run(
        [*command, str(files["baseline"]), str(files["garbage"])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1


def test_cli_badge(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    svg = files["baseline"].parent / "badges" / "badge.svg"
    assert main(["badge", str(files["must"]), "-o", str(svg)]) == 0
    assert "not compatible" in svg.read_text(encoding="utf-8")
    assert "livephoto | not compatible" in capsys.readouterr().out
    assert main(["badge", str(files["garbage"]), "-o", str(svg)]) == 2
    assert "is not JSON" in capsys.readouterr().err
