"""``proxy`` and ``replay`` on the command line: options, one-line errors, the report on shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conformance.mock.runner import ServerThread
from conformance.proxy.__main__ import main
from tests.mock.samples import KEY, face_small
from tests.proxy.conftest import ENDPOINT


def test_bad_upstream_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", "--upstream", "localhost:8080"]) == 2
    err = capsys.readouterr().err
    assert "--upstream must be an http(s) URL" in err
    assert "Traceback" not in err


def test_bad_listen_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["proxy", "--upstream", "http://127.0.0.1:1", "--listen", "8081"])
    assert exited.value.code == 2
    assert "--listen must be HOST:PORT" in capsys.readouterr().err


def test_replay_of_a_missing_directory_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "none")]) == 2
    assert "holds no cassettes.jsonl" in capsys.readouterr().err


def test_proxy_process_writes_the_report_on_shutdown(reference: ServerThread, tmp_path: Path) -> None:
    report = tmp_path / "proxy.json"
    command = [
        sys.executable, "-m", "conformance.proxy", "proxy", "--upstream", reference.url,
        "--listen", "127.0.0.1:0", "--report-json", str(report), "--artefacts-dir", str(tmp_path / "a"),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on " in line, line
        url = line.rsplit("listening on ", 1)[1].strip()
        answer = httpx.post(url + ENDPOINT, files={"image_target": ("f.png", face_small())})
        assert answer.status_code == 401
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    data = json.loads(report.read_text())
    assert data["kind"] == "proxy"
    assert data["metrics"]["exchanges"] == 1
    assert "0 MUST failures" in err  # the verdict line (one 401 judges few clauses: INCOMPLETE)
    assert '"verdict": "pass"' in err  # the exchange's log line
    assert KEY not in err


def test_subcommands_are_registered_in_the_cli() -> None:
    from conformance.cli import build_parser
    from conformance.proxy.cli import run_proxy, run_replay

    parser = build_parser()
    args = parser.parse_args(["proxy", "--upstream", "http://127.0.0.1:9", "--mode", "enforce"])
    assert (args.run, args.mode, args.listen) == (run_proxy, "enforce", ("127.0.0.1", 8081))
    assert parser.parse_args(["replay", "cassettes"]).run is run_replay
