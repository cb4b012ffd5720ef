"""The load profile's new behaviour: an unusable target stops it at once (exit 4), it shows
progress while it runs, and its HTML page charts requests/s and latency percentiles over time
from Locust's own history, beside Locust's own report (checked in Chromium)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.load.html import load_charts
from conformance.load.report import thin
from tests.reports.test_html import _dump, _screenshot
from tests.run.harness import KEY, clean_env, cli, one_line, reference


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with reference() as found:
        yield found


def test_an_unreachable_target_is_exit_4_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    done = cli(
        "load", "--target", "http://127.0.0.1:9", "--duration", "10m", cwd=tmp_path,
        env=clean_env(LIVEPHOTO_API_KEY=KEY),
    )  # fmt: skip
    assert done.returncode == 4
    assert "cannot reach the target" in one_line(done.stderr)
    assert time.monotonic() - started < 30  # not after the 10 minutes


def test_a_rejected_key_is_exit_4_at_once(url: str, tmp_path: Path) -> None:
    done = cli(
        "load", "--target", url, "--duration", "10m", cwd=tmp_path, env=clean_env(LIVEPHOTO_API_KEY="nope")
    )
    assert done.returncode == 4
    line = one_line(done.stderr)
    assert "rejected the key given by $LIVEPHOTO_API_KEY (401" in line and "nope" not in line


def test_charts_come_from_the_timeline_and_a_long_one_is_thinned() -> None:
    timeline = [
        {"t": float(i), "rps": i / 2, "fail_per_s": 0.0, "p50": 10.0, "p95": 20.0, "p99": None}
        for i in range(1000)
    ]
    kept = thin(timeline, 300)
    assert len(kept) == 300 and kept[0] is timeline[0] and kept[-1] is timeline[-1]
    rps, latency = load_charts(kept)
    assert 'id="rps-chart"' in rps and 'data-series="requests/s"' in rps and 'data-points="300"' in rps
    assert 'data-series="p95"' in latency and 'data-series="p99" points=""' in latency  # no p99: no line
    assert load_charts([]) == []


@pytest.mark.slow
@pytest.mark.browser
def test_a_run_shows_progress_and_charts_load_over_time(url: str, tmp_path: Path) -> None:
    done = cli(
        "load", "--target", url, "--users", "4", "--duration", "12s", "--max-requests", "400",
        "--mix", "success=1",
        "--report-json", "load.json", "--report-html", "load.html", "--artefacts-dir", "art",
        cwd=tmp_path, env=clean_env(LIVEPHOTO_API_KEY=KEY),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # Not a terminal: a progress line every few seconds, figures included.
    lines = re.findall(r"^progress: (\d+)/12 s.* · (\d+)/400 requests · [\d.]+ req/s", done.stderr, re.M)
    assert len(lines) >= 2, done.stderr[-3000:]
    assert int(lines[-1][1]) > 0
    report = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    # The run's scope is what its mix exercised: a clean success-only run is COMPATIBLE, not
    # INCOMPLETE for the error clauses it never sends.
    assert report["summary"]["verdict"] == "COMPATIBLE", report["summary"]
    assert not any(c["id"].startswith("LP-ERR-") for c in report["clauses"])
    timeline = report["metrics"]["timeline"]
    assert len(timeline) >= 5
    assert {"t", "users", "rps", "fail_per_s", "p50", "p95", "p99"} <= set(timeline[-1])
    assert any(point["rps"] > 0 for point in timeline)
    page = tmp_path / "load.html"
    locust_page = tmp_path / "load.locust.html"
    assert locust_page.exists() and locust_page.stat().st_size > 100_000  # Locust's own report
    html = page.read_text(encoding="utf-8")
    assert 'href="load.locust.html"' in html
    dom = _dump(page)
    widths = dict(re.findall(r'<svg id="([\w-]+)"[^>]*data-line-width="([\d.]+)"', dom))
    assert set(widths) == {"rps-chart", "latency-chart"}
    assert all(float(width) > 100 for width in widths.values()), widths
    assert 'data-rendered="yes"' in dom  # the report page's own script ran too
    _screenshot(page, tmp_path)
    assert KEY not in html + (tmp_path / "load.json").read_text(encoding="utf-8") + done.stdout + done.stderr


@pytest.mark.slow
def test_on_a_terminal_the_progress_is_a_live_bar(url: str, tmp_path: Path) -> None:
    import os
    import pty
    import subprocess

    from tests.run.harness import CLI
    from tests.run.test_run import ANSI, _read_pty

    primary, secondary = pty.openpty()
    env = clean_env(LIVEPHOTO_API_KEY=KEY, COLUMNS="140", TERM="xterm-256color")
    command = [CLI, "load", "--target", url, "--users", "2", "--duration", "6s", "--mix", "success=1"]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdin=secondary, stdout=secondary, stderr=secondary
    )
    os.close(secondary)
    try:
        screen = ANSI.sub("", _read_pty(primary, process, 120))
        code = process.wait(timeout=30)
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()
    assert code == 0, screen[-3000:]
    assert "livephoto load" in screen
    frames = re.findall(r"(\d+)/6 s(?: \(stopping\))? · (\d+)/10000 requests", screen)
    assert len(frames) >= 2 and int(frames[-1][1]) > 0, screen[-3000:]
    assert "Aggregated" in screen  # Locust's own summary, printed above the bar
