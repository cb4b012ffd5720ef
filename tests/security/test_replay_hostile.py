"""Hostile review item 8: replay served files from outside its folder. A cassette whose
``body_sha256`` or ``video_sha256`` was ``../../etc/passwd``, an absolute path, or a blob that was a
symbolic link served ``/etc/passwd``; a 300 MiB blob was read whole (RSS 985 MB); a field of the
wrong type gave a plain-text 500 with a traceback. Now every cassette is checked against
schemas/cassette.schema.json on load (one line per bad cassette), a blob is read only when its name
is a SHA-256, it is a regular file in DIR/blobs, within the cap, and its content has that SHA-256;
what still goes wrong while answering is a 502 envelope and one log line, and replay keeps serving."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.proxy.__main__ import main
from conformance.proxy.cassette import BLOB_DIR, CASSETTE_FILE, MAX_BODY_BLOB, CassetteError, load_cassettes
from conformance.proxy.replay import create_replay_app
from conformance.proxy.runner import AppThread
from tests.mock.samples import KEY, face_jpeg, face_small
from tests.proxy.conftest import fixed_app, proxied
from tests.security.conftest import ENDPOINT, assert_envelope

VIDEO = b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8  # stands for an MP4: stored as a blob
SUCCESS = json.dumps(
    {
        "request_id": "r",
        "log_id": "l",
        "error_code": 0,
        "error_msg": "",
        "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""},
        "data": {"video": base64.b64encode(VIDEO).decode()},
    }
).encode()
BIG_TEXT = b"x" * (100 * 1024)  # over the inline limit: stored as a body blob
PASSWD = Path("/etc/passwd")


def sparse(path: Path, size: int = 300 * 1024 * 1024) -> None:
    """A file of ``size`` bytes that uses no disk (reading it would allocate them all)."""
    with path.open("wb") as out:
        out.truncate(size)


def post(url: str, image: bytes, type_value: str = "1") -> httpx.Response:
    files = {"image_target": ("face.png", image, "image/png")}
    return httpx.post(
        url + ENDPOINT, files=files, data={"type": type_value}, headers={"ailabapi-api-key": KEY}
    )


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """A real recording: a success with its video as a blob (type 1) and a long non-JSON body
    stored as a body blob (type 0), both for face_small()."""

    record = tmp_path / "record"
    with AppThread(fixed_app(SUCCESS)) as success, proxied(success.url, record_dir=record) as proxy:
        assert post(proxy.url, face_small()).status_code == 200
        httpx.get(proxy.url + "/_livephoto/report", timeout=60)
    with AppThread(fixed_app(BIG_TEXT)) as text, proxied(text.url, record_dir=record) as proxy:
        assert post(proxy.url, face_small(), type_value="0").status_code == 200
        httpx.get(proxy.url + "/_livephoto/report", timeout=60)
    return record


def entries(record: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (record / CASSETTE_FILE).read_text().splitlines()]


def rewrite(record: Path, changed: list[dict[str, Any]]) -> None:
    (record / CASSETTE_FILE).write_text("".join(json.dumps(e) + "\n" for e in changed))


def planted(record: Path, **response: Any) -> None:
    """A third cassette for face_jpeg() (type 1) with the given response fields."""
    base = entries(record)
    entry = json.loads(json.dumps(base[0]))
    entry["request"]["image_sha256"] = hashlib.sha256(face_jpeg()).hexdigest()
    entry["response"].update(response)
    rewrite(record, [*base, entry])


def legit_requests_still_served(url: str) -> None:
    video = post(url, face_small())
    assert video.status_code == 200
    assert base64.b64decode(video.json()["data"]["video"]) == VIDEO
    text = post(url, face_small(), type_value="0")
    assert (text.status_code, text.content) == (200, BIG_TEXT)


# ---------------------------------------------------------------- refused on load, one line each

NOT_SHA = "is not a SHA-256"
NOT_HEADER = "cannot be sent as an HTTP header field"
TRAVERSALS = [  # (response fields, what the error line says)
    ({"body": None, "body_sha256": "../../../../../../etc/passwd"}, NOT_SHA),
    ({"body": None, "body_sha256": "/etc/passwd"}, NOT_SHA),
    ({"video_sha256": "../../../../../../etc/passwd"}, NOT_SHA),
    ({"video_sha256": "/etc/passwd"}, NOT_SHA),
    ({"body": None, "body_sha256": "A" * 64}, NOT_SHA),  # hex, but not as written (lower case only)
    ({"status": "200"}, "is not of type 'integer'"),
    ({"status": 100}, "less than the minimum of 200"),
    ({"headers": "content-type: text/plain"}, "is not of type 'array'"),
    ({"headers": [["x-injected", "a\r\nset-cookie: evil=1"]]}, NOT_HEADER),
    ({"headers": [["bad name", "v"]]}, NOT_HEADER),
    ({"headers": [["x-unicode", "☃"]]}, NOT_HEADER),
    ({"body": 12}, "is not of type 'string', 'null'"),
]
TRAVERSAL_IDS = [
    "body-relative", "body-absolute", "video-relative", "video-absolute", "upper-case-name",
    "status-string", "status-1xx", "headers-string", "header-crlf", "header-name", "header-non-latin1",
    "body-number",
]  # fmt: skip


@pytest.mark.parametrize(("response", "says"), TRAVERSALS, ids=TRAVERSAL_IDS)
def test_a_planted_cassette_is_refused_on_load_with_one_line(
    recording: Path, response: dict[str, Any], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    planted(recording, **response)
    with pytest.raises(CassetteError) as refused:
        load_cassettes(recording)
    lines = str(refused.value).splitlines()
    assert lines[0] == f"1 bad cassette in {recording / CASSETTE_FILE}:"
    assert len(lines) == 2 and lines[1].startswith(f"{recording / CASSETTE_FILE}:3: response"), lines
    assert says in lines[1], lines[1]
    assert main(["replay", str(recording), "--listen", "127.0.0.1:0"]) == 2  # the command line too
    err = capsys.readouterr().err
    assert "livephoto-conformance replay: 1 bad cassette" in err and "Traceback" not in err
    assert "root:" not in err


def test_every_bad_line_is_named(recording: Path) -> None:
    good = entries(recording)
    broken = json.loads(json.dumps(good[0]))
    broken["response"]["body_sha256"] = "../x"
    text = "".join(json.dumps(e) + "\n" for e in [*good, broken])
    (recording / CASSETTE_FILE).write_text(text + "{not json\n" + json.dumps({"request": {}}) + "\n")
    with pytest.raises(CassetteError) as refused:
        load_cassettes(recording)
    lines = str(refused.value).splitlines()
    assert lines[0].startswith("3 bad cassettes in ")
    assert [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in lines[1:]] == ["3", "4", "5"]
    assert "not a JSON line" in lines[2]


def test_a_symlinked_or_oversized_or_special_blob_is_refused_on_load(recording: Path) -> None:
    digest = hashlib.sha256(PASSWD.read_bytes()).hexdigest()
    (recording / BLOB_DIR / digest).symlink_to(PASSWD)  # even with the matching name
    planted(recording, body=None, body_sha256=digest)
    with pytest.raises(CassetteError, match="is a symbolic link: refused"):
        load_cassettes(recording)
    (recording / BLOB_DIR / digest).unlink()
    big = "b" * 64
    sparse(recording / BLOB_DIR / big)
    planted(recording, body=None, body_sha256=big)
    with pytest.raises(CassetteError, match=f"over the {MAX_BODY_BLOB}-byte cap"):
        load_cassettes(recording)
    fifo = "c" * 64
    os.mkfifo(recording / BLOB_DIR / fifo)
    planted(recording, body=None, body_sha256=fifo)
    started = time.perf_counter()
    with pytest.raises(CassetteError, match="not a regular file"):
        load_cassettes(recording)
    assert time.perf_counter() - started < 5  # opening a FIFO does not wait for a writer


def test_a_symlinked_blob_folder_is_refused(recording: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (recording / BLOB_DIR).rename(elsewhere)
    (recording / BLOB_DIR).symlink_to(elsewhere)
    with pytest.raises(CassetteError, match="symbolic link or outside"):
        load_cassettes(recording)


# ---------------------------------------------------------------- swapped after load: 502, one log line


def swap(recording: Path, field: str, make: Any) -> str:
    """Replace the blob a good cassette names (after replay loaded it); the blob's name."""
    digest = next(e["response"][field] for e in entries(recording) if e["response"][field])
    path = recording / BLOB_DIR / digest
    path.unlink()
    make(path)
    return str(digest)


