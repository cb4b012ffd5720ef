"""Small pictures for the HTML report: the input photo's thumbnail and a strip of the output
video's frames (first, middle, last), as ``data:`` URIs so the page stays one self-contained file.

A reader sees at a glance what went in and what came out, without playing anything. Everything
here is bounded (file size, pixels, frames, wall clock): the videos come from the target under
test, and a hostile one must cost the report a note, never a hang or a crash.
"""

from __future__ import annotations

import base64
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

THUMB_HEIGHT = 96  # px: the height of every picture of a strip (a sample fits half the page)
MAX_FILE_BYTES = 64 * 1024 * 1024  # a larger video or image is named, not opened
MAX_PIXELS = 4096 * 4096  # per frame or image; LP-VID-5 and LP-REQ-6 stay far below
MAX_FRAMES = 1800  # decoded frames at most (60 s at 30 fps)
MAX_DECODE_SECONDS = 10.0  # wall clock for one strip
JPEG_QUALITY = 80


def _errors() -> tuple[type[BaseException], ...]:
    """What a bad file may raise. PyAV loads here, not at import: ``livephoto-conformance --help``
    imports the reports package and must stay fast."""
    import av.error

    return (av.error.FFmpegError, OSError, ValueError, EOFError, RuntimeError, IndexError, MemoryError)


@dataclass(frozen=True)
class Picture:
    """One small image for the page: a data URI and a label (e.g. "middle · 1.00 s")."""

    src: str
    label: str
    width: int
    height: int


@dataclass(frozen=True)
class Strip:
    """The frames shown for one video, or why there are none (``note``)."""

    frames: tuple[Picture, ...] = ()
    note: str = ""


def _data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _fit(width: int, height: int, target: int) -> tuple[int, int]:
    """The size of a picture ``target`` px high and at most twice as wide (a panorama is shrunk
    further), never enlarged, aspect ratio kept: every strip fits one row of the page."""
    scale = min(1.0, target / max(1, height), 2 * target / max(1, width))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _size_note(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        return "file not found when the report was written"
    if size > MAX_FILE_BYTES:
        return f"{size / 2**20:.1f} MiB, over the {MAX_FILE_BYTES / 2**20:g} MiB cap for pictures"
    return ""


def image_thumbnail(path: str, *, height: int = THUMB_HEIGHT) -> Picture | str:
    """The image at ``path`` as a small JPEG data URI, or a sentence saying why not."""
    file = Path(path)
    note = _size_note(file)
    if note:
        return note
    try:
        with Image.open(file) as image:
            if image.width * image.height > MAX_PIXELS:
                return f"{image.width}×{image.height} is over the {MAX_PIXELS}-pixel cap for pictures"
            size = _fit(image.width, image.height, height)
            image.draft("RGB", size)  # JPEG: decode at a reduced scale, far cheaper
            small = image.convert("RGB")
            small.thumbnail(size)
            return Picture(_data_uri(small), "input", small.width, small.height)
    except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError) as error:
        return f"not an image Pillow opens: {error}"
    except _errors() as error:
        return f"not an image Pillow opens: {error}"


def _frame_picture(frame: Any, label: str, height: int) -> Picture:
    width, tall = _fit(frame.width, frame.height, height)
    image = frame.reformat(width=width, height=tall, format="rgb24").to_image()
    return Picture(_data_uri(image), label, width, tall)


def _label(name: str, frame: Any) -> str:
    return f"{name} · {frame.time:.2f} s" if frame.time is not None else name


def frame_strip(path: str, *, height: int = THUMB_HEIGHT) -> Strip:
    """The first, middle and last frames of the video at ``path`` (fewer for a shorter video).

    The middle is found from the stream's frame count, else from its duration; a video that
    states neither shows its first and last frames. Never raises on a bad file.
    """
    file = Path(path)
    note = _size_note(file)
    if note:
        return Strip(note=note)
    import av

    try:
        container = av.open(str(file), mode="r")
    except _errors() as error:
        return Strip(note=f"not a video FFmpeg opens: {error}")
    with container:
        if not container.streams.video:
            return Strip(note="no video stream")
        stream = container.streams.video[0]
        return _pick(container, stream, height)


def _middle_target(container: Any, stream: Any) -> tuple[int | None, float | None]:
    """Where the middle frame is: an index when the count is known, else a time, else neither."""
    if stream.frames and stream.frames > 2:
        return stream.frames // 2, None
    if stream.duration is not None and stream.time_base is not None:
        return None, float(stream.duration * stream.time_base) / 2
    if container.duration is not None:
        import av

        return None, container.duration / av.time_base / 2
    return None, None


def _pick(container: Any, stream: Any, height: int) -> Strip:
    middle_index, middle_time = _middle_target(container, stream)
    pictures: list[Picture] = []
    last: Any = None
    index = 0
    middle_at = -1  # the index of the frame shown as the middle one
    note = ""
    deadline = time.monotonic() + MAX_DECODE_SECONDS
    try:
        for frame in container.decode(stream):
            if frame.width * frame.height > MAX_PIXELS:
                note = f"{frame.width}×{frame.height} frames are over the {MAX_PIXELS}-pixel cap"
                break
            if index == 0:
                pictures.append(_frame_picture(frame, _label("first", frame), height))
            elif len(pictures) == 1 and (
                index == middle_index
                or (middle_time is not None and frame.time is not None and frame.time >= middle_time)
            ):
                pictures.append(_frame_picture(frame, _label("middle", frame), height))
                middle_at = index
            last = frame
            index += 1
            if index >= MAX_FRAMES or time.monotonic() > deadline:
                note = f"stopped after {index} frames: the last one shown is not the video's last"
                break
    except _errors() as error:
        note = f"decoding failed after {index} frames: {error}"
    if last is not None and index > 1 and middle_at != index - 1:
        pictures.append(_frame_picture(last, _label("last", last), height))
    if not pictures:
        return Strip(note=note or "no frame could be decoded")
    return Strip(tuple(pictures), note)
