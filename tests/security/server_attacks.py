"""Hostile uploads for the reference server (review items 9 and 10), built here byte by byte: small
files whose decoding used to cost seconds of CPU or hundreds of MB. Also used by
benchmarks/server_adversarial.py."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

from PIL import Image

SIDE = 4095  # the largest side LP-REQ-6 accepts


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each JPEG segment after SOI; a scan's entropy-coded data is
    included in its SOS segment."""
    found, pos = [], 2
    while pos < len(data):
        marker = data[pos + 1]
        if marker == 0xD9:
            found.append((marker, pos, pos + 2))
            break
        end = pos + 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker == 0xDA:  # entropy-coded data runs to the next marker that is not FF00 or RSTn
            while True:
                end = data.index(b"\xff", end)
                if data[end + 1] == 0 or 0xD0 <= data[end + 1] <= 0xD7:
                    end += 2
                    continue
                break
        found.append((marker, pos, end))
        pos = end
    return found


@cache
def scan_bomb(scans: int = 1500, side: int = SIDE) -> bytes:
    """A progressive JPEG whose last scan (a few bytes: one EOB run over a flat image) is repeated
    ``scans`` times: about 250 KB, and each scan is a full pass over side² pixels (15 s before)."""
    out = io.BytesIO()
    Image.new("RGB", (side, side), (128, 128, 128)).save(out, "JPEG", progressive=True, subsampling=0)
    data = out.getvalue()
    segments = _segments(data)
    _, start, end = [s for s in segments if s[0] == 0xDA][-1]
    return data[: segments[-1][1]] + data[start:end] * scans + b"\xff\xd9"


@cache
def progressive_jpeg(side: int = SIDE, mode: str = "RGB") -> bytes:
    """A valid progressive JPEG of side² (libjpeg's 10 scans): its coefficients alone take
    side² × 2 bytes per component while it decodes."""
    out = io.BytesIO()
    Image.new(mode, (side, side), (120, 130, 140) if mode == "RGB" else (120, 130, 140, 10)).save(
        out, "JPEG", progressive=True, subsampling=0 if mode == "RGB" else -1
    )
    return out.getvalue()


@cache
def png16(side: int = SIDE, color_type: int = 2) -> bytes:
    """A flat 16-bit PNG of side² (colour type 2 = RGB, 6 = RGBA, 0 = grey): about 100 KB that
    decode to up to 134 MB of samples (563 MB RSS for ten of them before)."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    raw = (b"\x00" + bytes(side * channels * 2)) * side
    header = struct.pack(">IIBBBBB", side, side, 16, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )


@cache
def png_chunk_flood(chunks: int = 400_000) -> bytes:
    """A 64×64 PNG with ``chunks`` empty private ancillary chunks before its image data: 4.8 MB
    that Pillow walked one chunk at a time in Python (2 s)."""
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (128, 128, 128)).save(out, "PNG")
    data = out.getvalue()
    at = data.index(b"IDAT") - 4
    return data[:at] + _png_chunk(b"tEXa", b"") * chunks + data[at:]


@cache
def png_tiny_idat(side: int = 2048) -> bytes:
    """A flat 8-bit RGB PNG whose compressed data is split into 1-byte IDAT chunks."""
    raw = (b"\x00" + bytes(side * 3)) * side
    compressed = zlib.compress(raw, 9)
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    idat = b"".join(_png_chunk(b"IDAT", compressed[i : i + 1]) for i in range(len(compressed)))
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + idat + _png_chunk(b"IEND", b"")


def _bmp(side: int, bits: int, compression: int, pixels: bytes) -> bytes:
    colours = 1 << bits
    palette = b"".join(bytes([i * 255 // (colours - 1)] * 3 + [0]) for i in range(colours))
    info = struct.pack(
        "<IiiHHIIiiII", 40, side, side, 1, bits, compression, len(pixels), 2835, 2835, colours, 0
    )
    offset = 14 + len(info) + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) + info + palette + pixels


@cache
def bmp_rle4_runs(side: int = SIDE) -> bytes:
    """A 4-bit RLE BMP of side² made of 255-pixel runs: 145 KB that Pillow's Python decoder
    expanded one pixel at a time (2 s)."""
    row = b"\xff\x12" * (side // 255) + bytes([side % 255, 0x12]) + b"\x00\x00"
    return _bmp(side, 4, 2, row * side + b"\x00\x01")


@cache
def bmp_rle8_line_ends(side: int = SIDE) -> bytes:
    """An 8-bit RLE BMP whose rows are one pixel and an end-of-line: 17 KB, and Pillow pads each
    row in a Python loop byte by byte (4 s)."""
    return _bmp(side, 8, 1, b"\x01\x05\x00\x00" * side + b"\x00\x01")


@cache
def jpeg_marker_flood(markers: int = 1_000_000) -> bytes:
    """A 64×64 JPEG preceded by a million empty comment segments: 4 MB walked in Python (4.7 s)."""
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (128, 128, 128)).save(out, "JPEG")
    data = out.getvalue()
    return data[:2] + b"\xff\xfe\x00\x02" * markers + data[2:]


# name → (bytes, the code the reference server answers with in edition 2026-01)
DECODE_BOMBS = {
    "jpeg-scan-bomb": (scan_bomb, "FILE_DECODING_FAILURE"),
    "jpeg-marker-flood": (jpeg_marker_flood, "FILE_DECODING_FAILURE"),
    "png-chunk-flood": (png_chunk_flood, "FILE_DECODING_FAILURE"),
    "png-tiny-idat": (png_tiny_idat, "FILE_DECODING_FAILURE"),
    "bmp-rle4-runs": (bmp_rle4_runs, "ERROR_NO_FACE_IN_FILE"),
    "bmp-rle8-line-ends": (bmp_rle8_line_ends, "ERROR_NO_FACE_IN_FILE"),
    "png16-rgb": (png16, "ERROR_NO_FACE_IN_FILE"),
}
