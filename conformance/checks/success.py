"""Checks of SPEC §3, success responses (LP-OK-*)."""

from __future__ import annotations

from conformance.check_context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import fail, requirement


@requirement("LP-OK-1")
def valid_request_succeeds(exchange: Exchange, ctx: CheckContext) -> str:
    """A valid request (LP-REQ-1..6) with an image that contains one clearly visible human face
    MUST get HTTP 200, ``error_code`` 0, ``error_detail.status_code`` 200, ``error_detail.code``
    "" and ``data.video`` a non-empty string — for ``type`` 0, 1 and absent."""
    envelope = exchange.envelope or {}
    detail = envelope.get("error_detail")
    detail = detail if isinstance(detail, dict) else {}
    problems = []
    if exchange.status != 200:
        problems.append(f"HTTP {exchange.status} code {exchange.code or '(none)'}")
    if envelope.get("error_code") != 0:
        problems.append(f"error_code {envelope.get('error_code')!r}")
    if detail.get("status_code") != 200:
        problems.append(f"error_detail.status_code {detail.get('status_code')!r}")
    if detail.get("code") != "":
        problems.append(f"error_detail.code {detail.get('code')!r}")
    if not exchange.video_b64:
        problems.append("no non-empty data.video")
    if problems:
        fail(
            "; ".join(problems) + f" for: {exchange.request.description}",
            'HTTP 200, error_code 0, status_code 200, code "" and a non-empty data.video',
        )
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
