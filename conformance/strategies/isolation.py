"""Split a refused valid request into its factors, to name the one at fault (issue 18).

A success request of the run combines factors (an image encoding, a ``type``, a key header
casing, a multipart form, unknown fields), so one request serves many clauses. When a target
refuses such a request, the suite sends a few follow-ups, each carrying one factor on a plain
request, and the report names the clause of the factor that is refused alone (one defect, one
failing clause). Extra requests are spent only on failures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from conformance.exchange import KEY_HEADER, ApiRequest, Part
from conformance.protocol.request import IMAGE_FIELD, TYPE_FIELD
from conformance.strategies._samples import MIME, ImageSample
from conformance.strategies._valid import face_photo
from conformance.strategies.requests import request_for

BASELINE_TYPE = "0"
# The clause each factor belongs to; a refused ``type`` 0 / 1 / absent is LP-OK-1's ("for type 0,
# 1 and absent"), the others are what LP-REQ-2, -3, -6 and -7 say a target MUST accept.
IMAGE, TYPE, KEY_CASING, FORM, EXTRAS = "LP-REQ-6", "LP-OK-1", "LP-REQ-3", "LP-REQ-2", "LP-REQ-7"


@dataclass(frozen=True)
class Factor:
    """One factor of a request, carried alone by a plain request."""

    clause: str
    what: str
    request: ApiRequest


@cache
def baseline() -> ApiRequest:
    """The plainest valid request: a 256-px JPEG face photo, ``type`` 0, the documented header."""
    request = request_for(face_photo(format="JPEG", side=256), type_value=BASELINE_TYPE, labels=())
    return replace(request, description=f"the plainest valid request ({request.description})")


def _image_part(request: ApiRequest) -> Part | None:
    return next((p for p in request.parts if p.name == IMAGE_FIELD and p.filename is not None), None)


def _type_part(request: ApiRequest) -> Part | None:
    return next((p for p in request.parts if p.name == TYPE_FIELD and p.filename is None), None)


def factors(request: ApiRequest) -> tuple[Factor, ...]:
    """The factors in which ``request`` differs from ``baseline()``, each on its own plain request.

    Empty when the request cannot be taken apart (no ``image_target`` file part).
    """
    plain = baseline()
    image, plain_image = _image_part(request), _image_part(plain)
    if image is None or plain_image is None:
        return ()
    photo = face_photo(format="JPEG", side=256)
    type_part = _type_part(request)
    type_value = BASELINE_TYPE if type_part is None else type_part.content.decode("utf-8", "replace")
    fmt = request.image.format if request.image is not None else ""
    found: list[Factor] = []

    def alone(clause: str, what: str, variant: ApiRequest) -> None:
        found.append(Factor(clause, what, replace(variant, description=f"{what}, on the plainest request")))

    if image.content != plain_image.content or image.filename != plain_image.filename:
        info = request.image or photo.info
        sample = ImageSample(
            image.content, image.filename, MIME.get(fmt, photo.content_type), info, "the image"
        )
        what = f"the image ({fmt or 'a file'} named {image.filename!r})"
        alone(IMAGE, what, request_for(sample, type_value=BASELINE_TYPE))
    if type_part is None or type_value != BASELINE_TYPE:
        what = "no type" if type_part is None else f"type={type_value!r}"
        alone(TYPE, what, request_for(photo, type_value=None if type_part is None else type_value))
    if request.key_header != KEY_HEADER:
        what = f"the key header spelled {request.key_header!r}"
        alone(KEY_CASING, what, request_for(photo, type_value=BASELINE_TYPE, key_header=request.key_header))
    type_first = type_part is not None and request.parts.index(type_part) < request.parts.index(image)
    boundary = request.boundary or _boundary_of(request.content_type)
    part_type = {None: "absent", "application/octet-stream": "generic"}.get(image.content_type, "exact")
    if boundary is not None or type_first or part_type != "exact":
        form = request_for(
            photo,
            type_value=BASELINE_TYPE,
            image_first=not type_first,
            boundary=boundary,
            part_content_type=part_type,
        )
        alone(FORM, "the multipart form (part order, boundary, part Content-Type)", form)
    fields = tuple(
        (p.name, p.content.decode("utf-8", "replace"))
        for p in request.parts
        if p.name not in (IMAGE_FIELD, TYPE_FIELD)
    )
    if fields or request.headers:
        extras = request_for(
            photo, type_value=BASELINE_TYPE, extra_fields=fields, extra_headers=request.headers
        )
        alone(EXTRAS, "the unknown fields and headers", extras)
    return tuple(found)


def _boundary_of(content_type: str | None) -> str | None:
    """The boundary parameter of a hand-built body's multipart Content-Type."""
    if not content_type or "boundary=" not in content_type:
        return None
    return content_type.split("boundary=", 1)[1].split(";", 1)[0].strip().strip('"')
