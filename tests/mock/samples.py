"""Real images for the reference-server tests, built with Pillow (and patched by hand where a
sample must lie about itself)."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image

DATA = Path(__file__).resolve().parents[2] / "conformance" / "data"
KEY = "test-key-0123"
ENDPOINT = "/api/portrait/effects/live-photo"
FIVE_MIB = 5 * 1024 * 1024


@cache
def data_file(name: str) -> bytes:
    """A corpus image as stored."""
    return (DATA / name).read_bytes()


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """Pillow-encoded bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@cache
def face_small() -> bytes:
    """The astronaut scaled to 256×256 PNG: a face, and cheap to process."""
    with Image.open(DATA / "astronaut.png") as image:
        return encode(image.convert("RGB").resize((256, 256)), "PNG")


@cache
def face_jpeg() -> bytes:
    """The astronaut as JPEG."""
    with Image.open(DATA / "astronaut.png") as image:
        return encode(image.convert("RGB"), "JPEG", quality=90)


def solid(size: tuple[int, int], fmt: str) -> bytes:
    """A grey image of the given size and format."""
    return encode(Image.new("RGB", size, (128, 128, 128)), fmt)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny valid-looking PNG whose IHDR declares ``width``×``height`` (CRC recomputed)."""
    png = bytearray(solid((8, 8), "PNG"))
    ihdr = bytearray(png[12:29])  # type + 13-byte payload
    ihdr[4:12] = struct.pack(">II", width, height)
    png[8:33] = _chunk(b"IHDR", bytes(ihdr[4:]))
    return bytes(png)


def padded_png(base: bytes, total: int) -> bytes:
    """``base`` with a tEXt chunk inserted before IEND so the file is exactly ``total`` bytes."""
    iend = base.rindex(b"IEND") - 4
    overhead = 12 + len(b"pad\x00")
    filler = total - len(base) - overhead
    assert filler >= 0, "base image larger than the target size"
    padded = base[:iend] + _chunk(b"tEXt", b"pad\x00" + b"x" * filler) + base[iend:]
    assert len(padded) == total
    return padded


def decode_video(data: bytes) -> list[NDArray[np.uint8]]:
    """Every frame of a video as RGB arrays (PyAV)."""
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def video_codec(data: bytes) -> tuple[str, str, str]:
    """(container format, codec name, pixel format) of a video."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        return container.format.name, stream.codec_context.name, str(stream.codec_context.pix_fmt)
