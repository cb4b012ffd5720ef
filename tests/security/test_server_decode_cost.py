"""Review items 9 and 10: small uploads that cost the reference server seconds of CPU (a 281 KB
progressive JPEG with 1,500 scans: 15 s; a 17 KB RLE BMP of bare line ends: 4 s; a million JPEG
comment segments; 400,000 PNG chunks) or hundreds of MB (16-bit 4095² PNGs). Now each is answered
within 2 s of server CPU — the structures are counted before decoding, RLE BMPs are decoded by
OpenCV, every decoder read checks the thread's CPU time — and the server keeps serving."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from conformance.contract import is_valid_pair
from conformance.mock import images
from conformance.mock.config import ServerConfig
from conformance.mock.images import ImageRejected, load_image
from conformance.mock.runner import RunningServer, start_server_process
from tests.mock import samples
from tests.security.conftest import ENDPOINT
from tests.security.server_attacks import DECODE_BOMBS, progressive_jpeg, scan_bomb

KEY = "decode-cost-key"
AUTH = {"ailabapi-api-key": KEY}
CPU_BOUND = 2.0  # seconds of server CPU per request (the review's target)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def served() -> Iterator[RunningServer]:
    """``serve`` in its own process, so its CPU time is its own."""
    with start_server_process(ServerConfig(api_keys=(KEY,))) as running:
        yield running


def _post(url: str, image: bytes) -> httpx.Response:
    return httpx.post(url + ENDPOINT, headers=AUTH, files={"image_target": ("upload", image)}, timeout=60)


@pytest.mark.parametrize("name", sorted(DECODE_BOMBS))
def test_hostile_upload_is_answered_within_the_cpu_bound(served: RunningServer, name: str) -> None:
    make, code = DECODE_BOMBS[name]
    data = make()
    assert len(data) <= 5 * 1024 * 1024
    before = cpu_seconds(served.pid)
    response = _post(served.url, data)
    used = cpu_seconds(served.pid) - before
    body = response.json()
    assert body["error_code_str"] == code, body
    assert is_valid_pair(response.status_code, code) and 400 <= response.status_code < 500
    assert used <= CPU_BOUND, f"{name}: {used:.2f} s of server CPU"
    assert _post(served.url, samples.face_small()).status_code == 200  # the server keeps serving


def test_a_progressive_photo_is_still_accepted(served: RunningServer) -> None:
    """The scan bound leaves ordinary progressive JPEGs (libjpeg's 10 scans) alone."""
    with Image.open(io.BytesIO(samples.face_jpeg())) as photo:
        progressive = samples.encode(photo, "JPEG", progressive=True, quality=90)
    assert _post(served.url, progressive).status_code == 200


def test_scan_bound_counts_scans_and_blocks() -> None:
    """Ten scans over 4095² decode; 90 extra scans of one component pass the count but not the
    block budget; past MAX_JPEG_SCANS the count alone refuses."""
    assert load_image(progressive_jpeg()).shape == (1280, 1280, 3)
    for extra in (90, images.MAX_JPEG_SCANS + 1):
        with pytest.raises(ImageRejected) as info:
            load_image(scan_bomb(extra))
        assert info.value.code == "FILE_DECODING_FAILURE"
        assert "too costly" in info.value.message


def test_decoding_stops_at_the_cpu_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last line of defence: a decoder read after the CPU budget is spent fails the decode."""
    monkeypatch.setattr(images, "DECODE_CPU_SECONDS", -1.0)
    with pytest.raises(ImageRejected) as info:
        load_image(samples.face_small())
    assert info.value.code == "FILE_DECODING_FAILURE"


def test_exif_orientation_is_still_applied() -> None:
    """The decode no longer goes through ImageOps.exif_transpose (it copied every image): the
    orientation is applied to the reduced image instead."""
    photo = Image.new("RGB", (80, 40), (200, 10, 10))
    photo.paste((10, 10, 200), (0, 0, 40, 40))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to be upright
    decoded = load_image(samples.encode(photo, "JPEG", exif=exif, quality=95))
    assert decoded.shape == (80, 40, 3)
    assert decoded[5, 20, 2] > 150 and decoded[75, 20, 0] > 150  # blue on top, red below


def test_sixteen_bit_grey_keeps_its_tones() -> None:
    """16-bit grey is scaled to 8 bits (Pillow's own conversion clipped it to white)."""
    data = np.full((40, 40), 0x8000, dtype=np.uint16)
    decoded = load_image(samples.encode(Image.fromarray(data), "PNG"))
    assert 120 <= int(decoded[0, 0, 0]) <= 136
