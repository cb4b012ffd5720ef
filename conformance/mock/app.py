"""The reference server's ASGI app: one endpoint, the envelope on every answer (SPEC §1–§7).

A request passes through three stages: ``handle(request) -> Outcome`` decides, ``render(outcome)``
builds the response, and ``_respond`` logs it. ``ServerConfig.hooks`` (``conformance.mock.hooks``)
may alter each stage; the reference server has none.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.contract import Edition
from conformance.mock import faults as fault_mod
from conformance.mock.animate import animate
from conformance.mock.config import ServerConfig
from conformance.mock.detect import find_faces
from conformance.mock.hooks import REFERENCE, ServerHooks
from conformance.mock.images import DecodeBudget, ImageRejected, decode_cost, load_image
from conformance.mock.upload import UploadRejected, check_content_length, check_content_type, read_upload
from conformance.protocol.envelope import Outcome, envelope, error, new_request_id, success
from conformance.protocol.request import DEFAULT_TYPE, ENDPOINT_PATH, KEY_HEADER, METHOD, VALID_TYPES

GENERIC_FAILURE = "The service failed to process the request. Please try again later."  # LP-SEC-2

MEDIA_WORKERS = 2  # threads for decode, detection and encoding: bounds CPU and memory under load

access_log = logging.getLogger("livephoto.access")
error_log = logging.getLogger("livephoto.server")


@functools.cache
def _media_pool() -> ThreadPoolExecutor:
    """The small pool the CPU-bound stages run in, off the event loop. Its size bounds how many
    images are decoded and how many face classifiers (one per thread) exist at once, so memory
    stays flat however many uploads arrive together."""
    return ThreadPoolExecutor(MEDIA_WORKERS, thread_name_prefix="livephoto-media")


def _authenticate(request: Request, config: ServerConfig) -> Outcome | None:
    """LP-ERR-1/-2: missing or empty key → ERROR_APPLICATIONS_NOT_EXISTS; unknown → ERROR_USER_NOT_EXISTS."""
    key = request.headers.get(KEY_HEADER)
    if key is None or not key.strip():
        return error(
            "ERROR_APPLICATIONS_NOT_EXISTS", "The ailabapi-api-key header is required.", config.edition
        )
    if not _known_key(key, config.api_keys):
        return error("ERROR_USER_NOT_EXISTS", "The API key is not valid.", config.edition)
    return None


def _known_key(key: str, accepted: tuple[str, ...]) -> bool:
    """Constant-time comparison against every accepted key (no early exit on the first match), so
    the answer time does not reveal how much of a key was right."""
    given = key.encode("utf-8", "surrogateescape")
    found = False
    for candidate in accepted:
        found |= hmac.compare_digest(given, candidate.encode("utf-8", "surrogateescape"))
    return found


def _faults(request: Request, config: ServerConfig) -> list[fault_mod.Fault]:
    found = [fault_mod.parse_fault(text) for text in config.faults]
    header = request.headers.get(fault_mod.FAULT_HEADER)
    if config.allow_fault_header and header:
        found += fault_mod.parse_faults(header)
    return found


def _process(
    image: bytes,
    video_type: int,
    seed: int,
    edition: Edition,
    hooks: ServerHooks = REFERENCE,
    denied: Outcome | None = None,
) -> Outcome:
    """The CPU-bound stages (decode → minimum size → face → animate), run in the thread pool.
    ``denied`` is set only by hooks that authenticate after checking the image."""
    try:
        pixels = hooks.decode(image, load_image)
    except ImageRejected as exc:
        return error(exc.code, exc.message, edition)
    if denied is not None:
        return denied
    faces = find_faces(pixels)
    if not faces:
        return error("ERROR_NO_FACE_IN_FILE", "No human face was detected in the image.", edition)
    video = hooks.video(pixels, faces[0], video_type, seed, animate)
    return success(hooks.video_text(video))


async def handle(request: Request, config: ServerConfig) -> Outcome:
    """Decide the outcome of one request in the order auth → faults → content type → bounded body →
    image_target → type → image checks → face → animation. The config's hooks (none unless set) alter it."""
    hooks = config.hooks
    denied = _authenticate(request, config)
    if denied is not None and not hooks.auth_after_body:
        return denied
    try:
        faults = _faults(request, config)
    except ValueError as exc:
        return error("ERROR_INVALID_PARAMETER", str(exc), config.edition)
    delay = config.latency + fault_mod.latency_of(faults)
    if delay:
        await asyncio.sleep(delay)
    forced = fault_mod.fault_outcome(faults, config.edition)
    if forced is not None:
        return forced
    try:
        boundary = check_content_type(request.headers.get("content-type", ""))
        check_content_length(request.headers.get("content-length"))
        upload = await read_upload(request.stream(), boundary, max_image_bytes=hooks.max_image_bytes)
    except UploadRejected as exc:
        return error(exc.code, exc.message, config.edition)
    intake = await hooks.take(upload, request)
    if isinstance(intake, Outcome):
        return intake
    upload = intake
    if upload.image is None or not upload.image_is_file:
        what = "is missing" if upload.image is None else "must be a file part (with a filename)"
        return error("MISSING_PARAMETERS", f"image_target {what}.", config.edition)
    if not upload.image:
        return error("PARAMETERS_CANNOT_EMPTY", "image_target is an empty file.", config.edition)
    type_value = DEFAULT_TYPE if upload.type_value is None else upload.type_value
    if type_value not in VALID_TYPES:
        shown = type_value if len(type_value) <= 20 else type_value[:20] + "…"
        return error("ERROR_INVALID_PARAMETER", f"type must be 0 or 1, got {shown!r}.", config.edition)
    job = functools.partial(
        _process, upload.image, int(type_value), config.seed, config.edition, hooks, denied
    )
    budget: DecodeBudget | None = getattr(request.app.state, "decode_budget", None)
    if budget is None:  # an app made without create_app
        return await asyncio.get_running_loop().run_in_executor(_media_pool(), job)
    # Admitted by estimated pixel memory before it takes a pool thread (review item 10).
    async with budget.reserve(decode_cost(upload.image)):
        return await asyncio.get_running_loop().run_in_executor(_media_pool(), job)


