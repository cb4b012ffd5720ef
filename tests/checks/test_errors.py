"""Each error-semantics check passes the listed answer and fails the others."""

from __future__ import annotations

import pytest

from conformance.checks import errors
from conformance.contract import Edition
from tests.factories import context, error_body, exchange, outcome, request, success_body


def _err(status: int, code: str, **headers: str) -> object:
    return exchange(
        status,
        error_body(status, code),
        headers=[("content-type", "application/json"), *headers.items()],
    )


MUST, SHOULD = 0, 1


@pytest.mark.parametrize(
    ("clause", "status", "code", "edition", "must", "should"),
    [
        ("LP-ERR-1", 401, "ERROR_APPLICATIONS_NOT_EXISTS", Edition.ANY, "pass", "pass"),
        ("LP-ERR-1", 413, "FILE_SIZE_EXCEEDS_LIMIT", Edition.ANY, "LP-ERR-1", "LP-ERR-1"),
        ("LP-ERR-1", 400, "MISSING_PARAMETERS", Edition.ANY, "LP-ERR-1", "LP-ERR-1"),
        ("LP-ERR-1", 200, "", Edition.ANY, "LP-ERR-1", "LP-ERR-1"),
        ("LP-ERR-1", 401, "UNKNOWN_CODE", Edition.ANY, "LP-ERR-1", "LP-ERR-1"),
        ("LP-ERR-2", 401, "ERROR_USER_NOT_EXISTS", Edition.ANY, "pass", "pass"),
        ("LP-ERR-3", 400, "MISSING_PARAMETERS", Edition.ANY, "pass", "pass"),
        ("LP-ERR-3", 400, "ERROR_PARAMETERS", Edition.ANY, "pass", "LP-ERR-3"),
        ("LP-ERR-5", 400, "ERROR_INVALID_PARAMETER", Edition.ANY, "pass", "pass"),
        ("LP-ERR-5", 422, "UNSUPPORTED_PARAMETER_VALUES", Edition.E2025_09, "pass", "pass"),
        ("LP-ERR-5", 422, "UNSUPPORTED_PARAMETER_VALUES", Edition.E2026_01, "LP-ERR-5", "pass"),
        ("LP-ERR-6", 415, "UNSUPPORTED_FILE_TYPES", Edition.ANY, "pass", "pass"),
        ("LP-ERR-6", 500, "SERVICE_INTERNAL_ERROR", Edition.ANY, "LP-ERR-6", "LP-ERR-6"),
        ("LP-ERR-7", 400, "FILE_DECODING_FAILURE", Edition.E2025_09, "pass", "pass"),
        ("LP-ERR-7", 400, "FILE_DECODING_FAILURE", Edition.E2026_01, "LP-ERR-7", "pass"),
        ("LP-ERR-7", 422, "FILE_DECODING_FAILURE", Edition.E2026_01, "pass", "pass"),
        ("LP-ERR-8", 413, "FILE_SIZE_EXCEEDS_LIMIT", Edition.ANY, "pass", "pass"),
        ("LP-ERR-8", 400, "ERROR_PARAMETERS", Edition.ANY, "LP-ERR-8", "LP-ERR-8"),
        ("LP-ERR-9", 422, "FILE_RESOLUTION_EXCEEDS_LIMITS", Edition.E2025_09, "pass", "pass"),
        ("LP-ERR-9", 413, "ERROR_HIGH_RESOLUTION", Edition.E2026_01, "pass", "pass"),
        ("LP-ERR-9", 413, "ERROR_HIGH_RESOLUTION", Edition.E2025_09, "LP-ERR-9", "pass"),
        ("LP-ERR-9", 500, "SERVICE_INTERNAL_ERROR", Edition.ANY, "LP-ERR-9", "LP-ERR-9"),
        ("LP-ERR-10", 422, "ERROR_NO_FACE_IN_FILE", Edition.ANY, "pass", "pass"),
        ("LP-ERR-10", 422, "ERROR_INVALID_FILE", Edition.ANY, "pass", "LP-ERR-10"),
        ("LP-ERR-10", 200, "", Edition.ANY, "LP-ERR-10", "LP-ERR-10"),
    ],
)
def test_failure_clauses(
    clause: str, status: int, code: str, edition: Edition, must: str, should: str
) -> None:
    answer = exchange(200, success_body()) if status == 200 else _err(status, code)
    checks = errors.FAILURE_CHECKS[clause]
    assert outcome(checks[MUST], answer, context(edition=edition)) == must
    assert outcome(checks[SHOULD], answer, context(edition=edition)) == should


