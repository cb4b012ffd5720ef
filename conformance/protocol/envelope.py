"""The response envelope of SPEC §2 (LP-ENV-1..7): one shape for every answer the reference server
and the proxy make themselves, built here once so the two cannot answer in different shapes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from conformance.contract import SPEC_NAMED_PAIRS, Edition, documented_message, error_codes

# Codes whose SPEC-named status (docs/DECISIONS.md D-2) the server uses in every edition.
NAMED_STATUS: dict[str, int] = {code: status for status, code in SPEC_NAMED_PAIRS}


@dataclass(frozen=True)
class Outcome:
    """What the server decided for one request, before it is rendered (a mutant layer may alter it).

    ``code`` is "" for a success; ``data`` is the success payload; ``headers`` are extra response
    headers (``Retry-After``, ``Allow``).
    """

    status: int
    code: str = ""
    message: str = ""
    data: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def status_of(code: str, edition: Edition) -> int:
    """The HTTP status the server uses for a documented code in its edition (SPEC §0, D-2)."""
    if code in NAMED_STATUS:
        return NAMED_STATUS[code]
    row = error_codes().get(code)
    if row is None:
        raise KeyError(f"{code} is not a documented error code (schemas/error-codes.json)")
    return row.status_in(edition)


def error(code: str, message: str, edition: Edition, headers: dict[str, str] | None = None) -> Outcome:
    """An error outcome for a documented code, with the edition's status (SPEC §5)."""
    return Outcome(status=status_of(code, edition), code=code, message=message, headers=headers or {})


def success(video_b64: str) -> Outcome:
    """A success outcome carrying ``data.video`` (LP-OK-1, LP-OK-2)."""
    return Outcome(status=200, data={"video": video_b64})


def new_request_id() -> str:
    """A fresh, unique request id (LP-ENV-2)."""
    return uuid.uuid4().hex


def envelope(outcome: Outcome, request_id: str) -> dict[str, Any]:
    """The JSON object for an outcome (LP-ENV-2..6, LP-ERR-14: code_message is the documented text)."""
    ok = outcome.status == 200
    body: dict[str, Any] = {
        "request_id": request_id,
        "log_id": uuid.uuid5(uuid.NAMESPACE_OID, request_id).hex[:16].upper(),
        "error_code": 0 if ok else outcome.status,
        "error_code_str": "" if ok else outcome.code,
        "error_msg": "" if ok else outcome.message,
        "error_detail": {
            "status_code": outcome.status,
            "code": "" if ok else outcome.code,
            "code_message": "" if ok else (documented_message(outcome.code) or ""),
            "message": "" if ok else outcome.message,
        },
    }
    if ok:
        body["data"] = outcome.data or {}
    return body
