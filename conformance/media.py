"""Video probing and judging (PyAV): strict base64 decoding, a bounded decode of the frames the checks
need (every packet still parsed), saving for replay."""

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

from conformance.exchange import Exchange, MemoKey

# Strict base64 lives in the contract layer (the success schema asserts it too); re-exported here.
from conformance.protocol.strict_base64 import Base64Defect as Base64Defect
from conformance.protocol.strict_base64 import decode_base64_strict as decode_base64_strict

MAX_FRAMES = 1800  # frames read at most: 60 s at 30 fps, far beyond LP-VID-3's 15 s
MAX_PIXELS = 4096 * 4096  # per frame; LP-VID-5 allows ≤ 4096 px sides, larger is refused unread
MAX_VIDEO_BYTES = 64 * 1024 * 1024  # decoded bytes judged at most
MAX_DECODE_SECONDS = 20.0  # wall-clock cap on one decode, whatever the frame count
MOTION_SIDE = 96  # px: long side of the grey frames compared for motion (LP-VID-4)
MOTION_SAMPLES = 20  # LP-VID-4: frames compared with the first, spread evenly over the video
# LP-VID-4: mean absolute difference (0–255 grey levels, 96-px frames) between the first frame and the
# most different later one. Coding noise of a still image re-encoded by x264 measured 0.25 (720p,
# CRF 23) to 2.0 (128 px, CRF 30); a 3-px pan of a portrait measured 18. 2.5 sits above the noise
# and far below any motion a person can see. The probe stops decoding frames once it is exceeded.
MOTION_THRESHOLD = 2.5
# px: long side of the kept first frame, where LP-VID-6 looks for a face. The detector finds faces of
# ≥ 30 px (faces.MIN_FACE), so ≥ 6 % of the long side here: an avatar's face is far larger, and
# detection costs a third of what it does at the detector's own 640 px.
FIRST_FRAME_SIDE = 480

# The frames decoded are reconstructed without the in-loop deblocking filter: ~20 % faster, and a
# smoothing filter changes no verdict here. Frame threading is left off: it decodes frames ahead of
# the one returned, work wasted once the probe stops decoding (a moving video needs a handful of
# frames), and on the shared 2-core machine it measured no faster.
DECODER_OPTIONS = {"skip_loop_filter": "all"}

