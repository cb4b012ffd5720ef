"""Fixtures: real upstreams on 127.0.0.1 (the reference server, a deterministic echo server, broken
servers) and a helper that puts the proxy in front of one."""

from __future__ import annotations

import hashlib
import json
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from conformance.proxy.app import create_proxy_app
from conformance.proxy.config import ProxyConfig
from conformance.proxy.runner import AppThread
from tests.mock.samples import KEY

ENDPOINT = "/api/portrait/effects/live-photo"


@pytest.fixture(scope="package")
def reference() -> Iterator[ServerThread]:
    """The reference server (edition 2026-01) in a background thread."""
    with ServerThread(ServerConfig(api_keys=(KEY,))) as running:
        yield running


@contextmanager
def proxied(upstream: str, **options: Any) -> Iterator[AppThread]:
    """The proxy in front of ``upstream`` on a free port (failing videos saved in a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="livephoto-proxy-") as artefacts:
        options.setdefault("artefacts_dir", Path(artefacts))
        with AppThread(create_proxy_app(ProxyConfig(upstream=upstream, **options))) as running:
            yield running


def echo_app(counter: list[int] | None = None) -> Starlette:
    """A deterministic upstream: answers with what it received (method, path, query, headers, the
    body's SHA-256 and size) and fixed headers, some repeated; ``/chunked`` streams its answer."""

    async def echo(request: Request) -> Response:
        if counter is not None:
            counter.append(1)
        body = await request.body()
        seen = {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.scope["headers"]],
            "sha256": hashlib.sha256(body).hexdigest(),
            "bytes": len(body),
        }
        content = json.dumps(seen).encode()
        if request.url.path == "/chunked":

            async def pieces() -> Any:
                for start in range(0, len(content), 100):
                    yield content[start : start + 100]

            return StreamingResponse(pieces(), status_code=207, media_type="application/json")
        response = Response(content, status_code=418 if request.url.path == "/teapot" else 200)
        response.raw_headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"set-cookie", b"a=1"),
            (b"set-cookie", b"b=2"),
            (b"x-upstream", b"echo"),
            (b"content-length", str(len(content)).encode()),
        ]
        return response

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    return Starlette(routes=[Route("/{path:path}", echo, methods=methods)])


def fixed_app(body: bytes | Callable[[Request], bytes], status: int = 200, **headers: str) -> Starlette:
    """An upstream that answers every request with the same (possibly non-conforming) response."""

    async def answer(request: Request) -> Response:
        await request.body()
        content = body(request) if callable(body) else body
        return Response(content, status_code=status, headers={"content-type": "application/json", **headers})

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST", "PUT", "DELETE"])])


@contextmanager
def raw_server(handler: Callable[[socket.socket], None]) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that hands each accepted connection to ``handler`` (in a thread)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for conn in held:
            conn.close()


def read_request_head(conn: socket.socket) -> None:
    """Read until the end of the request headers (enough for the tests' small bodies to be sent)."""
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
