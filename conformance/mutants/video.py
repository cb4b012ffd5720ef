"""The video faults of the mutant catalogue (issue 8): hooks that make ``data.video`` differently
(LP-VID-*, LP-OPS-3) and the benign variants (another length and rate, an audio track)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import av
import cv2
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream
from PIL import Image

from conformance.faces import Face
from conformance.mock import animate as anim
from conformance.mock.hooks import Animator, Pixels
from conformance.mutants.model import VideoHook

Frames = list[Pixels]
Transform = Callable[[Frames, int], Frames]  # the reference frames and the video type → new frames


def encode(
    frames: Frames,
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
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, VideoStream), f"{codec} is not a video codec"
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.codec_context.options = {"threads": "1"}
        sound = container.add_stream("aac", rate=44100) if audio else None
        for pixels in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if sound is not None:
            _mux_tone(container, sound, len(frames) / fps)
    return buffer.getvalue()


def _mux_tone(container: OutputContainer, stream: AudioStream, seconds: float) -> None:
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


def frames_hook(
    transform: Transform,
    *,
    fps: int = anim.FPS,
    codec: str = "libx264",
    fmt: str = "mp4",
    pix_fmt: str = "yuv420p",
    audio: bool = False,
) -> VideoHook:
    """A video hook: the reference frames, transformed, then encoded with these options."""

    def video(pixels: Pixels, face: Face, video_type: int, seed: int, default: Animator) -> bytes:
        frames = transform(anim.render_frames(pixels, face, video_type, seed), video_type)
        return encode(frames, fps=fps, codec=codec, fmt=fmt, pix_fmt=pix_fmt, audio=audio)

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


def squashed(frames: Frames, video_type: int) -> Frames:
    """Every frame resized to a square (LP-VID-6 asks type 1 to keep the input's ratio)."""
    side = max(2, (min(frames[0].shape[:2]) // 2) * 2)
    return [np.asarray(cv2.resize(f, (side, side), interpolation=cv2.INTER_AREA), np.uint8) for f in frames]


def odd_sized(frames: Frames, video_type: int) -> Frames:
    """Frames one pixel narrower and shorter: odd sides (LP-VID-5)."""
    height, width = frames[0].shape[:2]
    return [np.ascontiguousarray(f[: height - 1, : width - 1]) for f in frames]


def looped(times: float) -> Transform:
    """Frames repeated (or cut) to ``times`` the reference length."""

    def transform(frames: Frames, video_type: int) -> Frames:
        count = max(1, round(len(frames) * times))
        return [frames[i % len(frames)] for i in range(count)]

    return transform


def still(frames: Frames, video_type: int) -> Frames:
    """The first frame repeated: a still video (LP-VID-4)."""
    return [frames[0]] * len(frames)


def first_only(frames: Frames, video_type: int) -> Frames:
    """One frame (LP-VID-1 asks for at least 2)."""
    return frames[:1]


def unchanged(frames: Frames, video_type: int) -> Frames:
    """The reference frames (for a hook that changes only the encoding)."""
    return frames


@dataclass
class Calls:
    """Calls per input (one counter per mutant: the catalogue's ``ops-shape-varies``)."""

    count: dict[bytes, int] = field(default_factory=dict)


def varying_length(calls: Calls) -> Transform:
    """A request gets another length than the last request with the same input (LP-OPS-3 asks for
    the same shape). Counted per input, so other requests in between (a whole run, concurrent
    ones) cannot make two identical requests land on the same length."""

    def transform(frames: Frames, video_type: int) -> Frames:
        key = hashlib.sha256(frames[0].tobytes()).digest() + bytes([video_type])
        calls.count[key] = calls.count.get(key, 0) + 1
        return looped(1.0 + 0.5 * (calls.count[key] % 2))(frames, video_type)

    return transform
