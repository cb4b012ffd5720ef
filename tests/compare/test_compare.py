"""``livephoto-conformance compare``: the clause × target matrix, from real runs against two
mutants and the clean reference server, in text, Markdown and HTML (checked in Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.compare.conftest import built
from tests.reports.test_html import _dump, _screenshot, _text_of
from tests.run.harness import cli, one_line

LABELS = ("--label", "vendor-a", "--label", "vendor-b", "--label", "reference")


@pytest.mark.slow
def test_matrix_of_two_mutants_and_the_clean_server(runs: list[Path], tmp_path: Path) -> None:
    done = cli("compare", *map(str, runs), *LABELS, "--html", "m.html", "--md", "m.md", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[2:] for line in done.stdout.splitlines() if line.startswith("LP-")}
    assert set(rows) == {f"LP-ENV-{n}" for n in range(1, 8)}
    assert rows["LP-ENV-3"] == ["FAIL", "pass", "pass"]  # the MUST mutant
    assert rows["LP-ENV-5"] == ["pass", "FAIL", "pass"]  # the SHOULD mutant
    figures = {line.split("  ")[0]: line.split()[-3:] for line in done.stdout.splitlines()}
    assert figures["MUST failures"] == ["1", "0", "0"]
    assert figures["SHOULD score"][1] != "100%" and figures["SHOULD score"][2] == "100%"
    assert figures["rank"] == ["3", "2", "1"]
    assert "best: reference" in done.stdout
    markdown = (tmp_path / "m.md").read_text(encoding="utf-8")
    assert "| LP-ENV-3 | MUST | ❌ fail | ✅ pass | ✅ pass |" in markdown
    assert "| **MUST failures** | | **1** | **0** | **0** |" in markdown


@pytest.mark.slow
@pytest.mark.browser
def test_matrix_page_in_chromium(runs: list[Path], tmp_path: Path) -> None:
    done = cli("compare", *map(str, runs), *LABELS, "--html", "matrix.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = tmp_path / "matrix.html"
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    dom = _dump(page)
    assert 'data-rendered="yes"' in dom, "the page's script did not run"
    assert 'data-cells="21"' in dom and 'data-failing-cells="2"' in dom
    cells = re.findall(r'<tr class="clause-row (\w+)" data-clause="(LP-ENV-\d)"', dom)
    assert dict((c, kind) for kind, c in cells)["LP-ENV-3"] == "differs"
    assert _text_of(dom, "must-failures-0") == "1"
    assert _text_of(dom, "verdict-0") == "NOT COMPATIBLE"
    assert _text_of(dom, "verdict-2") == "COMPATIBLE"
    assert _text_of(dom, "rank-2") == "1"
    _screenshot(page, tmp_path)


def test_same_target_twice_is_told_apart_by_file(tmp_path: Path) -> None:
    a = built(tmp_path, "monday", broken=("LP-ERR-3",))
    b = built(tmp_path, "tuesday")
    done = cli("compare", str(a), str(b), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "(monday.json)" in done.stdout and "(tuesday.json)" in done.stdout
    assert re.search(r"^LP-ERR-3\s+MUST\s+FAIL\s+pass$", done.stdout, re.M)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: [built(d, "a"), d / "missing.json"], "missing.json does not exist"),
        (lambda d: [built(d, "a")], "compare needs at least two reports"),
        (
            lambda d: [built(d, "a"), built(d, "b", level="SHOULD")],
            "run every candidate with the same --level",
        ),
        (lambda d: [built(d, "a"), built(d, "b", edition="2025-09")], "with the same --edition"),
        (lambda d: [built(d, "a"), built(d, "b", kind="load")], "compare reports of the same kind"),
    ],
    ids=["missing", "one", "level", "edition", "kind"],
)
def test_bad_or_mismatched_reports_are_one_line_exit_2(make: object, message: str, tmp_path: Path) -> None:
    paths = make(tmp_path)  # type: ignore[operator]
    done = cli("compare", *map(str, paths), "--html", "m.html", cwd=tmp_path)
    assert done.returncode == 2
    assert message in one_line(done.stderr)
    assert not (tmp_path / "m.html").exists()


def test_not_json_and_label_count_are_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    done = cli("compare", str(built(tmp_path, "a")), str(bad), cwd=tmp_path)
    assert done.returncode == 2 and "is not JSON" in one_line(done.stderr)
    done = cli("compare", str(built(tmp_path, "a")), str(built(tmp_path, "b")), "--label", "x", cwd=tmp_path)
    assert done.returncode == 2 and "1 --label for 2 reports" in one_line(done.stderr)


@pytest.mark.slow
def test_a_different_selection_is_refused(runs: list[Path], tmp_path: Path) -> None:
    whole = built(tmp_path, "whole")
    done = cli("compare", str(runs[0]), str(whole), cwd=tmp_path)
    assert done.returncode == 2
    assert "same --clause/--family selection" in one_line(done.stderr)
