"""Every SPEC §5 error case over a real socket: status, code, documented code_message, envelope."""

from __future__ import annotations

import io
import time
from typing import Any

import httpx
import pytest
from PIL import Image

from conformance.contract import Edition, documented_message, is_valid_pair
from conformance.mock.runner import ServerThread
from conformance.schemas import envelope_errors
from tests.mock import samples
from tests.mock.samples import ENDPOINT, FIVE_MIB, KEY

AUTH = {"ailabapi-api-key": KEY}


def post(
    http: httpx.Client, files: Any = None, data: Any = None, headers: Any = None, **kw: Any
) -> httpx.Response:
    """POST to the endpoint with the valid key unless headers say otherwise."""
    return http.post(ENDPOINT, files=files, data=data, headers=AUTH if headers is None else headers, **kw)


def assert_error(
    response: httpx.Response, status: int, code: str, edition: Edition = Edition.E2026_01
) -> None:
    """The response is the error envelope of SPEC §2 with this status and code."""
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert (response.status_code, body["error_detail"]["code"]) == (status, code), body
    assert body["error_code"] == status
    assert body["error_detail"]["code_message"] == documented_message(code)
    assert body["error_detail"]["message"]
    assert "data" not in body
    assert envelope_errors(body, status) == []
    assert is_valid_pair(status, code, edition)


def assert_still_serves(http: httpx.Client) -> None:
    """LP-SEC-4: a valid request still succeeds."""
    response = post(http, files={"image_target": ("face.png", samples.face_small(), "image/png")})
    assert response.status_code == 200, response.text


