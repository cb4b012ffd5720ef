"""The suite as users run it: `pytest --target URL` in a subprocess, against real servers."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.mock import ServerConfig, create_app
from conformance.mock.runner import ServerThread
from conformance.reports import load_report
from conformance.verdicts import Verdict

KEY = "sk-live-SECRET-plugin-test-42"
RUN_TIMEOUT = 240  # seconds: a hang guard, far above a normal run


def run_suite(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The suite in a subprocess from a directory that is not the project (no project conftest)."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args]
    return subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env, check=False
    )


class JsonRewrite:
    """ASGI middleware that rewrites the JSON body of every response: a server broken on purpose."""

    def __init__(self, app: Any, rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.app, self.rewrite = app, rewrite

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = json.dumps(self.rewrite(json.loads(b"".join(chunks)))).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


@pytest.fixture
def broken_server(request: pytest.FixtureRequest) -> Iterator[str]:
    rewrite = request.param
    app = JsonRewrite(create_app(ServerConfig(api_keys=(KEY,))), rewrite)
    with ServerThread(app=app) as server:
        yield server.url


def _drop_log_id(body: dict[str, Any]) -> dict[str, Any]:
    body.pop("log_id", None)
    return body


def _error_code_as_string(body: dict[str, Any]) -> dict[str, Any]:
    body["error_code"] = str(body["error_code"])
    return body


@pytest.mark.parametrize(
    ("broken_server", "clause", "selection"),
    [
        (_drop_log_id, "LP-ENV-2", ["--family", "envelope"]),
        (_error_code_as_string, "LP-ENV-3", ["--family", "envelope"]),
    ],
    indirect=["broken_server"],
    ids=["log_id-missing", "error_code-string"],
)
def test_a_broken_clause_fails_the_run_and_only_that_clause(
    broken_server: str, clause: str, selection: list[str], tmp_path: Path
) -> None:
    result = run_suite(
        tmp_path, "--target", broken_server, "--api-key", KEY, "--report-json", "r.json", *selection
    )
    assert result.returncode == 1, result.stdout[-2000:]
    report = load_report(tmp_path / "r.json")
    failed = {c.id for c in report.clauses if c.verdict is Verdict.FAIL}
    assert failed == {clause}
    assert "NOT COMPATIBLE for 7 of 46 clauses (1 MUST failure," in result.stdout
    assert f"[{clause} MUST]" in result.stdout
    assert "curl -sS -X POST" in result.stdout and "$LIVEPHOTO_API_KEY" in result.stdout


def test_reference_server_family_passes_and_key_never_appears(tmp_path: Path) -> None:
    env = {**_env(), "LIVEPHOTO_API_KEY": KEY}
    with ServerThread(ServerConfig(api_keys=(KEY,))) as server:
        result = run_suite(
            tmp_path,
            "--target",
            server.url,
            "--family",
            "envelope",
            "--report-json",
            "r.json",
            "--report-md",
            "r.md",
            "--report-html",
            "r.html",
            "--junitxml",
            "j.xml",
            env=env,
        )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "COMPATIBLE" in result.stdout
    outputs = [result.stdout, result.stderr] + [
        p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()
    ]
    for form in (KEY, base64.b64encode(KEY.encode()).decode()):
        assert not any(form in text for text in outputs)


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "LIVEPHOTO_API_KEY"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "http://127.0.0.1:1", "--api-key", "k"], "cannot reach the target"),
        (["--target", "ftp://example", "--api-key", "k"], "is not an http(s) URL"),
        (["--target", "http://127.0.0.1:1"], "needs a valid API key"),
        (["--target", "http://127.0.0.1:1", "--api-key", "k", "--clause", "LP-NOPE-1"], "no such clause"),
        (["--target", "http://127.0.0.1:1", "--api-key", "k", "--max-examples", "0"], "at least 1"),
        (
            ["--target", "http://127.0.0.1:1", "--api-key", "k", "--fault-header", "rate-limit=nocolon"],
            "--fault-header",
        ),
    ],
    ids=["unreachable", "bad-url", "no-key", "bad-clause", "bad-examples", "bad-fault-header"],
)
def test_bad_input_is_one_clear_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_suite(tmp_path, *args, env=_env())
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


@pytest.mark.slow
def test_full_suite_against_the_reference_server_passes_in_parallel(tmp_path: Path) -> None:
    """Issue 4: every MUST and SHOULD clause passes, nothing fails, skips have reasons (-n 2)."""
    result = run_suite(tmp_path, "--pyargs", "conformance.suite", "-n", "2", "--report-json", "r.json")
    assert result.returncode == 0, result.stdout[-3000:]
    report = load_report(tmp_path / "r.json")
    assert report.compatible and report.should_score == 100.0
    for clause in report.clauses:
        assert clause.verdict in (Verdict.PASS, Verdict.INFO), (clause.id, clause.verdict, clause.reason)
