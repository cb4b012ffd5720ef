"""Checks of SPEC §5, error semantics (LP-ERR-*): statuses and codes per failure and edition."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.check_context import CheckContext
from conformance.contract import (
    Edition,
    documented_message,
    error_codes,
    is_valid_pair,
    statuses_for,
)
from conformance.exchange import Exchange
from conformance.registry import fail, requirement
from conformance.schemas import envelope_errors
from conformance.verdicts import Blocked

AUTH_CODES = frozenset({"ERROR_APPLICATIONS_NOT_EXISTS", "ERROR_USER_NOT_EXISTS"})  # LP-ERR-1/2
SERVER_CODES = frozenset(  # LP-ERR-13: "(PROCESSING_FAILURE, SERVICE_INTERNAL_ERROR, …)"
    code for code, row in error_codes().items() if any(status >= 500 for status in row.status.values())
)
RATE_LIMIT_CODES = frozenset({"EXCEEDING_LIMITS", "AI_SERVICE_FLOW_RESTRICTION"})  # LP-ERR-12
CREDIT_CODES = frozenset({"ERROR_NOT_ENOUGH_CREDITS"})  # LP-ERR-12
RETIRED_CODE = "ERROR_AI_NOT_EXISTS"  # LP-ERR-15


@dataclass(frozen=True)
class Expectation:
    """What SPEC §5 lists for one failure: the codes, and extra statuses the clause names."""

    clause: str
    codes: frozenset[str]
    statuses: frozenset[int] = frozenset()
    forbidden: frozenset[int] = frozenset()

    def allowed_statuses(self, edition: Edition) -> set[int]:
        """Statuses a listed code has in the edition, plus those the clause names itself."""
        found = set(self.statuses)
        for code in self.codes:
            found |= statuses_for(code, edition)
        return found


EXPECTATIONS: dict[str, Expectation] = {
    e.clause: e
    for e in (
        Expectation("LP-ERR-1", AUTH_CODES, forbidden=frozenset({200, 413, 415, 422})),
        Expectation("LP-ERR-2", AUTH_CODES),
        Expectation("LP-ERR-3", frozenset({"MISSING_PARAMETERS", "PARAMETERS_CANNOT_EMPTY"})),
        Expectation(
            "LP-ERR-4",
            frozenset({"MISSING_PARAMETERS", "PARAMETERS_CANNOT_EMPTY", "ERROR_INVALID_FILE"}),
        ),
        Expectation(
            "LP-ERR-5",
            frozenset(
                {
                    "ERROR_INVALID_PARAMETER",
                    "ERROR_PARAMETERS",
                    "UNSUPPORTED_PARAMETER_VALUES",
                    "ERROR_INVALID_PARAMETER_FORMAT",
                }
            ),
        ),
        Expectation(
            "LP-ERR-6",
            frozenset({"UNSUPPORTED_FILE_TYPES", "FILE_DECODING_FAILURE", "ERROR_INVALID_FILE"}),
        ),
        Expectation("LP-ERR-7", frozenset({"FILE_DECODING_FAILURE", "ERROR_INVALID_FILE"})),
        Expectation("LP-ERR-8", frozenset({"FILE_SIZE_EXCEEDS_LIMIT", "ERROR_REQUEST_BODY_TOO_LARGE"})),
        Expectation("LP-ERR-9", frozenset({"FILE_RESOLUTION_EXCEEDS_LIMITS", "ERROR_HIGH_RESOLUTION"})),
        Expectation(
            "LP-ERR-10",
            frozenset(
                {
                    "ERROR_NO_FACE_IN_FILE",
                    "ERROR_FACE_COUNT_INVALID",
                    "ERROR_NO_RECOGNITION_TARGET_DETECTED",
                }
            ),
        ),
        # LP-ERR-11 wrong content type: "400 or 415 with the error envelope"; no code is listed.
        Expectation("LP-ERR-11", frozenset(), statuses=frozenset({400, 415})),
    )
}


def _code(exchange: Exchange) -> str:
    code = exchange.code
    return code if code is not None else "(no error_detail.code)"


def _pair_is_valid(exchange: Exchange, ctx: CheckContext) -> None:
    if not is_valid_pair(exchange.status, _code(exchange), ctx.edition):
        fail(
            f"HTTP {exchange.status} with code {_code(exchange)}",
            f"a (status, code) pair of the provider's table valid in edition {ctx.edition}",
        )


def _readable_code(exchange: Exchange) -> None:
    """A refusal with the right status but no code to read is the envelope's defect (LP-ENV-1
    without a JSON object, LP-ENV-4 without ``error_detail.code``), not this clause's."""
    if exchange.envelope is None:
        raise Blocked("LP-ENV-1", f"HTTP {exchange.status} without a JSON object body")
    if exchange.code is None:
        raise Blocked("LP-ENV-4", f"HTTP {exchange.status} without error_detail.code")


