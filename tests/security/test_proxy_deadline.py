"""Hostile review item 4: the upstream timeout applied per read only. An upstream trickling one byte
a second was waited on for 20 s despite ``--upstream-timeout 3``. Now the upstream has the
timeout for its whole answer (status line, headers and body), then the client gets a 504."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.proxy.conftest import proxied, raw_server
from tests.security.conftest import assert_envelope

TIMEOUT = 1.0  # the proxy's --upstream-timeout here
BODY = b'{"ok": true}'


def _trickle(conn: socket.socket, data: bytes, gap: float) -> None:
    for index in range(len(data)):
        try:
            conn.sendall(data[index : index + 1])
        except OSError:
            return  # the proxy gave up and closed: the attack is over
        time.sleep(gap)


def _upstream(conn: socket.socket) -> None:
    """``/head``: the status line and headers a byte at a time; ``/body``: headers at once, then the
    body a byte at a time; anything else: a prompt answer."""
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    path = data.split(b" ", 2)[1]
    body = BODY * 5 if path == b"/body" else BODY
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    if path == b"/head":
        _trickle(conn, head + body, 0.1)  # ~8 s in all, every gap well under the read timeout
    elif path == b"/body":
        conn.sendall(head)
        _trickle(conn, body, 0.1)  # ~6 s
    else:
        conn.sendall(head + body)
    conn.close()


@pytest.mark.parametrize("where", ["head", "body"])
def test_a_trickling_upstream_gets_a_504_within_the_deadline(where: str) -> None:
    with raw_server(_upstream) as upstream, proxied(upstream, upstream_timeout=TIMEOUT) as proxy:
        started = time.perf_counter()
        answer = httpx.get(f"{proxy.url}/{where}", timeout=30)
        took = time.perf_counter() - started
        assert_envelope(answer.status_code, answer.json(), 504, "AI_SERVICE_TIMEOUT")
        assert "did not finish its answer within 1 s" in answer.json()["error_detail"]["message"]
        assert TIMEOUT * 0.9 <= took < TIMEOUT + 1.0, took

        legit = httpx.get(f"{proxy.url}/fine", timeout=30)  # the proxy serves on
        assert (legit.status_code, legit.content) == (200, BODY)


def test_the_deadline_starts_when_the_request_is_sent() -> None:
    """A client uploading slowly is not the upstream's fault: the clock starts once the request is
    sent, so a prompt upstream behind a slow upload still answers."""

    def slow_upload() -> Iterator[bytes]:
        for _ in range(4):
            yield b"x" * 10
            time.sleep(0.4)  # 1.6 s in all, longer than the deadline

    def upstream(conn: socket.socket) -> None:
        conn.settimeout(5)
        received = b""
        while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < 40:
            chunk = conn.recv(65536)  # the head, then the 40 body bytes as the proxy streams them
            if not chunk:
                return
            received += chunk
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
        conn.close()

    with raw_server(upstream) as url, proxied(url, upstream_timeout=TIMEOUT) as proxy:
        # A declared length: the proxy streams the body to the upstream as it arrives.
        answer = httpx.post(
            proxy.url + "/upload",
            content=slow_upload(),
            headers={"content-length": "40"},
            timeout=30,
        )
    assert (answer.status_code, answer.content) == (200, BODY)
