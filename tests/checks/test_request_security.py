"""Request, success, security and operations checks: pass on conforming answers, fail on violations."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest

from conformance.checks import operations, request, security, success
from conformance.exchange import ImageInfo, Key
from tests.factories import API_KEY, context, error_body, exchange, outcome, success_body


def test_request_acceptance_checks() -> None:
    ok, refused = exchange(), exchange(400, error_body(400, "ERROR_PARAMETERS"))
    for check, clause in [
        (request.multipart_variant_is_accepted, "LP-REQ-2"),
        (request.valid_type_is_accepted, "LP-REQ-5"),
        (request.valid_image_is_accepted, "LP-REQ-6"),
        (request.extra_fields_are_ignored, "LP-REQ-7"),
    ]:
        assert outcome(check, ok, context()) == "pass"
        assert outcome(check, refused, context()) == clause


def test_endpoint_and_required_parts() -> None:
    assert outcome(request.endpoint_answers_post, exchange(), context()) == "pass"
    assert (
        outcome(
            request.endpoint_answers_post,
            exchange(404, error_body(404, "ERROR_RESOURCE_NOT_FOUND")),
            context(),
        )
        == "LP-REQ-1"
    )
    assert outcome(request.endpoint_answers_post, exchange(301, b"{}"), context()) == "LP-REQ-1"
    refused = exchange(400, error_body(400, "MISSING_PARAMETERS"))
    assert outcome(request.image_target_is_required, refused, context()) == "pass"
    assert outcome(request.image_target_is_required, exchange(), context()) == "LP-REQ-4"
    assert outcome(request.invalid_type_is_refused, refused, context()) == "pass"
    assert outcome(request.invalid_type_is_refused, exchange(), context()) == "LP-REQ-5"
    unauthorised = exchange(401, error_body(401, "ERROR_USER_NOT_EXISTS"))
    assert outcome(request.key_header_casing_is_accepted, unauthorised, context()) == "LP-REQ-3"
    assert outcome(request.key_header_casing_is_accepted, exchange(), context()) == "pass"


def test_success_checks() -> None:
    assert outcome(success.valid_request_succeeds, exchange(), context()) == "pass"
    no_video = exchange(body=success_body(data={"video": ""}))
    assert outcome(success.valid_request_succeeds, no_video, context()) == "LP-OK-1"
    assert (
        outcome(
            success.valid_request_succeeds,
            exchange(422, error_body(422, "ERROR_NO_FACE_IN_FILE")),
            context(),
        )
        == "LP-OK-1"
    )
    assert (
        outcome(success.success_carries_data_object, exchange(body=success_body(data=[])), context())
        == "LP-OK-3"
    )
    video_on_error = exchange(422, error_body(422, "ERROR_NO_FACE_IN_FILE", data={"video": "AAAA"}))
    assert outcome(success.error_carries_no_video, video_on_error, context()) == "LP-OK-3"
    assert (
        outcome(
            success.error_carries_no_video,
            exchange(422, error_body(422, "ERROR_NO_FACE_IN_FILE", data={"video": ""})),
            context(),
        )
        == "pass"
    )


@pytest.mark.parametrize(
    "echo",
    [
        API_KEY,
        base64.b64encode(API_KEY.encode()).decode(),
        API_KEY.replace("-", "%2D"),
    ],
    ids=["plain", "base64", "percent-encoded-unreserved"],
)
def test_key_echo_in_body_is_caught(echo: str) -> None:
    # %2D decodes to "-" like any percent-encoding: frameworks encode more than quote() does
    body = error_body(401, "ERROR_USER_NOT_EXISTS", error_msg=f"unknown key {echo}")
    answer = exchange(401, body)
    assert outcome(security.api_key_is_not_echoed, answer, context()) == "LP-SEC-1"


def test_key_echo_in_headers_and_of_the_invalid_key() -> None:
    headers = [("content-type", "application/json"), ("x-debug-key", API_KEY)]
    assert outcome(security.api_key_is_not_echoed, exchange(headers=headers), context()) == "LP-SEC-1"
    invalid = context().invalid_api_key
    body = error_body(401, "ERROR_USER_NOT_EXISTS", error_msg=f"bad key {invalid}")
    answer = exchange(401, body, api_request=replace(exchange().request, key=Key.INVALID))
    assert outcome(security.api_key_is_not_echoed, answer, context()) == "LP-SEC-1"
    assert outcome(security.api_key_is_not_echoed, exchange(), context()) == "pass"


@pytest.mark.parametrize(
    "leak",
    [
        'Traceback (most recent call last):\n  File "/app/server.py", line 12, in handler',
        "java.lang.NullPointerException\n\tat com.example.Api.handle(Api.java:42)",
        'ERROR: syntax error at or near "SELECT"',
        "<title>Werkzeug Debugger</title>",
        "open /home/deploy/app/config.yaml: no such file",
        "goroutine 1 [running]:",
    ],
)
def test_internals_are_caught(leak: str) -> None:
    body = error_body(500, "SERVICE_INTERNAL_ERROR")
    body["error_detail"]["message"] = leak
    assert outcome(security.errors_reveal_no_internals, exchange(500, body), context()) == "LP-SEC-2"


def test_plain_errors_reveal_nothing() -> None:
    answer = exchange(422, error_body(422, "ERROR_NO_FACE_IN_FILE"))
    assert outcome(security.errors_reveal_no_internals, answer, context()) == "pass"


def test_oversized_and_survival() -> None:
    assert (
        outcome(
            security.oversized_body_is_refused,
            exchange(413, error_body(413, "ERROR_REQUEST_BODY_TOO_LARGE")),
            context(),
        )
        == "pass"
    )
    assert (
        outcome(
            security.oversized_body_is_refused, exchange(500, error_body(500, "UNKNOWN_ERROR")), context()
        )
        == "LP-SEC-3"
    )
    assert outcome(security.target_survives, exchange(), context()) == "pass"
    assert (
        outcome(
            security.target_survives,
            exchange(503, error_body(503, "AI_SERVICE_FLOW_RESTRICTION")),
            context(),
        )
        == "LP-SEC-4"
    )


def test_latency_budgets() -> None:
    fast, slow = exchange(elapsed=0.5), exchange(elapsed=31.0)
    big = exchange(
        elapsed=40.0, api_request=replace(exchange().request, image=ImageInfo("JPEG", 2000, 2000, 9, True))
    )
    assert outcome(operations.success_arrives_in_time, [fast, big], context()) == "pass"
    assert outcome(operations.success_arrives_in_time, [fast, slow], context()) == "LP-OPS-1"
    err_fast = exchange(400, error_body(400, "ERROR_PARAMETERS"), elapsed=0.2)
    err_slow = exchange(400, error_body(400, "ERROR_PARAMETERS"), elapsed=6.0)
    assert outcome(operations.client_error_arrives_in_time, [err_fast], context()) == "pass"
    assert outcome(operations.client_error_arrives_in_time, [err_fast, err_slow], context()) == "LP-OPS-1"


def test_concurrency_consistency() -> None:
    ids = [exchange(body=success_body(request_id=f"r{i}")) for i in range(8)]
    assert outcome(operations.concurrent_requests_are_consistent, ids, context()) == "pass"
    limited = [*ids[:7], exchange(429, error_body(429, "EXCEEDING_LIMITS"))]
    assert outcome(operations.concurrent_requests_are_consistent, limited, context()) == "pass"
    crashed = [*ids[:7], exchange(500, error_body(500, "SERVICE_INTERNAL_ERROR"))]
    assert outcome(operations.concurrent_requests_are_consistent, crashed, context()) == "LP-OPS-2"
    duplicated = [*ids[:7], ids[0]]
    assert outcome(operations.concurrent_requests_are_consistent, duplicated, context()) == "LP-OPS-2"


@pytest.mark.parametrize(
    "encoded",
    [
        base64.b64encode(f"Bearer {API_KEY}".encode()).decode(),
        base64.b64encode(f'{{"key": "{API_KEY}", "n": 1}}'.encode()).decode(),
        base64.urlsafe_b64encode(f"k={API_KEY}&x".encode()).decode().rstrip("="),
    ],
    ids=["bearer-prefix", "inside-json", "urlsafe-offset-2"],
)
def test_key_inside_a_larger_base64_text_is_caught(encoded: str) -> None:
    """LP-SEC-1: the key base64-encoded together with other text, at any byte alignment."""
    headers = [("content-type", "application/json"), ("x-request-context", encoded)]
    assert outcome(security.api_key_is_not_echoed, exchange(headers=headers), context()) == "LP-SEC-1"
    body = error_body(401, "ERROR_USER_NOT_EXISTS", error_msg=f"context {encoded}")
    assert outcome(security.api_key_is_not_echoed, exchange(401, body), context()) == "LP-SEC-1"


def test_unrelated_base64_is_not_taken_for_the_key() -> None:
    other = base64.b64encode(b"Bearer sk-live-OTHER-9876543210 and more text").decode()
    body = error_body(401, "ERROR_USER_NOT_EXISTS", error_msg=f"context {other}")
    assert outcome(security.api_key_is_not_echoed, exchange(401, body), context()) == "pass"


def test_recorded_violation_prints_no_form_of_the_key() -> None:
    """The suite's hygiene: a Violation as pytest prints it (str) and as recorded has the key's
    echoed forms masked, even though the check quotes the offending body."""
    from urllib.parse import quote

    from conformance.engine import Recorder
    from conformance.redact import Redactor, key_forms

    body = error_body(
        401, "ERROR_USER_NOT_EXISTS", error_msg=f"unknown key {quote(API_KEY + '+/=', safe='')}"
    )
    key = API_KEY + "+/="
    rec = Recorder(context=context(api_key=key), redactor=Redactor([key]))
    violation = rec.run(security.api_key_is_not_echoed, exchange(401, body))
    assert violation is not None
    assert violation.clause == "LP-SEC-1"
    shown = str(violation) + repr(rec.results)
    assert "unknown key ***" in str(violation)
    assert not [form for form in key_forms(key) if form in shown]
