"""Every invalid image is invalid in the way its label says (LP-ERR-4, LP-ERR-6 … LP-ERR-10)."""

from __future__ import annotations

import io
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, UnidentifiedImageError

from conformance.strategies import (
    MAX_IMAGE_BYTES,
    InvalidImage,
    corrupt_images,
    decompression_bomb,
    empty_images,
    faceless_images,
    huge_resolution_images,
    invalid_images,
    oversized_images,
    unsupported_images,
)
from conformance.strategies._invalid import (
    CORRUPTIONS,
    END_CUTS,
    FACELESS_CORPUS,
    FACELESS_SCALES,
    _corrupt,
    _faceless,
)
from conformance.strategies._valid import face_photo
from tests.strategies.helpers import decode, has_face, png_declared_size

FAST = settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SUPPORTED = {"JPEG", "PNG", "BMP"}


def check_labelled(image: InvalidImage) -> None:
    """The invalidity the label claims, checked with Pillow and the detector."""
    assert image.description and image.clause.startswith("LP-ERR-")
    if image.family == "empty":
        assert image.data == b""
    elif image.family == "unsupported-format":
        try:
            with Image.open(io.BytesIO(image.data)) as opened:
                assert opened.format not in SUPPORTED
        except UnidentifiedImageError:
            pass
    elif image.family == "corrupt":
        assert strictly_undecodable(image.data), image.description
    elif image.family == "too-large":
        assert len(image.data) > MAX_IMAGE_BYTES
        assert decode(image.data).format in SUPPORTED
    elif image.family == "too-high-resolution":
        if image.data.startswith(b"\x89PNG") and len(image.data) < 1024 * 1024:
            width, height = png_declared_size(image.data)
        else:
            width, height = decode(image.data).size
        assert max(width, height) >= 4096
        assert (width, height) == (image.info.width, image.info.height)
    elif image.family == "no-face":
        decoded = decode(image.data)
        assert decoded.format in SUPPORTED
        assert not has_face(decoded)
    else:
        raise AssertionError(f"unknown family {image.family!r}")


PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the chunk every PNG ends with


def strictly_undecodable(data: bytes) -> bool:
    """Pillow cannot decode it, or it is a PNG cut short: Pillow stops reading at the end of the
    image data, so a PNG that lost its IEND chunk (or part of it) still decodes there."""
    try:
        decode(data)
    except (OSError, SyntaxError, ValueError):
        return True
    return data.startswith(b"\x89PNG") and not data.endswith(PNG_IEND)


EXPECTED = {
    "empty": "LP-ERR-4",
    "unsupported-format": "LP-ERR-6",
    "corrupt": "LP-ERR-7",
    "too-large": "LP-ERR-8",
    "too-high-resolution": "LP-ERR-9",
    "no-face": "LP-ERR-10",
}


@FAST
@given(invalid_images())
def test_every_invalid_image_is_invalid_as_labelled(image: InvalidImage) -> None:
    assert EXPECTED[image.family] == image.clause
    check_labelled(image)


@pytest.mark.parametrize(
    ("strategy", "family"),
    [
        (empty_images(), "empty"),
        (unsupported_images(), "unsupported-format"),
        (corrupt_images(), "corrupt"),
        (oversized_images(), "too-large"),
        (huge_resolution_images(), "too-high-resolution"),
        (faceless_images(), "no-face"),
    ],
)
def test_each_family(strategy: st.SearchStrategy[InvalidImage], family: str) -> None:
    @settings(FAST, max_examples=15)
    @given(strategy)
    def check(image: InvalidImage) -> None:
        assert image.family == family
        check_labelled(image)

    check()


@pytest.mark.parametrize(("fmt", "how"), list(itertools.product(("JPEG", "PNG", "BMP"), CORRUPTIONS)))
@settings(max_examples=8, deadline=None, database=None)
@given(amount=st.integers(1, 90))
def test_every_corruption_fails_to_decode(fmt: str, how: str, amount: int) -> None:
    check_labelled(_corrupt(fmt, how, amount))


@pytest.mark.parametrize(("fmt", "cut"), list(itertools.product(("JPEG", "PNG", "BMP"), END_CUTS)))
def test_a_file_a_few_bytes_short_is_corrupt(fmt: str, cut: int) -> None:
    """The interrupted upload (issue 14): a JPEG without its EOI, a PNG without IEND."""
    image = _corrupt(fmt, "truncated-end", cut)
    assert face_photo(format=fmt, side=128).data[:-cut] == image.data
    check_labelled(image)


def test_the_corruption_check_accepts_a_whole_png() -> None:
    assert not strictly_undecodable(face_photo(format="PNG", side=128).data)


def test_the_whole_faceless_corpus_has_no_face() -> None:
    for name, scale, fmt in itertools.product(FACELESS_CORPUS, FACELESS_SCALES, ("JPEG", "PNG", "BMP")):
        check_labelled(_faceless(name, scale, fmt))


def test_the_checker_catches_a_mislabelled_image() -> None:
    # The label check must fail on a valid face photo claimed to be faceless or corrupt.
    good = face_photo(format="PNG", side=256)
    for family in ("no-face", "corrupt", "too-large", "too-high-resolution", "unsupported-format", "empty"):
        fake = InvalidImage(
            good.data, good.filename, good.content_type, good.info, "fake", "LP-ERR-0", family
        )
        with pytest.raises((AssertionError, pytest.fail.Exception)):
            check_labelled(fake)


def test_decompression_bomb_is_tiny_and_declares_its_size() -> None:
    bomb = decompression_bomb()
    assert png_declared_size(bomb.data) == (20000, 20000)
    assert len(bomb.data) < 100 * 1024
    assert (bomb.clause, bomb.family) == ("LP-ERR-9", "too-high-resolution")
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bomb.data))


def test_decompression_bomb_rejects_a_valid_resolution() -> None:
    with pytest.raises(ValueError, match="width"):
        decompression_bomb(4095, 4095)
