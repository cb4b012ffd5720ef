"""Issue 14, a gate you can trust: the suite as a CI gate, run as users run it (a subprocess
against real servers on real sockets). Nothing judged, nothing claimed; every output tells the same
story; bad options cost one line before the run, not a traceback after it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.contract import documented_message
from conformance.mock import ServerConfig, create_app
from conformance.mock.runner import ServerThread
from conformance.pytest.verdict import EXIT_INCOMPLETE, EXIT_NOT_COMPATIBLE
from conformance.reports import load_report
from tests.suite.test_plugin import KEY, JsonRewrite, run_suite

ENVELOPE_ONLY = ("--family", "envelope", "-k", "every_kind_of_answer")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LIVEPHOTO_API_KEY"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def reference() -> Iterator[str]:
    with ServerThread(ServerConfig(api_keys=(KEY,))) as server:
        yield server.url


def _drop_error_msg(body: dict[str, Any]) -> dict[str, Any]:
    body.pop("error_msg", None)  # LP-ENV-5 is a SHOULD
    return body


def _unlisted_invalid_type_code(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("error_code_str") == "ERROR_INVALID_PARAMETER":  # LP-ERR-5 lists this code: SHOULD
        body["error_code_str"] = "MISSING_PARAMETERS"  # valid with 400 (the MUST part), not listed
        body["error_detail"]["code"] = "MISSING_PARAMETERS"
        body["error_detail"]["code_message"] = documented_message("MISSING_PARAMETERS")
    return body


@pytest.fixture
def should_faulty() -> Iterator[str]:
    app = JsonRewrite(create_app(ServerConfig(api_keys=(KEY,))), _drop_error_msg)
    with ServerThread(app=app) as server:
        yield server.url


def test_base_install_without_xdist_runs_the_suite(reference: str, tmp_path: Path) -> None:
    """The xdist hooks are optional: without pytest-xdist the plugin loads and judges."""
    result = run_suite(tmp_path, "-p", "no:xdist", "--target", reference, "--api-key", KEY, *ENVELOPE_ONLY)
    assert "INTERNALERROR" not in result.stdout + result.stderr
    assert result.returncode == 0, result.stdout[-2000:]
    assert "COMPATIBLE for 7 of 46 clauses" in result.stdout


@pytest.mark.parametrize(
    "how", [["-k", "nomatch"], ["--collect-only"], ["--clause", "LP-ERR-12", "-k", "envelope"]]
)
def test_a_run_that_judged_nothing_is_incomplete(how: list[str], reference: str, tmp_path: Path) -> None:
    """COMPATIBLE means every selected clause was judged: these judged none."""
    result = run_suite(
        tmp_path,
        "--target",
        reference,
        "--api-key",
        KEY,
        "--report-json",
        "r.json",
        "--report-badge",
        "b.svg",
        *how,
    )
    assert result.returncode == EXIT_INCOMPLETE, result.stdout[-2000:]
    report = load_report(tmp_path / "r.json")
    summary = report.summary()
    assert (summary["verdict"], summary["compatible"], summary["complete"]) == ("INCOMPLETE", False, False)
    assert summary["not_judged"], "an incomplete report says what was not judged and why"
    assert ">incomplete<" in (tmp_path / "b.svg").read_text()
    assert "INCOMPLETE" in result.stdout and "COMPATIBLE (" not in result.stdout


def test_an_interrupted_run_is_incomplete(tmp_path: Path) -> None:
    # A target answering after 2 s: the run lasts well beyond the moment it is interrupted.
    with ServerThread(ServerConfig(api_keys=(KEY,), latency=2.0)) as slow:
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--target", slow.url]
        command += ["--api-key", KEY, "--report-json", "r.json", "--junitxml", "j.xml"]
        process = subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        time.sleep(8)  # the preflight, collection and a few tests
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output[-2000:]
    report = load_report(tmp_path / "r.json")
    assert report.outcome == "INCOMPLETE"
    assert "the run was interrupted" in report.incomplete_reasons
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert suite is not None
    props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert props["verdict"] == "INCOMPLETE"


def test_a_selection_is_compatible_for_its_clauses_only(reference: str, tmp_path: Path) -> None:
    result = run_suite(
        tmp_path, "--target", reference, "--api-key", KEY, "--report-json", "r.json", *ENVELOPE_ONLY
    )
    assert result.returncode == 0, result.stdout[-2000:]
    report = load_report(tmp_path / "r.json")
    assert report.outcome == "COMPATIBLE" and report.scope == "for 7 of 46 clauses"
    assert [c.id for c in report.clauses] == [f"LP-ENV-{i}" for i in range(1, 8)]


def test_a_rejected_key_is_one_line_and_exit_4(reference: str, tmp_path: Path) -> None:
    result = run_suite(tmp_path, "--target", reference, "--api-key", "WRONG", env=_env())
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "the target rejected the key given by --api-key (401 ERROR_USER_NOT_EXISTS)" in result.stderr
    assert len((result.stdout + result.stderr).strip().splitlines()) <= 3
    from_env = run_suite(tmp_path, "--target", reference, env=_env(LIVEPHOTO_API_KEY="WRONG"))
    assert from_env.returncode == pytest.ExitCode.USAGE_ERROR
    assert "rejected the key given by $LIVEPHOTO_API_KEY" in from_env.stderr


@pytest.mark.parametrize(
    ("option", "path", "message"),
    [
        ("--report-json", "/proc/x.json", "cannot be written"),
        ("--report-html", ".", "is a folder"),
        ("--junitxml", "/proc/nope/j.xml", "cannot be written"),
    ],
)
def test_report_paths_are_checked_before_the_run(
    option: str, path: str, message: str, reference: str, tmp_path: Path
) -> None:
    started = time.perf_counter()
    result = run_suite(tmp_path, "--target", reference, "--api-key", KEY, option, path)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert f"{option} {path}: {message}" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert time.perf_counter() - started < 20, "refused before the run, not after it"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("http://127.0.0.1:1/?x=1", "has a query"),
        ("http://127.0.0.1:1/#top", "has a fragment"),
        ("http://user:pw@127.0.0.1:1", "must not carry credentials"),
        ("http://127.0.0.1:1/api/portrait/effects/live-photo", "already ends with the endpoint path"),
    ],
)
def test_target_forms_that_would_misroute_are_refused(target: str, message: str, tmp_path: Path) -> None:
    result = run_suite(tmp_path, "--target", target, "--api-key", KEY)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr
    assert "pw" not in result.stderr.replace("password", "") or "credentials" in result.stderr


def test_the_temp_folder_is_left_clean_unless_artefacts_are_asked_for(reference: str, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = _env(TMPDIR=str(scratch))
    result = run_suite(tmp_path, "--target", reference, "--api-key", KEY, *ENVELOPE_ONLY, env=env)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "artefacts: " in result.stdout and "removed now" in result.stdout
    assert [p.name for p in scratch.iterdir() if p.name.startswith("livephoto-")] == []
    kept = tmp_path / "kept"
    result = run_suite(
        tmp_path, "--target", reference, "--api-key", KEY, "--artefacts", str(kept), *ENVELOPE_ONLY, env=env
    )
    assert result.returncode == 0
    assert kept.is_dir() and f"artefacts: {kept} (kept)" in result.stdout


def _cases(path: Path) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in ET.parse(path).getroot().iter("testcase")}


def test_junit_has_one_testcase_per_clause_and_tells_the_report_story(
    should_faulty: str, tmp_path: Path
) -> None:
    """A SHOULD failure below the gate passes with a warning (never skipped); at --level should
    it is a failure; the terminal row names the level that failed; the exit code agrees."""
    common = ("--target", should_faulty, "--api-key", KEY, "--report-json", "r.json", *ENVELOPE_ONLY)
    must = run_suite(tmp_path, *common, "--junitxml", "must.xml")
    assert must.returncode == 0, must.stdout[-2000:]
    report = load_report(tmp_path / "r.json")
    cases = _cases(tmp_path / "must.xml")
    assert sorted(cases) == sorted(c.id for c in report.clauses)
    assert {case.get("classname") for case in cases.values()} == {"envelope"}
    env5 = cases["LP-ENV-5"]
    assert env5.find("failure") is None and env5.find("skipped") is None
    out = env5.find("system-out")
    assert out is not None and out.text and out.text.startswith("warning: LP-ENV-5 SHOULD failure")
    assert [c for c in cases.values() if c.find("skipped") is not None] == []
    assert "LP-ENV-5   SHOULD FAIL" in must.stdout
    assert "COMPATIBLE for 7 of 46 clauses (0 MUST failures" in must.stdout
    assert "xfail" not in must.stdout

    should = run_suite(tmp_path, *common, "--level", "should", "--junitxml", "should.xml")
    assert should.returncode == EXIT_NOT_COMPATIBLE
    failing = [
        name for name, case in _cases(tmp_path / "should.xml").items() if case.find("failure") is not None
    ]
    assert failing == ["LP-ENV-5"]
    assert "NOT COMPATIBLE for 7 of 46 clauses (0 MUST failures, 1 SHOULD failure" in should.stdout


def test_a_section_5_row_names_the_obligation_that_failed(tmp_path: Path) -> None:
    app = JsonRewrite(create_app(ServerConfig(api_keys=(KEY,))), _unlisted_invalid_type_code)
    with ServerThread(app=app) as server:
        result = run_suite(
            tmp_path,
            "--target",
            server.url,
            "--api-key",
            KEY,
            "--clause",
            "LP-ERR-5",
            "-k",
            "lp_err_5",
            "--max-examples",
            "1",
        )
    row = next(line for line in result.stdout.splitlines() if line.startswith("LP-ERR-5 "))
    assert row.split()[:3] == ["LP-ERR-5", "SHOULD", "FAIL"], row
    assert "SHOULD part (the listed code)" in row
    assert result.returncode == 0, "a SHOULD part does not gate at --level must"


class SlowFirstNoFace:
    """ASGI middleware: the first 422 answer (no face) arrives after 5.3 s, over LP-OPS-1's 5 s
    (``every``: each 422 answer does)."""

    def __init__(self, app: Any, *, every: bool = False) -> None:
        self.app, self.delayed, self.every = app, False, every

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def slow_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 422 and not self.delayed:
                self.delayed = not self.every
                await asyncio.sleep(5.3)
            await send(message)

        await self.app(scope, receive, slow_send if scope["type"] == "http" else send)


class OneAtATime:
    """ASGI middleware: a target that answers one request at a time, each after 2 s — under the
    run's own concurrency, a client error queued behind two others waits over LP-OPS-1's 5 s."""

    def __init__(self, app: Any) -> None:
        self.app, self.lock = app, asyncio.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self.lock:
            await asyncio.sleep(2.0)
            await self.app(scope, receive, send)


def test_a_queue_the_run_itself_caused_is_not_slowness(tmp_path: Path) -> None:
    """LP-OPS-1 under --concurrency: an answer over the bound that came while other requests of the
    run were in flight is judged on the same request sent again alone (issue 18)."""
    with ServerThread(app=OneAtATime(create_app(ServerConfig(api_keys=(KEY,))))) as server:
        result = run_suite(
            tmp_path, "--target", server.url, "--api-key", KEY, "--clause", "LP-OPS-1", "--clause",
            "LP-ERR-10", "-k", "lp_err_10", "--max-examples", "1", "--level", "should",
            "--report-json", "r.json",
        )  # fmt: skip
    report = load_report(tmp_path / "r.json")
    ops = next(c for c in report.clauses if c.id == "LP-OPS-1")
    assert ops.verdict.value == "pass", (ops.verdict, ops.reason, result.stdout[-2000:])
    assert report.traffic is not None and report.traffic.unplanned > 0  # the slow ones, sent alone


@pytest.mark.parametrize(
    ("concurrency", "every"), [("1", False), ("8", True)], ids=["one-by-one", "concurrent"]
)
def test_lp_ops_1_judges_the_slowest_client_error_of_the_run(
    concurrency: str, every: bool, tmp_path: Path
) -> None:
    """Every exchange counts for LP-OPS-1, not only those of its own test: one after the other, the
    first slow answer fails it; under concurrency, the slow answer sent again alone is slow too."""
    app = SlowFirstNoFace(create_app(ServerConfig(api_keys=(KEY,))), every=every)
    with ServerThread(app=app) as server:
        result = run_suite(
            tmp_path,
            "--concurrency",
            concurrency,
            "--target",
            server.url,
            "--api-key",
            KEY,
            "--clause",
            "LP-OPS-1",
            "--clause",
            "LP-ERR-10",
            "-k",
            "lp_err_10",
            "--max-examples",
            "1",
            "--level",
            "should",
            "--report-json",
            "r.json",
        )
    report = load_report(tmp_path / "r.json")
    ops = next(c for c in report.clauses if c.id == "LP-OPS-1")
    assert ops.verdict.value == "fail", (ops.verdict, ops.reason)
    assert "after 5." in ops.failures[0].message
    assert result.returncode == EXIT_NOT_COMPATIBLE
