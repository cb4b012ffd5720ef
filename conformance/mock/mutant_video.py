"""The video faults of the mutant catalogue (issue 8): hooks that make ``data.video`` differently
(LP-VID-*, LP-OPS-3) and the benign variants (another length and rate, an audio track)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import av
import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from conformance.faces import Face
from conformance.mock import animate as anim

Pixels = NDArray[np.uint8]
Animator = Callable[[Pixels, Face, int, int], bytes]


def encode(
    frames: list[Pixels],
    *,
    fps: int = anim.FPS,
    codec: str = "libx264",
    fmt: str = "mp4",
    pix_fmt: str = "yuv420p",
    audio: bool = False,
) -> bytes:
    """Encode frames with a chosen container, codec, rate and pixel format (and a tone track)."""
    height, width = frames[0].shape[:2]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=fmt) as container:
        stream: Any = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.codec_context.options = {"threads": "1"}
        sound: Any = container.add_stream("aac", rate=44100) if audio else None
        for pixels in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if sound is not None:
            _mux_tone(container, sound, len(frames) / fps)
    return buffer.getvalue()


def _mux_tone(container: Any, stream: Any, seconds: float) -> None:
    rate, size = 44100, 1024
    samples = np.sin(2 * np.pi * 440 * np.arange(int(rate * seconds)) / rate).astype(np.float32) * 0.2
    for start in range(0, len(samples) - size, size):
        frame = av.AudioFrame.from_ndarray(samples[None, start : start + size], format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def frames_hook(transform: Callable[[list[Pixels], int], list[Pixels]], **encoding: Any) -> Any:
    """A video hook: the reference frames, transformed, then encoded with ``encoding`` options."""

    def video(pixels: Pixels, face: Face, video_type: int, seed: int, default: Animator) -> bytes:
        frames = transform(anim.render_frames(pixels, face, video_type, seed), video_type)
        return encode(frames, **encoding)

    return video


def first_frame_as_png(pixels: Pixels, face: Face, video_type: int, seed: int, default: Animator) -> bytes:
    """Not a video: the first frame as a PNG (LP-VID-1)."""
    frame = anim.render_frames(pixels, face, video_type, seed)[0]
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    return buffer.getvalue()


def face_hidden(pixels: Pixels, face: Face, video_type: int, seed: int, default: Animator) -> bytes:
    """Avatar whose face is painted over before animating: it moves, but shows no face (LP-VID-6)."""
    if video_type != 0:
        return default(pixels, face, video_type, seed)
    covered = pixels.copy()
    pad_w, pad_h = face.w // 3, face.h // 3
    top, left = max(face.y - pad_h, 0), max(face.x - pad_w, 0)
    region = covered[top : face.y + face.h + pad_h, left : face.x + face.w + pad_w]
    region[:] = cv2.GaussianBlur(region, (0, 0), sigmaX=max(face.w, 8) / 2.0)
    region[::6, :] = 40  # stripes keep the blob moving visibly
    return encode(anim.render_frames(covered, face, video_type, seed))


def squashed(frames: list[Pixels], video_type: int) -> list[Pixels]:
    """Every frame resized to a square (LP-VID-6 asks type 1 to keep the input's ratio)."""
    side = max(2, (min(frames[0].shape[:2]) // 2) * 2)
    return [np.asarray(cv2.resize(f, (side, side), interpolation=cv2.INTER_AREA), np.uint8) for f in frames]


def odd_sized(frames: list[Pixels], video_type: int) -> list[Pixels]:
    """Frames one pixel narrower and shorter: odd sides (LP-VID-5)."""
    height, width = frames[0].shape[:2]
    return [np.ascontiguousarray(f[: height - 1, : width - 1]) for f in frames]


def looped(times: float) -> Callable[[list[Pixels], int], list[Pixels]]:
    """Frames repeated (or cut) to ``times`` the reference length."""

    def transform(frames: list[Pixels], video_type: int) -> list[Pixels]:
        count = max(1, round(len(frames) * times))
        return [frames[i % len(frames)] for i in range(count)]

    return transform


def still(frames: list[Pixels], video_type: int) -> list[Pixels]:
    """The first frame repeated: a still video (LP-VID-4)."""
    return [frames[0]] * len(frames)


def first_only(frames: list[Pixels], video_type: int) -> list[Pixels]:
    """One frame (LP-VID-1 asks for at least 2)."""
    return frames[:1]


def varying_length(shared: dict[str, Any]) -> Callable[[list[Pixels], int], list[Pixels]]:
    """Each request gets a different length (LP-OPS-3 asks for the same shape)."""

    def transform(frames: list[Pixels], video_type: int) -> list[Pixels]:
        shared["calls"] = shared.get("calls", 0) + 1
        return looped(1.0 + 0.5 * (shared["calls"] % 2))(frames, video_type)

    return transform
