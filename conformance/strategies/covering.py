"""The covering set (issue 14, "same target, same verdict"): every named value, boundary and kind of
input the strategies know, as fixed requests that every suite run sends, whatever the seed and
``--max-examples``.

The suite attaches them to its Hypothesis tests as explicit examples (Hypothesis runs those in its
``explicit`` phase, before and regardless of ``max_examples``); generation then explores beyond.
Everything is derived from the tables of the strategy modules (``VARIANT_AXES``,
``NAMED_INVALID_TYPES``, ``CORRUPTIONS`` …), so a kind added there is sent here, and
``tests/suite/test_covering.py`` fails if one is not. Built once (cached) from nothing but those
tables: two runs, two processes or two machines send the same bytes (the client derives the
multipart boundary from the parts). ``docs/covering-set.md`` lists it clause by clause.

Success requests are costly for a real target, so they combine factors: success request ``i``
takes value ``i mod n`` of every axis (image encoding and file name, framing, ``type``, key header
casing, part order, boundary, part Content-Type, unknown fields, unknown headers): as many
requests as the longest axis, not their product. Error requests are cheap: each named value gets
its own.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, TypeVar

from conformance.exchange import ApiRequest, Key
from conformance.strategies._encode import pad_jpeg, pad_png
from conformance.strategies._invalid import (
    BOMB_SIZES,
    CORRUPTIONS,
    EMPTY_CONTENT_TYPES,
    END_CUTS,
    FACELESS_CORPUS,
    FACELESS_SCALES,
    HUGE_LONG_SIDES,
    HUGE_SHORT_SIDES,
    IMAGE_NAMES,
    OVERSIZED_EXTRAS,
    OVERSIZED_KINDS,
    TOO_HIGH,
    UNSUPPORTED_KINDS,
    _corrupt,
    _empty,
    _faceless,
    _oversized,
    _real_huge,
    _unsupported_image,
    decompression_bomb,
)
from conformance.strategies._samples import FORMATS, MAX_IMAGE_BYTES, MAX_SIDE, ImageSample, InvalidImage
from conformance.strategies._valid import (
    SMALLEST_FACE_FRAME,
    STEMS,
    VARIANT_AXES,
    face_photo,
    image_with_size,
    scene_with_size,
    variant_photo,
)
from conformance.strategies.fields import (
    LONG_INVALID_TYPES,
    NAMED_INVALID_TYPES,
    NAMED_KEY_CASINGS,
    VALID_TYPES,
)
from conformance.strategies.requests import (
    MISSING_IMAGE_VARIANTS,
    NAMED_BOUNDARIES,
    NON_MULTIPART,
    PART_CONTENT_TYPES,
    PART_ORDERS,
    TEXT_IMAGE_VALUES,
    UNKNOWN_FIELDS,
    UNKNOWN_HEADERS,
    _as_text,
    _non_multipart,
    _without_image,
    request_for,
)

__all__ = [
    "BURST",
    "CLAUSES",
    "POOL",
    "TRIPLE",
    "covering_requests",
    "image_variants",
    "success_axes",
    "success_pool",
]

T = TypeVar("T")
SUCCESS_SIDE = 256  # px: long side of the combined success images (the limits have their own)
ERROR_SIDE = 256  # px: the face photo carrying an error (the one the error strategies use)
LIMIT_SHORT_SIDE = 768  # px: the other side of a 4095/4096-px image, room for a detectable face
TRUNCATION_FRACTION = 50  # % of the pixel data kept by "truncated" (the generated ones vary it)
VALID_TYPE_VALUES: tuple[str | None, ...] = (*VALID_TYPES, None)  # LP-REQ-5: None = absent
# "random bytes with an image file name" (LP-ERR-6): fixed bytes that start like no image format.
RANDOM_NOISE = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(8))
EXTRA_FIELD_VALUE = "conformance"  # the value of an unknown extra form field (LP-REQ-7)


def _at(axis: Sequence[T], index: int) -> T:
    """Value ``index`` of an axis, cyclically: zipping axes of different lengths."""
    return axis[index % len(axis)]


def _round_robin(groups: Sequence[Sequence[T]]) -> list[T]:
    """One of each group in turn (so every prefix mixes the formats)."""
    out: list[T] = []
    for row in itertools.zip_longest(*groups):
        out += [item for item in row if item is not None]
    return out


Variant = tuple[str, tuple[tuple[str, Any], ...], str]  # format, sorted variant items, extension

# The file extensions the covering set sends per format: lower and upper case, one name without an
# extension, and a JPEG named .png ("by content, not by file name", LP-REQ-6). The generated requests
# draw from every extension of ``EXTENSIONS``.
COVERING_EXTENSIONS = {
    "JPEG": (".jpg", ".jpeg", ".JPG", ".png"),
    "PNG": (".png", ".PNG", ""),
    "BMP": (".bmp", ".BMP"),
}


@cache
def image_variants() -> dict[str, tuple[Variant, ...]]:
    """Every value of every encoding axis (VARIANT_AXES) and every covering extension of each
    format, zipped within the format: as many images per format as its longest axis."""
    variants: dict[str, tuple[Variant, ...]] = {}
    for fmt in FORMATS:
        axes, extensions = VARIANT_AXES[fmt], COVERING_EXTENSIONS[fmt]
        count = max(len(extensions), *(len(values) for values in axes.values()))
        variants[fmt] = tuple(
            (fmt, tuple(sorted((name, _at(values, i)) for name, values in axes.items())), _at(extensions, i))
            for i in range(count)
        )
    return variants


@dataclass(frozen=True)
class Slot:
    """One success request of the pool: an image variant, its size, its ``type`` and its purpose."""

    format: str
    variant: int  # index into image_variants()[format]
    width: int
    height: int
    type_value: str | None
    why: str = ""
    exact_size: int | None = None  # padded to exactly this many bytes (LP-REQ-6's 5 MiB)
    build: str = "scene"  # "scene": the photo cropped to the size; "flat": a face on a flat
    # background (the 4095-px sides, too long for the photo); "face": the smallest face photo


# The success pool (issue 18: at most 16 success requests per default run). Every image encoding
# and extension, every LP-REQ-6 boundary, every valid ``type`` and every request factor, in 12
# requests that every success-path test shares:
# - slots 0-7 are LP-OPS-2's burst: six ``type`` 1 requests whose images have aspect ratios at
#   least 25 % apart (a video handed to another request is caught by its aspect), and the
#   LP-VID-6 / LP-REQ-5 triple: the same 288×384 picture in three lossless encodings (identical
#   pixels) as type 1, type 0 and without type;
# - slots 8-11 are LP-REQ-6's limits: width 4095, height 4095, the smallest face photo, exactly 5 MiB.
POOL: tuple[Slot, ...] = (
    Slot("JPEG", 0, 384, 288, "1"),
    Slot("PNG", 1, 256, 512, "1"),
    Slot("JPEG", 1, 448, 256, "1"),
    Slot("PNG", 2, 320, 320, "1"),
    Slot("JPEG", 2, 576, 256, "1"),
    Slot("BMP", 1, 288, 384, "1", "the LP-VID-6 / LP-REQ-5 picture"),
    Slot("PNG", 0, 288, 384, "0", "the LP-VID-6 / LP-REQ-5 picture"),
    Slot("BMP", 0, 288, 384, None, "the LP-VID-6 / LP-REQ-5 picture"),
    Slot("JPEG", 3, MAX_SIDE, LIMIT_SHORT_SIDE, "0", "width 4095 px", build="flat"),
    Slot("PNG", 4, LIMIT_SHORT_SIDE, MAX_SIDE, None, "height 4095 px", build="flat"),
    Slot(
        "PNG",
        5,
        SMALLEST_FACE_FRAME,
        SMALLEST_FACE_FRAME,
        "0",
        f"the smallest face photo ({SMALLEST_FACE_FRAME} px)",
        build="face",
    ),
    Slot("PNG", 3, 512, 512, None, "exactly 5 MiB (5 × 1024 × 1024 bytes)", exact_size=MAX_IMAGE_BYTES),
)
BURST = range(8)  # the pool slots LP-OPS-2's 8 concurrent requests are
TRIPLE = {"1": 5, "0": 6, None: 7}  # the pool slots of one picture under each type (LP-VID-6, LP-REQ-5)


@cache
def success_axes() -> dict[str, tuple[Any, ...]]:
    """The request factors the pool zips (request ``i`` takes value ``i mod n`` of each)."""
    return {
        "stem": STEMS,
        "key header": NAMED_KEY_CASINGS,
        "part order": PART_ORDERS,
        "boundary": (None, *NAMED_BOUNDARIES),
        "part content type": PART_CONTENT_TYPES,
        "extra fields": ((), *(((name, EXTRA_FIELD_VALUE),) for name in UNKNOWN_FIELDS)),
        "extra headers": ((), *((header,) for header in UNKNOWN_HEADERS)),
    }


def _pool_image(slot: Slot, filename: str) -> ImageSample:
    fmt, variant, _ = image_variants()[slot.format][slot.variant]
    if slot.build == "flat":
        image = image_with_size(slot.width, slot.height, format=fmt, variant=variant, filename=filename)
    elif slot.build == "face":
        image = variant_photo(fmt, variant, side=max(slot.width, slot.height), filename=filename)
    else:
        image = scene_with_size(slot.width, slot.height, format=fmt, variant=variant, filename=filename)
    if slot.exact_size is not None:
        data = pad_png(image.data, slot.exact_size) if fmt == "PNG" else pad_jpeg(image.data, slot.exact_size)
        info = replace(image.info, size=len(data), notes=image.info.notes + "; padded with a comment")
        image = replace(
            image, data=data, info=info, description=f"{image.description}, padded to {len(data)} bytes"
        )
    return image


def _pool_request(index: int) -> ApiRequest:
    slot, axes = POOL[index], success_axes()
    extension = image_variants()[slot.format][slot.variant][2]
    image = _pool_image(slot, _at(axes["stem"], index) + extension)
    fields, headers = _at(axes["extra fields"], index), _at(axes["extra headers"], index)
    labels = ("LP-REQ-2", "LP-REQ-3", "LP-REQ-6") + (("LP-REQ-7",) if fields or headers else ())
    request = request_for(
        image,
        type_value=slot.type_value,
        key_header=_at(axes["key header"], index),
        image_first=_at(axes["part order"], index) == PART_ORDERS[0],
        boundary=_at(axes["boundary"], index),
        part_content_type=_at(axes["part content type"], index),
        extra_fields=fields,
        extra_headers=headers,
        expect_clause="LP-OK-1",
        labels=labels,
    )
    why = f"; {slot.why}" if slot.why else ""
    return replace(request, description=f"pool #{index}: {request.description}{why}")


@cache
def success_pool() -> tuple[ApiRequest, ...]:
    """The success requests every run sends (and every success-path test shares)."""
    return tuple(_pool_request(i) for i in range(len(POOL)))


def _face(index: int) -> ImageSample:
    return face_photo(format=_at(FORMATS, index), side=ERROR_SIDE)


def _keyed(clause: str, keys: Sequence[tuple[Key, str]]) -> tuple[ApiRequest, ...]:
    return tuple(
        request_for(_face(i), key=key, key_header=header, expect_clause=clause, labels=(clause,))
        for i, (key, header) in enumerate(keys)
    )


def _images(images: Sequence[InvalidImage]) -> tuple[ApiRequest, ...]:
    """Invalid images as the error strategies send them, the valid types taking turns."""
    return tuple(
        request_for(image, type_value=_at(VALID_TYPE_VALUES, i), labels=(image.clause, image.family))
        for i, image in enumerate(images)
    )


def _err1() -> tuple[ApiRequest, ...]:
    """No key header, then an empty key under every named casing."""
    keys = [(Key.MISSING, NAMED_KEY_CASINGS[0])] + [(Key.EMPTY, casing) for casing in NAMED_KEY_CASINGS]
    return _keyed("LP-ERR-1", keys)


def _err2() -> tuple[ApiRequest, ...]:
    return _keyed("LP-ERR-2", [(Key.INVALID, casing) for casing in NAMED_KEY_CASINGS])


def _err3() -> tuple[ApiRequest, ...]:
    return tuple(
        _without_image(_face(i), variant, _at(VALID_TYPE_VALUES, i))
        for i, variant in enumerate(MISSING_IMAGE_VARIANTS)
    )


def _err4() -> tuple[ApiRequest, ...]:
    texts = [_as_text(value, _at(VALID_TYPE_VALUES, i)) for i, value in enumerate(TEXT_IMAGE_VALUES)]
    count = max(len(IMAGE_NAMES), len(EMPTY_CONTENT_TYPES))
    empties = [
        request_for(_empty(_at(IMAGE_NAMES, i), _at(EMPTY_CONTENT_TYPES, i)), labels=("LP-ERR-4",))
        for i in range(count)
    ]
    return (*texts, *empties)


def _err5() -> tuple[ApiRequest, ...]:
    return tuple(
        request_for(_face(i), type_value=value, expect_clause="LP-ERR-5", labels=("LP-ERR-5",))
        for i, value in enumerate((*NAMED_INVALID_TYPES, *LONG_INVALID_TYPES))
    )


def _err6() -> tuple[ApiRequest, ...]:
    return _images(
        [
            _unsupported_image(kind, _at(IMAGE_NAMES, i), RANDOM_NOISE)
            for i, kind in enumerate(UNSUPPORTED_KINDS)
        ]
    )


def _err7() -> tuple[ApiRequest, ...]:
    images = []
    for fmt, how in itertools.product(FORMATS, CORRUPTIONS):
        amounts = END_CUTS if how == "truncated-end" else (TRUNCATION_FRACTION,)
        images += [_corrupt(fmt, how, amount) for amount in amounts]
    return _images(images)


def _err8() -> tuple[ApiRequest, ...]:
    """5 MiB + 1 in both padded formats, then the other sizes over the limit, the kinds taking turns."""
    plus_one = [_oversized(kind, 1) for kind in OVERSIZED_KINDS if kind != "BMP"]
    others = OVERSIZED_EXTRAS[1:]
    count = max(len(OVERSIZED_KINDS), len(others))
    return _images(plus_one + [_oversized(_at(OVERSIZED_KINDS, i), _at(others, i)) for i in range(count)])


def _too_high(image: ImageSample) -> InvalidImage:
    assert isinstance(image, InvalidImage), f"{image.description} is valid: a side must be ≥ 4096"
    return image


def _err9() -> tuple[ApiRequest, ...]:
    """4096 px on the width alone, on the height alone and on both (a face, then flat images in
    each format), the other huge sides, then every bomb."""
    faces = [
        _too_high(image_with_size(width, height, format="JPEG"))
        for width, height in (
            (TOO_HIGH, LIMIT_SHORT_SIDE),
            (LIMIT_SHORT_SIDE, TOO_HIGH),
            (TOO_HIGH, TOO_HIGH),
        )
    ]
    flat = [
        _real_huge(fmt, TOO_HIGH, _at(HUGE_SHORT_SIDES, i), tall)
        for i, (fmt, tall) in enumerate(itertools.product(FORMATS, (False, True)))
    ]
    longer = [
        _real_huge(_at(FORMATS, i), side, _at(HUGE_SHORT_SIDES, i), bool(i % 2))
        for i, side in enumerate(s for s in HUGE_LONG_SIDES if s != TOO_HIGH)
    ]
    bombs = [decompression_bomb(*size) for size in BOMB_SIZES]
    return _images([*faces, *flat, *longer, *bombs])


def _err10() -> tuple[ApiRequest, ...]:
    count = max(len(FACELESS_CORPUS), len(FACELESS_SCALES), len(FORMATS))
    return _images(
        [_faceless(_at(FACELESS_CORPUS, i), _at(FACELESS_SCALES, i), _at(FORMATS, i)) for i in range(count)]
    )


def _err11() -> tuple[ApiRequest, ...]:
    return tuple(_non_multipart(_face(i), kind) for i, kind in enumerate(NON_MULTIPART))


# The suite test each list belongs to, by the clause it is about: "LP-OK-1" is the success pool
# (LP-OK-*, LP-VID-*, LP-REQ-2/-3/-6/-7, LP-OPS-2's burst), "LP-ERR-n" the failures.
_BUILDERS: dict[str, Callable[[], tuple[ApiRequest, ...]]] = {
    "LP-OK-1": success_pool,
    "LP-ERR-1": _err1,
    "LP-ERR-2": _err2,
    "LP-ERR-3": _err3,
    "LP-ERR-4": _err4,
    "LP-ERR-5": _err5,
    "LP-ERR-6": _err6,
    "LP-ERR-7": _err7,
    "LP-ERR-8": _err8,
    "LP-ERR-9": _err9,
    "LP-ERR-10": _err10,
    "LP-ERR-11": _err11,
}
CLAUSES = tuple(_BUILDERS)


@cache
def covering_requests(clause: str) -> tuple[ApiRequest, ...]:
    """The fixed requests every run sends for ``clause`` (one of ``CLAUSES``), in a fixed order."""
    if clause not in _BUILDERS:
        raise ValueError(f"clause={clause!r} has no covering set; choose one of {', '.join(CLAUSES)}")
    return _BUILDERS[clause]()
