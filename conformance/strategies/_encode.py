"""Byte-level encoders the strategies need beyond Pillow: PNG chunks, Adam7, 16-bit, padding.

Pillow writes neither interlaced nor 16-bit RGB PNG, and cannot pad a file to an exact size; these
helpers do, with numpy and zlib, producing files Pillow (and any conforming decoder) reads back.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator
from functools import cache

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from conformance.resources import data_dir

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHUNK_OVERHEAD = 12  # length + type + CRC around a PNG chunk's data
JPEG_SEGMENT_MAX = 65533  # data bytes of one JPEG COM segment (its length field counts itself)
JPEG_SEGMENT_OVERHEAD = 4  # marker + length
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_COLOR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (grey, RGB, RGBA)


@cache
def corpus_image(name: str) -> Image.Image:
    """A corpus photo of ``conformance/data`` decoded once (callers must not mutate it)."""
    with Image.open(data_dir() / name) as image:
        image.load()
        return image.copy()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _scanlines(pixels: NDArray[np.generic]) -> bytes:
    # Filter type 0 (None) on every row: simple, valid, and fast enough for the sizes used here.
    rows = pixels.reshape(pixels.shape[0], -1)
    if rows.dtype == np.uint16:
        rows = rows.astype(">u2").view(np.uint8).reshape(pixels.shape[0], -1)
    framed = np.zeros((rows.shape[0], rows.shape[1] + 1), dtype=np.uint8)
    framed[:, 1:] = rows
    return framed.tobytes()


def encode_png(
    pixels: NDArray[np.generic],
    *,
    interlace: bool = False,
    extra_chunks: Iterable[tuple[bytes, bytes]] = (),
    level: int = 6,
) -> bytes:
    """A PNG of an (h, w[, c]) uint8 or uint16 array: grey, RGB or RGBA, optionally Adam7-interlaced."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    height, width, channels = pixels.shape
    depth = 16 if pixels.dtype == np.uint16 else 8
    header = struct.pack(">IIBBBBB", width, height, depth, _COLOR_TYPES[channels], 0, 0, int(interlace))
    if interlace:
        raw = b"".join(
            _scanlines(pixels[y0::dy, x0::dx]) for x0, y0, dx, dy in _ADAM7 if x0 < width and y0 < height
        )
    else:
        raw = _scanlines(pixels)
    chunks = [png_chunk(b"IHDR", header)]
    chunks += [png_chunk(kind, data) for kind, data in extra_chunks]
    chunks += [png_chunk(b"IDAT", zlib.compress(raw, level)), png_chunk(b"IEND", b"")]
    return PNG_SIGNATURE + b"".join(chunks)


def flat_png(width: int, height: int, grey: int = 128, *, bit_depth: int = 8, colour_type: int = 0) -> bytes:
    """A valid flat PNG of any declared size, compressed in a stream so huge ones stay cheap."""
    bits_per_pixel = bit_depth * {0: 1, 2: 3}[colour_type]
    row = bytes([0]) + bytes([grey if bit_depth == 8 else 0]) * ((width * bits_per_pixel + 7) // 8)
    compressor = zlib.compressobj(9)
    block = row * max(1, min(height, (1 << 20) // len(row)))
    rows_per_block = len(block) // len(row)
    parts: list[bytes] = []
    left = height
    while left > 0:
        take = min(left, rows_per_block)
        parts.append(compressor.compress(block if take == rows_per_block else row * take))
        left -= take
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"".join(parts))
        + png_chunk(b"IEND", b"")
    )


def png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The (type, data) chunks of a PNG, without checking CRCs."""
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        yield data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        offset += length + CHUNK_OVERHEAD


def pad_png(data: bytes, size: int) -> bytes:
    """The PNG grown to exactly ``size`` bytes with a ``tEXt`` comment chunk after IHDR."""
    keyword = b"Comment\x00"
    fill = size - len(data) - CHUNK_OVERHEAD - len(keyword)
    if fill < 0:
        raise ValueError(f"size={size} is smaller than the unpadded PNG plus one chunk ({size - fill})")
    ihdr_end = len(PNG_SIGNATURE) + CHUNK_OVERHEAD + 13
    chunk = png_chunk(b"tEXt", keyword + b"x" * fill)
    return data[:ihdr_end] + chunk + data[ihdr_end:]


def pad_jpeg(data: bytes, size: int) -> bytes:
    """The JPEG grown to exactly ``size`` bytes with COM segments after SOI."""
    need = size - len(data)
    if need < 0 or 0 < need < JPEG_SEGMENT_OVERHEAD:
        raise ValueError(f"size={size} cannot be reached from a {len(data)}-byte JPEG with COM segments")
    segments: list[bytes] = []
    while need > 0:
        body = min(JPEG_SEGMENT_MAX, need - JPEG_SEGMENT_OVERHEAD)
        if 0 < need - body - JPEG_SEGMENT_OVERHEAD < JPEG_SEGMENT_OVERHEAD:
            body -= JPEG_SEGMENT_OVERHEAD  # leave room for a whole last segment
        segments.append(b"\xff\xfe" + struct.pack(">H", body + 2) + b"c" * body)
        need -= body + JPEG_SEGMENT_OVERHEAD
    return data[:2] + b"".join(segments) + data[2:]
