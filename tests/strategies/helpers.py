"""Shared helpers for the strategy tests: decoding, face detection, multipart parsing."""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

from conformance.faces import detect_faces

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode(data: bytes) -> Image.Image:
    """Fully decode with Pillow (raises on anything broken)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def has_face(image: Image.Image) -> bool:
    """What the reference server's detector says."""
    return bool(detect_faces(np.asarray(image.convert("RGB"))))


def png_declared_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR, without decoding."""
    assert data.startswith(PNG_SIGNATURE)
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height
