"""Strict base64, bounded video probing from memory and saving videos for replay."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest

from conformance.media import (
    MOTION_THRESHOLD,
    Base64Defect,
    decode_base64_lenient,
    decode_base64_strict,
    probe_exchange,
    probe_video,
    save_video,
    sniff_extension,
)
from tests.video_factory import exchange_for, videos


@pytest.mark.parametrize(
    "text",
    ["QQ==", "QUI=", "QUJD", base64.b64encode(bytes(range(256))).decode(), "++//"],
)
def test_strict_base64_accepts_standard_base64(text: str) -> None:
    assert decode_base64_strict(text) == base64.b64decode(text)


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("", 0, "empty"),
        ("data:video/mp4;base64,QUJD", 0, "data: URI prefix"),
        ("DATA:video/mp4;base64,QUJD", 0, "data: URI prefix"),
        ("QUJD\nQUJD", 4, "line break"),
        ("QUJDQUJD\r\n", 8, "line break"),
        ("QUJD QUJD", 4, "space"),
        ("QU-D", 2, "character '-' outside the RFC 4648 §4 alphabet (URL-safe base64?)"),
        ("QUJ_", 3, "character '_' outside the RFC 4648 §4 alphabet (URL-safe base64?)"),
        ("QUJ*", 3, "character '*' outside the RFC 4648 §4 alphabet"),
        ("QUI", 3, "missing padding"),
        ("QQ", 2, "missing padding"),
        ("QQ=", 3, "wrong length (not a multiple of 4 characters)"),
        ("QQ=AQUJD", 2, "padding '=' before the end of the data"),
        ("Q===", 1, "more than two padding characters"),
        ("QR==", 1, "non-zero pad bits (RFC 4648 §3.5)"),
        ("QUJ=", 2, "non-zero pad bits (RFC 4648 §3.5)"),
        ("QUJDé===", 4, "character 'é' outside the RFC 4648 §4 alphabet"),
    ],
)
def test_strict_base64_names_each_defect_and_its_position(text: str, position: int, reason: str) -> None:
    with pytest.raises(Base64Defect) as caught:
        decode_base64_strict(text)
    assert (caught.value.position, caught.value.reason) == (position, reason)
    assert isinstance(caught.value, ValueError)


def test_strict_base64_is_fast_on_megabytes() -> None:
    text = base64.b64encode(os.urandom(6 * 1024 * 1024)).decode()
    started = time.perf_counter()
    assert len(decode_base64_strict(text)) == 6 * 1024 * 1024
    broken = text[:-100] + "\n" + text[-99:]
    with pytest.raises(Base64Defect) as caught:
        decode_base64_strict(broken)
    assert caught.value.position == len(text) - 100
    assert time.perf_counter() - started < 2.0


def test_lenient_decoding_recovers_defective_base64_for_saving() -> None:
    data = bytes(range(200))
    url_safe = base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert decode_base64_lenient("data:video/mp4;base64," + url_safe[:50] + "\n" + url_safe[50:]) == data


@pytest.mark.parametrize(
    ("name", "container", "codec", "size"),
    [
        ("mp4_h264", "mov,mp4,m4a,3gp,3g2,mj2", "h264", (192, 192)),
        ("mp4_hevc", "mov,mp4,m4a,3gp,3g2,mj2", "hevc", (192, 192)),
        ("webm_vp9", "matroska,webm", "vp9", (192, 192)),
        ("avi_mjpeg", "avi", "mjpeg", (192, 192)),
        ("mp4_odd", "mov,mp4,m4a,3gp,3g2,mj2", "h264", (193, 191)),
        ("mp4_h264_portrait_1x2", "mov,mp4,m4a,3gp,3g2,mj2", "h264", (96, 192)),
    ],
)
def test_probe_reads_every_fact_of_a_good_video(
    name: str, container: str, codec: str, size: tuple[int, int]
) -> None:
    probe = probe_video(videos()[name])
    assert probe.ok, probe.error
    assert (probe.container, probe.codec, (probe.width, probe.height)) == (container, codec, size)
    assert probe.is_mp4_ftyp is container.startswith("mov,mp4")
    assert probe.frames == 24
    assert probe.fps == pytest.approx(12.0)
    assert probe.duration == pytest.approx(2.0, abs=0.1)
    assert probe.motion > MOTION_THRESHOLD
    assert not probe.audio
    assert probe.first_frame is not None
    assert probe.first_frame.shape == (size[1], size[0], 3)


@pytest.mark.parametrize(
    "name", ["mp4_h264", "mp4_hevc", "webm_vp9", "avi_mjpeg", "mp4_h264_audio", "mp4_odd", "bitflipped"]
)
def test_probe_stops_decoding_once_judged_and_its_facts_stay_those_of_a_full_decode(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: a moving video is decoded until its first frame, two frames and motion above the
    threshold are known; the rest is parsed and counted. Frames, duration and fps do not change."""
    probe = probe_video(videos()[name])
    assert probe.motion > MOTION_THRESHOLD
    assert probe.decoded < probe.frames
    monkeypatch.setattr("conformance.media.MOTION_THRESHOLD", float("inf"))  # never judged: all decoded
    full = probe_video(videos()[name])
    assert full.decoded == full.frames
    assert full.motion >= probe.motion
    for fact in (
        "ok",
        "error",
        "container",
        "codec",
        "pix_fmt",
        "width",
        "height",
        "fps",
        "duration",
        "frames",
    ):
        assert getattr(probe, fact) == getattr(full, fact), fact
    assert probe.first_frame is not None
    assert full.first_frame is not None
    assert (probe.first_frame == full.first_frame).all()


