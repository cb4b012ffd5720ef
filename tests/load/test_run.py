"""Headless Locust runs of the load profile against servers on 127.0.0.1 (Locust in a subprocess,
so gevent's monkey-patching stays out of pytest)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.load.cli import main, parse_duration
from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from conformance.settings import REFERENCE_API_KEY
from tests.load.mixup_server import MixUpServer

RUN_TIMEOUT = 120  # s: a safety net; each run below stops by itself much sooner


@pytest.fixture(scope="module")
def reference() -> Iterator[str]:
    with ServerThread(ServerConfig()) as server:
        yield server.url


def _env() -> dict[str, str]:
    return {**os.environ, "LIVEPHOTO_API_KEY": REFERENCE_API_KEY}


def _load(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance.load", *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def _report(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_a_run_against_the_reference_server_finds_no_violation(reference: str, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    done = _load(
        *("--target", reference, "--users", "4", "--duration", "30s", "--max-requests", "24"),
        *("--artefacts-dir", str(tmp_path / "art"), "--report-json", str(out)),
        *("--report-md", str(tmp_path / "load.md"), "--report-html", str(tmp_path / "load.html")),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = _report(out)
    metrics = report["metrics"]
    assert report["kind"] == "load"
    assert report["summary"]["compatible"] is True
    assert metrics["contract_violations"] == 0
    # The cap, reached long before the 30 s (a request still in flight after Locust's 5 s stop
    # timeout would be cut, so a few fewer are possible on a very busy machine, never more).
    assert 20 <= metrics["requests"] <= 24
    assert metrics["elapsed_s"] < 30
    assert metrics["requests_per_s"] > 0
    assert set(metrics["latency_ms"]["all"]) == {"p50", "p95", "p99", "mean", "max"}
    assert metrics["responses_by_code"].get("200", 0) > 0
    assert any(code.startswith("4") for code in metrics["responses_by_code"])
    assert 1 <= metrics["videos_judged"] <= metrics["success_responses"]
    clauses = {c["id"]: c["verdict"] for c in report["clauses"]}
    assert clauses["LP-OPS-1"] == "pass"
    assert clauses["LP-OPS-2"] == "pass"
    assert "## Load figures" in (tmp_path / "load.md").read_text(encoding="utf-8")
    assert "requests_per_s" in (tmp_path / "load.html").read_text(encoding="utf-8")
    assert REFERENCE_API_KEY not in out.read_text(encoding="utf-8")
    assert "0 contract violations" in done.stdout


def test_a_server_mixing_up_responses_fails_the_run(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    with MixUpServer() as server:
        done = _load(
            *("--target", server.url, "--users", "4", "--duration", "30s", "--max-requests", "24"),
            *("--mix", "success=1", "--video-every", "1", "--artefacts-dir", str(tmp_path / "art")),
            *("--report-json", str(out)),
        )
    assert done.returncode == 1, done.stdout + done.stderr
    report = _report(out)
    violations = report["metrics"]["violations_by_clause"]
    assert violations.get("LP-ENV-2", 0) >= 1
    assert violations.get("LP-OPS-2", 0) >= 1
    assert report["summary"]["compatible"] is False
    assert {"LP-ENV-2", "LP-OPS-2"} <= {c["id"] for c in report["clauses"] if c["verdict"] == "fail"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_one_master_and_two_workers_both_report(reference: str, tmp_path: Path) -> None:
    port = str(_free_port())
    out = tmp_path / "load.json"
    common = ("--master-port", port, "--artefacts-dir", str(tmp_path / "art"))
    master_args = ["--master", "--expect-workers", "2", "--target", reference, "--users", "4"]
    master_args += ["--duration", "10s", "--max-requests", "400", "--report-json", str(out), *common]
    master = subprocess.Popen(
        [sys.executable, "-m", "conformance.load", *master_args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "conformance.load", "--worker", "--master-host", "127.0.0.1", *common],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        output, _ = master.communicate(timeout=RUN_TIMEOUT)
        codes = [w.wait(timeout=30) for w in workers]
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                process.kill()
    assert master.returncode == 0, output
    assert codes == [0, 0]
    report = _report(out)
    assert report["metrics"]["workers"] == 2
    assert report["metrics"]["contract_violations"] == 0
    assert report["metrics"]["requests"] > 0
    assert report["config"]["mode"] == "master"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "http://127.0.0.1:9", "--mix", "lots"], "must be success=N or errors=N"),
        (["--target", "ftp://example"], "is not an http(s) URL"),
        (["--users", "4"], "give the API under test with --target URL"),
    ],
)
def test_usage_errors_are_one_clear_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "--api-key", "k"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_missing_key_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LIVEPHOTO_API_KEY", raising=False)
    assert main(["--target", "http://127.0.0.1:9"]) == 2
    assert "--api-key" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "seconds"), [("60s", 60), ("2m", 120), ("1h30m", 5400), ("90", 90)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "soon", "25h"])
def test_a_run_always_has_a_bounded_duration(text: str) -> None:
    with pytest.raises(Exception, match="duration"):
        parse_duration(text)


def test_the_cli_registers_the_load_subcommand() -> None:
    from conformance.cli import build_parser
    from conformance.load.cli import run_load

    args = build_parser().parse_args(["load", "--target", "http://127.0.0.1:9", "--users", "3"])
    assert args.run is run_load
    assert (args.users, args.duration, args.max_requests) == (3, 60, 10_000)
