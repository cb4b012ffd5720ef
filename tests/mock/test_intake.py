"""Unit tests of the intake stages: format sniffing, header dimensions, bounded multipart."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest

from conformance.mock.images import ImageRejected, header_size, load_image, sniff
from conformance.mock.runner import tune_allocator
from conformance.mock.upload import MAX_IMAGE_BYTES, UploadRejected, check_content_type, read_upload
from tests.mock import samples


@pytest.mark.parametrize(("fmt", "size"), [("PNG", (123, 45)), ("JPEG", (77, 300)), ("BMP", (64, 33))])
def test_header_size_matches_pillow(fmt: str, size: tuple[int, int]) -> None:
    """Dimensions read from the header equal the encoded size."""
    data = samples.solid(size, fmt)
    assert header_size(data, sniff(data) or "") == size


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "WEBP", "ICO", "PPM"])
def test_sniff_refuses_other_formats(fmt: str) -> None:
    """Only JPEG, PNG and BMP magic is accepted (LP-REQ-6)."""
    assert sniff(samples.solid((40, 40), fmt)) is None


def test_jpeg_bomb_is_a_resolution_error() -> None:
    """A JPEG whose SOF declares 30000 px is refused before decoding."""
    data = bytearray(samples.solid((40, 40), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = (30000).to_bytes(2, "big") * 2
    with pytest.raises(ImageRejected) as info:
        load_image(bytes(data))
    assert info.value.code == "FILE_RESOLUTION_EXCEEDS_LIMITS"


def test_resolution_boundary() -> None:
    """LP-REQ-6: 4095 px wide decodes; 4096 px is FILE_RESOLUTION_EXCEEDS_LIMITS."""
    assert max(load_image(samples.solid((4095, 40), "PNG")).shape) <= 1280  # reduced after the check
    with pytest.raises(ImageRejected) as info:
        load_image(samples.solid((40, 4096), "BMP"))
    assert info.value.code == "FILE_RESOLUTION_EXCEEDS_LIMITS"


async def _chunks(body: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, payload in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        out += f"--b0\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + payload + b"\r\n"
    return out + b"--b0--\r\n"


def test_upload_keeps_first_parts() -> None:
    """The first image_target and type are kept; unknown parts are ignored."""
    body = _multipart(
        ("x", None, b"1"), ("type", None, b"1"), ("image_target", "a", b"abc"), ("type", None, b"9")
    )
    upload = asyncio.run(read_upload(_chunks(body), b"b0"))
    assert (upload.image, upload.image_is_file, upload.type_value) == (b"abc", True, "1")


def test_upload_bound() -> None:
    """An image part of MAX_IMAGE_BYTES passes; one byte more is FILE_SIZE_EXCEEDS_LIMIT."""
    ok = asyncio.run(read_upload(_chunks(_multipart(("image_target", "a", b"x" * MAX_IMAGE_BYTES))), b"b0"))
    assert ok.image is not None and len(ok.image) == MAX_IMAGE_BYTES
    with pytest.raises(UploadRejected) as info:
        asyncio.run(
            read_upload(_chunks(_multipart(("image_target", "a", b"x" * (MAX_IMAGE_BYTES + 1)))), b"b0")
        )
    assert info.value.code == "FILE_SIZE_EXCEEDS_LIMIT"


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/x-www-form-urlencoded", "", "multipart/form-data"]
)
def test_content_type_refused(content_type: str) -> None:
    """Not multipart, or multipart without a boundary → MISSING_PARAMETERS."""
    with pytest.raises(UploadRejected) as info:
        check_content_type(content_type)
    assert info.value.code == "MISSING_PARAMETERS"


def test_large_jpeg_is_reduced_and_keeps_its_face() -> None:
    """A 3000 px JPEG is decoded at a reduced size (draft) and the face is still found."""
    from PIL import Image

    from conformance.mock.detect import find_faces

    with Image.open(samples.DATA / "astronaut.png") as image:
        big = samples.encode(image.convert("RGB").resize((3000, 3000)), "JPEG", quality=85)
    pixels = load_image(big)
    assert max(pixels.shape[:2]) <= 1280
    assert find_faces(pixels)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc allocator tuning is Linux-only")
def test_tune_allocator_on_glibc() -> None:
    """On Linux with glibc the allocator tuning applies (mallopt returns success)."""
    assert tune_allocator() is True
