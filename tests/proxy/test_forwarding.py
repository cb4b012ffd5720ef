"""Forwarding is byte-exact in both directions: requests reach the upstream as sent, answers reach
the client as the upstream gave them (issue 9)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator

import httpx
import pytest

from conformance.mock.runner import ServerThread
from conformance.proxy.runner import AppThread
from tests.mock.samples import KEY, face_small
from tests.proxy.conftest import ENDPOINT, echo_app, fixed_app, proxied

MULTIPART = (
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="type"\r\n\r\n1\r\n'
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="image_target"; filename="f.png"\r\n'
    b"Content-Type: image/png\r\n\r\n" + b"\x89PNG not really" + b"\r\n--XyZ--\r\n"
)


@pytest.fixture(scope="module")
def echo() -> Iterator[AppThread]:
    with AppThread(echo_app()) as running:
        yield running


def _headers(response: httpx.Response, *, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(k.lower(), v) for k, v in response.headers.multi_items() if k.lower() not in skip]


def test_request_reaches_upstream_byte_for_byte(echo: AppThread) -> None:
    headers = {
        "ailabapi-api-key": KEY,
        "Content-Type": "multipart/form-data; boundary=XyZ",
        "X-Custom": "kept",
        "Connection": "keep-alive, x-per-hop",
        "X-Per-Hop": "dropped because Connection names it",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
    }
    with proxied(echo.url) as proxy:
        direct = httpx.post(echo.url + ENDPOINT + "?a=1&b=%20", content=MULTIPART, headers=headers).json()
        through = httpx.post(proxy.url + ENDPOINT + "?a=1&b=%20", content=MULTIPART, headers=headers).json()
    assert through["sha256"] == direct["sha256"] == hashlib.sha256(MULTIPART).hexdigest()
    assert through["query"] == direct["query"] == "a=1&b=%20"
    received = dict(through["headers"])
    assert received["ailabapi-api-key"] == KEY
    assert received["x-custom"] == "kept"
    assert received["content-length"] == str(len(MULTIPART))
    assert received["host"] == echo.url.removeprefix("http://")  # rewritten to the upstream
    for hop in ("x-per-hop", "keep-alive", "te", "transfer-encoding"):
        assert hop not in received
    # Nothing added: every header the upstream saw was sent by the client (or is its Host).
    sent = {k for k, _ in direct["headers"]} - {"connection", "x-per-hop", "keep-alive", "te"}
    assert set(received) == sent


@pytest.mark.parametrize("path", [ENDPOINT, "/teapot", "/chunked"])
def test_response_reaches_client_unchanged(echo: AppThread, path: str) -> None:
    with proxied(echo.url) as proxy:
        # The echo's body lists the headers it received: equal bodies mean an exactly forwarded request.
        direct = httpx.post(echo.url + path, content=b"abc")
        through = httpx.post(proxy.url + path, content=b"abc")
    assert through.status_code == direct.status_code
    expected = json.loads(direct.content)
    expected["headers"].remove(["connection", "keep-alive"])  # hop-by-hop: not forwarded
    assert json.loads(through.content) == expected
    if path == "/chunked":  # re-framed with a Content-Length: the one framing header that changes
        skip = ("content-length", "transfer-encoding", "date", "server")
        assert _headers(through, skip=skip) == _headers(direct, skip=skip)
        assert through.headers["content-length"] == str(len(through.content))
        assert "transfer-encoding" not in through.headers
    else:  # the echo's bodies differ by the Connection header only: so do their lengths
        assert _headers(through, skip=("content-length",)) == _headers(direct, skip=("content-length",))
        assert through.headers["content-length"] == str(len(through.content))
        assert through.headers.get_list("set-cookie") == ["a=1", "b=2"]


@pytest.mark.parametrize("kind", ["success", "missing key", "bad type"])
def test_reference_answers_are_passed_on(reference: ServerThread, kind: str) -> None:
    """Against the reference server: the same status, headers and body as a direct request (the
    per-request ids and the Date header masked)."""
    files = {"image_target": ("face.png", face_small(), "image/png")}
    data = {"type": "7" if kind == "bad type" else "1"}
    key = {} if kind == "missing key" else {"ailabapi-api-key": KEY}
    with proxied(reference.url) as proxy, httpx.Client(timeout=60) as http:
        direct = http.post(reference.url + ENDPOINT, files=files, data=data, headers=key)
        through = http.post(proxy.url + ENDPOINT, files=files, data=data, headers=key)
    assert through.status_code == direct.status_code
    assert _headers(through, skip=("date", "content-length")) == _headers(
        direct, skip=("date", "content-length")
    )
    mask = re.compile(rb'"(request_id|log_id)":"[0-9A-Fa-f]+"')
    assert mask.sub(b"", through.content) == mask.sub(b"", direct.content)
    assert through.headers["content-length"] == str(len(through.content))


def test_paths_outside_the_endpoint_are_forwarded_too(reference: ServerThread) -> None:
    with proxied(reference.url) as proxy, httpx.Client() as http:
        direct = http.get(reference.url + "/elsewhere")
        through = http.get(proxy.url + "/elsewhere")
        report = http.get(proxy.url + "/_livephoto/report").json()
    assert through.status_code == direct.status_code == 404
    assert through.json()["error_detail"]["code"] == "ERROR_RESOURCE_NOT_FOUND"
    assert report["metrics"]["verdicts"] == {"unjudged": 1}


def test_bodiless_answers_stay_bodiless() -> None:
    with AppThread(fixed_app(b"", status=204)) as upstream, proxied(upstream.url) as proxy:
        direct = httpx.delete(upstream.url + ENDPOINT)
        through = httpx.delete(proxy.url + ENDPOINT)
    assert (through.status_code, through.content) == (direct.status_code, b"") == (204, b"")
    assert "content-length" not in through.headers
    assert _headers(through) == _headers(direct)


def test_upstream_cookies_are_not_kept_by_the_proxy(echo: AppThread) -> None:
    """The echo answers with Set-Cookie: the proxy's shared client must not send them on later."""
    with proxied(echo.url) as proxy:
        first = httpx.post(proxy.url + "/a", content=b"1")
        second = httpx.post(proxy.url + "/b", content=b"2")
    assert first.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert "cookie" not in dict(second.json()["headers"])