# §5 failures whose acceptance another clause states as a rule of the request (SPEC §1): a 200 to a
# request without ``image_target`` is LP-REQ-4's failure, a 200 to an invalid ``type`` LP-REQ-5's;
# the §5 clause has no refusal to judge then (D-12).
ACCEPTANCE_OWNER = {"LP-ERR-3": "LP-REQ-4", "LP-ERR-5": "LP-REQ-5"}


def _refused_at_all(exchange: Exchange, clause: str) -> None:
    owner = ACCEPTANCE_OWNER.get(clause)
    if owner is not None and exchange.status == 200:
        raise Blocked(owner, f"HTTP 200: the request was accepted, {owner} says it must be refused")


def is_rejected_as_listed(exchange: Exchange, ctx: CheckContext, clause: str) -> None:
    """The MUST part of a §5 failure: an error envelope with a status the clause allows."""
    _refused_at_all(exchange, clause)
    expectation = EXPECTATIONS[clause]
    allowed = expectation.allowed_statuses(ctx.edition)
    if exchange.status in expectation.forbidden or exchange.status not in allowed:
        fail(
            f"HTTP {exchange.status} with code {_code(exchange)} for: {exchange.request.description}",
            f"HTTP {' or '.join(str(s) for s in sorted(allowed))} (edition {ctx.edition})",
        )
    if expectation.codes:
        _readable_code(exchange)
        _pair_is_valid(exchange, ctx)


def uses_listed_code(exchange: Exchange, ctx: CheckContext, clause: str) -> None:
    """The SHOULD part of a §5 failure: one of the listed codes."""
    _refused_at_all(exchange, clause)
    codes = EXPECTATIONS[clause].codes
    if codes and 400 <= exchange.status < 500:
        _readable_code(exchange)
    if codes and exchange.code not in codes:
        fail(f"code {_code(exchange)}", f"one of {', '.join(sorted(codes))}")


def _clause_checks(clause: str, must_doc: str, should_doc: str) -> tuple[Callable[..., Any], ...]:
    """Register the MUST check of one §5 failure clause, and its SHOULD check if it lists codes."""
    slug = clause.lower().replace("-", "_")

    def must(exchange: Exchange, ctx: CheckContext) -> None:
        is_rejected_as_listed(exchange, ctx, clause)

    def should(exchange: Exchange, ctx: CheckContext) -> None:
        uses_listed_code(exchange, ctx, clause)

    must.__name__ = must.__qualname__ = f"{slug}_is_rejected_with_listed_status"
    must.__doc__ = must_doc
    should.__name__ = should.__qualname__ = f"{slug}_uses_listed_code"
    should.__doc__ = should_doc
    if not EXPECTATIONS[clause].codes:
        return (requirement(clause)(must),)
    return requirement(clause)(must), requirement(clause, level="SHOULD")(should)


