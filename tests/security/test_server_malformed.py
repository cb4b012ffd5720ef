"""Review item 12: a multipart boundary of more than 256 characters gave 500
SERVICE_INTERNAL_ERROR (python-multipart refused it outside the guarded block), against LP-ERR-13;
malformed chunked framing logged a traceback and a phantom 500 access-log line. Now every
malformed body is a 4xx envelope and nothing is logged as a crash."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from conformance.contract import is_valid_pair
from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from tests.security.conftest import ENDPOINT

KEY = "malformed-key"
PART = b'Content-Disposition: form-data; name="image_target"; filename="a.png"\r\n\r\nxx\r\n'
CASES = {
    "boundary of 300 characters": (
        "x" * 300,
        b"--" + b"x" * 300 + b"\r\n" + PART + b"--" + b"x" * 300 + b"--\r\n",
    ),
    "boundary of 71 characters": (
        "y" * 71,
        b"--" + b"y" * 71 + b"\r\n" + PART + b"--" + b"y" * 71 + b"--\r\n",
    ),
    "no closing delimiter": ("b0", b"--b0\r\n" + PART),
    "garbage part headers": ("b0", b"--b0\r\n\x00\x01\x02 garbage\r\n\r\nxx\r\n--b0--\r\n"),
    "huge part header": ("b0", b"--b0\r\nX-Big: " + b"a" * 20_000 + b"\r\n" + PART + b"--b0--\r\n"),
    "many part headers": ("b0", b"--b0\r\n" + b"X: a\r\n" * 4_000 + PART + b"--b0--\r\n"),
    "no boundary line at all": ("b0", b"just some bytes"),
}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(ServerConfig(api_keys=(KEY,))) as running:
        yield running


def _send(url: str, boundary: str, body: bytes, *, chunked: bool = False) -> tuple[int, dict[str, Any]]:
    """POST ``body`` exactly as given (framed by Content-Length, or sent as is after
    ``Transfer-Encoding: chunked``) and read the answer until the server closes."""
    parts = urlsplit(url)
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % len(body)
    head = (
        b"POST "
        + ENDPOINT.encode()
        + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        + f"ailabapi-api-key: {KEY}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n".encode()
        + framing
        + b"\r\n\r\n"
    )
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10) as conn:
        conn.sendall(head + body)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


def _crashes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_multipart_is_a_4xx_envelope(
    server: ServerThread, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    boundary, body = CASES[case]
    with caplog.at_level(logging.INFO):
        status, envelope = _send(server.url, boundary, body)
    assert 400 <= status < 500, envelope
    assert envelope["error_code"] == status and is_valid_pair(status, envelope["error_code_str"])
    assert not _crashes(caplog)


@pytest.mark.parametrize("framing", [b"zz\r\nabc\r\n0\r\n\r\n", b"5\r\nabcdefghij\r\n0\r\n\r\n"])
def test_malformed_chunked_framing_is_a_clean_400(
    server: ServerThread, framing: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """A chunk size that is not hexadecimal; a chunk longer than its size."""
    with caplog.at_level(logging.INFO):
        status, envelope = _send(server.url, "b0", framing, chunked=True)
    assert status == 400 and envelope["error_code"] == 400, envelope
    assert is_valid_pair(400, envelope["error_code_str"])
    assert not _crashes(caplog)
    assert '"status": 500' not in caplog.text  # no phantom 500 in the access log
