"""Describe an observed request as the suite's ``ApiRequest``, and say which §5 clause it breaks.

The proxy sees bytes, not the suite's intentions: the request is parsed back into parts (the body is
already bounded by the proxy's cap) and the image is identified from its header only (Pillow's lazy
``Image.open``: format and size, never the pixels).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from conformance.exchange import ApiRequest, ImageInfo, Key, Part
from conformance.protocol.multipart import OBSERVER_LIMITS, UploadRejected, parse_form
from conformance.protocol.request import (
    ENDPOINT_PATH,
    FORMATS,
    IMAGE_FIELD,
    KEY_HEADER,
    MAX_IMAGE_BYTES,
    MAX_SIDE,
    TYPE_FIELD,
    VALID_TYPES,
)

SUPPORTED_FORMATS = (*FORMATS, "MPO")  # LP-REQ-6 (MPO: Pillow's name for a multi-picture JPEG)
# Leading bytes of the supported formats: a file that starts like one but Pillow cannot read is
# corrupt (LP-ERR-7), anything else unreadable is not a supported image at all (LP-ERR-6).
SUPPORTED_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"BM")


@dataclass(frozen=True)
class Observed:
    """A request as the proxy saw it: the suite's description, the key and the facts cassettes use.

    ``key`` is the API key the request carried (None when absent); it is never written anywhere.
    """

    request: ApiRequest
    key: str | None = field(repr=False)  # never in a repr, a log line or a traceback
    image_sha256: str | None
    type_value: str | None
    body_bytes: int
    query: str = ""
    image_problem: str = ""  # image_info's note: "", "bomb", "corrupt" or "unidentified"
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # as received: hold the key

    @property
    def key_state(self) -> str:
        """``present``, ``empty`` or ``missing``: what replay matching may use."""
        if self.key is None:
            return "missing"
        return "present" if self.key.strip() else "empty"


def parse_parts(body: bytes, content_type: str) -> tuple[Part, ...] | None:
    """Every part of a multipart/form-data body, whole, or None when the body is not (valid)
    multipart: the protocol's reader, the one the reference server uses, with nothing dropped."""
    try:
        form = parse_form(body, content_type, OBSERVER_LIMITS)
    except UploadRejected:
        return None
    return tuple(
        Part(name=part.name, content=bytes(part.data), filename=part.filename, content_type=part.content_type)
        for part in form.parts
    )


def image_info(content: bytes) -> tuple[ImageInfo | None, str]:
    """The image's format and size from its header, and a note; (None, why) when it is no image.

    A declared size so large that Pillow calls it a decompression bomb is reported as such, with
    the sides unknown (0).
    """
    try:
        with Image.open(io.BytesIO(content)) as image:
            return ImageInfo(
                format=image.format or "", width=image.width, height=image.height, size=len(content)
            ), ""
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return ImageInfo(format="", width=0, height=0, size=len(content), notes="decompression bomb"), "bomb"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        starts_supported = any(content.startswith(magic) for magic in SUPPORTED_MAGIC)
        return None, "corrupt" if starts_supported else "unidentified"


def _first(parts: Sequence[Part], name: str) -> Part | None:
    return next((part for part in parts if part.name == name), None)


def observe_request(
    method: str, path: str, query: str, headers: Sequence[tuple[str, str]], body: bytes
) -> Observed:
    """Describe one request the proxy received (``path`` relative to the upstream base)."""
    key = next((value for name, value in headers if name.lower() == KEY_HEADER), None)
    key_header = next((name for name, _ in headers if name.lower() == KEY_HEADER), KEY_HEADER)
    content_type = next((value for name, value in headers if name.lower() == "content-type"), "")
    parts = parse_parts(body, content_type) if body else ()
    image_part = _first(parts or (), IMAGE_FIELD)
    type_part = _first(parts or (), TYPE_FIELD)
    info, problem = None, ""
    if image_part is not None and image_part.content:
        info, problem = image_info(image_part.content)
    # The proxy cannot know which keys the upstream accepts: any non-empty key counts as VALID.
    state = Key.MISSING if key is None else Key.VALID if key.strip() else Key.EMPTY
    request = ApiRequest(
        description=f"proxied {method} {path}",
        parts=parts or (),
        key=state,
        key_header=key_header,
        method=method,
        path=path,
        raw_body=None,
        content_type=None if parts is not None else content_type or None,
        image=info,
    )
    return Observed(
        request=request,
        key=key,
        image_sha256=hashlib.sha256(image_part.content).hexdigest() if image_part is not None else None,
        type_value=None if type_part is None else type_part.content.decode("utf-8", "replace"),
        body_bytes=len(body),
        query=query,
        headers=tuple(headers),
        image_problem=problem,
    )


def broken_clauses(observed: Observed) -> list[str]:
    """The §5 clauses a request on the endpoint visibly breaks, in the order a target checks them.

    Only what the bytes show is judged: a key the upstream does not know (LP-ERR-2), a corrupt
    image whose header still reads (LP-ERR-7) and an image without a face (LP-ERR-10) are left to
    the response.
    """
    request = observed.request
    if request.key in (Key.MISSING, Key.EMPTY):
        return ["LP-ERR-1"]  # SPEC: authentication is checked before the body is processed
    content_type = request.content_type
    if request.method == "POST" and content_type is not None:
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime in ("application/json", "application/x-www-form-urlencoded"):
            return ["LP-ERR-11"]
        return []  # not multipart, nor a wrong type the SPEC names: the response decides
    broken: list[str] = []
    image = _first(request.parts, IMAGE_FIELD)
    if image is None:
        broken.append("LP-ERR-3")
    elif image.filename is None or not image.content:
        broken.append("LP-ERR-4")
    type_part = _first(request.parts, TYPE_FIELD)
    if type_part is not None and type_part.content.decode("utf-8", "replace") not in VALID_TYPES:
        broken.append("LP-ERR-5")
    if image is not None and image.filename is not None and image.content:
        broken += _image_clauses(image, observed)
    return broken


def _image_clauses(image: Part, observed: Observed) -> list[str]:
    if len(image.content) > MAX_IMAGE_BYTES:
        return ["LP-ERR-8"]
    info, why = observed.request.image, observed.image_problem  # read once, in observe_request
    if why == "bomb":
        return ["LP-ERR-9"]
    if info is None:
        return ["LP-ERR-7" if why == "corrupt" else "LP-ERR-6"]
    if info.format not in SUPPORTED_FORMATS:
        return ["LP-ERR-6"]
    if info.width > MAX_SIDE or info.height > MAX_SIDE:
        return ["LP-ERR-9"]
    return []


def expectation(observed: Observed) -> str | None:
    """What the suite would expect of the answer: the one §5 clause the request breaks, or None
    (the response decides) when it breaks none or several (a target may report any of them)."""
    if observed.request.path != ENDPOINT_PATH:
        return None
    broken = broken_clauses(observed)
    return broken[0] if len(broken) == 1 else None
