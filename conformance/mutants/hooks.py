"""The faults the mutant catalogue plants in the reference server (issue 8): small hook factories.

Each factory returns one hook of a kind that ``conformance.mutants.plant.MutantSet`` applies:
``decide`` (alter the outcome), ``body`` (alter the JSON object), ``response`` (alter the HTTP
response), ``intake`` (alter or refuse the parsed upload), ``load`` (decode the image) and
``request_id``; the ``video`` hooks are in ``conformance.mutants.video``. Nothing here runs unless
a mutant is named.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import numpy as np
from PIL import Image
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from conformance.contract import Edition
from conformance.mock.hooks import Loader, LoadHook, Pixels
from conformance.mock.images import ImageRejected, header_size, sniff
from conformance.mock.upload import Upload
from conformance.mutants.model import (
    BodyHook,
    Case,
    Ctx,
    DecideHook,
    IntakeHook,
    IntakeResult,
    JsonObject,
    ResponseHook,
)
from conformance.protocol.envelope import Outcome, error, status_of
from conformance.protocol.request import MAX_SIDE, MIN_SIDE

Predicate = Callable[[Upload, Ctx], bool]  # which uploads an intake hook refuses

# ---------------------------------------------------------------- which failure an outcome answers


def code_is(*codes: str) -> Case:
    """Outcomes with one of these codes."""
    return lambda outcome, ctx: outcome.code in codes


HOSTILE_BODY = 40 * 1024 * 1024  # LP-SEC-3's "oversized bodies (e.g. 50 MB)", not LP-ERR-8's images


def oversized_body(outcome: Outcome, ctx: Ctx) -> bool:
    """LP-SEC-3: a body of tens of MB refused as too large (not a 5 MiB + 1 image, LP-ERR-8's)."""
    declared = ctx.request.headers.get("content-length", "")
    too_large = outcome.code == "ERROR_REQUEST_BODY_TOO_LARGE"
    return too_large and (not declared.isdigit() or int(declared) >= HOSTILE_BODY)


def missing_image(outcome: Outcome, ctx: Ctx) -> bool:
    """LP-ERR-3: the body had no image_target part."""
    return outcome.code == "MISSING_PARAMETERS" and ctx.upload is not None and ctx.upload.image is None


def text_or_empty_image(outcome: Outcome, ctx: Ctx) -> bool:
    """LP-ERR-4: image_target as a text field or an empty file."""
    return (
        outcome.code in ("MISSING_PARAMETERS", "PARAMETERS_CANNOT_EMPTY")
        and ctx.upload is not None
        and ctx.upload.image is not None
    )


def not_multipart(outcome: Outcome, ctx: Ctx) -> bool:
    """LP-ERR-11: a JSON or urlencoded body."""
    content_type = ctx.request.headers.get("content-type", "").lower()
    return outcome.code == "MISSING_PARAMETERS" and not content_type.startswith("multipart/")


def injected_server_error(outcome: Outcome, ctx: Ctx) -> bool:
    """LP-ERR-13: the fault header asked for a server failure."""
    return outcome.status >= 500 and outcome.message.startswith("Injected fault")


def client_error(outcome: Outcome, ctx: Ctx) -> bool:
    """Any 4xx outcome."""
    return 400 <= outcome.status < 500


# ---------------------------------------------------------------- decide hooks


def answer(case: Case, code: str, status: int | None = None, message: str | None = None) -> DecideHook:
    """A decide hook: outcomes matching ``case`` get ``code`` with ``status`` (default: the code's
    status in the server's edition)."""

    def decide(outcome: Outcome, ctx: Ctx) -> Outcome:
        if not case(outcome, ctx):
            return outcome
        return Outcome(
            status=status if status is not None else status_of(code, ctx.edition),
            code=code,
            message=message or outcome.message,
            headers=outcome.headers,
        )

    return decide


def in_edition(edition: Edition) -> DecideHook:
    """A decide hook: every error answered with its status in another edition (SPEC §0)."""

    def decide(outcome: Outcome, ctx: Ctx) -> Outcome:
        if outcome.status == 200:
            return outcome
        return replace(outcome, status=status_of(outcome.code, edition))

    return decide


def without_header(name: str) -> DecideHook:
    """A decide hook: drop one response header (e.g. Retry-After)."""

    def decide(outcome: Outcome, ctx: Ctx) -> Outcome:
        kept = {k: v for k, v in outcome.headers.items() if k.lower() != name.lower()}
        return replace(outcome, headers=kept)

    return decide


HOSTILE_CODES = ("MISSING_PARAMETERS", "FILE_RESOLUTION_EXCEEDS_LIMITS", "FILE_DECODING_FAILURE")


def dies_after_hostile(outcome: Outcome, ctx: Ctx) -> Outcome:
    """After a malformed body, a bomb or a corrupt file, every later request fails with 500."""
    if ctx.shared.dead:
        return error("SERVICE_INTERNAL_ERROR", "The worker is gone.", ctx.edition)
    if outcome.code in HOSTILE_CODES:
        ctx.shared.dead = True
    return outcome


def success_is_removed_endpoint(outcome: Outcome, ctx: Ctx) -> Outcome:
    """The endpoint moved: a POST to the documented path is a 404 (LP-REQ-1)."""
    if ctx.request.method != "POST":
        return outcome
    return error("ERROR_RESOURCE_NOT_FOUND", f"No resource at {ctx.request.url.path}.", ctx.edition)


class _Delayed(Response):
    """A response sent only after a pause (the wrapped response is sent unchanged)."""

    def __init__(self, inner: Response, seconds: float) -> None:
        self.inner, self.seconds = inner, seconds
        self.status_code, self.raw_headers, self.body = inner.status_code, inner.raw_headers, b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(self.seconds)
        await self.inner(scope, receive, send)


def slow_client_errors(seconds: float, case: Case = client_error) -> ResponseHook:
    """A response hook that answers the client errors ``case`` picks (any 4xx by default) after
    ``seconds`` (LP-OPS-1: within 5 s)."""

    def hook(response: Response, outcome: Outcome, ctx: Ctx) -> Response:
        return _Delayed(response, seconds) if client_error(outcome, ctx) and case(outcome, ctx) else response

    return hook


# ---------------------------------------------------------------- body hooks (the JSON object)


def drop(*path: str) -> BodyHook:
    """A body hook removing a field (``drop("error_detail", "message")`` for a nested one)."""

    def body(obj: JsonObject, outcome: Outcome, ctx: Ctx) -> JsonObject:
        target = obj
        for key in path[:-1]:
            target = target.get(key, {})
        if isinstance(target, dict):
            target.pop(path[-1], None)
        return obj

    return body


def set_field(
    path: tuple[str, ...], value: Callable[[JsonObject, Outcome, Ctx], object], errors_only: bool = False
) -> BodyHook:
    """A body hook setting a field to ``value(obj, outcome, ctx)``."""

    def body(obj: JsonObject, outcome: Outcome, ctx: Ctx) -> JsonObject:
        if errors_only and outcome.status == 200:
            return obj
        target = obj
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value(obj, outcome, ctx)
        return obj

    return body


def error_code_is_status(obj: JsonObject, outcome: Outcome, ctx: Ctx) -> JsonObject:
    """``error_code`` set to the HTTP status on every answer, successes too: a 200 carrying error
    code 200 (LP-ENV-6)."""
    obj["error_code"] = outcome.status
    return obj


STACK_TRACE = (
    "Traceback (most recent call last):\n"
    '  File "/srv/livephoto/app/pipeline.py", line 88, in handle\n'
    "    pixels = decode(upload)\n"
    "ValueError: cannot decode the upload"
)


def with_stack_trace(obj: JsonObject, outcome: Outcome, ctx: Ctx) -> JsonObject:
    """Errors carry the server's traceback (LP-SEC-2)."""
    if outcome.status != 200:
        obj["error_detail"]["message"] = f"{outcome.message}\n{STACK_TRACE}"
    return obj


def echoes_key(obj: JsonObject, outcome: Outcome, ctx: Ctx) -> JsonObject:
    """Errors repeat the request's key (LP-SEC-1)."""
    key = ctx.request.headers.get("ailabapi-api-key")
    if outcome.status != 200 and key:
        obj["error_msg"] = f"{outcome.message} (key {key})"
    return obj


def error_with_video(obj: JsonObject, outcome: Outcome, ctx: Ctx) -> JsonObject:
    """Errors carry a non-empty data.video (LP-OK-3)."""
    if outcome.status != 200:
        obj["data"] = {"video": "AAAAIGZ0eXBpc29tAAACAGlzb21pc28y"}
    return obj


def video_at_top_level(obj: JsonObject, outcome: Outcome, ctx: Ctx) -> JsonObject:
    """A success without the data object: the video at the top level (LP-OK-3)."""
    if outcome.status == 200:
        obj["video"] = obj.pop("data", {}).get("video", "")
    return obj


def extra_fields(obj: JsonObject, outcome: Outcome, ctx: Ctx) -> JsonObject:
    """Benign: more top-level and error_detail fields (LP-ENV-7)."""
    obj["server_version"] = "9.9.9"
    obj["elapsed_ms"] = 12
    obj["error_detail"]["help_url"] = "https://example.invalid/errors"
    return obj


# ---------------------------------------------------------------- response hooks (HTTP)


def strip_content_type(response: Response, outcome: Outcome, ctx: Ctx) -> Response:
    """No Content-Type header at all (LP-ENV-1)."""
    del response.headers["content-type"]
    return response


def trailing_log_line(response: Response, outcome: Outcome, ctx: Ctx) -> Response:
    """A JSON log line written after the answer: the body is two JSON values, not one object
    (LP-ENV-1), while the Content-Type still says application/json."""
    line = json.dumps({"event": "answered", "status": outcome.status}).encode()
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(bytes(response.body) + b"\n" + line, status_code=response.status_code, headers=headers)


def content_type(value: str, errors_only: bool = False) -> ResponseHook:
    """A response hook replacing the Content-Type."""

    def hook(response: Response, outcome: Outcome, ctx: Ctx) -> Response:
        if not errors_only or outcome.status != 200:
            response.headers["content-type"] = value
        return response

    return hook


def html_error_page(response: Response, outcome: Outcome, ctx: Ctx) -> Response:
    """Client errors as a framework's HTML error page (LP-ENV-1)."""
    if not client_error(outcome, ctx):
        return response
    page = f"<!DOCTYPE html><html><body><h1>{outcome.status} Error</h1><p>{outcome.code}</p></body></html>"
    return Response(page, status_code=outcome.status, media_type="text/html", headers=outcome.headers)


def chunked(response: Response, outcome: Outcome, ctx: Ctx) -> Response:
    """Benign: the same JSON sent with Transfer-Encoding: chunked."""
    body = bytes(response.body)

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length",)}
    return StreamingResponse(pieces(), status_code=response.status_code, headers=headers)


# ---------------------------------------------------------------- intake hooks (the parsed upload)


def refuse_if(predicate: Predicate, code: str, message: str) -> IntakeHook:
    """An intake hook refusing uploads that match ``predicate`` with a documented code."""

    def intake(upload: Upload, ctx: Ctx) -> IntakeResult:
        if predicate(upload, ctx):
            return error(code, message, ctx.edition)
        return upload

    return intake


def boundary_shorter_than(length: int) -> Predicate:
    """Predicate: the multipart boundary is shorter than ``length`` characters (LP-REQ-2)."""

    def short(upload: Upload, ctx: Ctx) -> bool:
        content_type = ctx.request.headers.get("content-type", "")
        boundary = content_type.partition("boundary=")[2].split(";")[0].strip('"')
        return len(boundary) < length

    return short


def unknown_fields(upload: Upload, ctx: Ctx) -> bool:
    """Predicate: a form field other than image_target and type (LP-REQ-7)."""
    return any(name not in ("image_target", "type") for name in upload.fields)


def extension_disagrees(upload: Upload, ctx: Ctx) -> bool:
    """Predicate: the filename's extension names another format than the content (LP-REQ-6)."""
    name = (upload.image_filename or "").lower()
    fmt = sniff(upload.image or b"")
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    wanted = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "bmp": "bmp"}.get(ext)
    return wanted is not None and fmt is not None and wanted != fmt