_DATA_URI = re.compile(r"data:", re.IGNORECASE)
_DECODE_ERRORS = (av.error.FFmpegError, ValueError, OSError, EOFError, RuntimeError, IndexError)


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
    """What a bounded pass over a video file found: every packet parsed, frames decoded until judged."""

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
    decoded: int = 0  # of the frames, those decoded to pixels; the rest were parsed and counted only
    audio: bool = False
    # The largest difference from the first frame among the frames compared. Comparing stops once it
    # exceeds MOTION_THRESHOLD, so for a moving video it is a lower bound, for a still the maximum.
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
    """Open ``data`` from memory and read every video packet up to the caps, decoding frames until the
    video checks' facts are known (see ``_Walk``); never raises on bad input.

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
    # Comparing every frame would double the cost of a full decode; an even spread sees any motion.
    walk = _Walk(step=max(1, min(stream.frames or 0, max_frames) // MOTION_SAMPLES), max_pixels=max_pixels)
    deadline = time.monotonic() + MAX_DECODE_SECONDS
    error = ""
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():  # raises on a packet the decoder cannot parse
                error = walk.frame(frame, facts)
                if error:
                    break
                if not walk.skipping and walk.judged():
                    # Skipped frames are still parsed (a cut or garbled stream still fails) and
                    # counted, but not reconstructed: what LP-VID-1, -4 and -6 need is known.
                    walk.skipping = True
                    ctx.skip_frame = "NONKEY"
            if error:
                break
            walk.packet(packet)
            if walk.count() >= max_frames:
                walk.capped = True
                break
            if time.monotonic() > deadline:
                error = f"decoding took longer than {MAX_DECODE_SECONDS:.0f} s"
                break
    except _DECODE_ERRORS as failure:
        error = f"decoding failed after {walk.count()} frames: {failure}"
    frames = min(walk.count(), max_frames)
    span = None if walk.first_pts is None or walk.last_pts is None else walk.last_pts - walk.first_pts
    fps = facts["fps"]
    if not fps and span and frames > 1:
        facts["fps"] = fps = (frames - 1) / span
    duration = _duration(container, stream, frames, fps, span)
    return VideoProbe(
        ok=not error,
        error=error,
        duration=duration,
        frames=frames,
        decoded=walk.decoded,
        motion=round(walk.motion, 3),
        first_frame=walk.first_rgb,
        capped=walk.capped,
        **facts,
    )


@dataclass
class _Walk:
    """One pass over a video's packets: every frame is decoded until the facts the checks need are
    known — the first frame, two decoded frames (LP-VID-1) and motion above ``MOTION_THRESHOLD``
    (LP-VID-4) — then the rest is parsed and counted only. A still is decoded to its end, like a
    video whose later frames must be compared to find its motion."""

    step: int  # every step-th frame is compared with the first
    max_pixels: int
    decoded: int = 0  # frames decoded to pixels before skipping began
    parsed: int = 0  # packets the decoder accepted: one coded frame each
    skipping: bool = False
    capped: bool = False
    motion: float = 0.0
    first_gray: NDArray[np.int16] | None = None
    first_rgb: NDArray[np.uint8] | None = None
    first_pts: float | None = None
    last_pts: float | None = None

    def count(self) -> int:
        """Frames so far: decoded ones, or once skipping, every coded frame the decoder parsed."""
        return max(self.parsed, self.decoded) if self.skipping else self.decoded

    def judged(self) -> bool:
        """Whether the facts the video checks read are known and later frames cannot change them."""
        return self.decoded >= 2 and self.motion > MOTION_THRESHOLD

    def frame(self, frame: Any, facts: dict[str, Any]) -> str:
        """Take one decoded frame; an error when it breaks the pixel cap."""
        if frame.width * frame.height > self.max_pixels:
            return f"a {frame.width}×{frame.height} frame exceeds the {self.max_pixels}-pixel cap"
        self._time(frame.time)
        if self.skipping:  # a keyframe decoded after the facts were known: checked, not compared
            return ""
        if self.decoded == 0:
            facts.update(width=frame.width, height=frame.height, pix_fmt=frame.format.name)
            size = _scaled(frame.width, frame.height, FIRST_FRAME_SIDE)
            self.first_rgb = frame.reformat(width=size[0], height=size[1], format="rgb24").to_ndarray()
        if self.first_gray is None:
            self.first_gray = _thumbnail(frame).astype(np.int16)
        elif self.decoded % self.step == 0:
            gray = _thumbnail(frame).astype(np.int16)
            if gray.shape == self.first_gray.shape:
                self.motion = max(self.motion, float(np.abs(gray - self.first_gray).mean()))
        self.decoded += 1
        return ""

    def packet(self, packet: Any) -> None:
        """Take one packet the decoder accepted (the flush packet and discarded ones count for nothing)."""
        if packet.size and not packet.is_discard:
            self.parsed += 1
            if packet.pts is not None and packet.time_base is not None:
                self._time(float(packet.pts * packet.time_base))

    def _time(self, when: float | None) -> None:
        if when is not None:
            self.first_pts = when if self.first_pts is None else min(self.first_pts, when)
            self.last_pts = when if self.last_pts is None else max(self.last_pts, when)


@dataclass(frozen=True)
class DecodedVideo:
    """``data.video`` of one exchange, decoded and probed once (several checks read it)."""

    probe: VideoProbe | None  # None: no video string
    data: bytes | None = None  # leniently decoded when not strict base64; None: dropped or absent


@dataclass(frozen=True)
class _Strict:
    """``data.video`` strictly decoded: the bytes or the defect (both None: no video string)."""

    data: bytes | None
    defect: Base64Defect | None


_STRICT: MemoKey[_Strict] = MemoKey("strictly decoded data.video")
_DECODED: MemoKey[DecodedVideo] = MemoKey("decoded data.video")


def _strict(exchange: Exchange) -> _Strict:
    text = exchange.video_b64
    if text is None:
        return _Strict(None, None)
    try:
        return _Strict(decode_base64_strict(text), None)
    except Base64Defect as defect:
        return _Strict(None, defect)


def strict_video(exchange: Exchange) -> bytes | None:
    """``data.video`` strictly decoded, once per exchange (LP-OK-2 and the probe share it); None when
    there is no video string. Raises ``Base64Defect`` when it is not strict base64."""
    found = exchange.memo.get(_STRICT, lambda: _strict(exchange))
    if found.defect is not None:
        raise Base64Defect(found.defect.position, found.defect.reason)  # a fresh one: no stale traceback
    return found.data


def _decode_video(exchange: Exchange) -> DecodedVideo:
    found = exchange.memo.get(_STRICT, lambda: _strict(exchange))
    if found.defect is not None:
        probe = VideoProbe(ok=False, error=f"data.video is not strict base64: {found.defect}")
        return DecodedVideo(probe, decode_base64_lenient(exchange.video_b64 or ""))
    if found.data is None:
        return DecodedVideo(None)
    return DecodedVideo(probe_video(found.data), found.data)


def probe_exchange(exchange: Exchange) -> VideoProbe | None:
    """The probe of ``data.video`` (kept on the exchange); None when there is no video string."""
    return exchange.memo.get(_DECODED, lambda: _decode_video(exchange)).probe


def keep_probe(exchange: Exchange, probe: VideoProbe) -> None:
    """Give an exchange a probe without its video (the load profile keeps shapes, not bytes)."""
    exchange.memo.put(_DECODED, DecodedVideo(probe))


def video_bytes(exchange: Exchange) -> bytes | None:
    """The decoded ``data.video`` (leniently when it is not strict base64), for saving."""
    return exchange.memo.get(_DECODED, lambda: _decode_video(exchange)).data


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
