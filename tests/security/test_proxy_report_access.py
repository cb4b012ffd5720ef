"""Hostile review item 6: ``/_livephoto/report`` was open to anyone who could reach the proxy and
showed the absolute record directory. Now it needs the token printed at start-up (``?token=`` or
``Authorization: Bearer``) unless ``--report-open`` is given, and shows no local path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.proxy.runner import AppThread
from tests.proxy.conftest import echo_app
from tests.security.conftest import assert_envelope, cli_proxy


@pytest.fixture(scope="module")
def upstream() -> Iterator[AppThread]:
    running = AppThread(echo_app())
    with running:
        yield running


def test_report_needs_the_token(upstream: AppThread, tmp_path: Path) -> None:
    record = tmp_path / "recorded-here"
    with cli_proxy("--upstream", upstream.url, "--record", str(record)) as proxy:
        report, _, token = proxy.report_url.partition("?token=")
        assert len(token) >= 32
        assert token not in proxy.banner
        for attempt in (
            httpx.get(report),
            httpx.get(report + "?token="),
            httpx.get(report + "?token=" + token[:-1] + ("A" if token[-1] != "A" else "B")),
            httpx.get(report, headers={"authorization": "Bearer wrong"}),
            httpx.get(report, headers={"authorization": f"Basic {token}"}),
            httpx.post(report + "?token=" + token),  # GET only: another method is an unknown control path
        ):
            assert attempt.status_code in (401, 404), attempt.request.url
            assert "metrics" not in attempt.json()
            if attempt.status_code == 401:
                assert_envelope(401, attempt.json(), 401, "ERROR_APPLICATIONS_NOT_EXISTS")
                assert "token" in attempt.json()["error_detail"]["message"]
                assert attempt.headers["www-authenticate"] == "Bearer"
                assert "recorded-here" not in attempt.text
        assert httpx.get(proxy.url + "/v1/legit", timeout=30).status_code == 200  # traffic flows on

        by_query = httpx.get(proxy.report_url, timeout=60)
        by_bearer = httpx.get(report, headers={"authorization": f"Bearer {token}"}, timeout=60)
        assert by_query.status_code == by_bearer.status_code == 200
        assert by_query.json()["metrics"]["exchanges"] == 1
        assert by_query.json()["config"]["record_dir"] == "recorded-here"  # its name, not its place
        assert str(tmp_path) not in by_query.text
        assert str(Path.cwd()) not in by_query.text
    assert token not in proxy.output.replace(proxy.report_url, "")  # printed once, logged nowhere


def test_report_open_serves_without_a_token(upstream: AppThread) -> None:
    with cli_proxy("--upstream", upstream.url, "--report-open") as proxy:
        assert "?token=" not in proxy.report_url
        assert httpx.get(proxy.url + "/v1/legit", timeout=30).status_code == 200
        assert httpx.get(proxy.report_url, timeout=60).json()["metrics"]["exchanges"] == 1
