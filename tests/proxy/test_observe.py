"""Observe mode leaves non-conforming traffic alone and reports it; enforce mode withholds it
(issue 9). Broken upstreams are tiny Starlette apps on real sockets."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import httpx
import pytest
from PIL import Image

from conformance.contract import is_valid_pair
from conformance.mock.runner import ServerThread
from conformance.proxy.config import Mode
from conformance.proxy.observed import broken_clauses, observe_request
from conformance.proxy.runner import AppThread
from tests.mock.samples import KEY, face_small
from tests.proxy.conftest import ENDPOINT, fixed_app, proxied


def _envelope(status: int, code: str, **extra: Any) -> bytes:
    body = {
        "request_id": "r-1",
        "log_id": "l-1",
        "error_code": 1 if status == 200 else status,  # LP-ENV-6 broken on a 200 (LP-ENV-3 blocked)
        "error_msg": "",
        "error_detail": {"status_code": status, "code": code, "code_message": "", "message": "x"},
        **extra,
    }
    return json.dumps(body).encode()


NONZERO_200 = _envelope(200, "", data={"video": "AAAA"})
NOT_BASE64 = json.dumps(
    {
        "request_id": "r-2",
        "log_id": "l-2",
        "error_code": 0,
        "error_msg": "",
        "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""},
        "data": {"video": "this is not base64!"},
    }
).encode()


def _send(url: str, **headers: str) -> httpx.Response:
    files = {"image_target": ("face.png", face_small(), "image/png")}
    return httpx.post(url + ENDPOINT, files=files, headers={"ailabapi-api-key": KEY, **headers}, timeout=60)


def _clause(report: dict[str, Any], clause: str) -> dict[str, Any]:
    return next(c for c in report["clauses"] if c["id"] == clause)


@pytest.mark.parametrize(("body", "clause"), [(NONZERO_200, "LP-ENV-6"), (NOT_BASE64, "LP-OK-2")])
def test_observe_passes_violations_on_and_reports_them(
    body: bytes, clause: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="livephoto.proxy")
    with AppThread(fixed_app(body)) as upstream, proxied(upstream.url) as proxy:
        direct = _send(upstream.url)
        through = _send(proxy.url)
        report = httpx.get(proxy.url + "/_livephoto/report", timeout=60).json()
    assert through.status_code == direct.status_code == 200
    assert through.content == direct.content == body
    assert _clause(report, clause)["verdict"] == "fail"
    assert report["summary"]["compatible"] is False
    assert report["kind"] == "proxy"
    assert report["metrics"]["verdicts"] == {"fail": 1}
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "livephoto.proxy"]
    assert len(lines) == 1
    assert lines[0]["verdict"] == "fail"
    assert f"{clause} MUST" in lines[0]["violations"]


@pytest.mark.parametrize(("body", "clause"), [(NONZERO_200, "LP-ENV-6"), (NOT_BASE64, "LP-OK-2")])
def test_enforce_replaces_a_must_violation_by_502(body: bytes, clause: str) -> None:
    with AppThread(fixed_app(body)) as upstream, proxied(upstream.url, mode=Mode.ENFORCE) as proxy:
        through = _send(proxy.url)
        report = httpx.get(proxy.url + "/_livephoto/report").json()
    assert through.status_code == 502
    assert through.headers["content-type"] == "application/json"
    answer = through.json()
    assert answer["error_detail"]["code"] == "ERROR_GATEWAY"
    assert is_valid_pair(502, "ERROR_GATEWAY")
    assert clause in answer["error_detail"]["message"]
    assert answer["request_id"] not in ("r-1", "r-2")
    assert report["metrics"]["enforced"] == 1


def test_enforce_passes_conforming_answers(reference: ServerThread) -> None:
    with proxied(reference.url, mode=Mode.ENFORCE) as proxy:
        success = _send(proxy.url)
        refused = httpx.post(proxy.url + ENDPOINT, files={"image_target": ("f.png", face_small())})
        report = httpx.get(proxy.url + "/_livephoto/report").json()
    assert success.status_code == 200 and success.json()["data"]["video"]
    assert refused.status_code == 401
    assert report["summary"]["must_failures"] == 0
    assert report["metrics"]["enforced"] == 0
    assert _clause(report, "LP-VID-1")["verdict"] == "pass"
    assert _clause(report, "LP-ERR-1")["verdict"] == "pass"


def test_request_shape_sets_the_expectation() -> None:
    """A 400 MISSING_PARAMETERS is a fine answer in general, but not to a request without a key
    (LP-ERR-1 wants 401): the proxy judges the answer against what the request broke."""
    upstream_body = _envelope(400, "MISSING_PARAMETERS")
    with AppThread(fixed_app(upstream_body, status=400)) as upstream, proxied(upstream.url) as proxy:
        keyless = httpx.post(proxy.url + ENDPOINT, files={"image_target": ("f.png", face_small())})
        report = httpx.get(proxy.url + "/_livephoto/report").json()
    assert keyless.status_code == 400
    assert _clause(report, "LP-ERR-1")["verdict"] == "fail"


def _image(fmt: str, size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size).save(buffer, format=fmt)
    return buffer.getvalue()


def _multipart(parts: list[tuple[str, bytes, str | None]]) -> bytes:
    out = b""
    for name, content, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--B\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return out + b"--B--\r\n"


@pytest.mark.parametrize(
    ("parts", "key", "expected"),
    [
        ([("image_target", _image("PNG"), "a.png")], KEY, []),
        ([("image_target", _image("PNG"), "a.png"), ("type", b"1", None)], KEY, []),
        ([("image_target", _image("PNG"), "a.png")], None, ["LP-ERR-1"]),
        ([("image_target", _image("PNG"), "a.png")], "", ["LP-ERR-1"]),
        ([("type", b"0", None)], KEY, ["LP-ERR-3"]),
        ([("image_target", b"", "a.png")], KEY, ["LP-ERR-4"]),
        ([("image_target", b"plain", None)], KEY, ["LP-ERR-4"]),
        ([("image_target", _image("PNG"), "a.png"), ("type", b"01", None)], KEY, ["LP-ERR-5"]),
        ([("image_target", _image("GIF"), "a.png")], KEY, ["LP-ERR-6"]),
        ([("image_target", b"just some text", "a.jpg")], KEY, ["LP-ERR-6"]),
        ([("image_target", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "a.png")], KEY, ["LP-ERR-7"]),
        ([("image_target", b"\xff" * (5 * 1024 * 1024 + 1), "a.jpg")], KEY, ["LP-ERR-8"]),
        ([("image_target", _image("PNG", (4096, 8)), "a.png")], KEY, ["LP-ERR-9"]),
    ],
)
def test_broken_clauses_of_observed_requests(
    parts: list[tuple[str, bytes, str | None]], key: str | None, expected: list[str]
) -> None:
    headers = [("content-type", "multipart/form-data; boundary=B")]
    if key is not None:
        headers.append(("AilabAPI-API-Key", key))
    observed = observe_request("POST", ENDPOINT, "", headers, _multipart(parts))
    assert broken_clauses(observed) == expected
    assert observed.key == key


def test_json_body_is_a_wrong_content_type() -> None:
    headers = [("content-type", "application/json"), ("ailabapi-api-key", KEY)]
    observed = observe_request("POST", ENDPOINT, "", headers, b'{"image_target": "x"}')
    assert broken_clauses(observed) == ["LP-ERR-11"]


def test_observed_image_facts_come_from_the_header() -> None:
    headers = [("content-type", "multipart/form-data; boundary=B"), ("ailabapi-api-key", KEY)]
    observed = observe_request(
        "POST", ENDPOINT, "", headers, _multipart([("image_target", _image("BMP", (40, 30)), "x")])
    )
    assert observed.request.image is not None
    assert (observed.request.image.format, observed.request.image.width, observed.request.image.height) == (
        "BMP",
        40,
        30,
    )
    assert observed.request.parts[0].filename == "x"


def test_a_401_to_a_keyed_request_is_judged_as_an_unknown_key() -> None:
    """The proxy does not know the upstream's keys: a 401 to a request with a key (even one that
    also breaks LP-ERR-5) is the answer to LP-ERR-2, judged by its checks — which fail on a bad code."""
    good = _envelope(401, "ERROR_USER_NOT_EXISTS")
    bad = _envelope(401, "ERROR_INVALID_PARAMETER")
    data = {"type": "2"}
    files = {"image_target": ("face.png", face_small(), "image/png")}
    verdicts = []
    for body in (good, bad):
        with AppThread(fixed_app(body, status=401)) as upstream, proxied(upstream.url) as proxy:
            httpx.post(proxy.url + ENDPOINT, files=files, data=data, headers={"ailabapi-api-key": "nope-key"})
            report = httpx.get(proxy.url + "/_livephoto/report").json()
        verdicts.append((_clause(report, "LP-ERR-2")["verdict"], _clause(report, "LP-ERR-5")["verdict"]))
    assert verdicts == [("pass", "skipped"), ("fail", "skipped")]
