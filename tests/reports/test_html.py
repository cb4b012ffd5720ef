"""The HTML report: self-contained, escaped, videos embedded under a cap, and real in Chromium."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conformance.reports.html import embed_video, render_html, write_html
from conformance.reports.model import RunReport, Sample
from tests.reports.conftest import all_passing, build, curl_for, failing

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SCREENSHOT_DIR_ENV = "LIVEPHOTO_SCREENSHOT_DIR"  # keep screenshots to look at them


def test_page_is_self_contained(broken_report: RunReport) -> None:
    page = render_html(broken_report)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page
    assert page.count('<a class="tile') == len(broken_report.clauses)
    assert page.count('<details class="failed-row') == 4
    assert page.count("data:video/mp4;base64,") == 2


def test_curl_command_is_shown_for_every_failure(broken_report: RunReport) -> None:
    page = render_html(broken_report)
    commands = re.findall(r'<pre class="curl-command">(.*?)</pre>', page, re.S)
    assert len(commands) == 4
    assert commands[0] == curl_for().replace("'", "&#39;")


def test_text_is_escaped() -> None:
    results = [*all_passing()[1:], failing("LP-REQ-1", "<script>alert(1)</script>")]
    page = render_html(build(results))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_video_over_the_cap_is_named_by_path(tmp_path: Path, video: Path) -> None:
    size = video.stat().st_size
    embedded = embed_video(str(video), "ok", max_bytes=size)
    assert embedded.src == "data:video/mp4;base64," + base64.b64encode(video.read_bytes()).decode()
    linked = embed_video(str(video), "big", max_bytes=size - 1)
    assert linked.src == ""
    assert "embedding cap" in linked.note
    missing = embed_video(str(tmp_path / "gone.mp4"))
    assert (missing.src, missing.note) == ("", "file not found when the report was written")
    report = build(all_passing(), samples=[Sample(str(video), "cap test")])
    page = render_html(report, max_video_bytes=size - 1)
    assert "data:video" not in page
    assert str(video) in page and "embedding cap" in page


def _chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"no Chromium binary on PATH (looked for {', '.join(CHROMIUM_NAMES)})")


def _run_chromium(page: Path, *args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _dump(page: Path) -> str:
    return _run_chromium(page, "--virtual-time-budget=5000", "--dump-dom")


def _screenshot(page: Path, tmp_path: Path) -> Path:
    folder = Path(os.environ.get(SCREENSHOT_DIR_ENV, tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / (page.stem + ".png")
    _run_chromium(page, f"--screenshot={png}", "--window-size=1280,2000")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000  # a blank page is a few kB
    return png


def _text_of(dom: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', dom)
    assert match, f"#{element_id} missing from the rendered DOM"
    return match.group(1).strip()


@pytest.mark.browser
def test_broken_report_in_chromium(tmp_path: Path, broken_report: RunReport) -> None:
    page = write_html(broken_report, tmp_path / "broken-report.html")
    dom = _dump(page)
    assert 'data-rendered="yes"' in dom, "the page's script did not run"
    assert _text_of(dom, "verdict") == "Not compatible"
    assert _text_of(dom, "failed-count") == "4"
    assert _text_of(dom, "count-fail") == "4"
    assert _text_of(dom, "count-pass") == str(broken_report.counts["pass"])
    assert _text_of(dom, "must-failures") == "3"
    failed = re.findall(r'<details class="failed-row[^"]*" data-clause="([^"]+)"', dom)
    assert failed == ["LP-ENV-3", "LP-OK-2", "LP-VID-3", "LP-ERR-3"]
    durations = re.findall(r'<video class="embedded"[^>]*data-duration="([0-9.]+)"', dom)
    assert len(durations) == 2, "both embedded videos should load in the browser"
    assert all(float(d) > 0 for d in durations)
    _screenshot(page, tmp_path)


@pytest.mark.browser
def test_passing_report_in_chromium(tmp_path: Path, video: Path) -> None:
    report = build(all_passing(), samples=[Sample(str(video), "type 0")])
    page = write_html(report, tmp_path / "passing-report.html")
    dom = _dump(page)
    assert _text_of(dom, "verdict") == "Compatible"
    assert _text_of(dom, "failed-count") == "0"
    assert _text_of(dom, "score") == "100%"
    assert _text_of(dom, "count-pass") == str(report.counts["pass"])
    assert "no-failures" in dom
    _screenshot(page, tmp_path)


def test_errors_metrics_and_config_are_shown() -> None:
    from tests.reports.conftest import result

    results = [r for r in all_passing() if r.clause != "LP-OPS-2"]
    results.append(result("LP-OPS-2", "error", message="ConnectError: connection refused"))
    report = build(results, kind="load", metrics={"p95_ms": 812.5})
    page = render_html(report)
    assert 'class="failed-row v-error-row" data-clause="LP-OPS-2"' in page
    assert "ConnectError: connection refused" in page
    assert "&#34;p95_ms&#34;: 812.5" in page
    assert "&#34;api_key&#34;: &#34;***&#34;" in page
    assert ">Incomplete<" in page  # an error is a clause not judged: INCOMPLETE, not a pass
    assert 'class="not-judged-row"><td class="id">LP-OPS-2</td>' in page


def test_should_failures_below_the_gate_are_marked(broken_report: RunReport) -> None:
    page = render_html(broken_report)
    tiles = re.findall(r'<a class="tile ([^"]+)"[^>]*data-clause="([^"]+)"', page)
    marked = sorted(clause for classes, clause in tiles if "below-gate" in classes)
    assert marked == ["LP-VID-3"]
    broken_report.level = "SHOULD"
    assert "tile v-fail below-gate" not in render_html(broken_report)


def test_many_failing_exchanges_are_summarised() -> None:
    from conformance.reports.html import MAX_FAILURES_SHOWN

    many = [failing("LP-ENV-5", f"exchange {i} lacks error_msg") for i in range(MAX_FAILURES_SHOWN + 7)]
    results = [r for r in all_passing() if r.clause != "LP-ENV-5"] + many
    page = render_html(build(results))
    assert page.count('<div class="check">') == MAX_FAILURES_SHOWN
    assert "… and 7 more failing exchanges of this clause" in page
