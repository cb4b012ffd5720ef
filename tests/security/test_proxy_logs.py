"""Hostile review item 5: the key and the upstream's credentials leaked into logs. httpx's own
``HTTP Request: POST <url>`` line bypassed the redactor, printing a key sent in the path or query
in clear, and ``user:password@`` of ``--upstream`` appeared there, in ``/_livephoto/report`` and
in ``--report-json``. Now every log line passes the redactor, and the credentials are masked
everywhere (report, JSON, logs, start-up banner)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.proxy.runner import AppThread
from tests.mock.samples import KEY
from tests.proxy.conftest import echo_app, proxied
from tests.security.conftest import ENDPOINT, cli_proxy

USER, PASSWORD = "proxyuser", "s3cret-Pa55word"
QUERY_ONLY_KEY = "query-only-key-7f3a9c"  # sent as ?api_key=… without the header


@pytest.fixture(scope="module")
def upstream() -> Iterator[AppThread]:
    running = AppThread(echo_app())
    with running:
        yield running


def _leaks(text: str) -> list[str]:
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return [secret for secret in (KEY, PASSWORD, basic, QUERY_ONLY_KEY) if secret in text]


def _credentialed(url: str) -> str:
    return url.replace("http://", f"http://{USER}:{PASSWORD}@")


def test_no_secret_in_any_output_of_the_proxy_process(upstream: AppThread, tmp_path: Path) -> None:
    report_json = tmp_path / "proxy.json"
    with cli_proxy(
        "--upstream", _credentialed(upstream.url), "--log-level", "debug", "--report-json", str(report_json)
    ) as proxy:
        assert f"to http://***@{upstream.url.removeprefix('http://')}" in proxy.banner
        keyed = {"ailabapi-api-key": KEY}
        httpx.post(f"{proxy.url}/v1/upload?api_key={KEY}", content=b"x", headers=keyed, timeout=30)
        httpx.get(f"{proxy.url}/v1/{KEY}/items", headers=keyed, timeout=30)  # the key in the path
        httpx.get(f"{proxy.url}/v1/items?api_key={QUERY_ONLY_KEY}", timeout=30)
        httpx.get(f"{proxy.url}/v1/items", headers={"authorization": f"Bearer {KEY}"}, timeout=30)
        served = httpx.get(proxy.report_url, timeout=60).text

        # The legitimate request still works, and the upstream still gets its Basic credentials.
        legit = httpx.get(f"{proxy.url}/v1/items", headers=keyed, timeout=30)
        assert legit.status_code == 200
        sent = dict(legit.json()["headers"])
        assert sent["authorization"] == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        assert sent["ailabapi-api-key"] == KEY
    output = proxy.output
    assert "HTTP Request: POST http://***@" in output  # httpx's line is there, redacted
    assert "?api_key=***" in output
    assert "/v1/***/items" in output
    assert _leaks(output) == []
    assert _leaks(served) == []
    assert _leaks(report_json.read_text()) == []
    assert json.loads(served)["config"]["upstream"].startswith("http://***@")


def test_library_proxy_redacts_httpx_lines(upstream: AppThread, caplog: pytest.LogCaptureFixture) -> None:
    """Started as a library (no command line, so no handler of its own), the proxy still puts the
    filter on the loggers it drives while it runs."""
    with caplog.at_level(logging.DEBUG), proxied(_credentialed(upstream.url)) as proxy:
        proxy_url = proxy.url
        answer = httpx.get(f"{proxy.url}/v1/{KEY}?token={KEY}", headers={"ailabapi-api-key": KEY}, timeout=30)
        assert answer.status_code == 200
        assert httpx.get(proxy.url + "/v1/legit", timeout=30).status_code == 200

    def proxy_lines() -> str:  # the test's own client logs its requests to the proxy too: not those
        return "\n".join(m for r in caplog.records if proxy_url not in (m := r.getMessage()))

    assert "HTTP Request: GET http://***@" in proxy_lines()
    assert "/v1/***?token=***" in proxy_lines()
    assert _leaks(proxy_lines()) == []


def test_the_report_evidence_holds_no_credentials(upstream: AppThread) -> None:
    """An upstream that echoes what it received (the Basic header the proxy sent, the key) fails
    the endpoint's checks; their evidence in the report is redacted."""
    with proxied(_credentialed(upstream.url)) as proxy:
        answer = httpx.post(
            f"{proxy.url}{ENDPOINT}?api_key={KEY}",
            content=b"x",
            headers={"ailabapi-api-key": KEY},
            timeout=30,
        )
        assert answer.status_code == 200
        assert base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode() in answer.text  # echoed indeed
        served = httpx.get(proxy.url + "/_livephoto/report", timeout=60)
        assert served.json()["metrics"]["verdicts"] == {"fail": 1}
        assert _leaks(served.text) == []
        assert httpx.get(proxy.url + "/v1/legit", timeout=30).status_code == 200