def test_content_type_clause_has_no_code_check() -> None:
    (must,) = errors.FAILURE_CHECKS["LP-ERR-11"]
    assert outcome(must, _err(400, "MISSING_PARAMETERS"), context()) == "pass"
    assert outcome(must, _err(415, "UNSUPPORTED_FILE_TYPES"), context()) == "pass"
    assert outcome(must, _err(422, "ERROR_INVALID_FILE"), context()) == "LP-ERR-11"


def test_wrong_method() -> None:
    good = _err(405, "ERROR_ILLEGAL_OPERATION")
    forbidden = _err(403, "ERROR_ILLEGAL_OPERATION")
    html = exchange(405, b"<h1>405</h1>", headers=[("content-type", "text/html")])
    for check, results in {
        errors.wrong_method_is_a_client_error: ("pass", "pass", "pass"),
        errors.wrong_method_is_405_illegal_operation: ("pass", "LP-ERR-11", "LP-ERR-11"),
        errors.wrong_method_has_envelope: ("pass", "pass", "LP-ERR-11"),
    }.items():
        assert tuple(outcome(check, e, context()) for e in (good, forbidden, html)) == results
    assert outcome(errors.wrong_method_is_a_client_error, exchange(200), context()) == "LP-ERR-11"


def test_limits_and_faults() -> None:
    assert outcome(errors.rate_limit_is_429_or_503, _err(429, "EXCEEDING_LIMITS"), context()) == "pass"
    assert (
        outcome(errors.rate_limit_is_429_or_503, _err(503, "AI_SERVICE_FLOW_RESTRICTION"), context())
        == "pass"
    )
    assert (
        outcome(errors.rate_limit_is_429_or_503, _err(500, "SERVICE_INTERNAL_ERROR"), context())
        == "LP-ERR-12"
    )
    assert outcome(errors.out_of_credits_is_429, _err(429, "ERROR_NOT_ENOUGH_CREDITS"), context()) == "pass"
    assert outcome(errors.out_of_credits_is_429, _err(429, "EXCEEDING_LIMITS"), context()) == "LP-ERR-12"
    with_retry = _err(429, "EXCEEDING_LIMITS", **{"retry-after": "2"})
    assert outcome(errors.limit_carries_retry_after, with_retry, context()) == "pass"
    assert outcome(errors.limit_carries_retry_after, _err(429, "EXCEEDING_LIMITS"), context()) == "LP-ERR-12"


def test_server_failures() -> None:
    check = errors.server_failure_is_5xx_with_listed_code
    assert outcome(check, _err(500, "SERVICE_INTERNAL_ERROR"), context()) == "pass"
    assert outcome(check, _err(502, "ERROR_GATEWAY"), context()) == "pass"
    assert outcome(check, _err(400, "PROCESSING_FAILURE"), context()) == "LP-ERR-13"
    assert outcome(check, _err(500, "PROCESSING_FAILURE"), context(edition=Edition.E2025_09)) == "LP-ERR-13"
    assert outcome(errors.client_error_is_never_5xx, _err(422, "ERROR_NO_FACE_IN_FILE"), context()) == "pass"
    assert outcome(errors.client_error_is_never_5xx, _err(500, "UNKNOWN_ERROR"), context()) == "LP-ERR-13"


def test_code_message_and_message() -> None:
    good = _err(422, "ERROR_NO_FACE_IN_FILE")
    assert outcome(errors.code_message_is_documented, good, context()) == "pass"
    wrong = error_body(422, "ERROR_NO_FACE_IN_FILE")
    wrong["error_detail"]["code_message"] = "no face"
    assert outcome(errors.code_message_is_documented, exchange(422, wrong), context()) == "LP-ERR-14"
    wrong["error_detail"]["message"] = " "
    assert outcome(errors.message_is_human_readable, exchange(422, wrong), context()) == "LP-ERR-14"
    assert outcome(errors.message_is_human_readable, good, context()) == "pass"


def test_retired() -> None:
    assert (
        outcome(errors.retired_answers_404_ai_not_exists, _err(404, "ERROR_AI_NOT_EXISTS"), context())
        == "pass"
    )
    assert (
        outcome(errors.retired_answers_404_ai_not_exists, _err(404, "ERROR_RESOURCE_NOT_FOUND"), context())
        == "LP-ERR-15"
    )


def test_failure_message_names_request_and_edition() -> None:
    answer = exchange(500, error_body(500, "SERVICE_INTERNAL_ERROR"), api_request=request("a bomb"))
    try:
        errors.FAILURE_CHECKS["LP-ERR-9"][0](answer, context(edition=Edition.E2026_01))
    except AssertionError as exc:
        text = str(exc)
    assert "[LP-ERR-9 MUST]" in text and "a bomb" in text and "413" in text and "curl" in text
