"""Review item 11: `serve`, `proxy` and `replay` never closed an idle or slow connection; with the
fd limit at 600, 650 half-sent connections made legitimate requests time out. Now every server
started through ``conformance.serving`` has a header deadline, body idle and whole-body deadlines,
a connection cap under the fd limit that closes the connection that kept the server waiting
longest, and a cap on requests in progress answered with a 503 envelope."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from conformance.contract import is_valid_pair
from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from conformance.proxy.app import create_proxy_app
from conformance.proxy.config import ProxyConfig
from conformance.proxy.replay import create_replay_app
from conformance.proxy.runner import AppThread, uvicorn_config
from conformance.serving import HOST, Limits, UvicornThread, guard_of
from tests.mock import samples
from tests.security.conftest import ENDPOINT

KEY = "connections-key"
AUTH = {"ailabapi-api-key": KEY}
HEAD = (
    f"POST {ENDPOINT} HTTP/1.1\r\nHost: x\r\nailabapi-api-key: {KEY}\r\n"
    "Content-Type: multipart/form-data; boundary=b0\r\n"
).encode()


def _port(url: str) -> int:
    return urlsplit(url).port or 80


def _connect(url: str) -> socket.socket:
    conn = socket.create_connection((HOST, _port(url)), timeout=10)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return conn


def _closed_within(conn: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed ``conn`` (EOF or reset), or None if it stayed open."""
    started = time.monotonic()
    conn.settimeout(seconds)
    try:
        while conn.recv(65536):
            pass
    except TimeoutError:
        return None
    except OSError:
        pass
    return time.monotonic() - started


def _legit(url: str) -> tuple[int, float]:
    started = time.monotonic()
    response = httpx.post(
        url + ENDPOINT, headers=AUTH, files={"image_target": ("f.png", samples.face_small())}, timeout=30
    )
    return response.status_code, time.monotonic() - started


@contextmanager
def reference(limits: Limits, **config: object) -> Iterator[ServerThread]:
    with ServerThread(ServerConfig(api_keys=(KEY,), **config), limits=limits) as running:  # type: ignore[arg-type]
        yield running


def test_an_idle_connection_is_closed_at_the_header_deadline() -> None:
    with reference(Limits(header_timeout=1.0)) as server:
        with _connect(server.url) as idle:
            assert (_closed_within(idle, 5) or 99) < 3
        assert _legit(server.url)[0] == 200


def test_trickled_headers_are_closed_at_the_header_deadline() -> None:
    """Slowloris: a byte every 0.2 s keeps uvicorn's keep-alive timer reset, not the deadline."""
    with reference(Limits(header_timeout=1.0)) as server, _connect(server.url) as conn:
        started = time.monotonic()
        closed = False
        for byte in HEAD * 5:
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            if time.monotonic() - started > 5:
                break
        assert closed or _closed_within(conn, 1) is not None
        assert time.monotonic() - started < 4


def test_a_stalled_body_is_closed_and_the_server_keeps_serving() -> None:
    with reference(Limits(body_idle_timeout=1.0)) as server:
        with _connect(server.url) as conn:
            conn.sendall(HEAD + b"Content-Length: 100000\r\n\r\n--b0\r\nContent-Disposition: form-data")
            assert (_closed_within(conn, 5) or 99) < 3
        assert _legit(server.url)[0] == 200


def test_slow_connections_do_not_starve_a_legitimate_request() -> None:
    """120 half-sent requests (headers and bodies) against a cap of 40 connections: the newest
    connections push out the ones that kept the server waiting longest; a legitimate request is
    answered at once, though the deadlines (30 s) have not closed anything yet."""
    limits = Limits(max_connections=40, header_timeout=30, body_idle_timeout=30)
    with reference(limits) as server, ExitStack() as stack:
        held = []
        for index in range(120):
            conn = stack.enter_context(_connect(server.url))
            partial = HEAD if index % 2 else HEAD + b"Content-Length: 5000\r\n\r\n--b0\r\n"
            conn.sendall(partial[: len(partial) - 3])
            held.append(conn)
        status, latency = _legit(server.url)
        assert status == 200 and latency < 10
        closed = sum(_closed_within(conn, 0.01) is not None for conn in held)
        assert closed >= 80  # at most the cap stays open
        guard = guard_of(server.uv_config)
        assert guard is not None and guard.evicted >= 80


def test_requests_beyond_the_in_flight_cap_get_a_503_envelope() -> None:
    with reference(Limits(max_in_flight=2), latency=2.0) as server:
        slow = [threading.Thread(target=_legit, args=(server.url,)) for _ in range(2)]
        for thread in slow:
            thread.start()
        time.sleep(0.5)
        response = httpx.post(server.url + ENDPOINT, headers=AUTH, timeout=10)
        body = response.json()
        assert response.status_code == 503, body
        assert body["error_detail"]["code"] == "AI_SERVICE_FLOW_RESTRICTION"
        assert is_valid_pair(503, "AI_SERVICE_FLOW_RESTRICTION")
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"] == "application/json"
        for thread in slow:
            thread.join()
        assert _legit(server.url)[0] == 200


def test_a_stalled_upload_makes_room_at_the_in_flight_cap() -> None:
    """At the cap, a request whose body stalled for over a second is dropped for a newcomer."""
    with reference(Limits(max_in_flight=1)) as server, _connect(server.url) as stalled:
        stalled.sendall(HEAD + b"Content-Length: 100000\r\n\r\n--b0\r\n")
        time.sleep(1.5)
        assert _legit(server.url)[0] == 200
        assert _closed_within(stalled, 2) is not None


def test_proxy_and_replay_get_the_same_limits(tmp_path: Path) -> None:
    """The proxy and replay apps run through the same runner: idle connections are closed."""
    with reference(Limits()) as upstream:
        proxy_app = create_proxy_app(ProxyConfig(upstream=upstream.url, record_dir=tmp_path / "rec"))
        with AppThread(proxy_app) as proxy:
            assert guard_of(proxy.uv_config) is not None  # the defaults apply without any option
            assert _legit(proxy.url)[0] == 200  # one exchange recorded for replay below
        proxy_app = create_proxy_app(ProxyConfig(upstream=upstream.url))
        apps = {"proxy": proxy_app, "replay": create_replay_app(tmp_path / "rec")}
        for name, app in apps.items():
            config = uvicorn_config(app, HOST, 0)
            with UvicornThread(config, name=name, limits=Limits(header_timeout=1.0)) as running:
                with _connect(running.url) as idle:
                    assert (_closed_within(idle, 5) or 99) < 3, name
                assert _legit(running.url)[0] == 200, name


@pytest.mark.slow
def test_650_half_sent_connections_with_600_file_descriptors() -> None:
    """The review's attack on a real `serve` process whose fd limit is 600."""
    command = [sys.executable, "-m", "conformance", "serve", "--port", "0", "--api-key-env", "K"]

    def limit_fds() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (600, 600))

    env = {**os.environ, "K": KEY, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=limit_fds
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().rsplit(" ", 1)[1].strip()
            with ExitStack() as stack:
                for index in range(650):
                    conn = stack.enter_context(_connect(url))
                    conn.sendall(HEAD[: 20 + index % 40])
                statuses = [_legit(url) for _ in range(3)]
                assert all(status == 200 and latency < 10 for status, latency in statuses), statuses
        finally:
            process.terminate()
            _, errors = process.communicate(timeout=30)
        assert "Traceback" not in errors and "out of system resource" not in errors, errors[-2000:]
