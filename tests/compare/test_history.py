"""``livephoto-conformance history``: one target's reports over time — a MUST mutant, a SHOULD
mutant, then the clean server — as a trend in text, Markdown and HTML with an inline SVG chart
(checked in Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.compare.conftest import built
from tests.reports.test_html import _dump, _screenshot
from tests.run.harness import cli, one_line


@pytest.mark.slow
def test_trend_of_one_target_in_time_order(runs: list[Path], tmp_path: Path) -> None:
    shuffled = [runs[2], runs[0], runs[1]]  # the order given does not matter: time does
    done = cli("history", *map(str, shuffled), "--md", "h.md", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if re.match(r"^\d+\s", line)]
    assert [row.split()[0] for row in rows] == ["1", "2", "3"]
    assert "NOT COMPATIBLE" in rows[0] and rows[0].endswith("LP-ENV-3")
    assert rows[1].endswith("LP-ENV-5")
    assert rows[2].endswith("none") and "100%" in rows[2]
    # The MUST mutant keeps every SHOULD: the score dips only in run 2.
    assert (
        "trend: SHOULD score 100% → 100%; MUST failures 1 → 0; verdict NOT COMPATIBLE → COMPATIBLE"
        in done.stdout
    )
    assert "since the previous run: newly failing none; fixed LP-ENV-5" in done.stdout
    markdown = (tmp_path / "h.md").read_text(encoding="utf-8")
    assert "| 2 |" in markdown and "+LP-ENV-5, fixed LP-ENV-3" in markdown


@pytest.mark.slow
@pytest.mark.browser
def test_trend_page_with_its_chart_in_chromium(runs: list[Path], tmp_path: Path) -> None:
    done = cli("history", *map(str, runs), "--html", "history.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = tmp_path / "history.html"
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "<script src" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    dom = _dump(page)
    assert 'data-rendered="yes"' in dom
    charts = dict(re.findall(r'<svg id="([\w-]+)"[^>]*data-line-width="([\d.]+)"', dom))
    assert set(charts) == {"score-chart", "failures-chart"}
    assert all(float(width) > 100 for width in charts.values()), charts  # the lines were laid out
    assert re.search(r'id="score-chart"[^>]*data-dots="3"', dom)
    assert len(re.findall(r'<tr class="run" data-run="\d"', dom)) == 3
    failed = re.findall(r'<tr data-clause="(LP-[A-Z]+-\d+)">', dom)
    assert failed == ["LP-ENV-3", "LP-ENV-5"]
    _screenshot(page, tmp_path)


def test_reports_of_another_target_are_refused(tmp_path: Path) -> None:
    a = built(tmp_path, "a")
    b = built(tmp_path, "b", target_url="http://127.0.0.1:9999")
    done = cli("history", str(a), str(b), "--html", "h.html", cwd=tmp_path)
    assert done.returncode == 2
    assert "a history follows one target" in one_line(done.stderr)
    assert not (tmp_path / "h.html").exists()


def test_reports_of_another_kind_or_missing_are_refused(tmp_path: Path) -> None:
    done = cli("history", str(built(tmp_path, "a")), str(built(tmp_path, "b", kind="load")), cwd=tmp_path)
    assert done.returncode == 2 and "a history follows one kind of run" in one_line(done.stderr)
    done = cli("history", str(built(tmp_path, "a")), str(tmp_path / "gone.json"), cwd=tmp_path)
    assert done.returncode == 2 and "gone.json does not exist" in one_line(done.stderr)
    invalid = tmp_path / "invalid.json"
    invalid.write_text('{"schema_version": "1.1"}', encoding="utf-8")
    done = cli("history", str(invalid), cwd=tmp_path)
    assert done.returncode == 2 and "is not a valid livephoto-conformance report" in one_line(done.stderr)


def test_one_report_is_a_history_of_one_run(tmp_path: Path) -> None:
    done = cli(
        "history", str(built(tmp_path, "only", broken=("LP-ERR-3",))), "--html", "h.html", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "1 runs" in done.stdout and "LP-ERR-3" in done.stdout
    assert 'data-points="1"' in (tmp_path / "h.html").read_text(encoding="utf-8")
