"""Valid images decode, have a face, respect the limits and shrink to small images (LP-REQ-6)."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis.errors import InvalidArgument
from PIL import Image

from conformance.strategies import (
    MAX_IMAGE_BYTES,
    ImageSample,
    InvalidImage,
    face_photo,
    image_of_exact_size,
    image_with_side,
    valid_images,
)
from conformance.strategies._valid import VARIANT_AXES, image_with_size, variant_photo
from tests.strategies.helpers import decode, has_face

FAST = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
EXTENSIONS = {"JPEG": {".jpg", ".jpeg"}, "PNG": {".png"}, "BMP": {".bmp"}}


def check_valid(sample: ImageSample, *, max_side: int = 4095, max_bytes: int = MAX_IMAGE_BYTES) -> None:
    image = decode(sample.data)
    assert image.format == sample.info.format
    assert image.size == (sample.info.width, sample.info.height)
    assert max(image.size) <= max_side
    assert len(sample.data) == sample.info.size <= max_bytes
    assert has_face(image), sample.description
    assert sample.description.startswith(f"{image.format} {image.width}×{image.height}")
    assert sample.filename
    suffix = "." + sample.filename.rsplit(".", 1)[1].lower() if "." in sample.filename else ""
    assert suffix in EXTENSIONS[image.format] | {""}


@FAST
@given(valid_images())
def test_valid_images_decode_and_have_a_face(sample: ImageSample) -> None:
    check_valid(sample)


@settings(FAST, max_examples=25)
@given(valid_images(formats=("PNG",), max_side=700))
def test_png_variants_decode_and_have_a_face(sample: ImageSample) -> None:
    check_valid(sample, max_side=700)


@settings(FAST, max_examples=6)
@given(valid_images(formats=("JPEG",), min_side=2000, framing=("full-body",), max_bytes=2 * 1024 * 1024))
def test_big_full_body_images_keep_the_face_and_the_limits(sample: ImageSample) -> None:
    check_valid(sample, max_bytes=2 * 1024 * 1024)
    assert min(sample.info.width, sample.info.height) >= 2000
    assert "full-body" in sample.description or "too small to pad" in sample.description


@pytest.mark.parametrize(
    "kwargs",
    [
        {"formats": ("GIF",)},
        {"formats": ()},
        {"min_side": 8},
        {"max_side": 4096},
        {"min_side": 600, "max_side": 500},
        {"framing": ("landscape",)},
        {"max_bytes": 6 * 1024 * 1024},
    ],
)
def test_bad_arguments_are_rejected_eagerly(kwargs: dict[str, object]) -> None:
    name = next(iter(kwargs))
    with pytest.raises(InvalidArgument, match=name):
        valid_images(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP"])
def test_shrinking_goes_to_a_small_plain_image(fmt: str) -> None:
    smallest = find(valid_images(), lambda s: s.info.format == fmt, settings=settings(database=None))
    assert max(smallest.info.width, smallest.info.height) == 64  # the default min_side
    assert smallest.info.size < 20_000
    assert not any(
        word in smallest.description for word in ("rotated", "mirrored", "brightness", "full-body")
    )
    assert smallest.filename is not None and smallest.filename.startswith("photo")


def test_shrinking_keeps_the_full_body_frame_small() -> None:
    smallest = find(valid_images(), lambda s: "full-body" in s.description, settings=settings(database=None))
    assert max(smallest.info.width, smallest.info.height) <= 120
    assert smallest.info.height > smallest.info.width
    assert has_face(decode(smallest.data))


def test_shrinking_towards_the_smallest_image_that_satisfies_a_predicate() -> None:
    minimal = find(
        valid_images(formats=("PNG",)),
        lambda s: s.info.width >= 300,
        settings=settings(database=None, max_examples=200, derandomize=True),
    )
    assert 300 <= minimal.info.width <= 330
    assert has_face(decode(minimal.data))


@pytest.mark.parametrize(
    ("fmt", "framing"), [("JPEG", "portrait"), ("PNG", "full-body"), ("BMP", "portrait")]
)
def test_face_photo(fmt: str, framing: str) -> None:
    sample = face_photo(format=fmt, side=512, framing=framing)
    image = decode(sample.data)
    assert (image.format, max(image.size)) == (fmt, 512)
    assert has_face(image)
    assert face_photo(format=fmt, side=512, framing=framing) is sample  # cached


def test_face_photo_rejects_a_side_too_small_for_a_face() -> None:
    with pytest.raises(ValueError, match="side"):
        face_photo(side=40)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("size", [MAX_IMAGE_BYTES, 100_000, MAX_IMAGE_BYTES + 1])
def test_image_of_exact_size_is_exact_and_valid(fmt: str, size: int) -> None:
    sample = image_of_exact_size(size, format=fmt)
    assert len(sample.data) == size == sample.info.size
    image = decode(sample.data)
    assert image.format == fmt
    assert has_face(image)


def test_image_of_exact_size_rejects_what_it_cannot_build() -> None:
    with pytest.raises(ValueError, match="format"):
        image_of_exact_size(format="BMP")
    with pytest.raises(ValueError, match="size"):
        image_of_exact_size(100)


def test_image_with_side_4095_is_valid_with_a_face() -> None:
    sample = image_with_side(4095)
    assert not isinstance(sample, InvalidImage)
    image = decode(sample.data)
    assert image.size == (4095, 4095)
    assert len(sample.data) <= MAX_IMAGE_BYTES
    assert has_face(image)


def test_image_with_side_4096_is_an_lp_err_9_image() -> None:
    sample = image_with_side(4096, format="JPEG")
    assert isinstance(sample, InvalidImage)
    assert (sample.clause, sample.family) == ("LP-ERR-9", "too-high-resolution")
    with Image.open(io.BytesIO(sample.data)) as image:
        assert image.size == (4096, 4096)


@pytest.mark.parametrize(
    ("width", "height", "fmt"), [(4095, 768, "JPEG"), (768, 4095, "PNG"), (200, 640, "BMP")]
)
def test_image_with_size_probes_one_side_and_stays_valid(width: int, height: int, fmt: str) -> None:
    sample = image_with_size(width, height, format=fmt)
    assert not isinstance(sample, InvalidImage)
    check_valid(sample)
    assert decode(sample.data).size == (width, height)


@pytest.mark.parametrize(("width", "height", "which"), [(4096, 768, "width"), (768, 4096, "height")])
def test_image_with_size_over_the_limit_names_the_side(width: int, height: int, which: str) -> None:
    sample = image_with_size(width, height, format="JPEG")
    assert isinstance(sample, InvalidImage) and sample.clause == "LP-ERR-9"
    assert f"{which} 4096 ≥ 4096" in sample.description
    assert has_face(decode(sample.data))


def test_image_with_size_refuses_a_side_too_short_for_a_face() -> None:
    with pytest.raises(ValueError, match="both sides"):
        image_with_size(4095, 32)
    with pytest.raises(ValueError, match="short side cannot hold a detectable face"):
        image_with_size(4095, 200)


@pytest.mark.parametrize(
    ("fmt", "name", "value"),
    [
        (fmt, name, value)
        for fmt, axes in VARIANT_AXES.items()
        for name, values in axes.items()
        for value in values
    ],
)
def test_variant_photo_makes_every_encoding_valid(fmt: str, name: str, value: object) -> None:
    sample = variant_photo(fmt, ((name, value),), side=128)
    check_valid(sample)
    image = decode(sample.data)
    if (fmt, name) == ("JPEG", "progressive"):
        assert bool(image.info.get("progressive")) is value
    elif (fmt, name) == ("JPEG", "orientation"):
        assert image.getexif().get(0x0112) == value
    elif (fmt, name) == ("PNG", "interlace"):
        assert bool(sample.data[28]) is value
    elif (fmt, name) == ("BMP", "bits"):
        assert sample.data[28] == value


def test_variant_photo_refuses_an_unknown_axis() -> None:
    with pytest.raises(ValueError, match="not JPEG axes"):
        variant_photo("JPEG", (("mode", "RGB"),))
