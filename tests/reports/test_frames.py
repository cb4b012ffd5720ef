"""Pictures for the HTML report: real frames decoded with PyAV, real thumbnails made with Pillow,
and a bad file costs a note, never an exception."""

from __future__ import annotations

import base64
import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from conformance.reports import frames
from conformance.reports.frames import THUMB_HEIGHT, Picture, frame_strip, image_thumbnail
from tests.reports.conftest import write_photo


def _decoded(picture: Picture) -> Image.Image:
    assert picture.src.startswith("data:image/jpeg;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(picture.src.split(",", 1)[1])))
    assert image.size == (picture.width, picture.height)
    return image.convert("RGB")


def _numbered_video(path: Path, count: int, *, size: tuple[int, int] = (160, 120)) -> Path:
    """A video whose frame i is a flat grey of level 10 + 20·i: a frame's level tells its index."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, 10)
        stream.options = {"crf": "1"}
        for index in range(count):
            pixels = np.full((size[1], size[0], 3), 10 + 20 * index, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _index(picture: Picture) -> int:
    level = float(np.asarray(_decoded(picture)).mean())
    return round((level - 10) / 20)


def test_strip_is_the_first_middle_and_last_frame(tmp_path: Path) -> None:
    strip = frame_strip(str(_numbered_video(tmp_path / "v.mp4", 11)))
    assert strip.note == ""
    assert [p.label for p in strip.frames] == ["first · 0.00 s", "middle · 0.50 s", "last · 1.00 s"]
    assert [_index(p) for p in strip.frames] == [0, 5, 10]
    assert all(p.height == THUMB_HEIGHT and p.width == 128 for p in strip.frames)  # 160×120, ratio kept


@pytest.mark.parametrize(("count", "shown"), [(1, [0]), (2, [0, 1]), (3, [0, 1, 2])])
def test_short_videos_show_each_frame_once(tmp_path: Path, count: int, shown: list[int]) -> None:
    strip = frame_strip(str(_numbered_video(tmp_path / "v.mp4", count)))
    assert [_index(p) for p in strip.frames] == shown


def test_small_frames_are_not_enlarged(tmp_path: Path) -> None:
    strip = frame_strip(str(_numbered_video(tmp_path / "v.mp4", 3, size=(48, 32))))
    assert {(p.width, p.height) for p in strip.frames} == {(48, 32)}


def test_bad_files_give_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    assert frame_strip(str(garbage)).frames == ()
    assert frame_strip(str(garbage)).note
    assert frame_strip(str(tmp_path / "gone.mp4")).note == "file not found when the report was written"
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(_numbered_video(tmp_path / "whole.mp4", 12).read_bytes()[:1500])
    assert frame_strip(str(truncated)).note  # no moov atom: FFmpeg refuses it, the page says so
    video = _numbered_video(tmp_path / "v.mp4", 3)
    monkeypatch.setattr(frames, "MAX_FILE_BYTES", video.stat().st_size - 1)
    assert "over the" in frame_strip(str(video)).note


def test_frame_and_time_caps_stop_the_decode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    video = _numbered_video(tmp_path / "v.mp4", 12)
    monkeypatch.setattr(frames, "MAX_FRAMES", 4)
    strip = frame_strip(str(video))
    assert [_index(p) for p in strip.frames][-1] == 3
    assert "stopped after 4 frames" in strip.note
    monkeypatch.setattr(frames, "MAX_PIXELS", 100)
    assert "pixel cap" in frame_strip(str(video)).note


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".bmp"])
def test_input_thumbnail_of_every_format(tmp_path: Path, suffix: str) -> None:
    picture = image_thumbnail(str(write_photo(tmp_path / f"in{suffix}", size=(400, 520))))
    assert isinstance(picture, Picture)
    image = _decoded(picture)
    assert image.height == THUMB_HEIGHT and abs(image.width - 400 * THUMB_HEIGHT / 520) <= 1
    assert image.getpixel((1, 1))[0] > 150  # the photo's orange background


def test_bad_input_images_give_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = tmp_path / "note.jpg"
    text.write_text("not an image")
    assert isinstance(image_thumbnail(str(text)), str)
    assert image_thumbnail(str(tmp_path / "gone.png")) == "file not found when the report was written"
    big = write_photo(tmp_path / "big.png", size=(64, 64))
    monkeypatch.setattr(frames, "MAX_PIXELS", 64 * 63)
    assert "pixel cap" in str(image_thumbnail(str(big)))
