"""Image intake: sniff the format by content, read the dimensions from the header, then decode
(LP-REQ-6, LP-ERR-6, -7, -9). Dimensions are checked before any pixel is decoded, so a
decompression bomb is a resolution error and never a memory blow-up.
"""

from __future__ import annotations

import io
import struct
import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

MAX_SIDE = 4095  # LP-REQ-6: resolution less than 4096×4096 (width ≤ 4095 and height ≤ 4095)
MIN_SIDE = 32  # LP-REQ-6: smaller images MAY be rejected with ERROR_LOW_RESOLUTION
PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "bmp": "BMP"}
DECODE_SLOTS = 2  # concurrent decodes: bounds the memory of decoded pixels and ancillary chunks
WORK_SIDE = 1280  # px: decoded images are reduced to this long side (the face detector looks at 640 px
#                   and the video at ≤ 512 px), so a 4095 px photo does not hold 50 MB per request

_decode_slots = threading.BoundedSemaphore(DECODE_SLOTS)

# Pillow's own bomb guard (Image.MAX_IMAGE_PIXELS, ≈ 89 MP) is left as it is: the header check
# below keeps every image at ≤ 4095 × 4095 ≈ 16.8 MP before Pillow sees it, and a
# DecompressionBombError is still mapped to the resolution error should a header lie.


class ImageRejected(Exception):
    """The image cannot be accepted; ``code`` is the documented error code to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sniff(data: bytes) -> str | None:
    """``jpeg``, ``png`` or ``bmp`` from the magic bytes, or None for anything else (LP-REQ-6)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"BM") and len(data) >= 26:
        return "bmp"
    return None


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ValueError("PNG without an IHDR chunk")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _bmp_size(data: bytes) -> tuple[int, int]:
    header_size = struct.unpack("<I", data[14:18])[0]
    if header_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack("<HH", data[18:22])
        return width, height
    width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)  # a negative height means top-down rows


_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int]:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("JPEG marker expected")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in _SOF_MARKERS:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    raise ValueError("JPEG without a frame header")


def header_size(data: bytes, fmt: str) -> tuple[int, int]:
    """(width, height) read from the file header, without decoding pixels (LP-ERR-9)."""
    reader = {"png": _png_size, "bmp": _bmp_size, "jpeg": _jpeg_size}[fmt]
    try:
        return reader(data)
    except (ValueError, struct.error):
        raise ImageRejected("FILE_DECODING_FAILURE", f"The {fmt.upper()} header is corrupt.") from None


def _check_side(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageRejected(
            "FILE_RESOLUTION_EXCEEDS_LIMITS",
            f"The image is {width}×{height} px; width and height must be less than {MAX_SIDE + 1} px.",
        )


class _ViewReader(io.RawIOBase):
    """A seekable binary file over a buffer without copying it (``io.BytesIO`` copies a bytearray)."""

    def __init__(self, data: bytes | bytearray) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._view[self._pos : self._pos + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view.release()
        super().close()


def load_image(data: bytes) -> NDArray[np.uint8]:
    """Decode an uploaded image into an RGB array, rejecting it with the SPEC §5 code when needed."""
    fmt = sniff(data)
    if fmt is None:
        raise ImageRejected("UNSUPPORTED_FILE_TYPES", "The file is not a JPEG, PNG or BMP image.")
    _check_side(*header_size(data, fmt))
    with _decode_slots:
        return _decode(data, fmt)


def _decode(data: bytes, fmt: str) -> NDArray[np.uint8]:
    try:
        with (
            _ViewReader(data) as raw,
            Image.open(io.BufferedReader(raw), formats=[PILLOW_FORMATS[fmt]]) as image,
        ):
            _check_side(*image.size)  # the lazy open has read the header only
            original = image.size
            if fmt == "jpeg":
                image.draft("RGB", (WORK_SIDE, WORK_SIDE))  # DCT scaling: decode at a reduced size
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb = upright.convert("RGB")
    except ImageRejected:
        raise
    except Image.DecompressionBombError:
        raise ImageRejected("FILE_RESOLUTION_EXCEEDS_LIMITS", "The image declares too many pixels.") from None
    except (OSError, ValueError, SyntaxError, struct.error, EOFError):
        raise ImageRejected(
            "FILE_DECODING_FAILURE", f"The {fmt.upper()} file is corrupt or truncated."
        ) from None
    width, height = original
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageRejected(
            "ERROR_LOW_RESOLUTION",
            f"The image is {width}×{height} px; at least {MIN_SIDE}×{MIN_SIDE} px are needed.",
        )
    if max(rgb.size) > WORK_SIDE:
        rgb.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8)