def test_a_still_is_decoded_to_its_last_frame() -> None:
    static = probe_video(videos()["mp4_static"])
    assert (static.frames, static.decoded) == (24, 24)


def test_a_stream_cut_after_the_judged_frames_still_fails() -> None:
    """The frames after the motion was judged are parsed, not skipped unread: a cut one fails."""
    probe = probe_video(videos()["fragmented_truncated"])
    assert probe.decoded < probe.frames
    assert not probe.ok
    assert "decoding failed after" in probe.error


def test_probe_reports_audio_and_stills() -> None:
    assert probe_video(videos()["mp4_h264_audio"]).audio
    static = probe_video(videos()["mp4_static"])
    assert static.ok
    assert static.motion < 2.5
    assert probe_video(videos()["mp4_one_frame"]).frames == 1


def test_a_stream_cut_in_the_middle_keeps_the_frames_decoded_before_the_cut() -> None:
    probe = probe_video(videos()["fragmented_truncated"])
    assert not probe.ok
    assert 0 < probe.frames < 24
    assert "decoding failed after" in probe.error


def test_probe_stops_at_the_frame_cap() -> None:
    probe = probe_video(videos()["mp4_h264"], max_frames=5)
    assert (probe.ok, probe.frames, probe.capped) == (True, 5, True)


def test_probe_refuses_frames_above_the_pixel_cap_unread() -> None:
    probe = probe_video(videos()["mp4_h264"], max_pixels=100 * 100)
    assert not probe.ok
    assert "pixel cap" in probe.error
    assert probe.frames == 0


@pytest.mark.parametrize(
    "name",
    [
        "truncated",
        "fragmented_truncated",
        "bitflipped",
        "png",
        "random",
        "huge_png",
        "huge_y4m",
        "empty",
        "zeros",
        "urandom_mp4_head",
    ],
)
def test_hostile_input_is_a_verdict_not_an_exception(name: str) -> None:
    started = time.perf_counter()
    probe = probe_video(videos()[name])
    assert time.perf_counter() - started < 2.0
    # A PNG is a one-frame image FFmpeg opens: LP-VID-1 fails it on the frame count. Inverted bytes
    # cost frames, which FFmpeg conceals: what remains is judged like any video.
    assert not probe.ok or probe.frames < 2 or name == "bitflipped"
    assert probe.frames <= 24
    assert probe.describe()


def test_probe_of_an_oversized_file_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("conformance.media.MAX_VIDEO_BYTES", 1000)
    probe = probe_video(videos()["mp4_h264"])
    assert not probe.ok
    assert "cap" in probe.error


def test_probe_exchange_caches_and_reports_base64_defects() -> None:
    good = exchange_for(videos()["mp4_h264"])
    first = probe_exchange(good)
    assert first is not None
    assert first.ok
    assert probe_exchange(good) is first
    assert probe_exchange(exchange_for(None)) is None
    text = base64.b64encode(videos()["mp4_h264"]).decode()
    broken = probe_exchange(exchange_for(text[:100] + "\n" + text[100:]))
    assert broken is not None
    assert not broken.ok
    assert "line break at character 100" in broken.error


@pytest.mark.parametrize(
    ("name", "extension"),
    [("mp4_h264", ".mp4"), ("webm_vp9", ".webm"), ("avi_mjpeg", ".avi"), ("png", ".bin"), ("random", ".bin")],
)
def test_save_video_uses_the_sniffed_container(name: str, extension: str, tmp_path: Path) -> None:
    data = videos()[name]
    assert sniff_extension(data) == extension
    path = save_video(data, tmp_path / "videos", "a check/name")
    assert path.suffix == extension
    assert path.parent == tmp_path / "videos"
    assert path.read_bytes() == data
    assert "/" not in path.name.removesuffix(extension)


def test_probe_stops_at_the_time_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("conformance.media.MAX_DECODE_SECONDS", 0.0)
    probe = probe_video(videos()["mp4_h264"])
    assert not probe.ok
    assert "decoding took longer than" in probe.error
    assert probe.frames < 24
