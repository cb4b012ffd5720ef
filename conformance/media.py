"""Video probing and judging (PyAV): strict base64 decoding, bounded full decode, saving for replay."""

from __future__ import annotations

import binascii
import hashlib
import io
import re
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import cv2
import numpy as np
from numpy.typing import NDArray

from conformance.exchange import Exchange

MAX_FRAMES = 1800  # decoded frames at most: 60 s at 30 fps, far beyond LP-VID-3's 15 s
MAX_PIXELS = 4096 * 4096  # per frame; LP-VID-5 allows ≤ 4096 px sides, larger is refused unread
MAX_VIDEO_BYTES = 64 * 1024 * 1024  # decoded bytes judged at most
MAX_DECODE_SECONDS = 20.0  # wall-clock cap on one decode, whatever the frame count
MOTION_SIDE = 96  # px: long side of the grey frames compared for motion (LP-VID-4)
MOTION_SAMPLES = 20  # LP-VID-4: frames compared with the first, spread evenly over the video
# px: long side of the kept first frame, where LP-VID-6 looks for a face. The detector finds faces of
# ≥ 30 px (faces.MIN_FACE), so ≥ 6 % of the long side here: an avatar's face is far larger, and
# detection costs a third of what it does at the detector's own 640 px.
FIRST_FRAME_SIDE = 480

# Every frame is still parsed and reconstructed (a corrupt stream still fails), but the in-loop
# deblocking filter is skipped: ~20 % faster, and a smoothing filter changes no verdict here.
# Frame threading is left off: on the shared 2-core machine it measured no faster.
DECODER_OPTIONS = {"skip_loop_filter": "all"}

_ALPHABET_ERROR = re.compile(r"[^A-Za-z0-9+/=]")  # RFC 4648 §4 alphabet and its pad character
_DATA_URI = re.compile(r"data:", re.IGNORECASE)
_WHITESPACE = {" ": "space", "\t": "tab", "\n": "line break", "\r": "line break"}
# Of the last data character before padding, the bits that RFC 4648 §3.5 wants zero.
_PAD_BITS = {1: 0b11, 2: 0b1111}
_B64_VALUES = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_DECODE_ERRORS = (av.error.FFmpegError, ValueError, OSError, EOFError, RuntimeError, IndexError)


class Base64Defect(ValueError):
    """``data.video`` is not strict RFC 4648 §4 base64; ``position`` is the offending character."""

    def __init__(self, position: int, reason: str) -> None:
        self.position = position
        self.reason = reason
        super().__init__(f"{reason} at character {position}")


def decode_base64_strict(text: str) -> bytes:
    """The bytes of standard base64 with padding, no whitespace and no ``data:`` prefix (LP-OK-2).

    Raises ``Base64Defect`` naming the first defect and its position.
    """
    if not text:
        raise Base64Defect(0, "empty")
    if _DATA_URI.match(text):
        raise Base64Defect(0, "data: URI prefix")
    bad = _ALPHABET_ERROR.search(text)
    if bad is not None:
        char = bad.group()
        if char in _WHITESPACE:
            reason = _WHITESPACE[char]
        elif char in "-_":
            reason = f"character {char!r} outside the RFC 4648 §4 alphabet (URL-safe base64?)"
        else:
            reason = f"character {char!r} outside the RFC 4648 §4 alphabet"
        raise Base64Defect(bad.start(), reason)
    pad = text.find("=")
    data_end = len(text) if pad < 0 else pad
    if pad >= 0 and text.count("=", pad) != len(text) - pad:
        raise Base64Defect(pad, "padding '=' before the end of the data")
    if len(text) - data_end > 2:
        raise Base64Defect(data_end, "more than two padding characters")
    if len(text) % 4:
        reason = "missing padding" if pad < 0 else "wrong length (not a multiple of 4 characters)"
        raise Base64Defect(len(text), reason)
    pads = len(text) - data_end
    if pads and _B64_VALUES[text[data_end - 1]] & _PAD_BITS[pads]:
        raise Base64Defect(data_end - 1, "non-zero pad bits (RFC 4648 §3.5)")
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error as error:  # pragma: no cover - the checks above catch every case we know
        raise Base64Defect(0, str(error)) from None


