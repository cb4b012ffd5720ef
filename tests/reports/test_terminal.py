"""The terminal: the clause table, the triage (MUST first, each failure once, one curl), the
verdict line last; and the suite as users run it against a broken server, where a failing test
prints three lines, no frames of the suite's code and no Hypothesis reproduction hint."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.mock import ServerConfig
from conformance.mock.runner import ServerThread
from conformance.mutants import server_hooks
from conformance.pytest.verdict import choose_samples
from conformance.reports.model import RunReport, Sample
from conformance.reports.terminal import (
    MAX_BODY_LINES,
    render_terminal,
    render_terminal_styled,
    render_triage,
)
from tests.reports.conftest import all_passing, build, failing, result

pytest_plugins = ["pytester"]

KEY = "sk-terminal-test-key-7"
RUN_TIMEOUT = 180  # s: a hang guard far above the few seconds the run takes


def _text(report: RunReport) -> str:
    return "\n".join(render_terminal(report))


def test_triage_comes_after_the_table_must_first_each_failure_once(broken_report: RunReport) -> None:
    text = _text(broken_report)
    table, triage = text.split("Triage: 3 MUST, 1 SHOULD", 1)
    assert "LP-ENV-3   MUST   FAIL" in table
    heads = re.findall(r"^\[(LP-[A-Z]+-\d+) (\w+)\]", triage, re.M)
    assert heads == [("LP-ENV-3", "MUST"), ("LP-OK-2", "MUST"), ("LP-ERR-3", "MUST"), ("LP-VID-3", "SHOULD")]
    assert triage.index("MUST failures (3)") < triage.index("SHOULD failures (1)")
    assert text.count("curl -X POST") == 4  # one per failing clause, nowhere else
    assert "Reproduce:" not in text and "Received:" not in text
    assert "  received HTTP 500 · expected as the SPEC says" in triage
    assert '               "request_id": "req-LP-ENV-3"' in triage  # the body, formatted JSON
    assert render_terminal(broken_report)[-1].startswith("NOT COMPATIBLE (3 MUST failures")


def test_a_passing_run_has_no_triage() -> None:
    report = build(all_passing())
    assert render_triage(report) == []
    assert "Triage" not in _text(report)


def test_colours_mark_the_groups_and_the_verdict_line(broken_report: RunReport) -> None:
    styled = dict(render_terminal_styled(broken_report))
    assert styled["MUST failures (3)"] == {"red": True, "bold": True}
    assert styled["SHOULD failures (1)"] == {"yellow": True, "bold": True}
    last_line, markup = render_terminal_styled(broken_report)[-1]
    assert last_line.startswith("NOT COMPATIBLE") and markup == {"red": True, "bold": True}


def test_the_same_exchange_is_printed_once_for_several_clauses() -> None:
    env3, env4 = failing("LP-ENV-3"), failing("LP-ENV-4")
    env4.evidence = dict(env3.evidence)  # one answer breaking two clauses
    results = [r for r in all_passing() if r.clause not in ("LP-ENV-3", "LP-ENV-4")] + [env3, env4]
    text = _text(build(results))
    assert text.count("curl -X POST") == 1 and text.count('"error_code": 500') == 1
    assert "exchange     the same request and answer as LP-ENV-3 above" in text


def test_long_bodies_are_cut_in_the_terminal() -> None:
    check = failing("LP-ENV-5")
    check.evidence["response"] = {"status": 400, "body": {f"field_{i}": i for i in range(60)}}
    text = _text(build([*(r for r in all_passing() if r.clause != "LP-ENV-5"), check]))
    assert f'"field_{MAX_BODY_LINES - 2}"' in text and f'"field_{MAX_BODY_LINES}"' not in text
    assert "more lines in the JSON report" in text


def test_errors_come_last() -> None:
    results = [r for r in all_passing() if r.clause not in ("LP-REQ-1", "LP-VID-4")]
    results += [result("LP-REQ-1", "error", message="the target did not answer"), failing("LP-VID-4")]
    triage = _text(build(results)).split("Triage:", 1)[1]
    assert triage.index("SHOULD failures (1)") < triage.index("Not judged: errors (1)")
    assert "[LP-REQ-1 MUST] " in triage and "received the target did not answer" in triage


def _sample(fmt: str, type_value: str, name: str) -> Sample:
    return Sample(f"/v/{name}.mp4", f"{fmt} {type_value}", f"/i/{name}.jpg", fmt, type_value)


def test_samples_cover_each_format_and_each_type_with_distinct_inputs() -> None:
    kept = [
        _sample("JPEG", "0", "a"),
        _sample("JPEG", "0", "b"),  # the same pair again
        _sample("JPEG", "1", "c"),
        _sample("JPEG", "absent", "d"),
        Sample("/v/a.mp4", "same video", "/i/e.jpg", "PNG", "1"),  # a video already shown
        _sample("PNG", "1", "f"),
        _sample("BMP", "0", "g"),
        _sample("PNG", "0", "h"),
    ]
    chosen = choose_samples(kept, 4)
    pairs = {(s.image_format, s.type_value) for s in chosen}
    assert {f for f, _ in pairs} == {"JPEG", "PNG", "BMP"} and {t for _, t in pairs} == {"0", "1", "absent"}
    assert len({s.path for s in chosen}) == len({s.image for s in chosen}) == 4
    assert [s.image_format for s in chosen] == sorted(s.image_format for s in chosen)
    assert len(choose_samples(kept, 10)) == 6  # every distinct pair once, the repeated video left out


def test_hypothesis_profiles_print_no_reproduce_failure_blob(pytester: pytest.Pytester) -> None:
    from hypothesis import settings as hsettings

    from conformance.pytest.profiles import register_hypothesis_profiles
    from conformance.settings import Settings

    config = pytester.parseconfig("--hypothesis-seed=3")
    assert register_hypothesis_profiles(config, Settings("http://127.0.0.1:1", api_key="k")) == 3
    for name in ("livephoto-errors", "livephoto-success"):
        assert hsettings.get_profile(name).print_blob is False


def test_only_violations_are_shortened() -> None:
    from conformance.pytest.results import _violations
    from conformance.spec import Level
    from conformance.verdicts import Violation

    first = Violation("LP-OK-1", "t", received="r", expected="e", level=Level.MUST)
    second = Violation("LP-VID-4", "t", received="r", expected="e", level=Level.SHOULD)
    assert _violations(first) == [first]
    assert _violations(ExceptionGroup("hypothesis", [first, ExceptionGroup("inner", [second])])) == [
        first,
        second,
    ]
    assert _violations(ExceptionGroup("hypothesis", [first, ValueError("a bug of the suite")])) == []
    assert _violations(RuntimeError("a bug of the suite")) == []


@pytest.fixture(scope="module")
def broken_target() -> Iterator[str]:
    """Type 1 refused (LP-OK-1, a MUST) and every video a still (LP-VID-4, a SHOULD)."""
    config = ServerConfig(api_keys=(KEY,), hooks=server_hooks(["ok-type-1-refused", "vid-still"]))
    with ServerThread(config) as server:
        yield server.url


def test_a_failing_run_prints_each_failure_once_without_frames(broken_target: str, tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--target", broken_target,
        "--api-key", KEY, "--level", "should", "-k", "face_photo_gets_a_video or generated_valid_requests",
        "--report-json", "r.json", "--artefacts", "art",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )
    out = done.stdout
    assert done.returncode == 1, out[-3000:]
    failures, summary = out.split("Live Photos API conformance", 1)
    # pytest's per-test report: the clause, received · expected, a pointer; no frame, no hint
    assert "[LP-OK-1 MUST] A valid face photo gets 200" in failures
    assert "  received HTTP 400 code ERROR_INVALID_PARAMETER" in failures
    for internal in (
        "runner.py",
        "registry.py",
        "fixtures.py",
        "Traceback",
        "def run(",
        "@reproduce_failure",
    ):
        assert internal not in out, internal
    assert "Falsifying" not in out and "Failing explicit example" not in out
    assert re.search(r"FAILED \S+test_face_photo_gets_a_video\[type-1\] - AssertionError", out)
    # the triage: MUST before SHOULD, one curl command per distinct failing exchange
    triage = summary.split("Triage:", 1)[1]
    assert triage.index("MUST failures") < triage.index("SHOULD failures") < triage.index("[LP-VID-4 SHOULD]")
    report = json.loads((tmp_path / "r.json").read_text())
    failing_clauses = [c["id"] for c in report["clauses"] if c["verdict"] == "fail"]
    assert set(re.findall(r"^\[(LP-[A-Z]+-\d+) \w+\]", triage, re.M)) == set(failing_clauses)
    curls = re.findall(r"^  curl -sS .*$", triage, re.M)
    assert 2 <= len(curls) == len(set(curls)) <= len(failing_clauses)
    assert len(failing_clauses) - len(curls) == triage.count("the same request and answer as")
    assert report["metrics"]["exchange_latency"]["exchanges"] >= 4  # every exchange timed


@pytest.mark.slow
def test_a_passing_run_keeps_distinct_samples_with_their_photos_and_timings(tmp_path: Path) -> None:
    with ServerThread(ServerConfig(api_keys=(KEY,))) as server:
        command = [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--target", server.url,
            "--api-key", KEY, "-k", "face_photo_gets_a_video", "--report-json", "r.json",
            "--report-html", "r.html", "--artefacts", "art",
        ]  # fmt: skip
        done = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
        )
    assert done.returncode == 0, done.stdout[-3000:]  # the 13 clauses of the selected tests
    report = json.loads((tmp_path / "r.json").read_text())
    samples = report["samples"]
    # One picture under each type (the success pool's triple, identical pixels): a sample per
    # distinct input and output — type 0 and absent may get the very same video, shown once.
    assert 2 <= len(samples) <= 3 and "1" in {s["type_value"] for s in samples}
    assert all(s["image_format"] in ("PNG", "BMP") and (tmp_path / s["image"]).is_file() for s in samples)
    assert len({s["image"] for s in samples}) == len({s["path"] for s in samples}) == len(samples)
    assert any(s["caption"].endswith("type 1 (full body)") for s in samples)
    timing = report["metrics"]["exchange_latency"]
    assert timing["exchanges"] == len(timing["points"]) == 3 and all(p[2] == 200 for p in timing["points"])
    page = (tmp_path / "r.html").read_text()
    assert page.count('<div class="sample"') == len(samples)
    assert page.count('<img class="thumb input-thumb"') == len(samples)
    assert page.count('<img class="thumb frame-thumb"') == 3 * len(samples)
    assert 'id="latency-over-run"' in page
