"""Strategies for whole requests (LP-REQ-*, LP-ERR-1 … 11): what to send and the clause it exercises.

Multipart bodies are built by the client with httpx from ``parts``; only anomalies httpx cannot
express (a file part without a Content-Type header) are built here by hand into ``raw_body``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from urllib.parse import urlencode

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conformance.exchange import ApiRequest, Key, Part
from conformance.protocol.request import DEFAULT_TYPE, IMAGE_FIELD, KEY_HEADER, TYPE_FIELD, VALID_TYPES
from conformance.strategies._samples import FORMATS, MAX_SIDE, ImageSample, InvalidImage
from conformance.strategies._valid import SMALLEST_FACE_FRAME, face_photo, valid_images
from conformance.strategies.fields import (
    invalid_type_values,
    key_header_casings,
    valid_type_values,
)
from conformance.strategies.images import (
    corrupt_images,
    empty_images,
    faceless_images,
    huge_resolution_images,
    oversized_images,
    unsupported_images,
)

# RFC 2046 §5.1.1 bchars that are also RFC 2045 token characters, so the Content-Type header needs
# no quoting (the client writes ``boundary=…`` as is): a boundary of 1 to 70 of these.
BOUNDARY_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'+_-."
RAW_BOUNDARY = "livephoto-conformance-boundary"
PART_CONTENT_TYPES = ("exact", "absent", "generic")  # LP-REQ-2: with or without a part Content-Type
# A part type naming another image format: LP-REQ-6 judges "by content", so a target SHOULD cope,
# but the SPEC does not say MUST — opt-in through request_for(part_content_type="mismatched").
MISMATCHED_TYPES = {"image/jpeg": "image/png", "image/png": "image/bmp", "image/bmp": "image/jpeg"}
UNKNOWN_FIELDS = ("comment", "client_version", "x_extra", "callback")  # LP-REQ-7
UNKNOWN_HEADERS = (("X-Conformance-Probe", "1"), ("Accept", "application/json"), ("X-Trace", "abc"))
# LP-REQ-2 "any boundary": one character, a browser's, every punctuation RFC 2046 allows, 70 characters.
NAMED_BOUNDARIES = (
    "x",
    "----WebKitFormBoundary7MA4YWxkTrZu0gW",
    "'+_-.conformance.-_+'",
    "b" + "0123456789" * 6 + "abcdefghi",
)
PART_ORDERS = ("image first", "type first")  # LP-REQ-2: parts in any order
MISSING_IMAGE_VARIANTS = ("type only", "file under another name", "unknown field only")  # LP-ERR-3
TEXT_IMAGE_VALUES = ("photo.jpg", "", "data:image/png;base64,iVBORw0KGgo=")  # LP-ERR-4: a text field
NON_MULTIPART = ("json", "urlencoded")  # LP-ERR-11: wrong content types

__all__ = [
    "corrupt_image_requests",
    "faceless_requests",
    "huge_resolution_requests",
    "invalid_requests",
    "invalid_type_requests",
    "missing_image_requests",
    "missing_key_requests",
    "oversized_requests",
    "request_for",
    "text_field_image_requests",
    "unknown_key_requests",
    "unsupported_format_requests",
    "valid_requests",
    "wrong_content_type_requests",
]


def _safe_boundary(boundary: str, contents: list[bytes]) -> str:
    while any(b"--" + boundary.encode() in content for content in contents):
        boundary = (boundary + "Lp")[-70:] if len(boundary) >= 68 else boundary + "Lp"
    return boundary


def _multipart(parts: tuple[Part, ...], boundary: str) -> bytes:
    out = []
    for part in parts:
        disposition = f'form-data; name="{part.name}"'
        if part.filename is not None:
            disposition += f'; filename="{part.filename}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if part.content_type is not None:
            head += f"Content-Type: {part.content_type}\r\n"
        out.append(head.encode() + b"\r\n" + part.content + b"\r\n")
    return b"".join(out) + f"--{boundary}--\r\n".encode()


def request_for(
    image: ImageSample,
    *,
    type_value: str | None = DEFAULT_TYPE,
    key: Key = Key.VALID,
    key_header: str = KEY_HEADER,
    image_first: bool = True,
    boundary: str | None = None,
    part_content_type: str = "exact",
    extra_fields: tuple[tuple[str, str], ...] = (),
    extra_headers: tuple[tuple[str, str], ...] = (),
    expect_clause: str | None = None,
    labels: tuple[str, ...] = (),
) -> ApiRequest:
    """A request uploading ``image`` as ``image_target`` (LP-REQ-2..7); None ``type_value`` omits it.

    The expected clause defaults to the image's own (an InvalidImage) or LP-OK-1.
    """
    if part_content_type not in (*PART_CONTENT_TYPES, "mismatched"):
        raise InvalidArgument(
            f"part_content_type={part_content_type!r} must be one of {(*PART_CONTENT_TYPES, 'mismatched')}"
        )
    ctype = {
        "exact": image.content_type or "application/octet-stream",
        "absent": None,
        "generic": "application/octet-stream",
        "mismatched": MISMATCHED_TYPES.get(image.content_type or "", "text/plain"),
    }[part_content_type]
    image_part = Part(IMAGE_FIELD, image.data, image.filename, ctype)
    fields = [Part(name, value.encode()) for name, value in extra_fields]
    type_parts = [Part(TYPE_FIELD, type_value.encode())] if type_value is not None else []
    parts = tuple([image_part, *type_parts] if image_first else [*type_parts, image_part]) + tuple(fields)
    if boundary is not None:
        boundary = _safe_boundary(boundary, [p.content for p in parts])
    # httpx always writes a part Content-Type for files (guessed, else application/octet-stream).
    hand_built = ctype is None and image.filename is not None
    order = f"{IMAGE_FIELD} then type" if image_first else f"type then {IMAGE_FIELD}"
    if type_value is None:
        order = f"{IMAGE_FIELD} only"
    bits = [
        image.description,
        f"type={type_value!r}" if type_value is not None else "type absent",
        f"parts {order}",
        f"boundary {boundary!r}" if boundary else "default boundary",
        f"part Content-Type {ctype or 'absent'}",
    ]
    if key is not Key.VALID:
        bits.append(f"API key {key.value}")
    if key_header != KEY_HEADER:
        bits.append(f"key header {key_header!r}")
    if extra_fields:
        bits.append("extra fields " + ", ".join(name for name, _ in extra_fields))
    if extra_headers:
        bits.append("extra headers " + ", ".join(name for name, _ in extra_headers))
    if hand_built:
        bits.append("hand-built body")
    clause = expect_clause or (image.clause if isinstance(image, InvalidImage) else "LP-OK-1")
    request = ApiRequest(
        description=", ".join(bits),
        parts=parts,
        key=key,
        key_header=key_header,
        headers=extra_headers,
        boundary=boundary,
        image=image.info,
        expect_clause=clause,
        labels=labels,
    )
    if not hand_built:
        return request
    boundary = boundary or _safe_boundary(RAW_BOUNDARY, [p.content for p in parts])
    return replace(
        request,
        boundary=None,
        raw_body=_multipart(parts, boundary),
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def boundaries() -> st.SearchStrategy[str | None]:
    """None (the client derives one from the parts), a named or any RFC 2046 boundary (LP-REQ-2)."""
    return (
        st.none()
        | st.sampled_from(NAMED_BOUNDARIES)
        | st.text(alphabet=BOUNDARY_CHARS, min_size=1, max_size=70)
    )


@st.composite
def _valid_request(
    draw: st.DrawFn, types: tuple[str | None, ...], formats: tuple[str, ...], max_side: int
) -> ApiRequest:
    image = draw(valid_images(formats=formats, max_side=max_side))
    extra_fields = tuple(
        draw(
            st.lists(
                st.tuples(st.sampled_from(UNKNOWN_FIELDS), st.text(alphabet="abcdefxyz019 ", max_size=12)),
                max_size=2,
            )
        )
    )
    extra_headers = tuple(draw(st.lists(st.sampled_from(UNKNOWN_HEADERS), max_size=2, unique=True)))
    labels = ["LP-REQ-2", "LP-REQ-3", "LP-REQ-5", "LP-REQ-6"] + (
        ["LP-REQ-7"] if extra_fields or extra_headers else []
    )
    return request_for(
        image,
        type_value=draw(st.sampled_from(types)),
        key_header=draw(key_header_casings()),
        image_first=draw(st.sampled_from(PART_ORDERS)) == PART_ORDERS[0],
        boundary=draw(boundaries()),
        part_content_type=draw(st.sampled_from(PART_CONTENT_TYPES)),
        extra_fields=extra_fields,
        extra_headers=extra_headers,
        expect_clause="LP-OK-1",
        labels=tuple(labels),
    )


def valid_requests(
    *,
    types: tuple[str | None, ...] = (*VALID_TYPES, None),
    formats: tuple[str, ...] = FORMATS,
    max_side: int = 1024,
) -> st.SearchStrategy[ApiRequest]:
    """Requests the target must answer with a video (LP-OK-1), varied as LP-REQ-2, -3, -5, -7 allow."""
    types = tuple(types)
    if not types or any(t not in (*VALID_TYPES, None) for t in types):
        raise InvalidArgument(f"types={types!r} must be a non-empty subset of ('0', '1', None) (LP-REQ-5)")
    if not SMALLEST_FACE_FRAME <= max_side <= MAX_SIDE:
        raise InvalidArgument(f"max_side={max_side} must be between {SMALLEST_FACE_FRAME} and {MAX_SIDE}")
    valid_images(formats=tuple(formats), max_side=max_side)  # validates formats eagerly
    return _valid_request(types, tuple(formats), max_side)


def _small_faces() -> st.SearchStrategy[ImageSample]:
    return st.sampled_from(("JPEG", "PNG", "BMP")).map(lambda fmt: face_photo(format=fmt, side=256))


def missing_key_requests() -> st.SearchStrategy[ApiRequest]:
    """Valid requests without the key header or with an empty one (LP-ERR-1 → 401)."""
    return st.builds(
        lambda image, key, header: request_for(
            image, key=key, key_header=header, expect_clause="LP-ERR-1", labels=("LP-ERR-1",)
        ),
        _small_faces(),
        st.sampled_from((Key.MISSING, Key.EMPTY)),
        key_header_casings(),
    )


def unknown_key_requests() -> st.SearchStrategy[ApiRequest]:
    """Valid requests with a key the target does not know (LP-ERR-2 → 401)."""
    return st.builds(
        lambda image, header: request_for(
            image, key=Key.INVALID, key_header=header, expect_clause="LP-ERR-2", labels=("LP-ERR-2",)
        ),
        _small_faces(),
        key_header_casings(),
    )


def _without_image(image: ImageSample, variant: str, type_value: str | None) -> ApiRequest:
    parts: list[Part] = [Part(TYPE_FIELD, type_value.encode())] if type_value is not None else []
    if variant == "file under another name":
        parts.append(Part("image", image.data, image.filename, image.content_type))
    elif variant == "unknown field only" or not parts:
        parts.append(Part("comment", b"no image here"))
    return ApiRequest(
        description=f"no {IMAGE_FIELD} part ({variant}), type={type_value!r}",
        parts=tuple(parts),
        expect_clause="LP-ERR-3",
        labels=("LP-ERR-3",),
    )


def missing_image_requests() -> st.SearchStrategy[ApiRequest]:
    """Multipart requests without an ``image_target`` part (LP-ERR-3 → 400 MISSING_PARAMETERS)."""
    return st.builds(
        _without_image, _small_faces(), st.sampled_from(MISSING_IMAGE_VARIANTS), valid_type_values()
    )


def _as_text(value: str, type_value: str | None) -> ApiRequest:
    parts = [Part(IMAGE_FIELD, value.encode())]
    parts += [Part(TYPE_FIELD, type_value.encode())] if type_value is not None else []
    return ApiRequest(
        description=f"{IMAGE_FIELD} sent as a text field {value[:20]!r}, type={type_value!r}",
        parts=tuple(parts),
        expect_clause="LP-ERR-4",
        labels=("LP-ERR-4",),
    )


def text_field_image_requests() -> st.SearchStrategy[ApiRequest]:
    """``image_target`` as a plain text field or an empty file (LP-ERR-4)."""
    text = st.builds(_as_text, st.sampled_from(TEXT_IMAGE_VALUES), valid_type_values())
    empty = empty_images().map(lambda image: request_for(image, labels=("LP-ERR-4",)))
    return text | empty


def invalid_type_requests() -> st.SearchStrategy[ApiRequest]:
    """A valid face photo with an invalid ``type`` (LP-ERR-5 → 400 ERROR_INVALID_PARAMETER)."""
    return st.builds(
        lambda image, value: request_for(
            image, type_value=value, expect_clause="LP-ERR-5", labels=("LP-ERR-5",)
        ),
        _small_faces(),
        invalid_type_values(),
    )


def _image_requests(images: st.SearchStrategy[InvalidImage]) -> st.SearchStrategy[ApiRequest]:
    return st.builds(
        lambda image, type_value: request_for(
            image, type_value=type_value, labels=(image.clause, image.family)
        ),
        images,
        valid_type_values(),
    )


def unsupported_format_requests() -> st.SearchStrategy[ApiRequest]:
    """Uploads in formats other than JPEG/PNG/BMP with image-like names (LP-ERR-6 → 415)."""
    return _image_requests(unsupported_images())


def corrupt_image_requests() -> st.SearchStrategy[ApiRequest]:
    """Truncated or corrupt JPEG/PNG/BMP uploads (LP-ERR-7 → FILE_DECODING_FAILURE)."""
    return _image_requests(corrupt_images())


def oversized_requests() -> st.SearchStrategy[ApiRequest]:
    """Valid images over 5 MiB (LP-ERR-8 → 413 FILE_SIZE_EXCEEDS_LIMIT)."""
    return _image_requests(oversized_images())


def huge_resolution_requests() -> st.SearchStrategy[ApiRequest]:
    """Images with a side ≥ 4096, bombs included (LP-ERR-9)."""
    return _image_requests(huge_resolution_images())


def faceless_requests() -> st.SearchStrategy[ApiRequest]:
    """Valid photos without a human face (LP-ERR-10 → 422 ERROR_NO_FACE_IN_FILE)."""
    return _image_requests(faceless_images())


def _non_multipart(image: ImageSample, kind: str) -> ApiRequest:
    encoded = base64.b64encode(image.data).decode()
    if kind == "json":
        body, ctype = (
            json.dumps({IMAGE_FIELD: encoded, TYPE_FIELD: DEFAULT_TYPE}).encode(),
            "application/json",
        )
    else:
        body, ctype = (
            urlencode({IMAGE_FIELD: encoded, TYPE_FIELD: DEFAULT_TYPE}).encode(),
            "application/x-www-form-urlencoded",
        )
    return ApiRequest(
        description=f"{ctype} body with the image base64-encoded ({len(body)} bytes), not multipart",
        raw_body=body,
        content_type=ctype,
        image=image.info,
        expect_clause="LP-ERR-11",
        labels=("LP-ERR-11",),
    )


def wrong_content_type_requests() -> st.SearchStrategy[ApiRequest]:
    """A JSON or urlencoded body instead of multipart (LP-ERR-11 → 400 or 415)."""
    return st.builds(_non_multipart, _small_faces(), st.sampled_from(NON_MULTIPART))


def invalid_requests() -> st.SearchStrategy[ApiRequest]:
    """Any request the target must reject (LP-ERR-1 … LP-ERR-11)."""
    return st.one_of(
        missing_key_requests(),
        unknown_key_requests(),
        missing_image_requests(),
        text_field_image_requests(),
        invalid_type_requests(),
        unsupported_format_requests(),
        corrupt_image_requests(),
        oversized_requests(),
        huge_resolution_requests(),
        faceless_requests(),
        wrong_content_type_requests(),
    )
