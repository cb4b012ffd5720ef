"""The suite runs through the proxy against the reference server, and the proxy agrees (issue 9)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from tests.mock.samples import KEY
from tests.proxy.conftest import proxied

FAILING = ("fail", "error")


@pytest.mark.slow
def test_suite_passes_through_the_proxy_and_the_proxy_agrees(tmp_path: Path) -> None:
    suite_report = tmp_path / "suite.json"
    with (
        ServerThread(ServerConfig(api_keys=(KEY,))) as upstream,
        proxied(upstream.url, record_dir=tmp_path / "record", artefacts_dir=tmp_path / "artefacts") as proxy,
    ):
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--target",
            proxy.url,
            "--api-key",
            KEY,
            "-p",
            "no:cacheprovider",
            "-q",
            "--report-json",
            str(suite_report),
        ]
        run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900)
        proxy_report = httpx.get(proxy.url + "/_livephoto/report", timeout=120).json()
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    suite = json.loads(suite_report.read_text())
    assert suite["summary"]["compatible"] is True
    passed = {c["id"] for c in suite["clauses"] if c["verdict"] == "pass"}
    proxy_verdicts = {c["id"]: c for c in proxy_report["clauses"]}
    disagreements = {
        clause: proxy_verdicts[clause]["reason"]
        for clause in passed
        if clause in proxy_verdicts and proxy_verdicts[clause]["verdict"] in FAILING
    }
    assert disagreements == {}
    assert proxy_report["summary"]["must_failures"] == 0
    assert proxy_report["metrics"]["exchanges"] > 50
    judged = {c["id"] for c in proxy_report["clauses"] if c["verdict"] == "pass"}
    assert {"LP-ENV-3", "LP-OK-2", "LP-VID-1", "LP-ERR-1", "LP-SEC-1"} <= judged
    cassettes = (tmp_path / "record" / "cassettes.jsonl").read_text()
    assert KEY not in cassettes
