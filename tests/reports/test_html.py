"""The HTML report: self-contained, escaped, videos embedded under a cap, the triage (MUST first,
compact, pictures of what went in and came out), the latency charts, and real in Chromium."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from conformance.reports.frames import THUMB_HEIGHT
from conformance.reports.html import embed_video, render_html, write_html
from conformance.reports.latency import latency_metrics
from conformance.reports.model import RunReport, Sample
from tests.reports.conftest import TIMINGS, all_passing, build, curl_for, failing, result, write_video

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
ROOT = Path(__file__).resolve().parents[2]
# Screenshots are kept as CI artefacts: under $LIVEPHOTO_ARTEFACTS/screenshots when set, else under
# the checkout's artifacts/screenshots (ignored by git).
ARTEFACTS_ENV = "LIVEPHOTO_ARTEFACTS"


def test_page_is_self_contained(broken_report: RunReport) -> None:
    page = render_html(broken_report)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page
    assert page.count('<a class="tile') == len(broken_report.clauses)
    assert page.count('<details class="failed-row') == 4
    assert page.count("data:video/mp4;base64,") == 2
    assert page.count("data:image/jpeg;base64,") == 8  # 2 × (the input photo and 3 frames)


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


def _run_chromium(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _dump(page: Path) -> str:
    """The DOM after the page's scripts ran; fails on any console message (the page logs nothing,
    so a message is an error: a script error, a load the CSP blocked, …)."""
    done = _run_chromium(page, "--virtual-time-budget=5000", "--enable-logging=stderr", "--v=0", "--dump-dom")
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    return done.stdout


def _screenshot(page: Path, height: int = 2000) -> Path:
    folder = Path(os.environ.get(ARTEFACTS_ENV) or ROOT / "artifacts") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / (page.stem + ".png")
    _run_chromium(page, f"--screenshot={png}", f"--window-size=1280,{height}")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000  # a blank page is a few kB
    return png


def _rendered_pictures(dom: str) -> list[int]:
    """The natural widths the browser decoded for the page's thumbnails (0: not decoded)."""
    tags = re.findall(r"<img [^>]*class=\"thumb[^>]*>", dom)
    assert tags, "no thumbnail on the page"
    return [int(m.group(1)) if (m := re.search(r'data-natural-width="(\d+)"', t)) else 0 for t in tags]


def _drawn_charts(dom: str) -> dict[str, int]:
    """Each chart's id and how many marks (dots, bars, lines) the browser found in it."""
    return {i: int(n) for i, n in re.findall(r'<svg id="([\w-]+)" class="chart"[^>]*data-drawn="(\d+)"', dom)}


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
    failed = re.findall(r'<details class="failed-row[^"]*" data-clause="([^"]+)" data-level="(\w+)"', dom)
    assert failed == [("LP-ENV-3", "MUST"), ("LP-OK-2", "MUST"), ("LP-ERR-3", "MUST"), ("LP-VID-3", "SHOULD")]
    durations = re.findall(r'<video class="embedded"[^>]*data-duration="([0-9.]+)"', dom)
    assert len(durations) == 2, "both embedded videos should load in the browser"
    assert all(float(d) > 0 for d in durations)
    widths = _rendered_pictures(dom)
    assert len(widths) == 8 and all(w > 0 for w in widths), widths  # 2 × (input + 3 frames)
    charts = _drawn_charts(dom)
    assert charts == {"latency-over-run": len(TIMINGS), "latency-histogram": charts["latency-histogram"]}
    assert charts["latency-histogram"] > 0
    assert re.search(r'<svg id="latency-over-run"[^>]*data-box-width="([1-9]\d{2,})"', dom), (
        "chart not laid out"
    )
    assert 'data-errors="0"' in dom
    _screenshot(page, height=3200)


@pytest.mark.browser
def test_passing_report_in_chromium(tmp_path: Path, video: Path, photo: Path) -> None:
    samples = [
        Sample(str(video), "JPEG 200×260, type 0 (avatar)", str(photo), "JPEG", "0"),
        Sample(str(write_video(tmp_path / "b.mp4", frames=20)), "PNG, type 1", str(photo), "PNG", "1"),
    ]
    report = build(all_passing(), samples=samples, metrics=latency_metrics(TIMINGS))
    page = write_html(report, tmp_path / "passing-report.html")
    dom = _dump(page)
    assert _text_of(dom, "verdict") == "Compatible"
    assert _text_of(dom, "failed-count") == "0"
    assert _text_of(dom, "score") == "100%"
    assert _text_of(dom, "count-pass") == str(report.counts["pass"])
    assert "no-failures" in dom
    assert re.findall(r'<div class="sample" data-format="(\w+)" data-type="(\w+)"', dom) == [
        ("JPEG", "0"),
        ("PNG", "1"),
    ]
    widths = _rendered_pictures(dom)
    assert len(widths) == 8 and all(w > 0 for w in widths), widths
    assert set(_drawn_charts(dom)) == {"latency-over-run", "latency-histogram"}
    assert 'data-errors="0"' in dom
    _screenshot(page, height=2600)


def _block(page: str, clause: str) -> str:
    """The triage entry of one clause."""
    match = re.search(rf'<details class="failed-row[^"]*" data-clause="{clause}".*?</details>', page, re.S)
    assert match, f"no triage entry for {clause}"
    return match.group(0)