def is_bmp(upload: Upload, ctx: Ctx) -> bool:
    """Predicate: the image is a BMP (LP-REQ-6 lists BMP)."""
    return sniff(upload.image or b"") == "bmp"


def at_least(size: int) -> Predicate:
    """Predicate: the image has ``size`` bytes or more (off by one at the limit: ≥ instead of >)."""
    return lambda upload, ctx: upload.image is not None and len(upload.image) >= size


def retype(mapping: dict[str | None, str]) -> IntakeHook:
    """An intake hook rewriting the type field (``None`` is an absent type)."""

    def intake(upload: Upload, ctx: Ctx) -> IntakeResult:
        if upload.type_value in mapping:
            upload.type_value = mapping[upload.type_value]
        return upload

    return intake


def lenient_type(upload: Upload, ctx: Ctx) -> IntakeResult:
    """``type`` parsed with int(): " 1", "+0", "01" are taken as 0 or 1 (LP-REQ-5 says invalid)."""
    value = upload.type_value
    if value is not None and value not in ("0", "1"):
        try:
            number = int(value.strip())
        except ValueError:
            return upload
        if number in (0, 1):
            upload.type_value = str(number)
    return upload


def float_type(upload: Upload, ctx: Ctx) -> IntakeResult:
    """``type`` parsed with float(): "1.0", "1e0", "0.0", " 1" are taken as 0 or 1 (LP-REQ-5 says
    invalid)."""
    value = upload.type_value
    if value is not None and value not in ("0", "1"):
        try:
            number = float(value)
        except ValueError:
            return upload
        if number in (0.0, 1.0):
            upload.type_value = str(int(number))
    return upload


