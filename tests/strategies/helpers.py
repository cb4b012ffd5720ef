"""Shared helpers for the strategy tests: decoding, face detection, multipart parsing."""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image
from python_multipart.multipart import MultipartParser, parse_options_header

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


def parse_multipart(body: bytes, content_type: str) -> list[dict[str, object]]:
    """The parts of a multipart body: name, filename, headers and data, in order."""
    _, options = parse_options_header(content_type)
    boundary = options[b"boundary"]
    parts: list[dict[str, object]] = []
    current: dict[str, object] = {}

    def on_part_begin() -> None:
        current.clear()
        current.update(headers={}, data=bytearray(), field=b"", value=b"")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        current["field"] = current["field"] + data[start:end]  # type: ignore[operator]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        current["value"] = current["value"] + data[start:end]  # type: ignore[operator]

    def on_header_end() -> None:
        current["headers"][current["field"].lower()] = current["value"]  # type: ignore[index,union-attr]
        current["field"], current["value"] = b"", b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current["data"] += data[start:end]  # type: ignore[operator]

    def on_part_end() -> None:
        headers = current["headers"]
        _, disposition = parse_options_header(headers[b"content-disposition"])  # type: ignore[index]
        parts.append(
            {
                "name": disposition[b"name"].decode(),
                "filename": disposition[b"filename"].decode() if b"filename" in disposition else None,
                "content_type": headers.get(b"content-type", b"").decode() or None,  # type: ignore[union-attr]
                "data": bytes(current["data"]),  # type: ignore[arg-type]
            }
        )

    parser = MultipartParser(
        boundary,
        callbacks={
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    parser.write(body)
    parser.finalize()
    return parts