GIF = samples.solid((64, 64), "GIF")
CASES: dict[str, tuple[dict[str, Any], int, str]] = {
    "no key": (
        {"files": {"image_target": ("a.png", GIF)}, "headers": {}},
        401,
        "ERROR_APPLICATIONS_NOT_EXISTS",
    ),
    "empty key": (
        {"files": {"image_target": ("a.png", GIF)}, "headers": {"ailabapi-api-key": ""}},
        401,
        "ERROR_APPLICATIONS_NOT_EXISTS",
    ),
    "unknown key": (
        {"files": {"image_target": ("a.png", GIF)}, "headers": {"ailabapi-api-key": "nope"}},
        401,
        "ERROR_USER_NOT_EXISTS",
    ),
    "missing image_target": ({"files": {"other": ("a.png", GIF)}}, 400, "MISSING_PARAMETERS"),
    "image_target as text": (
        {"data": {"image_target": "hello"}, "files": {"x": ("x", b"x")}},
        400,
        "MISSING_PARAMETERS",
    ),
    "empty file": ({"files": {"image_target": ("a.png", b"")}}, 400, "PARAMETERS_CANNOT_EMPTY"),
    "json body": ({"json": {"image_target": "x"}}, 400, "MISSING_PARAMETERS"),
    "urlencoded body": ({"data": {"image_target": "x"}}, 400, "MISSING_PARAMETERS"),
    "gif": ({"files": {"image_target": ("a.gif", GIF)}}, 415, "UNSUPPORTED_FILE_TYPES"),
    "tiff": (
        {"files": {"image_target": ("a.png", samples.solid((64, 64), "TIFF"))}},
        415,
        "UNSUPPORTED_FILE_TYPES",
    ),
    "webp": (
        {"files": {"image_target": ("a.jpg", samples.solid((64, 64), "WEBP"))}},
        415,
        "UNSUPPORTED_FILE_TYPES",
    ),
    "ico": (
        {"files": {"image_target": ("a.png", samples.solid((64, 64), "ICO"))}},
        415,
        "UNSUPPORTED_FILE_TYPES",
    ),
    "pdf": (
        {"files": {"image_target": ("a.png", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n")}},
        415,
        "UNSUPPORTED_FILE_TYPES",
    ),
    "svg": (
        {"files": {"image_target": ("a.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>')}},
        415,
        "UNSUPPORTED_FILE_TYPES",
    ),
    "text": (
        {"files": {"image_target": ("a.jpg", b"just some text, not an image")}},
        415,
        "UNSUPPORTED_FILE_TYPES",
    ),
    "truncated png": (
        {"files": {"image_target": ("a.png", samples.data_file("chelsea.png")[:5000])}},
        422,
        "FILE_DECODING_FAILURE",
    ),
    "truncated jpeg": (
        {"files": {"image_target": ("a.jpg", samples.data_file("rocket.jpg")[:3000])}},
        422,
        "FILE_DECODING_FAILURE",
    ),
    "corrupt bmp": (
        {"files": {"image_target": ("a.bmp", b"BM" + b"\x00" * 30)}},
        422,
        "FILE_DECODING_FAILURE",
    ),
    "4096 wide": (
        {"files": {"image_target": ("a.png", samples.solid((4096, 40), "PNG"))}},
        413,
        "FILE_RESOLUTION_EXCEEDS_LIMITS",
    ),
    "png bomb": (
        {"files": {"image_target": ("a.png", samples.png_bomb())}},
        413,
        "FILE_RESOLUTION_EXCEEDS_LIMITS",
    ),
    "tiny": (
        {"files": {"image_target": ("a.png", samples.solid((16, 16), "PNG"))}},
        422,
        "ERROR_LOW_RESOLUTION",
    ),
    "no face": (
        {"files": {"image_target": ("c.png", samples.data_file("coffee.png"))}},
        422,
        "ERROR_NO_FACE_IN_FILE",
    ),
    "no face jpeg": (
        {"files": {"image_target": ("r.jpg", samples.data_file("rocket.jpg"))}},
        422,
        "ERROR_NO_FACE_IN_FILE",
    ),
    "5 MiB + 1": (
        {"files": {"image_target": ("a.png", samples.padded_png(samples.face_small(), FIVE_MIB + 1))}},
        413,
        "FILE_SIZE_EXCEEDS_LIMIT",
    ),
}
TYPES = [" 1", "01", "1.0", "true", "", "2", "-1", "1 "]


@pytest.mark.parametrize("case", list(CASES))
def test_error_cases(client: httpx.Client, case: str) -> None:
    """LP-ERR-1..10: each failure gets its documented status, code and envelope."""
    kwargs, status, code = CASES[case]
    assert_error(post(client, **kwargs), status, code)


@pytest.mark.parametrize("value", TYPES)
def test_invalid_type(client: httpx.Client, value: str) -> None:
    """LP-REQ-5 / LP-ERR-5: anything but exactly "0" or "1" is ERROR_INVALID_PARAMETER."""
    response = post(client, files={"image_target": ("a.png", samples.face_small())}, data={"type": value})
    assert_error(response, 400, "ERROR_INVALID_PARAMETER")


def test_edition_2025_statuses(server_2025: ServerThread) -> None:
    """SPEC §0: the 2025-09 edition gives decoding failures 400 and resolution errors 422."""
    with httpx.Client(base_url=server_2025.url, timeout=30) as http:
        truncated = samples.data_file("chelsea.png")[:5000]
        assert_error(
            post(http, files={"image_target": ("a.png", truncated)}),
            400,
            "FILE_DECODING_FAILURE",
            Edition.E2025_09,
        )
        bomb = samples.png_bomb()
        assert_error(
            post(http, files={"image_target": ("a.png", bomb)}),
            422,
            "FILE_RESOLUTION_EXCEEDS_LIMITS",
            Edition.E2025_09,
        )
        assert_error(http.get(ENDPOINT), 405, "ERROR_ILLEGAL_OPERATION", Edition.E2025_09)
        # with the fault header off it is an unknown extra header (LP-REQ-7)
        ok = post(
            http,
            files={"image_target": ("f.png", samples.face_small())},
            headers={**AUTH, "x-livephoto-fault": "retired"},
        )
        assert ok.status_code == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method(client: httpx.Client, method: str) -> None:
    """LP-ERR-11: 405 ERROR_ILLEGAL_OPERATION with the envelope and Allow: POST."""
    response = client.request(method, ENDPOINT, headers=AUTH)
    assert_error(response, 405, "ERROR_ILLEGAL_OPERATION")
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("path", ["/", "/api/portrait/effects/live-photo/", "/nope"])
def test_unknown_path(client: httpx.Client, path: str) -> None:
    """An unknown path is a 404 envelope, never a bare framework page."""
    assert_error(client.post(path, headers=AUTH), 404, "ERROR_RESOURCE_NOT_FOUND")


def test_auth_before_body(client: httpx.Client) -> None:
    """LP-ERR-1: no key and a 50 MB body → 401 quickly (not 413)."""
    body = b"\x00" * (50 * 1024 * 1024)
    started = time.perf_counter()
    response = client.post(
        ENDPOINT, content=body, headers={"content-type": "multipart/form-data; boundary=xyz"}
    )
    assert_error(response, 401, "ERROR_APPLICATIONS_NOT_EXISTS")
    assert time.perf_counter() - started < 5
    assert_still_serves(client)


def test_oversized_stream_without_length(client: httpx.Client) -> None:
    """LP-SEC-3: a 50 MB chunked body (no Content-Length) is refused with 413 and the server survives."""

    def chunks() -> Any:
        yield b'--xyz\r\nContent-Disposition: form-data; name="image_target"; filename="a.png"\r\n\r\n'
        for _ in range(50):
            yield b"\x89PNG" * (256 * 1024)

    response = client.post(
        ENDPOINT, content=chunks(), headers={**AUTH, "content-type": "multipart/form-data; boundary=xyz"}
    )
    assert_error(response, 413, "FILE_SIZE_EXCEEDS_LIMIT")
    assert_still_serves(client)


def test_declared_length_too_large(client: httpx.Client) -> None:
    """A Content-Length above the body bound is refused up front with ERROR_REQUEST_BODY_TOO_LARGE."""
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="junk"\r\n\r\n'
        + b"a" * (7 * 1024 * 1024)
        + b"\r\n--xyz--\r\n"
    )
    response = client.post(
        ENDPOINT, content=body, headers={**AUTH, "content-type": "multipart/form-data; boundary=xyz"}
    )
    assert_error(response, 413, "ERROR_REQUEST_BODY_TOO_LARGE")


def test_exactly_five_mib_is_valid(client: httpx.Client) -> None:
    """LP-REQ-6: a file of exactly 5 × 1024 × 1024 bytes is accepted."""
    image = samples.padded_png(samples.face_small(), FIVE_MIB)
    assert len(image) == FIVE_MIB
    response = post(client, files={"image_target": ("big.png", image, "image/png")})
    assert response.status_code == 200, response.text


def test_errors_do_not_break_later_requests(client: httpx.Client) -> None:
    """LP-SEC-4: after a batch of hostile requests the next valid one succeeds."""
    for case in ("png bomb", "truncated jpeg", "5 MiB + 1", "gif"):
        kwargs, status, _ = CASES[case]
        assert post(client, **kwargs).status_code == status
    assert_still_serves(client)


def test_png_bomb_sample_declares_huge_size() -> None:
    """The bomb sample is a small file with a valid IHDR CRC that Pillow reads as a 400 MP bomb."""
    bomb = samples.png_bomb()
    assert len(bomb) < 1000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bomb))


def test_client_disconnect_mid_body(
    server: ServerThread, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that sends half a body and goes away is not logged as a server failure; the server
    keeps serving (LP-SEC-4)."""
    import socket

    host, port = server.url.removeprefix("http://").split(":")
    head = (
        f"POST {ENDPOINT} HTTP/1.1\r\nHost: x\r\nailabapi-api-key: {KEY}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 100000\r\n\r\n"
    )
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(
            head.encode()
            + b'--xyz\r\nContent-Disposition: form-data; name="image_target"; filename="a"\r\n\r\n'
        )
        raw.sendall(b"\x89PNG" * 100)
    time.sleep(0.3)
    assert_still_serves(client)
    assert not [r for r in caplog.records if r.name == "livephoto.server" and r.levelname == "ERROR"]
