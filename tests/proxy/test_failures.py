"""Upstream failures become 502/504 envelopes, oversized traffic is bounded, and the proxy keeps
serving afterwards (issue 9)."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable

import httpx
import pytest

from conformance.contract import is_valid_pair
from conformance.proxy.runner import AppThread
from tests.mock.samples import KEY, face_small
from tests.proxy.conftest import ENDPOINT, echo_app, fixed_app, proxied, raw_server, read_request_head


def _send(url: str) -> httpx.Response:
    files = {"image_target": ("face.png", face_small(), "image/png")}
    return httpx.post(url + ENDPOINT, files=files, headers={"ailabapi-api-key": KEY}, timeout=30)


def _never_answers(conn: socket.socket) -> None:
    read_request_head(conn)
    time.sleep(3)


def _resets(conn: socket.socket) -> None:
    read_request_head(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # RST instead of FIN


def _garbage(conn: socket.socket) -> None:
    read_request_head(conn)
    conn.sendall(b"\x00\x01garbage that is no HTTP\r\n\r\n")
    conn.close()


def _assert_envelope(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error_code"] == status
    assert body["error_detail"]["code"] == code
    assert is_valid_pair(status, code)


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_refused_connection_is_502() -> None:
    with proxied(_closed_port()) as proxy:
        _assert_envelope(_send(proxy.url), 502, "ERROR_GATEWAY")
        report = httpx.get(proxy.url + "/_livephoto/report").json()
    assert sum(report["metrics"]["upstream_errors"].values()) == 1
    assert report["metrics"]["exchanges"] == 0  # nothing of the upstream's to judge


@pytest.mark.parametrize(
    ("handler", "status", "code"),
    [
        (_never_answers, 504, "AI_SERVICE_TIMEOUT"),
        (_resets, 502, "ERROR_GATEWAY"),
        (_garbage, 502, "ERROR_GATEWAY"),
    ],
)
def test_broken_upstream_gives_an_envelope_and_the_proxy_survives(
    handler: Callable[[socket.socket], None], status: int, code: str
) -> None:
    with raw_server(handler) as upstream, proxied(upstream, upstream_timeout=0.5) as proxy:
        started = time.perf_counter()
        _assert_envelope(_send(proxy.url), status, code)
        assert time.perf_counter() - started < 2.5
        _assert_envelope(_send(proxy.url), status, code)  # still serving
        assert httpx.get(proxy.url + "/_livephoto/report").status_code == 200


def test_body_over_the_cap_is_413_and_never_forwarded() -> None:
    calls: list[int] = []
    with AppThread(echo_app(calls)) as upstream, proxied(upstream.url, max_request_body=1024 * 1024) as proxy:
        big = {"image_target": ("big.jpg", b"\xff" * (1024 * 1024 + 1), "image/jpeg")}
        refused = httpx.post(proxy.url + ENDPOINT, files=big, headers={"ailabapi-api-key": KEY})
        chunked = httpx.post(
            proxy.url + ENDPOINT,
            content=iter([b"x" * 600_000, b"y" * 600_000]),
            headers={"ailabapi-api-key": KEY},
        )
        fine = httpx.post(proxy.url + ENDPOINT, content=b"small")
    _assert_envelope(refused, 413, "ERROR_REQUEST_BODY_TOO_LARGE")
    _assert_envelope(chunked, 413, "ERROR_REQUEST_BODY_TOO_LARGE")
    assert fine.status_code == 200
    assert len(calls) == 1  # only the small request reached the upstream


def test_default_request_cap_admits_a_five_mib_image() -> None:
    calls: list[int] = []
    with AppThread(echo_app(calls)) as upstream, proxied(upstream.url) as proxy:
        files = {"image_target": ("five.jpg", b"\xff" * (5 * 1024 * 1024), "image/jpeg")}
        answer = httpx.post(proxy.url + ENDPOINT, files=files, headers={"ailabapi-api-key": KEY}, timeout=30)
        too_big = httpx.post(proxy.url + ENDPOINT, content=b"z" * (6 * 1024 * 1024 + 1), timeout=30)
    assert answer.status_code == 200 and answer.json()["bytes"] > 5 * 1024 * 1024
    assert too_big.status_code == 413
    assert len(calls) == 1


def test_response_over_the_cap_is_502() -> None:
    with (
        AppThread(fixed_app(b"{" + b" " * 5000 + b"}")) as upstream,
        proxied(upstream.url, max_response_body=4096) as proxy,
    ):
        _assert_envelope(_send(proxy.url), 502, "ERROR_GATEWAY")
        assert httpx.get(proxy.url + "/_livephoto/report").status_code == 200


def test_unknown_control_path_is_a_404_envelope() -> None:
    with proxied(_closed_port()) as proxy:
        _assert_envelope(httpx.get(proxy.url + "/_livephoto/nothing"), 404, "ERROR_RESOURCE_NOT_FOUND")