def decode_base64_lenient(text: str) -> bytes | None:
    """Best-effort bytes of a defective base64 string (prefix, whitespace, URL-safe, padding), to save."""
    text = text.strip()
    if _DATA_URI.match(text) and "," in text:
        text = text.split(",", 1)[1]
    text = re.sub(r"\s+", "", text).replace("-", "+").replace("_", "/").rstrip("=")
    text += "=" * (-len(text) % 4)
    try:
        return binascii.a2b_base64(text)
    except binascii.Error:
        return None


@dataclass(frozen=True)
class VideoProbe:
    """What a full, bounded decode found in a video file."""

    ok: bool
    error: str = ""
    container: str = ""
    is_mp4_ftyp: bool = False
    codec: str = ""
    pix_fmt: str = ""
    width: int = 0
    height: int = 0
    fps: float = 0.0
    duration: float = 0.0
    frames: int = 0
    audio: bool = False
    motion: float = 0.0
    first_frame: NDArray[np.uint8] | None = field(default=None, compare=False, repr=False)
    size: int = 0
    capped: bool = False

    def describe(self) -> str:
        """One line for reports."""
        if not self.ok and not self.container:
            return f"not a video ({self.error})"
        return (
            f"{self.container} {self.codec or '?'} {self.pix_fmt or '?'} {self.width}×{self.height}, "
            f"{self.frames}{'+' if self.capped else ''} frames, {self.duration:.2f} s at {self.fps:.2f} fps"
            + (", audio" if self.audio else "")
            + ("" if self.ok else f" — {self.error}")
        )