def test_triage_puts_must_failures_first_then_should_then_errors(broken_report: RunReport) -> None:
    broken_report = build(
        [*(r for c in broken_report.clauses for r in c.checks if c.id != "LP-OPS-2"),
         result("LP-OPS-2", "error", message="the target did not answer: timed out")]
    )  # fmt: skip
    page = render_html(broken_report)
    levels = re.findall(r'<details class="failed-row[^"]*" data-clause="[^"]+" data-level="(\w+)"', page)
    assert levels == ["MUST", "MUST", "MUST", "SHOULD", "ERROR"]
    headings = re.findall(r'<h3 class="triage-group[^"]*" data-group="(\w+)">([^<]+)<', page)
    assert headings == [
        ("MUST", "MUST failures (3)"),
        ("SHOULD", "SHOULD failures (1)"),
        ("ERROR", "Not judged: errors (1)"),
    ]


def test_each_failure_is_compact_with_one_curl_and_a_pretty_body(broken_report: RunReport) -> None:
    page = render_html(broken_report)
    block = _block(page, "LP-ENV-3")
    assert block.count("curl -X POST") == 1  # printed once: not again inside a rendered message
    assert "Reproduce:" not in block and "Received:" not in block
    assert "<b>received</b> HTTP 500 · <b>expected</b> as the SPEC says" in block
    body = "{\n  &#34;error_code&#34;: 500,\n  &#34;request_id&#34;: &#34;req-LP-ENV-3&#34;\n}"
    assert f'<pre class="body">{body}</pre>' in block  # formatted JSON, not an escaped string
    assert "<th>test</th>" in block and "<th>header</th><td>ailabapi-api-key: ***</td>" in block


def test_body_excerpt_is_pretty_printed_not_an_escaped_string() -> None:
    check = failing("LP-ENV-5")
    check.evidence["response"] = {
        "status": 400,
        "bytes": 120,
        "elapsed_ms": 4.2,
        "headers": {"content-type": "application/json"},
        "body_excerpt": '{"error_code": 400, "error_detail": {"code": "ERROR_INVALID_PARAMETER"}}',
    }
    page = render_html(build([*(r for r in all_passing() if r.clause != "LP-ENV-5"), check]))
    block = _block(page, "LP-ENV-5")
    assert "  &#34;error_detail&#34;: {\n    &#34;code&#34;: &#34;ERROR_INVALID_PARAMETER&#34;\n  }" in block
    assert "HTTP 400 · 120 bytes · 4.2 ms · application/json" in block


def _pictures(html: str) -> list[Image.Image]:
    uris = re.findall(r'<img class="thumb[^"]*" src="data:image/jpeg;base64,([^"]+)"', html)
    return [Image.open(io.BytesIO(base64.b64decode(uri))) for uri in uris]


def test_video_failure_shows_the_input_beside_first_middle_and_last_frames(broken_report: RunReport) -> None:
    block = _block(render_html(broken_report), "LP-VID-3")
    assert re.findall(r"<figcaption>([^<]+)</figcaption>", block)[:4] == [
        "input", "first · 0.00 s", "middle · 0.25 s", "last · 0.42 s"
    ]  # fmt: skip
    photo, first, middle, last = _pictures(block)
    assert photo.getpixel((2, 2))[0] > 150 and photo.height <= THUMB_HEIGHT  # the orange input photo
    assert first.size == middle.size == last.size and first.height <= THUMB_HEIGHT
    assert first.tobytes() != last.tobytes()  # the moving gradient: real, distinct frames


def test_missing_input_or_video_is_explained_not_fatal(tmp_path: Path, video: Path) -> None:
    samples = [
        Sample(str(video), "no photo saved", "", "JPEG", "0"),
        Sample(str(tmp_path / "gone.mp4"), "video gone", str(tmp_path / "gone.jpg"), "PNG", "1"),
    ]
    page = render_html(build(all_passing(), samples=samples))
    assert "the input image was not saved" in page
    assert page.count("file not found when the report was written") >= 2  # the photo and the frames


def test_latency_charts_and_metrics(broken_report: RunReport) -> None:
    page = render_html(broken_report)
    over_run = re.search(r'<svg id="latency-over-run".*?</svg>', page, re.S)
    histogram = re.search(r'<svg id="latency-histogram".*?</svg>', page, re.S)
    assert over_run and histogram
    assert over_run.group(0).count("<circle") == len(TIMINGS)
    counts = [int(n) for n in re.findall(r'<rect class="bar"[^>]*data-count="(\d+)"', histogram.group(0))]
    assert sum(counts) == len(TIMINGS)
    assert 'data-series="concurrent (LP-OPS-2)"' in histogram.group(0)
    assert "slowest concurrent (LP-OPS-2): 1130 ms" in page
    assert "25 points, charted above" in page  # the metrics table does not list every point


def test_no_latency_section_without_timings() -> None:
    page = render_html(build(all_passing()))
    assert "latency-over-run" not in page and 'id="latency"' not in page


def test_errors_metrics_and_config_are_shown() -> None:
    from tests.reports.conftest import result

    results = [r for r in all_passing() if r.clause != "LP-OPS-2"]
    results.append(result("LP-OPS-2", "error", message="ConnectError: connection refused"))
    report = build(results, kind="load", metrics={"p95_ms": 812.5})
    page = render_html(report)
    assert re.search(r'class="failed-row [^"]*v-error-row" data-clause="LP-OPS-2"', page)
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
    assert page.count('<pre class="curl-command">') == 1  # the first failure in full
    assert page.count('<li class="other-failure"') == MAX_FAILURES_SHOWN - 1
    assert "exchange 1 lacks error_msg — check_lp_env_5" in page
    assert "… and 7 more failing exchanges of this clause" in page  # 1 in full + 4 listed + 7