def no_image_is_fine(upload: Upload, ctx: Ctx) -> IntakeResult:
    """A missing image_target answered with a (placeholder) success (LP-REQ-4)."""
    if upload.image is None:
        return Outcome(status=200, data={"video": "AAAAIGZ0eXBpc29tAAACAGlzb21pc28y"})
    return upload


async def shares_latest_image(upload: Upload, ctx: Ctx) -> IntakeResult:
    """A global "current image": concurrent requests get another request's video (LP-OPS-2)."""
    ctx.shared.latest = (upload.image, upload.type_value)
    await asyncio.sleep(0.3)
    upload.image, upload.type_value = ctx.shared.latest
    return upload


async def racy_request_id(upload: Upload, ctx: Ctx) -> IntakeResult:
    """Reads the request counter on arrival; the id is committed when the answer is rendered."""
    ctx.notes.counter = ctx.shared.counter
    return upload


def racy_id(ctx: Ctx, default: Callable[[], str]) -> str:
    """Request-id hook for ``racy_request_id``: read-modify-write without a lock (LP-OPS-2)."""
    value = ctx.notes.counter if ctx.notes.counter is not None else ctx.shared.counter
    ctx.shared.counter = value + 1
    return f"req-{value:08d}"


def sequential_id(ctx: Ctx, default: Callable[[], str]) -> str:
    """Benign: a different request id format (a locked counter with a prefix)."""
    ctx.shared.sequence += 1
    return f"LP-{ctx.shared.sequence:010d}"


