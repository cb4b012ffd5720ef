"""Hostile review item 1: the proxy was an open relay. ``GET %2F@127.0.0.1:PORT/x`` made it connect
to PORT instead of ``--upstream`` (the URL was ``upstream + raw_path``), carrying the client's key
and Basic credentials of its own. Now the upstream's scheme, host and port come from
``--upstream`` only, and a target that could leave it is refused with a 400 envelope."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from conformance.proxy.runner import AppThread
from tests.mock.samples import KEY
from tests.proxy.conftest import echo_app, proxied
from tests.security.conftest import ENDPOINT, Raw, assert_envelope, raw_request

BASES = ["", "/base"]  # without and with a base path ('..' must not climb out of it)


@pytest.fixture(scope="module")
def decoy() -> Iterator[tuple[AppThread, list[int]]]:
    """Where an attacker would like the proxy to go: any request reaching it is a failure."""
    hits: list[int] = []
    running = AppThread(echo_app(hits))
    with running:
        yield running, hits


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[AppThread, list[int]]]:
    hits: list[int] = []
    running = AppThread(echo_app(hits))
    with running:
        yield running, hits


def _attacks(decoy: str) -> list[bytes]:
    """The class: every spelling that could move the request off the upstream's base path."""
    host = decoy.removeprefix("http://").encode()  # 127.0.0.1:PORT
    return [
        b"%2F@" + host + b"/x",  # the reported one: the upstream's host became user information
        b"@" + host + b"/x",
        b"%40" + host + b"/x",
        b"%2F%2F" + host + b"/x",
        b"//" + host + b"/x",
        b"/%2F" + host + b"/x",
        b"/%2f%2f" + host + b"/x",
        b"\\\\" + host + b"/x",
        b"/\\" + host + b"/x",
        b"/%5C%5C" + host + b"/x",
        b"http://" + host + b"/x",  # absolute form
        b"HTTP://" + host + ENDPOINT.encode(),
        b"" + host + b"/x",  # authority form
        b"*",
        b"/..",
        b"/../" + host + b"/x",
        b"/a/../../x",
        b"/%2e%2e/x",
        b"/%2E%2E%2Fx",
        b"/.%2e/x",
        b"/x%0d%0aHost:%20" + host,  # CR/LF, encoded (raw CR/LF: the next test)
        b"/x%00",
        b"/x#@" + host,
    ]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("mode", ["observe", "enforce"])
def test_no_target_leaves_the_upstream(
    mode: str, base: str, decoy: tuple[AppThread, list[int]], upstream: tuple[AppThread, list[int]]
) -> None:
    (decoy_server, decoy_hits), (upstream_server, upstream_hits) = decoy, upstream
    decoy_hits.clear()
    upstream_hits.clear()
    key_header = b"ailabapi-api-key: " + KEY.encode() + b"\r\n"
    with proxied(upstream_server.url + base, mode=mode) as proxy:
        for target in _attacks(decoy_server.url):
            answer = raw_request(proxy.url, target, method=b"POST", headers=key_header, body=b"x")
            assert_envelope(answer.status, answer.json(), 400, "ERROR_INVALID_URL")
            assert answer.headers["x-livephoto-proxy"] == "bad-target", target
            assert "refused" in answer.json()["error_detail"]["message"]
        assert decoy_hits == [], "a request reached the decoy"
        assert upstream_hits == [], "a refused request was forwarded"

        # '@' after a leading '/' is an ordinary path character: forwarded under the base path.
        host = decoy_server.url.removeprefix("http://")
        seen = raw_request(proxy.url, f"/@{host}/x".encode(), headers=key_header).json()
        assert seen["path"] == f"{base}/@{host}/x"
        assert "authorization" not in dict(seen["headers"])  # nothing of the proxy's own added
        # Dot segments that stay inside the base path are resolved, not refused.
        assert raw_request(proxy.url, b"/a/./b/../c").json()["path"] == f"{base}/a/c"
        assert decoy_hits == []

        # A legitimate request still works, with its key and query as sent (off the endpoint, so
        # that enforce mode does not withhold the echo, which is no envelope).
        legit = httpx.post(
            proxy.url + "/v1/echo?a=1", content=b"x", headers={"ailabapi-api-key": KEY}, timeout=30
        )
        assert legit.status_code == 200
        assert legit.json()["path"] == base + "/v1/echo"
        assert legit.json()["query"] == "a=1"
        assert dict(legit.json()["headers"])["ailabapi-api-key"] == KEY
        # A spelling of the endpoint is judged as the endpoint it reaches: enforce mode withholds
        # the echo (no envelope) however the path was written.
        for spelled in (b"/x/.." + ENDPOINT.encode(), b"/api/./portrait/effects/live%2Dphoto"):
            answer = raw_request(proxy.url, spelled, method=b"POST", headers=key_header, body=b"x")
            if mode == "enforce":
                assert_envelope(answer.status, answer.json(), 502, "ERROR_GATEWAY")
            else:
                assert answer.json()["path"] == base + ENDPOINT
        report = httpx.get(proxy.url + "/_livephoto/report").json()
    assert report["metrics"]["proxy_answers"]["ERROR_INVALID_URL"] == len(_attacks(decoy_server.url))
    assert report["metrics"]["verdicts"].get("fail", 0) >= 2  # both spellings judged


def test_raw_cr_lf_in_the_target_never_reaches_anyone(
    decoy: tuple[AppThread, list[int]], upstream: tuple[AppThread, list[int]]
) -> None:
    (decoy_server, decoy_hits), (upstream_server, upstream_hits) = decoy, upstream
    decoy_hits.clear()
    upstream_hits.clear()
    host = decoy_server.url.removeprefix("http://").encode()
    with proxied(upstream_server.url) as proxy:
        answer: Raw = raw_request(proxy.url, b"/x\r\nHost: " + host + b"\r\nX: /y")
        assert answer.status == 400  # the HTTP parser's own refusal, before the proxy sees it
        assert decoy_hits == upstream_hits == []
        assert httpx.get(proxy.url + "/fine", timeout=30).json()["path"] == "/fine"
