"""Helpers for the hostile-proxy regression tests: raw HTTP on a socket (httpx would normalise
the attacks away), the proxy's command line as a real process, the envelope check."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from conformance.contract import is_valid_pair

ENDPOINT = "/api/portrait/effects/live-photo"


@dataclass
class Raw:
    """An answer read off the socket."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    url: str, target: bytes, *, method: bytes = b"GET", headers: bytes = b"", body: bytes = b""
) -> Raw:
    """Send ``METHOD target HTTP/1.1`` exactly as given and read the answer (the connection closes)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30) as conn:
        head = method + b" " + target + b" HTTP/1.1\r\nHost: " + parts.netloc.encode() + b"\r\n"
        head += headers + b"Connection: close\r\n"
        if body:
            head += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        conn.sendall(head + b"\r\n" + body)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head_bytes, _, content = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    return Raw(int(lines[0].split()[1]), {k.strip().lower(): v.strip() for k, v in fields.items()}, content)


def read_request(conn: socket.socket) -> bytes:
    """Read one request with its Content-Length body (closing with unread bytes would reset)."""
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head


def assert_envelope(status: int, body: Any, expected_status: int, code: str) -> None:
    """The proxy's own answer: the API's error envelope with a documented (status, code) pair."""
    assert status == expected_status, body
    assert body["error_code"] == expected_status
    assert body["error_detail"]["code"] == code
    assert is_valid_pair(expected_status, code)


@dataclass
class CliProxy:
    """``python -m conformance.proxy proxy …`` running; ``output`` is filled when it stops."""

    process: subprocess.Popen[str]
    url: str
    report_url: str
    banner: str
    output: str = ""
    lines: list[str] = field(default_factory=list)


@contextmanager
def cli_proxy(*options: str) -> Iterator[CliProxy]:
    """The proxy's command line in its own process on a free port; stopped with SIGINT (its
    normal shutdown) at the end, its whole stdout and stderr kept in ``output``."""
    command = [sys.executable, "-m", "conformance.proxy", "proxy", "--listen", "127.0.0.1:0", *options]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    try:
        assert process.stdout is not None
        while not any("listening on " in line for line in lines):
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        banner = next(line for line in lines if "listening on " in line)
        url = banner.rsplit("listening on ", 1)[1].strip()
        report_line = process.stdout.readline()
        lines.append(report_line)
        assert report_line.startswith("report on "), report_line
        running = CliProxy(process, url, report_line.removeprefix("report on ").strip(), banner, lines=lines)
        yield running
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        running.output = "".join(lines) + rest
        assert process.returncode == 0, running.output
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