PREAMBLE = (
    "For each failure below, the response MUST be an error envelope (LP-ENV-*) whose status is "
    "4xx, and SHOULD use the listed code (any listed code satisfies the SHOULD; the status/code "
    "pair MUST be valid in the edition)."
)
FAILURE_CHECKS = {
    clause: _clause_checks(clause, f"{text} — {PREAMBLE}", f"{text} — SHOULD use the listed code.")
    for clause, text in {
        "LP-ERR-1": "Missing ailabapi-api-key header, or an empty one → 401; codes "
        "ERROR_APPLICATIONS_NOT_EXISTS or ERROR_USER_NOT_EXISTS. Authentication is checked before "
        "the body is processed (no 200 and no 413/415/422 for a request without a key).",
        "LP-ERR-2": "An API key that the target does not know → 401, same codes.",
        "LP-ERR-3": "Missing image_target → 400 MISSING_PARAMETERS (or PARAMETERS_CANNOT_EMPTY).",
        "LP-ERR-4": "image_target sent as a plain form field (no filename) or as an empty file → "
        "400 MISSING_PARAMETERS, PARAMETERS_CANNOT_EMPTY or ERROR_INVALID_FILE (422 where the "
        "edition says so).",
        "LP-ERR-5": "Invalid type (LP-REQ-5) → 400 ERROR_INVALID_PARAMETER (also accepted: "
        "ERROR_PARAMETERS, UNSUPPORTED_PARAMETER_VALUES, ERROR_INVALID_PARAMETER_FORMAT).",
        "LP-ERR-6": "Image in an unsupported format (GIF, TIFF, WebP, HEIC, ICO, PDF, SVG, text, "
        "random bytes with an image file name) → 415 UNSUPPORTED_FILE_TYPES, or "
        "FILE_DECODING_FAILURE / ERROR_INVALID_FILE for content that is no image at all.",
        "LP-ERR-7": "A supported format that is corrupt or truncated → FILE_DECODING_FAILURE "
        "(400 in 2025-09, 422 in 2026-01) or 422 ERROR_INVALID_FILE.",
        "LP-ERR-8": "File larger than 5 MB → 413 FILE_SIZE_EXCEEDS_LIMIT (or ERROR_REQUEST_BODY_TOO_LARGE).",
        "LP-ERR-9": "Width or height ≥ 4096 → FILE_RESOLUTION_EXCEEDS_LIMITS or "
        "ERROR_HIGH_RESOLUTION (422 in 2025-09, 413 in 2026-01). This includes small files that "
        "declare huge dimensions (decompression bombs): they MUST be rejected without a 5xx.",
        "LP-ERR-10": "A valid image without a human face → 422 ERROR_NO_FACE_IN_FILE (also "
        "accepted: ERROR_FACE_COUNT_INVALID, ERROR_NO_RECOGNITION_TARGET_DETECTED).",
        "LP-ERR-11": "Wrong content type (JSON or urlencoded body) → 400 or 415 with the error envelope.",
    }.items()
}


@requirement("LP-ERR-11")
def wrong_method_is_a_client_error(exchange: Exchange, ctx: CheckContext) -> None:
    """Wrong method (GET, PUT, DELETE) on the endpoint → 4xx."""
    if not 400 <= exchange.status < 500:
        fail(f"{exchange.request.method} answered with HTTP {exchange.status}", "a 4xx status")


@requirement("LP-ERR-11", level="SHOULD")
def wrong_method_is_405_illegal_operation(exchange: Exchange, ctx: CheckContext) -> None:
    """Wrong method (GET, PUT, DELETE) on the endpoint → 4xx (405 SHOULD, code
    ``ERROR_ILLEGAL_OPERATION`` SHOULD) with the error envelope SHOULD."""
    if exchange.status != 405 or exchange.code != "ERROR_ILLEGAL_OPERATION":
        fail(
            f"{exchange.request.method} answered with HTTP {exchange.status} code {_code(exchange)}",
            "HTTP 405 with code ERROR_ILLEGAL_OPERATION",
        )


@requirement("LP-ERR-11", level="SHOULD")
def wrong_method_has_envelope(exchange: Exchange, ctx: CheckContext) -> None:
    """Wrong method (GET, PUT, DELETE) on the endpoint → 4xx … with the error envelope SHOULD.

    The clause makes the envelope a SHOULD for this case; LP-ENV-1 is therefore not applied to
    wrong-method answers (docs/DECISIONS.md D-4)."""
    problems = (
        ["not a JSON object"]
        if exchange.envelope is None
        else [str(e) for e in envelope_errors(exchange.envelope, exchange.status)]
    )
    if problems:
        fail(
            f"{exchange.request.method} answered with {'; '.join(problems[:3])}",
            "the error envelope (SPEC §2)",
        )


@requirement("LP-ERR-12")
def out_of_credits_is_429(exchange: Exchange, ctx: CheckContext) -> None:
    """Insufficient credits → 429 ``ERROR_NOT_ENOUGH_CREDITS``."""
    if exchange.status == 429:
        _readable_code(exchange)
    if exchange.status != 429 or exchange.code not in CREDIT_CODES:
        fail(f"HTTP {exchange.status} code {_code(exchange)}", "HTTP 429 ERROR_NOT_ENOUGH_CREDITS")


