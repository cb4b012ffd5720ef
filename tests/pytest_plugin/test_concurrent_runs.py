"""Concurrent, frugal runs end to end (issue 18): the suite in a fresh process against the
reference server, with the run's traffic read back from the JSON report."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from conformance.pytest.verdict import EXIT_INCOMPLETE

pytest_plugins = ["pytester"]

RUN_TIMEOUT = 300  # s: a hang guard far above a run's 20 s
KEY = "concurrent-runs-key"
FAULT_STATES = 4  # requests that provoke a fault on purpose are sent when their test runs
DEFAULT_SUCCESS_CAP = 16  # issue 18: "at most 16 success requests against a compatible target"


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("LIVEPHOTO_API_KEY", raising=False)
    return pytester


def _report(pytester: pytest.Pytester) -> dict[str, Any]:
    return json.loads((pytester.path / "r.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.slow
def test_a_default_run_plans_every_request_and_sends_at_most_16_successes(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess(
        "--pyargs", "conformance.suite", "--report-json", "r.json", "--hypothesis-seed=11",
        timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()[-3000:]
    traffic = _report(suite)["traffic"]
    assert traffic["concurrency"] == 8
    assert traffic["successes"] <= DEFAULT_SUCCESS_CAP, traffic
    # Same seed, same draws: every request the tests send was planned (none sent live but the
    # provoked fault states), so the run sent them concurrently, ahead of its tests.
    assert traffic["unplanned"] == FAULT_STATES, traffic
    preflight = 1  # the one request that checks the key before the run
    assert traffic["requests"] == traffic["planned"] + traffic["unplanned"] + preflight, traffic
    assert traffic["waited_s"] + traffic["work_s"] == pytest.approx(traffic["wall_s"], abs=0.01)


@pytest.mark.slow
def test_concurrency_1_sends_one_request_after_the_other_with_the_same_verdict(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest_subprocess(
        "--pyargs", "conformance.suite", "--report-json", "r.json", "--concurrency", "1", timeout=RUN_TIMEOUT
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()[-3000:]
    traffic = _report(suite)["traffic"]
    assert traffic["concurrency"] == 1 and traffic["unplanned"] == FAULT_STATES
    assert traffic["successes"] <= DEFAULT_SUCCESS_CAP, traffic


@pytest.mark.slow
def test_a_budget_caps_successes_and_a_must_clause_left_unjudged_makes_the_run_incomplete(
    suite: pytest.Pytester,
) -> None:
    """--budget 8 keeps the burst of 8 (every type, the framing pair), not the valid request after
    the hostile ones: LP-SEC-4 (MUST) is not judged, so the run is INCOMPLETE, and the report
    names the clauses judged on fewer samples."""
    result = suite.runpytest_subprocess(
        "--pyargs", "conformance.suite", "--report-json", "r.json", "--budget", "8", timeout=RUN_TIMEOUT
    )  # fmt: skip
    assert result.ret == EXIT_INCOMPLETE, result.stdout.str()[-3000:]
    report = _report(suite)
    assert report["traffic"]["successes"] <= 8 and report["traffic"]["budget"] == 8
    not_judged = {row["clause"]: row["reason"] for row in report["summary"]["not_judged"]}
    assert "LP-SEC-4" in not_judged and "--budget 8" in not_judged["LP-SEC-4"], not_judged
    assert "LP-REQ-6" in report["traffic"]["reduced"], report["traffic"]
    result.stdout.fnmatch_lines(["INCOMPLETE*"])


class _RateLimitingProxy(http.server.BaseHTTPRequestHandler):
    """Forwards to the reference server, but answers 429 to ``limited`` POSTs after the first
    (the preflight, whose own client is not the run's)."""

    upstream = ""
    limited = 3
    seen = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.lock:
            type(self).seen += 1
            limit = 2 <= self.seen <= 1 + self.limited
        if limit:
            payload = b'{"error_code": 429, "error_msg": "slow down", "request_id": "r", "log_id": "l",'
            payload += (
                b' "error_detail": {"status_code": 429, "code": "EXCEEDING_LIMITS", "message": "slow down"}}'
            )
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        answer = httpx.post(self.upstream + self.path, content=body, headers=headers, timeout=60)
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def rate_limiting_target() -> Iterator[str]:
    with ServerThread(ServerConfig(api_keys=(KEY,))) as upstream:
        handler = type("Handler", (_RateLimitingProxy,), {"upstream": upstream.url, "seen": 0})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


@pytest.mark.slow
def test_rate_limits_are_waited_out_and_never_counted_as_failures(
    suite: pytest.Pytester, rate_limiting_target: str
) -> None:
    """A target answering 429 + Retry-After to the first requests of a concurrent run: the client
    backs off, sends again, and the verdict is the one the target deserves."""
    result = suite.runpytest_subprocess(
        "--pyargs", "conformance.suite", "--target", rate_limiting_target, "--api-key", KEY,
        "--family", "envelope", "--report-json", "r.json", timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()[-3000:]
    traffic = _report(suite)["traffic"]
    assert traffic["rate_limits_retried"] >= _RateLimitingProxy.limited, traffic
    assert traffic["rate_limits_returned"] == 0 and traffic["backoff_s"] >= 1.0, traffic


class _NoRequestId:
    """ASGI middleware: every JSON answer loses its ``request_id`` (LP-ENV-1 on every exchange)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started: dict[str, Any] = {}

        async def strip(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
                return
            body = message.get("body", b"")
            try:
                data = json.loads(body)
                data.pop("request_id", None)
                body = json.dumps(data).encode()
            except ValueError:
                pass
            headers = [(k, v) for k, v in started.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**started, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, strip)


@pytest.mark.slow
def test_a_failure_on_every_answer_is_confirmed_alone_once_not_per_exchange(suite: pytest.Pytester) -> None:
    """A target breaking a clause on every answer: the failure is confirmed on one answer sent
    alone, and the run does not send every failing request again (requests stay ~ the plan's)."""
    from conformance.mock.app import create_app

    with ServerThread(app=_NoRequestId(create_app(ServerConfig(api_keys=(KEY,))))) as server:
        result = suite.runpytest_subprocess(
            "--pyargs", "conformance.suite", "--target", server.url, "--api-key", KEY,
            "--report-json", "r.json", timeout=RUN_TIMEOUT,
        )  # fmt: skip
    assert result.ret == 1, result.stdout.str()[-3000:]
    report = _report(suite)
    failing = {c["id"] for c in report["clauses"] if c["verdict"] == "fail"}
    assert "LP-ENV-1" in failing or "LP-ENV-2" in failing, failing
    traffic = report["traffic"]
    assert traffic["unplanned"] <= 12, traffic  # a few solo sends, not one per failing exchange