def render(outcome: Outcome, request_id: str) -> Response:
    """The JSON response for an outcome (LP-ENV-1: application/json on every answer)."""
    return JSONResponse(envelope(outcome, request_id), status_code=outcome.status, headers=outcome.headers)


def _hooks_of(request: Request) -> ServerHooks:
    """The app's hooks (none for an app made without create_app)."""
    config = getattr(request.app.state, "config", None)
    return config.hooks if isinstance(config, ServerConfig) else REFERENCE


def _respond(request: Request, outcome: Outcome, started: float) -> Response:
    hooks = _hooks_of(request)
    outcome = hooks.outcome(outcome, request)
    request_id = hooks.new_request_id(request, new_request_id)
    response = hooks.response(outcome, request_id, request, render)
    line = {
        "request_id": request_id,
        "method": request.method,
        "path": request.url.path,
        "status": outcome.status,
        "code": outcome.code,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    access_log.info(json.dumps(line))
    return response


def create_app(config: ServerConfig | None = None) -> Starlette:
    """The reference server as an ASGI app (``ServerConfig()`` when none is given)."""
    config = config or ServerConfig()

    async def live_photo(request: Request) -> Response:
        started = time.perf_counter()
        try:
            outcome = await handle(request, config)
        except Exception:  # LP-SEC-2: a generic message, the details only in the server log
            error_log.exception("unexpected failure")
            outcome = error("SERVICE_INTERNAL_ERROR", GENERIC_FAILURE, config.edition)
        if config.success_latency and outcome.status == 200:
            # Real replacements spend seconds generating the video; their errors come back fast.
            await asyncio.sleep(config.success_latency)
        return _respond(request, outcome, started)

    async def http_error(request: Request, exc: Exception) -> Response:
        started = time.perf_counter()
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 405:  # LP-ERR-11, D-2: 405 ERROR_ILLEGAL_OPERATION in both editions
            outcome = error(
                "ERROR_ILLEGAL_OPERATION",
                f"{request.method} is not allowed here; use {METHOD}.",
                config.edition,
                {"Allow": METHOD},
            )
        elif status == 404:
            outcome = error("ERROR_RESOURCE_NOT_FOUND", f"No resource at {request.url.path}.", config.edition)
        else:
            outcome = error("SERVICE_INTERNAL_ERROR", GENERIC_FAILURE, config.edition)
        return _respond(request, outcome, started)

    async def crash(request: Request, exc: Exception) -> Response:
        error_log.error("unexpected failure outside the endpoint: %s", type(exc).__name__)
        return await http_error(request, exc)

    handlers: dict[Any, Any] = {HTTPException: http_error, Exception: crash}
    app = Starlette(routes=[Route(ENDPOINT_PATH, live_photo, methods=[METHOD])], exception_handlers=handlers)
    app.router.redirect_slashes = False  # a trailing slash is a 404 envelope, not a bare redirect
    app.state.config = config
    app.state.decode_budget = DecodeBudget()
    return app
