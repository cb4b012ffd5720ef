"""Which checks judge an exchange: the one plan the suite, the proxy and the load profile share.

A check set per kind of answer (every answer, every error, a valid request's answer, the latency
bounds) and ``plan(exchange, expect=…)``, which picks them; fronts never choose checks themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.checks import envelope, errors, operations, request, security, success, video
from conformance.exchange import Exchange

CheckFunc = Callable[..., Any]

# Checks every response of the endpoint gets, whatever was asked (SPEC §2, LP-OK-3, LP-SEC-1).
COMMON: tuple[CheckFunc, ...] = (
    envelope.response_is_json_object,
    envelope.request_and_log_ids_are_strings,
    envelope.request_id_is_not_empty,
    envelope.error_code_matches_http_status,
    envelope.error_detail_is_complete,
    envelope.error_msg_is_present,
    envelope.error_code_str_is_well_formed,
    envelope.success_and_error_are_not_mixed,
    envelope.additional_fields_are_reported,
    success.success_carries_data_object,
    success.error_carries_no_video,
    security.api_key_is_not_echoed,
)
# Checks of every error response (LP-ERR-14, LP-SEC-2).
ERROR_COMMON: tuple[CheckFunc, ...] = (
    errors.code_message_is_documented,
    errors.message_is_human_readable,
    security.errors_reveal_no_internals,
)
# Checks of the answer to a valid request (LP-OK-*, LP-VID-*).
SUCCESS: tuple[CheckFunc, ...] = (
    request.endpoint_answers_post,
    success.valid_request_succeeds,
    video.video_is_strict_base64,
    *video.VIDEO_CHECKS,
)
# The latency bounds every exchange of the run is held to (LP-OPS-1).
LATENCY: tuple[CheckFunc, ...] = (operations.success_arrives_in_time, operations.client_error_arrives_in_time)
# What a request's labels ask of the target when it is valid (LP-REQ-*).
LABEL_CHECKS: dict[str, CheckFunc] = {
    "LP-REQ-2": request.multipart_variant_is_accepted,
    "LP-REQ-3": request.key_header_casing_is_accepted,
    "LP-REQ-5": request.valid_type_is_accepted,
    "LP-REQ-6": request.valid_image_is_accepted,
    "LP-REQ-7": request.extra_fields_are_ignored,
}


def failure_checks(clause: str) -> tuple[CheckFunc, ...]:
    """The checks of a request that breaks ``clause`` (a §5 failure), beyond the common ones."""
    extra: tuple[CheckFunc, ...] = ()
    if clause == "LP-ERR-3":
        extra = (request.image_target_is_required,)
    elif clause == "LP-ERR-5":
        extra = (request.invalid_type_is_refused,)
    return (*errors.FAILURE_CHECKS[clause], errors.client_error_is_never_5xx, *extra)


def plan(exchange: Exchange, *, expect: str | None) -> list[CheckFunc]:
    """The checks for one exchange.

    ``expect`` is ``"success"`` for a valid request, a §5 clause id for a request built to break
    it, or None when the suite does not know (the proxy): then the response decides.
    """
    checks = list(COMMON)
    if expect == "success" or (expect is None and exchange.status == 200):
        checks += SUCCESS
        checks += [LABEL_CHECKS[label] for label in _clause_labels(exchange) if label in LABEL_CHECKS]
    if exchange.status != 200:
        checks += ERROR_COMMON
    if expect and expect.startswith("LP-ERR-"):
        checks += failure_checks(expect)
    return checks


def _clause_labels(exchange: Exchange) -> list[str]:
    return sorted({label.split(":", 1)[0] for label in exchange.request.labels})