@requirement("LP-ERR-12")
def rate_limit_is_429_or_503(exchange: Exchange, ctx: CheckContext) -> None:
    """Rate or concurrency limiting → 429 ``EXCEEDING_LIMITS`` or 503
    ``AI_SERVICE_FLOW_RESTRICTION``."""
    if exchange.status in (429, 503):
        _readable_code(exchange)
    if (exchange.status, exchange.code) not in {
        (429, "EXCEEDING_LIMITS"),
        (503, "AI_SERVICE_FLOW_RESTRICTION"),
    }:
        fail(
            f"HTTP {exchange.status} code {_code(exchange)}",
            "HTTP 429 EXCEEDING_LIMITS or 503 AI_SERVICE_FLOW_RESTRICTION",
        )


@requirement("LP-ERR-12", level="SHOULD")
def limit_carries_retry_after(exchange: Exchange, ctx: CheckContext) -> str:
    """A ``Retry-After`` header SHOULD accompany them."""
    value = exchange.header("retry-after")
    if value is None or not value.strip():
        fail(f"HTTP {exchange.status} without Retry-After", "a Retry-After header")
    return f"Retry-After: {value}"


@requirement("LP-ERR-13")
def server_failure_is_5xx_with_listed_code(exchange: Exchange, ctx: CheckContext) -> None:
    """Server-side failures use 5xx with the envelope and a listed code (``PROCESSING_FAILURE``,
    ``SERVICE_INTERNAL_ERROR``, ``UNKNOWN_ERROR``, ``AI_SERVICE_TIMEOUT``, ``ERROR_GATEWAY``, …)."""
    if 500 <= exchange.status < 600:
        _readable_code(exchange)
    if not 500 <= exchange.status < 600 or exchange.code not in SERVER_CODES:
        fail(f"HTTP {exchange.status} code {_code(exchange)}", "a 5xx status with a server code")
    _pair_is_valid(exchange, ctx)


@requirement("LP-ERR-13")
def client_error_is_never_5xx(exchange: Exchange, ctx: CheckContext) -> None:
    """A 5xx is never the answer to a client error listed above."""
    if exchange.status >= 500:
        fail(
            f"HTTP {exchange.status} code {_code(exchange)} for: {exchange.request.description}",
            "a 4xx status (the request is the client's error)",
        )


@requirement("LP-ERR-14", level="SHOULD", needs=("LP-ENV-1",))
def code_message_is_documented(exchange: Exchange, ctx: CheckContext) -> str | None:
    """``code_message`` SHOULD equal the documented text for the code."""
    code = exchange.code
    if exchange.status == 200 or not code:
        return None
    detail = (exchange.envelope or {}).get("error_detail")
    message = detail.get("code_message") if isinstance(detail, dict) else None
    documented = documented_message(code)
    if documented is None:
        return f"code {code} is not documented; code_message not compared"
    if message != documented:
        fail(f"code_message {message!r} for {code}", f"{documented!r}")
    return None


@requirement("LP-ERR-14", level="SHOULD", needs=("LP-ENV-1", "LP-ENV-4"))
def message_is_human_readable(exchange: Exchange, ctx: CheckContext) -> None:
    """``message`` SHOULD be a non-empty human-readable explanation."""
    if exchange.status == 200:
        return
    detail = (exchange.envelope or {}).get("error_detail")
    message = detail.get("message") if isinstance(detail, dict) else None
    if not isinstance(message, str) or not message.strip():
        fail(f"error_detail.message {message!r}", "a non-empty explanation")


@requirement("LP-ERR-15")
def retired_answers_404_ai_not_exists(exchange: Exchange, ctx: CheckContext) -> None:
    """A retired deployment answers 404 ``ERROR_AI_NOT_EXISTS``."""
    if exchange.status == 404:
        _readable_code(exchange)
    if exchange.status != 404 or exchange.code != RETIRED_CODE:
        fail(f"HTTP {exchange.status} code {_code(exchange)}", f"HTTP 404 {RETIRED_CODE}")