SWAPS = [
    ("video_sha256", lambda p: p.symlink_to(PASSWD), "is a symbolic link: refused"),
    ("body_sha256", lambda p: p.symlink_to(PASSWD), "is a symbolic link: refused"),
    ("body_sha256", lambda p: p.write_bytes(b"root:x:0:0:tampered"), "does not match its SHA-256"),
    ("video_sha256", lambda p: p.write_bytes(b"tampered"), "does not match its SHA-256"),
    ("body_sha256", sparse, "over the"),
    ("video_sha256", lambda p: os.mkfifo(p), "not a regular file"),
]


@pytest.mark.parametrize(("field", "make", "reason"), SWAPS, ids=[
    "video-symlink", "body-symlink", "body-tampered", "video-tampered", "body-300MiB", "video-fifo",
])  # fmt: skip
def test_a_blob_swapped_after_load_gets_an_envelope_and_a_log_line(
    recording: Path, field: str, make: Any, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("ERROR", logger="livephoto.replay")
    with AppThread(create_replay_app(recording)) as replay:
        legit_requests_still_served(replay.url)
        swap(recording, field, make)
        answer = post(replay.url, face_small(), type_value="1" if field == "video_sha256" else "0")
        assert_envelope(answer.status_code, answer.json(), 502, "ERROR_GATEWAY")
        assert reason in answer.json()["error_msg"]
        assert answer.headers["x-livephoto-proxy"] == "replay-broken-cassette"
        assert "root:" not in answer.text
        other = post(replay.url, face_small(), type_value="0" if field == "video_sha256" else "1")
        assert other.status_code == 200  # the untouched cassette is still served
    lines = [r.getMessage() for r in caplog.records if r.name == "livephoto.replay"]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert json.loads(lines[0])["verdict"] == "broken-cassette"
    assert reason in lines[0] and f"{CASSETTE_FILE}:" in lines[0]


def test_a_bodiless_status_is_served_without_a_body(recording: Path) -> None:
    planted(recording, status=204)
    with AppThread(create_replay_app(recording)) as replay:
        answer = post(replay.url, face_jpeg())
        assert (answer.status_code, answer.content) == (204, b"")
        legit_requests_still_served(replay.url)


@contextmanager
def replay_process(record: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    command = [sys.executable, "-m", "conformance.proxy", "replay", str(record), "--listen", "127.0.0.1:0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on " in line, line + (process.stderr.read() if process.stderr else "")
        yield process, line.rsplit("listening on ", 1)[1].strip()
    finally:
        process.terminate()
        process.communicate(timeout=30)


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS is read from /proc")
def test_a_300_mib_blob_costs_no_memory(recording: Path) -> None:
    """The 300 MiB attack against the replay command: refused on load; swapped in after load,
    answered with a 502 without reading it (the peak RSS of the replay process stays flat)."""
    with replay_process(recording) as (process, url):
        legit_requests_still_served(url)
        before = peak_rss_mib(process.pid)
        swap(recording, "body_sha256", sparse)
        answer = post(url, face_small(), type_value="0")
        assert answer.status_code == 502
        post(url, face_small())  # still serving
        after = peak_rss_mib(process.pid)
    print(f"\nreplay peak RSS: {before:.0f} MiB before the 300 MiB blob, {after:.0f} MiB after")
    assert after - before < 20, (before, after)
    refused = subprocess.run(
        [sys.executable, "-m", "conformance.proxy", "replay", str(recording), "--listen", "127.0.0.1:0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "over the" in refused.stderr and "Traceback" not in refused.stderr
