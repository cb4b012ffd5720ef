"""Good and bad videos encoded with PyAV for the media and video-check tests (small, built once)."""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import zlib
from collections.abc import Callable
from fractions import Fraction
from functools import cache

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from conformance.exchange import ApiRequest, Exchange, ImageInfo, Part
from conformance.resources import data_dir

Frame = Callable[[int], NDArray[np.uint8]]


@cache
def portrait(width: int, height: int) -> NDArray[np.uint8]:
    """The astronaut sample (a clear face), cropped to the aspect ratio and resized."""
    image = Image.open(data_dir() / "astronaut.png").convert("RGB")
    side_w, side_h = image.size
    target = width / height
    if side_w / side_h > target:
        crop_w = round(side_h * target)
        image = image.crop(((side_w - crop_w) // 2, 0, (side_w + crop_w) // 2, side_h))
    else:
        crop_h = round(side_w / target)
        image = image.crop((0, 0, side_w, crop_h))
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), dtype=np.uint8)


def zooming(width: int, height: int) -> Frame:
    """Frames of the portrait slowly zooming in: a live photo's kind of motion."""
    base = portrait(width * 2, height * 2)

    def frame(index: int) -> NDArray[np.uint8]:
        margin = min(index * 2, width // 3)
        crop = base[margin : base.shape[0] - margin, margin : base.shape[1] - margin]
        image = Image.fromarray(crop).resize((width, height), Image.Resampling.BILINEAR)
        return np.asarray(image, dtype=np.uint8)

    return frame


def still(width: int, height: int) -> Frame:
    """The same portrait in every frame."""
    pixels = portrait(width, height)
    return lambda index: pixels


def faceless(width: int, height: int) -> Frame:
    """A moving colour gradient with no face."""
    ys, xs = np.mgrid[0:height, 0:width]

    def frame(index: int) -> NDArray[np.uint8]:
        red = (xs * 255 // max(1, width - 1) + index * 8) % 256
        green = (ys * 255 // max(1, height - 1)) % 256
        blue = np.full_like(xs, 128)
        return np.stack([red, green, blue], axis=-1).astype(np.uint8)

    return frame


def encode(
    frames: Frame,
    *,
    count: int,
    fps: int = 15,
    width: int,
    height: int,
    fmt: str = "mp4",
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    audio: bool = False,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
) -> bytes:
    """Encode ``count`` frames into a container in memory."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=fmt, options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.options = options or ({"preset": "ultrafast"} if codec == "libx264" else {})
        sound = container.add_stream("aac", rate=22050) if audio else None
        for index in range(count):
            frame = av.VideoFrame.from_ndarray(frames(index), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if sound is not None:
            samples = round(22050 * count / fps)
            tone = (0.2 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 22050)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = tone[start : start + 1024].reshape(1, -1)
                piece = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                piece.sample_rate, piece.pts, piece.time_base = 22050, start, Fraction(1, 22050)
                container.mux(sound.encode(piece))
            container.mux(sound.encode(None))
    return buffer.getvalue()


def png_bytes(width: int = 64, height: int = 64) -> bytes:
    """A real PNG image."""
    out = io.BytesIO()
    Image.fromarray(faceless(width, height)(0)).save(out, format="PNG")
    return out.getvalue()


def huge_png_header(side: int = 60000) -> bytes:
    """A PNG whose header claims side×side pixels, followed by a few bytes of data."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    head = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = b"IDAT" + zlib.compress(b"\x00" * 4096)
    body = struct.pack(">I", len(idat) - 4) + idat + struct.pack(">I", zlib.crc32(idat))
    return b"\x89PNG\r\n\x1a\n" + head + body


def huge_y4m_header(side: int = 30000) -> bytes:
    """A raw YUV4MPEG2 stream whose header claims side×side frames."""
    return f"YUV4MPEG2 W{side} H{side} F25:1 Ip A1:1 C420jpeg\n".encode() + b"FRAME\n" + b"\x80" * 4096


def _bitflipped(data: bytes) -> bytes:
    """The video with 200 bytes inverted past its headers."""
    damaged = bytearray(data)
    for index in np.random.default_rng(1).integers(2000, len(data), 200):
        damaged[index] ^= 0xFF
    return bytes(damaged)


@cache
def videos() -> dict[str, bytes]:
    """Every sample, by name (192×192 portrait unless the name says otherwise)."""
    side = 192
    good = zooming(side, side)
    h264 = encode(good, count=24, fps=12, width=side, height=side)
    fragmented = encode(
        good,
        count=24,
        fps=12,
        width=side,
        height=side,
        container_options={"movflags": "frag_keyframe+empty_moov"},
    )
    return {
        "mp4_h264": h264,
        "mp4_h264_audio": encode(good, count=24, fps=12, width=side, height=side, audio=True),
        "mp4_hevc": encode(
            good,
            count=24,
            fps=12,
            width=side,
            height=side,
            codec="libx265",
            options={"preset": "ultrafast", "x265-params": "log-level=none"},
        ),
        "mp4_h264_portrait_1x2": encode(zooming(96, 192), count=24, fps=12, width=96, height=192),
        "webm_vp9": encode(
            good,
            count=24,
            fps=12,
            width=side,
            height=side,
            fmt="webm",
            codec="libvpx-vp9",
            options={"deadline": "realtime", "cpu-used": "8"},
        ),
        "avi_mjpeg": encode(
            good, count=24, fps=12, width=side, height=side, fmt="avi", codec="mjpeg", pix_fmt="yuvj420p"
        ),
        "mp4_one_frame": encode(good, count=1, fps=12, width=side, height=side),
        "mp4_static": encode(still(side, side), count=24, fps=12, width=side, height=side),
        "mp4_odd": encode(zooming(193, 191), count=24, fps=12, width=193, height=191, pix_fmt="yuv444p"),
        "mp4_short": encode(good, count=6, fps=12, width=side, height=side),
        "mp4_slow_fps": encode(good, count=10, fps=5, width=side, height=side),
        "mp4_tiny": encode(faceless(48, 48), count=24, fps=12, width=48, height=48),
        "mp4_faceless": encode(faceless(side, side), count=24, fps=12, width=side, height=side),
        "truncated": h264[: len(h264) // 2],
        "fragmented_truncated": fragmented[: len(fragmented) // 2],
        "bitflipped": _bitflipped(h264),
        "png": png_bytes(),
        "random": np.random.default_rng(6).integers(0, 256, 20000, dtype=np.uint8).tobytes(),
        "huge_png": huge_png_header(),
        "huge_y4m": huge_y4m_header(),
        "empty": b"",
        "zeros": bytes(4096),
        "urandom_mp4_head": h264[:32] + os.urandom(2000),
    }


def exchange_for(
    video: bytes | str | None,
    *,
    type_value: str | None = "0",
    image: tuple[int, int] = (512, 512),
    status: int = 200,
) -> Exchange:
    """A successful exchange carrying ``video`` (bytes are base64-encoded, a str is sent as is)."""
    parts: list[Part] = [Part("image_target", b"image", filename="portrait.png", content_type="image/png")]
    if type_value is not None:
        parts.append(Part("type", type_value.encode()))
    request = ApiRequest(
        description=f"portrait with type {type_value}",
        parts=tuple(parts),
        image=ImageInfo(format="PNG", width=image[0], height=image[1], size=5, has_face=True),
    )
    if video is None:
        envelope: dict[str, object] = {"error_code": 0, "data": {}}
    else:
        text = base64.b64encode(video).decode() if isinstance(video, bytes) else video
        envelope = {
            "error_code": 0,
            "error_detail": {"status_code": 200, "code": ""},
            "data": {"video": text},
        }
    return Exchange(
        request=request,
        url="http://127.0.0.1:9/api/portrait/effects/live-photo",
        status=status,
        headers=[("content-type", "application/json")],
        body=json.dumps(envelope).encode(),
        elapsed=0.1,
    )
