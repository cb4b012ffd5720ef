"""What a run cost the target (issue 18) in every output: the terminal, Markdown, HTML, JUnit and
JSON state the requests, the successes, waiting vs working and the clauses --budget judged on fewer
samples; a report without traffic (an old one, a proxy or load run) renders as before."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.redact import Redactor
from conformance.reports.diff import diff_reports, render_diff_markdown, render_diff_text
from conformance.reports.html import render_html, time_split, write_html
from conformance.reports.json_report import load_report, report_validator, write_json
from conformance.reports.junit import render_junit
from conformance.reports.markdown import render_markdown
from conformance.reports.model import RunReport, RunTraffic
from conformance.reports.terminal import render_terminal, render_terminal_styled, verdict_text
from tests.reports.conftest import SECRET, all_passing, build, failing
from tests.reports.test_html import _dump, _text_of

CUT = "judged on fewer samples than the default run (not sent: --budget 9 success requests were spent)"
PLAIN = RunTraffic(requests=192, successes=16, wall_s=14.0, waited_s=10.6, concurrency=8, planned=180)
BUDGETED = RunTraffic(
    requests=185,
    successes=9,
    wall_s=16.6,
    waited_s=9.5,
    concurrency=8,
    rate_limits_retried=2,
    rate_limits_returned=1,
    backoff_s=3.25,
    planned=181,
    budget=9,
    reduced={"LP-VID-6": CUT, "LP-OPS-1": CUT + " | <b>"},
)


def _report(traffic: RunTraffic | None) -> RunReport:
    return build([*all_passing()[1:], failing("LP-REQ-1")], traffic=traffic)


# ---- terminal -------------------------------------------------------------------------------


def test_terminal_states_the_traffic_after_the_verdict() -> None:
    report = _report(PLAIN)
    lines = render_terminal(report)
    at = lines.index(verdict_text(report))
    assert lines[at + 1 :] == [
        "traffic: 192 requests (16 successes); 14.0 s: 10.6 s waiting on the target, 3.4 s working; "
        "concurrency 8"
    ]
    assert dict(render_terminal_styled(report))[lines[-1]] == {}  # plain: the verdict line keeps the colour


def test_terminal_names_each_clause_the_budget_reduced() -> None:
    report = _report(BUDGETED)
    lines = render_terminal(report)
    tail = lines[lines.index(verdict_text(report)) + 1 :]
    assert tail[0].startswith("traffic: 185 requests (9 successes)")
    assert "budget 9 successes" in tail[0] and "2 rate limits waited out (3.2 s), 1 not" in tail[0]
    assert tail[1:] == [f"LP-VID-6 {CUT}", f"LP-OPS-1 {CUT} | <b>"]


def test_terminal_without_traffic_ends_on_the_verdict() -> None:
    report = _report(None)
    lines = render_terminal(report)
    assert lines[-1] == verdict_text(report)
    assert not any(line.startswith("traffic:") for line in lines)


# ---- Markdown -------------------------------------------------------------------------------


def test_markdown_has_a_traffic_table() -> None:
    text = render_markdown(_report(PLAIN))
    section = text.split("### Traffic", 1)[1].split("###", 1)[0]
    assert "| 192 | 16 | 14.0 s | 10.6 s (76%) | 3.4 s (24%) | 8 | — |" in section
    assert "Rate limits" not in section and "fewer samples" not in section
    assert text.index("### Traffic") < text.index("### Failed clauses")


def test_markdown_lists_the_reduced_clauses_escaped() -> None:
    text = render_markdown(_report(BUDGETED))
    assert "| 185 | 9 | 16.6 s | 9.5 s (57%) | 7.1 s (43%) | 8 | 9 successes |" in text
    assert "Rate limits (429): 2 waited out (3.2 s of back-off), 1 not." in text
    assert "#### Judged on fewer samples than the default run (2)" in text
    assert f"| LP-VID-6 | {CUT} |" in text
    assert f"| LP-OPS-1 | {CUT} \\| <b> |" in text  # a pipe cannot break the table


def test_markdown_of_a_passing_run_shows_the_traffic_too() -> None:
    text = render_markdown(build(all_passing(), traffic=PLAIN))
    assert "### Traffic" in text and text.rstrip().endswith("No clause failed.")


def test_markdown_without_traffic_has_no_section() -> None:
    assert "Traffic" not in render_markdown(_report(None))


# ---- JUnit ----------------------------------------------------------------------------------


def _properties(xml: str) -> list[tuple[str, str]]:
    suite = ET.fromstring(xml).find("testsuite")
    assert suite is not None
    return [(p.get("name", ""), p.get("value", "")) for p in suite.findall("properties/property")]


def test_junit_carries_the_traffic_as_suite_properties() -> None:
    props = dict(_properties(render_junit(_report(PLAIN))))
    assert props["traffic.requests"] == "192"
    assert props["traffic.successes"] == "16"
    assert props["traffic.waited_s"] == "10.600"
    assert props["traffic.work_s"] == "3.400"
    assert props["traffic.concurrency"] == "8"
    assert props["traffic.budget"] == ""
    assert "traffic.rate_limits_retried" not in props and "traffic.reduced" not in props


def test_junit_names_each_reduced_clause() -> None:
    props = _properties(render_junit(_report(BUDGETED)))
    assert [v for n, v in props if n == "traffic.reduced"] == [f"LP-VID-6: {CUT}", f"LP-OPS-1: {CUT} | <b>"]
    named = dict(props)
    assert (named["traffic.budget"], named["traffic.rate_limits_retried"], named["traffic.backoff_s"]) == (
        "9",
        "2",
        "3.250",
    )


def test_junit_without_traffic_has_no_traffic_property() -> None:
    props = _properties(render_junit(_report(None)))
    assert not [n for n, _ in props if n.startswith("traffic.")]
    assert dict(props)["verdict"] == "NOT COMPATIBLE"


# ---- HTML -----------------------------------------------------------------------------------


def _section(page: str) -> str:
    match = re.search(r'<section id="traffic">.*?</section>', page, re.S)
    assert match, "no traffic section"
    return match.group(0)


def test_html_shows_figures_and_the_time_split() -> None:
    section = _section(render_html(_report(PLAIN)))
    assert re.search(r'id="traffic-requests">192<', section)
    assert re.search(r'id="traffic-successes">16<', section)
    assert re.search(r'id="traffic-concurrency">8<', section)
    assert re.search(r'id="traffic-budget">—<', section)
    assert '<span class="waited" style="width: 75.7%">' in section
    assert '<span class="work" style="width: 24.3%">' in section
    assert "10.6 s waiting on the target (76%)" in section and "3.4 s working in the suite (24%)" in section
    assert "reduced" not in section and "Rate limits" not in section


def test_html_lists_the_reduced_clauses_escaped() -> None:
    section = _section(render_html(_report(BUDGETED)))
    assert (
        "2 clauses judged on fewer samples than the default run (--budget 9): LP-VID-6, LP-OPS-1" in section
    )
    assert re.findall(r'<tr class="reduced-row"><td class="id">([\w-]+)</td>', section) == [
        "LP-VID-6",
        "LP-OPS-1",
    ]
    assert "&lt;b&gt;" in section and "<b>\n" not in section
    assert "Rate limits (429): 2 waited out (3.2 s of back-off), 1 not." in section


def test_html_traffic_survives_redaction_and_stays_self_contained() -> None:
    page = render_html(_report(BUDGETED), Redactor([SECRET]))
    assert re.search(r'id="traffic-requests">185<', _section(page))
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_html_without_traffic_has_no_section() -> None:
    page = render_html(_report(None))
    assert '<section id="traffic"' not in page and 'class="traffic-bar"' not in page


@pytest.mark.parametrize(
    ("wall", "waited", "split"),
    [(10.0, 4.0, (40.0, 60.0)), (0.0, 0.0, (0.0, 0.0)), (2.0, 2.5, (100.0, 0.0))],
)
def test_time_split_is_bounded(wall: float, waited: float, split: tuple[float, float]) -> None:
    traffic = RunTraffic(requests=1, successes=0, wall_s=wall, waited_s=waited, concurrency=1)
    found = time_split(traffic)
    assert found is not None and (found.waited_pct, found.work_pct) == split
    assert time_split(None) is None


@pytest.mark.browser
def test_traffic_block_in_chromium(tmp_path: Path) -> None:
    page = write_html(_report(BUDGETED), tmp_path / "traffic-report.html")
    dom = _dump(page)
    assert 'data-rendered="yes"' in dom and 'data-errors="0"' in dom
    assert _text_of(dom, "traffic-requests") == "185"
    assert _text_of(dom, "traffic-successes") == "9"
    widths = dict(re.findall(r'<span class="(waited|work)" style="[^"]*" data-box-width="(\d+)"', dom))
    assert int(widths["waited"]) > int(widths["work"]) > 0, widths  # 57% vs 43% of the laid-out bar


# ---- JSON and the diff ----------------------------------------------------------------------


@pytest.mark.parametrize("traffic", [PLAIN, BUDGETED, None], ids=["plain", "budgeted", "none"])
def test_json_validates_and_round_trips(tmp_path: Path, traffic: RunTraffic | None) -> None:
    report = _report(traffic)
    path = write_json(report, tmp_path / "r.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(report_validator().iter_errors(data)) == []
    assert RunReport.from_dict(report.to_dict()) == report
    assert load_report(path).traffic == traffic
    if traffic is None:
        assert data["traffic"] is None
    else:
        assert data["traffic"]["work_s"] == round(traffic.work_s, 3)


def test_an_old_report_without_a_traffic_key_loads_and_renders(tmp_path: Path) -> None:
    data = _report(None).to_dict()
    del data["traffic"]
    assert list(report_validator().iter_errors(data)) == []
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    old = load_report(path)
    assert old.traffic is None
    assert render_terminal(old)[-1] == verdict_text(old)
    assert "Traffic" not in render_markdown(old) and '<section id="traffic"' not in render_html(old)


def test_diff_of_an_old_report_against_one_with_traffic() -> None:
    old, new = build(all_passing()), _report(BUDGETED)
    result = diff_reports(old, new)
    assert [r.clause for r in result.regressions] == ["LP-REQ-1"]
    assert "LP-REQ-1" in render_diff_text(result) and "LP-REQ-1" in render_diff_markdown(result)
