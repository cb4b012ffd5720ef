"""Success path over a real socket: a real, playable, moving H.264 MP4 (LP-OK-*, LP-VID-*)."""

from __future__ import annotations

import base64
import json
import logging
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from conformance.faces import detect_faces
from conformance.mock.runner import ServerThread
from conformance.schemas import envelope_errors
from tests.mock import samples
from tests.mock.samples import ENDPOINT, KEY

AUTH = {"ailabapi-api-key": KEY}
MOTION_THRESHOLD = 1.0  # mean absolute difference (0..255) between the first and a later frame


def video_of(response: httpx.Response) -> bytes:
    """The decoded MP4 of a success response, after checking the success envelope."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert envelope_errors(body, 200) == []
    assert body["error_code"] == 0 and body["error_detail"]["code"] == ""
    encoded = body["data"]["video"]
    assert "\n" not in encoded and not encoded.startswith("data:")
    return base64.b64decode(encoded, validate=True)


def motion(frames: list[np.ndarray]) -> float:
    """The largest mean absolute difference between the first frame and any later one."""
    first = frames[0].astype(np.int16)
    return max(float(np.abs(f.astype(np.int16) - first).mean()) for f in frames[1:])


@pytest.mark.parametrize("type_value", [None, "0", "1"])
def test_video_is_real_h264_and_moves(client: httpx.Client, type_value: str | None) -> None:
    """LP-OK-1, LP-VID-1..6 for type absent, 0 and 1."""
    data = {} if type_value is None else {"type": type_value}
    response = client.post(
        ENDPOINT, headers=AUTH, files={"image_target": ("face.png", samples.face_small())}, data=data
    )
    video = video_of(response)
    container, codec, pix_fmt = samples.video_codec(video)
    assert "mp4" in container and codec == "h264" and pix_fmt == "yuv420p"
    frames = samples.decode_video(video)
    assert len(frames) >= 2
    height, width = frames[0].shape[:2]
    assert width % 2 == 0 and height % 2 == 0 and min(width, height) >= 64
    assert motion(frames) > MOTION_THRESHOLD
    if type_value == "1":
        assert abs(width / height - 1.0) <= 0.1  # the input is square
    else:
        assert detect_faces(frames[0]), "type 0 shows the face"


def test_full_body_keeps_aspect_ratio(client: httpx.Client) -> None:
    """LP-VID-6: type 1 keeps a non-square input's aspect ratio within 10 %."""
    from PIL import Image

    with Image.open(samples.DATA / "astronaut.png") as image:
        wide = samples.encode(image.convert("RGB").crop((0, 0, 512, 300)), "JPEG")
    response = client.post(
        ENDPOINT, headers=AUTH, files={"image_target": ("w.jpg", wide)}, data={"type": "1"}
    )
    frames = samples.decode_video(video_of(response))
    height, width = frames[0].shape[:2]
    assert abs((width / height) / (512 / 300) - 1) <= 0.1


def test_jpeg_with_extra_fields_and_headers(client: httpx.Client) -> None:
    """LP-REQ-2, LP-REQ-7: JPEG, parts in another order, unknown fields and headers are ignored;
    the key header in another casing is accepted."""
    files = [
        ("extra", (None, "ignored")),
        ("type", (None, "0")),
        ("image_target", ("noext", samples.face_jpeg())),
    ]
    headers = {"AILabAPI-API-Key": KEY, "x-unknown": "1", "x-livephoto-fault-other": "y"}
    video_of(client.post(ENDPOINT, headers=headers, files=files))


def test_deterministic(client: httpx.Client) -> None:
    """Same input and seed → the same video bytes (LP-OPS-3 asks only for the same shape)."""

    def one() -> bytes:
        return video_of(
            client.post(ENDPOINT, headers=AUTH, files={"image_target": ("f.png", samples.face_small())})
        )

    assert one() == one()


def test_concurrent_requests_are_independent(server: ServerThread) -> None:
    """LP-OPS-2: concurrent valid requests all succeed with distinct request ids; an error answer
    is not held up by encoding (the work runs in the thread pool)."""

    def one(_: int) -> str:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            response = http.post(
                ENDPOINT, headers=AUTH, files={"image_target": ("f.png", samples.face_small())}
            )
            assert response.status_code == 200
            return str(response.json()["request_id"])

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(one, i) for i in range(4)]
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.post(ENDPOINT).status_code == 401
        ids = [f.result() for f in futures]
    assert len(set(ids)) == 4


def test_access_log_has_no_key(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    """One JSON access line per request with the required fields; the key never appears."""
    caplog.set_level(logging.INFO, logger="livephoto.access")
    response = client.post(
        ENDPOINT, headers=AUTH, files={"image_target": ("a.gif", samples.solid((40, 40), "GIF"))}
    )
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "livephoto.access"]
    assert len(lines) == 1
    assert set(lines[0]) == {"request_id", "method", "path", "status", "code", "latency_ms"}
    assert lines[0]["request_id"] == response.json()["request_id"]
    assert (lines[0]["status"], lines[0]["code"]) == (415, "UNSUPPORTED_FILE_TYPES")
    assert KEY not in caplog.text
    assert KEY not in response.text and KEY not in str(response.headers)


def test_plain_httpx_multipart_post(server: ServerThread) -> None:
    """A plain ``httpx.post`` with ``files=`` (an open file) gets a playable MP4."""
    with open(samples.DATA / "astronaut.png", "rb") as photo:
        response = httpx.post(server.url + ENDPOINT, headers=AUTH, files={"image_target": photo}, timeout=30)
    assert len(samples.decode_video(video_of(response))) >= 2


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl(server: ServerThread) -> None:
    """The documented curl command works as is."""
    result = subprocess.run(
        [
            "curl",
            "-sS",
            "-F",
            f"image_target=@{samples.DATA / 'astronaut.png'}",
            "-H",
            f"ailabapi-api-key: {KEY}",
            server.url + ENDPOINT,
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    body = json.loads(result.stdout)
    assert body["error_code"] == 0
    assert len(samples.decode_video(base64.b64decode(body["data"]["video"]))) >= 2
