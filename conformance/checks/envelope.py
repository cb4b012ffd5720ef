"""Checks of SPEC §2, the response envelope common to all responses (LP-ENV-*)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from conformance.check_context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import fail, requirement
from conformance.verdicts import Blocked

UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")  # LP-ENV-5
KNOWN_TOP_LEVEL = frozenset(
    {"request_id", "log_id", "error_code", "error_msg", "error_code_str", "error_detail", "data"}
)
KNOWN_DETAIL = frozenset({"status_code", "code", "code_message", "message"})


def _envelope(exchange: Exchange) -> dict[str, object]:
    """The JSON object; without one only LP-ENV-1 fails, the other clauses are blocked by it."""
    envelope = exchange.envelope
    if envelope is None:
        raise Blocked("LP-ENV-1", f"HTTP {exchange.status} without a JSON object body")
    return envelope


def _schema_failures(exchange: Exchange, clause: str) -> None:
    _envelope(exchange)  # blocked without one
    errors = [e for e in exchange.schema_errors if e.clause == clause]  # validated once per exchange
    if errors:
        fail("; ".join(f"{e.path or '(top level)'}: {e.message}" for e in errors[:4]), clause)


@requirement("LP-ENV-1")
def response_is_json_object(exchange: Exchange, ctx: CheckContext) -> None:
    """Every response to a request on the endpoint — success or error, including authentication
    and validation errors — MUST have ``Content-Type: application/json`` (parameters such as
    ``charset=utf-8`` allowed) and a body that is one JSON object in UTF-8."""
    content_type = exchange.header("content-type") or ""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        fail(
            f"HTTP {exchange.status} with Content-Type {content_type or '(none)'!r}",
            "Content-Type: application/json (parameters allowed)",
        )
    if exchange.truncated:
        fail(f"a body larger than the suite's cap ({len(exchange.body)} bytes read)", "a JSON object")
    try:
        exchange.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(f"a body that is not UTF-8 (byte {exc.start})", "one JSON object in UTF-8")
    if exchange.envelope is None:
        fail(f"a body that is not one JSON object: {exchange.body_excerpt(120)!r}", "a JSON object")


@requirement("LP-ENV-2")
def request_and_log_ids_are_strings(exchange: Exchange, ctx: CheckContext) -> None:
    """The object MUST contain ``request_id`` (string) and ``log_id`` (string)."""
    _schema_failures(exchange, "LP-ENV-2")


@requirement("LP-ENV-2", level="SHOULD")
def request_id_is_not_empty(exchange: Exchange, ctx: CheckContext) -> None:
    """``request_id`` SHOULD be non-empty."""
    request_id = _envelope(exchange).get("request_id")
    if isinstance(request_id, str) and not request_id:
        fail('request_id ""', "a non-empty request_id")


@requirement("LP-ENV-2")
def request_ids_are_distinct(exchanges: Sequence[Exchange], ctx: CheckContext) -> str:
    """``request_id`` MUST be different for different requests when non-empty."""
    seen: dict[str, Exchange] = {}
    for exchange in exchanges:
        request_id = (exchange.envelope or {}).get("request_id")
        if not isinstance(request_id, str) or not request_id:
            continue
        if request_id in seen:
            fail(
                f"request_id {request_id!r} on two different requests",
                "a distinct request_id per request",
                exchange=exchange,
                notes=[f"first seen on: {seen[request_id].request.description}"],
            )
        seen[request_id] = exchange
    return f"{len(seen)} distinct request ids"


@requirement("LP-ENV-3")
def error_code_matches_http_status(exchange: Exchange, ctx: CheckContext) -> None:
    """The object MUST contain ``error_code`` (integer): ``0`` when the HTTP status is 200,
    otherwise equal to the HTTP status."""
    _schema_failures(exchange, "LP-ENV-3")
    error_code = _envelope(exchange)["error_code"]
    expected = 0 if exchange.status == 200 else exchange.status
    if _mixes_success_and_error(exchange):
        raise Blocked("LP-ENV-6", f"HTTP {exchange.status} with error_code {error_code!r}")
    if error_code != expected:
        fail(f"HTTP {exchange.status} with error_code {error_code!r}", f"error_code {expected}")


@requirement("LP-ENV-4")
def error_detail_is_complete(exchange: Exchange, ctx: CheckContext) -> None:
    """The object MUST contain ``error_detail`` (object) with ``status_code`` (integer, equal to
    the HTTP status), ``code`` (string), ``code_message`` (string), ``message`` (string)."""
    _schema_failures(exchange, "LP-ENV-4")
    detail = _envelope(exchange)["error_detail"]
    assert isinstance(detail, dict)  # guaranteed by the schema
    if detail["status_code"] != exchange.status:
        fail(
            f"HTTP {exchange.status} with error_detail.status_code {detail['status_code']!r}",
            f"error_detail.status_code {exchange.status}",
        )


@requirement("LP-ENV-5", level="SHOULD")
def error_msg_is_present(exchange: Exchange, ctx: CheckContext) -> None:
    """``error_msg`` (string) SHOULD be present (it is in the documented example)."""
    envelope = _envelope(exchange)
    if not isinstance(envelope.get("error_msg"), str):
        fail(f"error_msg {envelope.get('error_msg', '(absent)')!r}", "error_msg as a string")


@requirement("LP-ENV-5", level="SHOULD")
def error_code_str_is_well_formed(exchange: Exchange, ctx: CheckContext) -> str | None:
    """``error_code_str`` (string, deprecated by the provider) MAY be present; when present on an
    error it SHOULD be an UPPER_SNAKE_CASE word, and on a success it SHOULD be empty."""
    envelope = _envelope(exchange)
    if "error_code_str" not in envelope:
        return "error_code_str absent (allowed)"
    value = envelope["error_code_str"]
    if _mixes_success_and_error(exchange):
        raise Blocked("LP-ENV-6", f"HTTP {exchange.status} carrying an error: neither a success nor an error")
    if exchange.status == 200:
        if value not in ("", None):
            fail(f"error_code_str {value!r} on a success", "an empty error_code_str on a success")
    elif not isinstance(value, str) or not UPPER_SNAKE.match(value):
        fail(f"error_code_str {value!r} on an error", "an UPPER_SNAKE_CASE word")
    return None


def _mixed_fields(exchange: Exchange) -> tuple[int | None, object]:
    """``error_code`` (None when not an integer: a mistyped one is LP-ENV-3's to judge) and
    ``error_detail.code`` of the envelope."""
    envelope = _envelope(exchange)
    error_code = envelope.get("error_code")
    detail = envelope.get("error_detail")
    code = detail.get("code") if isinstance(detail, dict) else None
    if not isinstance(error_code, int) or isinstance(error_code, bool):
        return None, code
    return error_code, code


def _mixes_success_and_error(exchange: Exchange) -> bool:
    """What LP-ENV-6 forbids: HTTP 200 with a non-zero ``error_code`` or a non-empty
    ``error_detail.code``, or another status with ``error_code`` 0. LP-ENV-3 (``error_code`` equal
    to the status) and LP-ENV-5 (``error_code_str`` of a success) state the same fields more
    generally; on such an answer they are blocked by LP-ENV-6, the clause that names the defect."""
    error_code, code = _mixed_fields(exchange)
    if exchange.status == 200:
        return error_code not in (0, None) or bool(code)
    return error_code == 0


@requirement("LP-ENV-6")
def success_and_error_are_not_mixed(exchange: Exchange, ctx: CheckContext) -> None:
    """Success is HTTP 200. The target MUST NOT return HTTP 200 with a non-zero ``error_code`` or
    a non-empty ``error_detail.code``, and MUST NOT return a non-200 status with ``error_code`` 0."""
    error_code, code = _mixed_fields(exchange)
    if exchange.status == 200:
        if error_code not in (0, None):
            fail(f"HTTP 200 with error_code {error_code!r}", "error_code 0 on HTTP 200")
        if code:
            fail(f"HTTP 200 with error_detail.code {code!r}", 'error_detail.code "" on HTTP 200')
    elif error_code == 0:
        fail(f"HTTP {exchange.status} with error_code 0", f"error_code {exchange.status}")


@requirement("LP-ENV-7")
def additional_fields_are_reported(exchange: Exchange, ctx: CheckContext) -> str:
    """Additional top-level fields MAY be present; clients ignore them. JSON schemas therefore
    allow additional properties at the top level and inside ``error_detail``, but the suite
    reports them as information."""
    envelope = _envelope(exchange)
    extra = sorted(set(envelope) - KNOWN_TOP_LEVEL)
    detail = envelope.get("error_detail")
    if isinstance(detail, dict):
        extra += [f"error_detail.{name}" for name in sorted(set(detail) - KNOWN_DETAIL)]
    return f"additional fields: {', '.join(extra)}" if extra else "no additional fields"
