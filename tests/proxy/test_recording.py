"""Recording writes cassettes without the API key; replay serves them back as a mock (issue 9)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import httpx
import pytest

from conformance.mock.runner import ServerThread
from conformance.proxy.cassette import BLOB_DIR, CASSETTE_FILE, load_cassettes
from conformance.proxy.replay import create_replay_app
from conformance.proxy.runner import AppThread
from conformance.redact import key_forms
from tests.mock.samples import KEY, face_jpeg, face_small
from tests.proxy.conftest import ENDPOINT, fixed_app, proxied

SECRET = "sk-live-0123456789abcdef"  # a key an upstream echoes back (LP-SEC-1 broken)


def _post(url: str, image: bytes, *, key: str | None = KEY, type_value: str | None = "1") -> httpx.Response:
    data = {} if type_value is None else {"type": type_value}
    headers = {} if key is None else {"ailabapi-api-key": key}
    files = {"image_target": ("face.png", image, "image/png")}
    return httpx.post(url + ENDPOINT, files=files, data=data, headers=headers, timeout=60)


def _assert_no_key(directory: Path, key: str) -> None:
    files = [path for path in directory.rglob("*") if path.is_file()]
    assert files
    for path in files:
        content = path.read_bytes()
        for form in key_forms(key):
            assert form.encode() not in content, f"{form!r} found in {path}"


@pytest.fixture(scope="module")
def recorded(
    reference: ServerThread, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[httpx.Response]]:
    directory = tmp_path_factory.mktemp("record")
    with proxied(reference.url, record_dir=directory) as proxy:
        answers = [
            _post(proxy.url, face_small()),  # success, type 1
            _post(proxy.url, face_small(), key=None),  # 401 for the same image, no key
            _post(proxy.url, face_small(), type_value="x"),  # 400 invalid type
        ]
        httpx.get(proxy.url + "/_livephoto/report", timeout=60)  # waits for pending recordings
    return directory, answers


def test_cassettes_hold_no_key(recorded: tuple[Path, list[httpx.Response]]) -> None:
    directory, _ = recorded
    _assert_no_key(directory, KEY)


def test_cassette_entries_store_blobs_by_sha256(recorded: tuple[Path, list[httpx.Response]]) -> None:
    directory, answers = recorded
    entries = load_cassettes(directory)
    assert [e.response.status for e in entries] == [200, 401, 400]
    image_sha = hashlib.sha256(face_small()).hexdigest()
    assert all(e.request.image_sha256 == image_sha for e in entries)
    assert (directory / BLOB_DIR / image_sha).read_bytes() == face_small()  # stored once
    video = base64.b64decode(answers[0].json()["data"]["video"])
    success = entries[0].response
    assert success.video_sha256 == hashlib.sha256(video).hexdigest()
    assert (directory / BLOB_DIR / success.video_sha256).read_bytes() == video
    assert success.body is not None and len(success.body) < 1000  # the video is out of the JSON line
    headers = dict(entries[0].request.headers)
    assert headers["ailabapi-api-key"] == "***"
    assert entries[1].request.key == "missing"
    assert entries[0].upstream_ms is not None and entries[0].upstream_ms > 0
    assert sorted(p.name for p in directory.iterdir()) == [BLOB_DIR, CASSETTE_FILE]


def test_replay_serves_the_recorded_answers(recorded: tuple[Path, list[httpx.Response]]) -> None:
    directory, answers = recorded
    with AppThread(create_replay_app(directory)) as replay:
        success = _post(replay.url, face_small())
        keyless = _post(replay.url, face_small(), key=None)
        bad_type = _post(replay.url, face_small(), type_value="x")
        unknown_image = _post(replay.url, face_jpeg())
        unknown_type = _post(replay.url, face_small(), type_value="0")
    assert (success.status_code, success.content) == (200, answers[0].content)
    assert success.headers["content-type"] == answers[0].headers["content-type"]
    assert (keyless.status_code, keyless.content) == (401, answers[1].content)
    assert (bad_type.status_code, bad_type.content) == (400, answers[2].content)
    for miss in (unknown_image, unknown_type):
        assert miss.status_code == 404
        assert miss.json()["error_detail"]["code"] == "ERROR_RESOURCE_NOT_FOUND"


def test_replay_refuses_a_directory_without_cassettes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"holds no cassettes\.jsonl"):
        create_replay_app(tmp_path)


def test_an_echoed_key_is_redacted_everywhere(tmp_path: Path) -> None:
    def echo_key(request: object) -> bytes:
        key = request.headers["ailabapi-api-key"]  # type: ignore[attr-defined]
        body = {
            "request_id": "r",
            "log_id": "l",
            "error_code": 401,
            "error_msg": f"key {key} is unknown",
            "error_detail": {
                "status_code": 401,
                "code": "ERROR_USER_NOT_EXISTS",
                "code_message": "",
                "message": key,
            },
        }
        return json.dumps(body).encode()

    record = tmp_path / "record"
    upstream_app = fixed_app(echo_key, status=401, **{"x-echo": SECRET})
    with AppThread(upstream_app) as upstream, proxied(upstream.url, record_dir=record) as proxy:
        answer = _post(proxy.url, face_small(), key=SECRET)
        report = httpx.get(proxy.url + "/_livephoto/report")
    assert SECRET in answer.text  # observe mode: the client gets what the upstream sent
    assert report.status_code == 200
    assert SECRET not in report.text
    sec = next(c for c in report.json()["clauses"] if c["id"] == "LP-SEC-1")
    assert sec["verdict"] == "fail"
    _assert_no_key(record, SECRET)


def test_a_key_in_the_path_stays_out_of_log_and_cassettes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="livephoto.proxy")
    record = tmp_path / "record"
    with (
        AppThread(fixed_app(b"{}", status=404)) as upstream,
        proxied(upstream.url, record_dir=record) as proxy,
    ):
        answer = httpx.get(f"{proxy.url}/v1/{SECRET}?key={SECRET}", headers={"ailabapi-api-key": SECRET})
        httpx.get(proxy.url + "/_livephoto/report")
    assert answer.status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "livephoto.proxy"]
    assert lines and all(SECRET not in line for line in lines)
    assert any('"path": "/v1/***"' in line for line in lines)
    _assert_no_key(record, SECRET)
