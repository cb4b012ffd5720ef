"""Checks of SPEC §1, what a target must accept (LP-REQ-*)."""

from __future__ import annotations

from conformance.check_context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import fail, requirement


def _accepted(exchange: Exchange, what: str) -> None:
    if exchange.status != 200:
        fail(
            f"HTTP {exchange.status} code {exchange.code or '(none)'} for: {exchange.request.description}",
            f"HTTP 200: {what}",
        )


@requirement("LP-REQ-1")
def endpoint_answers_post(exchange: Exchange, ctx: CheckContext) -> None:
    """The endpoint is ``POST {base}/api/portrait/effects/live-photo``, where ``{base}`` is the
    target URL (scheme, host, optional port and optional path prefix)."""
    if exchange.status in (404, 405) or 300 <= exchange.status < 400:
        fail(
            f"HTTP {exchange.status} for POST {exchange.url}",
            "the endpoint to answer POST (not 3xx, 404 or 405)",
        )


@requirement("LP-REQ-2")
def multipart_variant_is_accepted(exchange: Exchange, ctx: CheckContext) -> None:
    """The target MUST accept a standard multipart body produced by common clients (httpx, curl,
    browsers): any boundary, parts in any order, a ``filename`` with or without extension, with
    or without a part ``Content-Type``."""
    _accepted(exchange, "any standard multipart body is accepted")


@requirement("LP-REQ-3")
def key_header_casing_is_accepted(exchange: Exchange, ctx: CheckContext) -> None:
    """Header ``ailabapi-api-key`` (string) is REQUIRED. HTTP header names are case insensitive;
    the target MUST accept any casing."""
    if exchange.status == 401:
        fail(
            f"HTTP 401 for the header spelled {exchange.request.key_header!r}",
            "the key accepted in any casing",
        )


@requirement("LP-REQ-4")
def image_target_is_required(exchange: Exchange, ctx: CheckContext) -> None:
    """Part ``image_target`` (file) is REQUIRED."""
    if exchange.status == 200:
        fail(f"HTTP 200 for: {exchange.request.description}", "a refusal: image_target is required")


@requirement("LP-REQ-5")
def valid_type_is_accepted(exchange: Exchange, ctx: CheckContext) -> None:
    """Part ``type`` is OPTIONAL; values ``0`` (avatar version) and ``1`` (full body version);
    default ``0``. A request without ``type`` MUST be treated as ``type=0``."""
    _accepted(exchange, "type 0, 1 or absent is valid")


@requirement("LP-REQ-5")
def invalid_type_is_refused(exchange: Exchange, ctx: CheckContext) -> None:
    """Exactly the strings ``0`` and ``1`` are valid; surrounding whitespace, signs, leading zeros
    (``01``), decimals (``1.0``), booleans and any other value are invalid."""
    if exchange.status == 200:
        fail(f"HTTP 200 for: {exchange.request.description}", "a refusal of the invalid type")


@requirement("LP-REQ-5", needs=("LP-OK-1", "LP-OK-2", "LP-VID-1"))
def absent_type_is_avatar(absent: Exchange, avatar: Exchange, ctx: CheckContext) -> None:
    """A request without ``type`` MUST be treated as ``type=0``."""
    from conformance.media import probe_exchange  # video decoding only when this check runs

    probes = probe_exchange(absent), probe_exchange(avatar)
    if None in probes or not all(p.ok for p in probes if p):
        fail("a video missing or undecodable", "two decodable videos to compare", exchange=absent)
    first, second = probes
    assert first is not None and second is not None
    if (first.width, first.height) != (second.width, second.height):
        fail(
            f"{first.width}×{first.height} without type, {second.width}×{second.height} with type=0",
            "the same framing as type=0",
            exchange=absent,
        )


@requirement("LP-REQ-6")
def valid_image_is_accepted(exchange: Exchange, ctx: CheckContext) -> None:
    """Image requirements: format JPEG/JPG, PNG or BMP (by content, not by file name); file size
    ≤ 5 MB (5 × 1024 × 1024 bytes; a file of exactly that size is valid); resolution less than
    4096×4096 (width ≤ 4095 and height ≤ 4095)."""
    _accepted(exchange, "a JPEG/PNG/BMP ≤ 5 MiB and ≤ 4095 px with a face is valid")


@requirement("LP-REQ-7")
def extra_fields_are_ignored(exchange: Exchange, ctx: CheckContext) -> None:
    """Unknown extra form fields and unknown extra headers MUST be ignored (not an error)."""
    _accepted(exchange, "unknown extra fields and headers are ignored")