# ---------------------------------------------------------------- load hooks (image decoding)


def decode_gif_and_webp(data: bytes, loader: Loader) -> Pixels:
    """GIF and WebP decoded like the supported formats (LP-ERR-6 says 415)."""
    if data[:6] in (b"GIF87a", b"GIF89a") or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    return loader(data)


JPEG_EOI = b"\xff\xd9"  # the marker that ends every JPEG


def repairs_jpeg_end(data: bytes, loader: Loader) -> Pixels:
    """A lenient decoder: a JPEG cut short (no EOI marker: an interrupted upload) gets the marker
    appended and is decoded, the missing rows filled in (LP-ERR-7 says corrupt)."""
    if sniff(data) == "jpeg" and not data.endswith(JPEG_EOI):
        return loader(data + JPEG_EOI)
    return loader(data)


def accepts_side(limit: int) -> LoadHook:
    """A load hook decoding images with a side in 4096..``limit`` (off by one: LP-ERR-9 refuses them);
    an image too small on its other side is left to the reference (as the off-by-one server would)."""

    def load(data: bytes, loader: Loader) -> Pixels:
        fmt = sniff(data)
        size = header_size(data, fmt) if fmt is not None else (0, 0)
        if MAX_SIDE < max(size) <= limit and min(size) >= MIN_SIDE:
            with Image.open(io.BytesIO(data)) as image:
                return np.asarray(image.convert("RGB"), dtype=np.uint8)
        return loader(data)

    return load


def refuses_side(limit: int) -> LoadHook:
    """A load hook refusing sides ≥ ``limit`` (off by one: LP-REQ-6 accepts 4095)."""

    def load(data: bytes, loader: Loader) -> Pixels:
        fmt = sniff(data)
        if fmt is not None and max(header_size(data, fmt)) >= limit:
            raise ImageRejected("FILE_RESOLUTION_EXCEEDS_LIMITS", f"Sides must be less than {limit} px.")
        return loader(data)

    return load


def bomb_crashes(data: bytes, loader: Loader) -> Pixels:
    """A decoder that allocates the declared size: a small file declaring 20000² px crashes (500)."""
    fmt = sniff(data)
    if fmt is not None:
        width, height = header_size(data, fmt)
        if width * height > 64_000_000:
            raise MemoryError(f"cannot allocate {width}×{height}×3 bytes")
    return loader(data)
