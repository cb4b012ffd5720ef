"""Checks of SPEC §3, success responses (LP-OK-*)."""

from __future__ import annotations

from conformance.check_context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import fail, requirement
from conformance.verdicts import Blocked


def _container_root(exchange: Exchange) -> tuple[str, str] | None:
    """The clause that keeps a 200 from carrying ``data.video`` at all: LP-ENV-1 (no JSON object)
    or LP-OK-3 (no ``data`` object); None when it can carry one."""
    envelope = exchange.envelope
    if envelope is None:
        return "LP-ENV-1", f"HTTP {exchange.status} without a JSON object body"
    if not isinstance(envelope.get("data"), dict):
        return "LP-OK-3", f"HTTP 200 with data {type(envelope.get('data')).__name__}"
    return None


def _field_root(exchange: Exchange) -> tuple[str, str] | None:
    """The clause that owns what is wrong with a 200's envelope fields, and why: LP-ENV-6 (an error
    code on a 200), LP-ENV-3 (``error_code`` not an integer) or LP-ENV-4 (``error_detail``
    incomplete or its ``status_code`` not 200); None when they are as LP-OK-1 lists them."""
    envelope = exchange.envelope or {}
    error_code = envelope.get("error_code")
    detail = envelope.get("error_detail")
    code = detail.get("code") if isinstance(detail, dict) else None
    if not isinstance(error_code, int) or isinstance(error_code, bool):
        return "LP-ENV-3", f"error_code {error_code!r}"
    if error_code != 0 or (isinstance(code, str) and code):
        return "LP-ENV-6", f"HTTP 200 with error_code {error_code!r}, error_detail.code {code!r}"
    if not isinstance(detail, dict) or detail.get("status_code") != 200 or not isinstance(code, str):
        return "LP-ENV-4", f"error_detail {detail!r}"
    return None


@requirement("LP-OK-1")
def valid_request_succeeds(exchange: Exchange, ctx: CheckContext) -> str:
    """A valid request (LP-REQ-1..6) with an image that contains one clearly visible human face
    MUST get HTTP 200, ``error_code`` 0, ``error_detail.status_code`` 200, ``error_detail.code``
    "" and ``data.video`` a non-empty string — for ``type`` 0, 1 and absent.

    The status and the video are this clause's own. A 200 whose envelope fields are wrong breaks
    the clause that states the field (§2, or LP-OK-3 for ``data``): this check is then blocked by
    it, after judging its own part (docs/DECISIONS.md D-10)."""
    expected = 'HTTP 200, error_code 0, status_code 200, code "" and a non-empty data.video'
    if exchange.status != 200:
        code = exchange.code or "(none)"
        fail(f"HTTP {exchange.status} code {code} for: {exchange.request.description}", expected)
    container = _container_root(exchange)
    if container is not None:
        raise Blocked(*container)
    if not exchange.video_b64:
        fail(f"no non-empty data.video for: {exchange.request.description}", expected)
    field = _field_root(exchange)
    if field is not None:
        raise Blocked(*field)
    return f"{len(exchange.video_b64 or '')} base64 characters in {exchange.elapsed:.2f} s"


@requirement("LP-OK-3", needs=("LP-ENV-1",))
def success_carries_data_object(exchange: Exchange, ctx: CheckContext) -> None:
    """Success responses MUST carry ``data`` as an object."""
    if exchange.status != 200:
        return
    data = (exchange.envelope or {}).get("data")
    if not isinstance(data, dict):
        fail(f"HTTP 200 with data {type(data).__name__}", "data as a JSON object")


@requirement("LP-OK-3")
def error_carries_no_video(exchange: Exchange, ctx: CheckContext) -> None:
    """Error responses MUST NOT carry a non-empty ``data.video``."""
    if exchange.status != 200 and exchange.video_b64:
        fail(
            f"HTTP {exchange.status} with a {len(exchange.video_b64)}-character data.video",
            "no video on an error",
        )