def _scaled(width: int, height: int, side: int) -> tuple[int, int]:
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _thumbnail(frame: Any) -> NDArray[np.uint8]:
    """The frame in grey, its long side shrunk to about MOTION_SIDE by an integer-factor area mean."""
    factor = max(1, -(-max(frame.width, frame.height) // MOTION_SIDE))
    width, height = frame.width // factor * factor, frame.height // factor * factor
    luma = frame.format.components[0]
    if frame.format.name.startswith(("yuv", "nv1", "gray")) and luma.is_luma and luma.bits == 8:
        # The luma plane already is the grey picture: no colour conversion, no copy.
        plane = frame.planes[0]
        pixels = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:height, :width]
    else:
        pixels = frame.reformat(format="gray").to_ndarray()[:height, :width]
    if factor == 1 or min(width, height) == 0:
        return np.ascontiguousarray(pixels)
    small = (width // factor, height // factor)
    return cv2.resize(pixels, small, interpolation=cv2.INTER_AREA)  # type: ignore[return-value]


def _rate(stream: Any) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    return 0.0


def _duration(container: Any, stream: Any, frames: int, fps: float, span: float | None) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(Fraction(container.duration, av.time_base))
    if span is not None and fps:
        return span + 1 / fps
    return frames / fps if fps else 0.0


def probe_video(data: bytes, *, max_frames: int = MAX_FRAMES, max_pixels: int = MAX_PIXELS) -> VideoProbe:
    """Open ``data`` from memory and decode every video frame up to the caps; never raises on bad input.

    A corrupt, truncated or hostile file gives ``ok=False`` with the reason in ``error``.
    """
    is_ftyp = data[4:8] == b"ftyp"
    if not data:
        return VideoProbe(ok=False, error="no bytes")
    if len(data) > MAX_VIDEO_BYTES:
        return VideoProbe(ok=False, error=f"{len(data)} bytes exceed the {MAX_VIDEO_BYTES}-byte cap")
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except _DECODE_ERRORS as error:
        return VideoProbe(ok=False, error=f"not a media file FFmpeg opens: {error}", is_mp4_ftyp=is_ftyp)
    with container:
        facts: dict[str, Any] = {
            "container": container.format.name,
            "is_mp4_ftyp": is_ftyp,
            "audio": bool(container.streams.audio),
            "size": len(data),
        }
        if not container.streams.video:
            return VideoProbe(ok=False, error="no video stream", **facts)
        return _decode(container, container.streams.video[0], facts, max_frames, max_pixels)


def _decode(
    container: Any, stream: Any, facts: dict[str, Any], max_frames: int, max_pixels: int
) -> VideoProbe:
    ctx = stream.codec_context
    facts.update(codec=ctx.name or "", pix_fmt=ctx.pix_fmt or "", width=ctx.width, height=ctx.height)
    facts["fps"] = _rate(stream)
    if ctx.width * ctx.height > max_pixels:
        return VideoProbe(
            ok=False, error=f"{ctx.width}×{ctx.height} frames exceed the {max_pixels}-pixel cap", **facts
        )
    ctx.options = DECODER_OPTIONS
    frames = 0
    first_gray: NDArray[np.int16] | None = None
    first_rgb: NDArray[np.uint8] | None = None
    motion = 0.0
    first_pts: float | None = None
    last_pts: float | None = None
    error = ""
    capped = False
    deadline = time.monotonic() + MAX_DECODE_SECONDS
    # Comparing every frame would double the cost of a full decode; an even spread sees any motion.
    step = max(1, min(stream.frames or 0, max_frames) // MOTION_SAMPLES)
    try:
        for frame in container.decode(stream):
            if frame.width * frame.height > max_pixels:
                error = f"a {frame.width}×{frame.height} frame exceeds the {max_pixels}-pixel cap"
                break
            if frames == 0:
                facts.update(width=frame.width, height=frame.height, pix_fmt=frame.format.name)
                size = _scaled(frame.width, frame.height, FIRST_FRAME_SIDE)
                first_rgb = frame.reformat(width=size[0], height=size[1], format="rgb24").to_ndarray()
            if first_gray is None:
                first_gray = _thumbnail(frame).astype(np.int16)
            elif frames % step == 0:
                gray = _thumbnail(frame).astype(np.int16)
                if gray.shape == first_gray.shape:
                    motion = max(motion, float(np.abs(gray - first_gray).mean()))
            if frame.time is not None:
                first_pts = frame.time if first_pts is None else min(first_pts, frame.time)
                last_pts = frame.time if last_pts is None else max(last_pts, frame.time)
            frames += 1
            if frames >= max_frames:
                capped = True
                break
            if time.monotonic() > deadline:
                error = f"decoding took longer than {MAX_DECODE_SECONDS:.0f} s"
                break
    except _DECODE_ERRORS as failure:
        error = f"decoding failed after {frames} frames: {failure}"
    span = None if first_pts is None or last_pts is None else last_pts - first_pts
    fps = facts["fps"]
    if not fps and span and frames > 1:
        facts["fps"] = fps = (frames - 1) / span
    duration = _duration(container, stream, frames, fps, span)
    return VideoProbe(
        ok=not error,
        error=error,
        duration=duration,
        frames=frames,
        motion=round(motion, 3),
        first_frame=first_rgb,
        capped=capped,
        **facts,
    )


def probe_exchange(exchange: Exchange) -> VideoProbe | None:
    """The probe of ``data.video`` (cached on the exchange); None when there is no video string."""
    if "probe" in exchange.cache:
        probe: VideoProbe | None = exchange.cache["probe"]
        return probe
    text = exchange.video_b64
    if text is None:
        probe = None
    else:
        try:
            data = decode_base64_strict(text)
        except Base64Defect as defect:
            exchange.cache["video_bytes"] = decode_base64_lenient(text)
            probe = VideoProbe(ok=False, error=f"data.video is not strict base64: {defect}")
        else:
            exchange.cache["video_bytes"] = data
            probe = probe_video(data)
    exchange.cache["probe"] = probe
    return probe


def video_bytes(exchange: Exchange) -> bytes | None:
    """The decoded ``data.video`` (leniently when it is not strict base64), for saving."""
    probe_exchange(exchange)
    data: bytes | None = exchange.cache.get("video_bytes")
    return data


def sniff_extension(data: bytes) -> str:
    """A file extension for the container the bytes start with."""
    if data[4:8] == b"ftyp":
        return ".mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return ".webm" if b"webm" in data[:64] else ".mkv"
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return ".avi"
    return ".bin"


def save_video(data: bytes, directory: Path, stem: str) -> Path:
    """Write the video under ``directory`` so a person can play it; the path written."""
    directory.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-") or "video"
    path = directory / f"{safe}-{hashlib.sha256(data).hexdigest()[:12]}{sniff_extension(data)}"
    if not path.exists():
        path.write_bytes(data)
    return path
