"""Each envelope check passes a conforming answer and fails the violation it targets."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import envelope
from tests.factories import context, error_body, exchange, mutate, outcome, success_body

OK = exchange()
ERR = exchange(422, error_body(422, "ERROR_NO_FACE_IN_FILE"))
ALL = [
    envelope.response_is_json_object,
    envelope.request_and_log_ids_are_strings,
    envelope.request_id_is_not_empty,
    envelope.error_code_matches_http_status,
    envelope.error_detail_is_complete,
    envelope.error_msg_is_present,
    envelope.error_code_str_is_well_formed,
    envelope.success_and_error_are_not_mixed,
    envelope.additional_fields_are_reported,
]


@pytest.mark.parametrize("good", [OK, ERR], ids=["success", "error"])
def test_conforming_answers_pass_every_check(good: Any) -> None:
    assert {check.__name__: outcome(check, good, context()) for check in ALL} == {
        check.__name__: "pass" for check in ALL
    }


CASES = [
    (
        "text/html content type",
        exchange(headers=[("content-type", "text/html")]),
        {"response_is_json_object": "LP-ENV-1"},
    ),
    ("no content type", exchange(headers=[]), {"response_is_json_object": "LP-ENV-1"}),
    ("JSON array body", exchange(body=b"[1, 2]"), {"response_is_json_object": "LP-ENV-1"}),
    ("invalid UTF-8", exchange(body=b'{"a": "\xff"}'), {"response_is_json_object": "LP-ENV-1"}),
    (
        "missing log_id",
        exchange(body=mutate(success_body(), "log_id", ...)),
        {"request_and_log_ids_are_strings": "LP-ENV-2"},
    ),
    (
        "request_id integer",
        exchange(body=mutate(success_body(), "request_id", 5)),
        {"request_and_log_ids_are_strings": "LP-ENV-2"},
    ),
    (
        "empty request_id",
        exchange(body=mutate(success_body(), "request_id", "")),
        {"request_id_is_not_empty": "LP-ENV-2"},
    ),
    (
        "error_code as string",
        exchange(body=mutate(success_body(), "error_code", "0")),
        {"error_code_matches_http_status": "LP-ENV-3"},
    ),
    (
        "error_code 400 on a 422",
        exchange(422, mutate(error_body(422, "ERROR_NO_FACE_IN_FILE"), "error_code", 400)),
        {"error_code_matches_http_status": "LP-ENV-3"},
    ),
    (
        "status_code 400 on a 422",
        exchange(422, mutate(error_body(422, "ERROR_NO_FACE_IN_FILE"), "error_detail.status_code", 400)),
        {"error_detail_is_complete": "LP-ENV-4"},
    ),
    (
        "message missing",
        exchange(422, mutate(error_body(422, "ERROR_NO_FACE_IN_FILE"), "error_detail.message", ...)),
        {"error_detail_is_complete": "LP-ENV-4"},
    ),
    (
        "error_detail missing",
        exchange(body=mutate(success_body(), "error_detail", ...)),
        {"error_detail_is_complete": "LP-ENV-4"},
    ),
    (
        "error_msg missing",
        exchange(body=mutate(success_body(), "error_msg", ...)),
        {"error_msg_is_present": "LP-ENV-5"},
    ),
    (
        "error_code_str lower case",
        exchange(422, error_body(422, "ERROR_NO_FACE_IN_FILE", error_code_str="no face")),
        {"error_code_str_is_well_formed": "LP-ENV-5"},
    ),
    (
        "error_code_str on success",
        exchange(body=success_body(error_code_str="OK_DONE")),
        {"error_code_str_is_well_formed": "LP-ENV-5"},
    ),
    (
        "200 with an error code",
        exchange(body=mutate(success_body(), "error_detail.code", "ERROR_PARAMETERS")),
        {"success_and_error_are_not_mixed": "LP-ENV-6"},
    ),
    (
        "422 with error_code 0",
        exchange(422, mutate(error_body(422, "ERROR_NO_FACE_IN_FILE"), "error_code", 0)),
        {"success_and_error_are_not_mixed": "LP-ENV-6"},  # D-10: LP-ENV-3 is blocked by it
    ),
    (
        "200 with error_code 200",
        exchange(body=mutate(success_body(), "error_code", 200)),
        {"success_and_error_are_not_mixed": "LP-ENV-6"},  # D-10: LP-ENV-3 is blocked by it
    ),
    (
        "200 with an error code and its error_code_str",
        exchange(
            body=success_body(
                error_code_str="ERROR_PARAMETERS",
                error_detail={
                    "status_code": 200,
                    "code": "ERROR_PARAMETERS",
                    "code_message": "",
                    "message": "",
                },
            )
        ),
        {"success_and_error_are_not_mixed": "LP-ENV-6"},  # D-10: LP-ENV-5 is blocked by it
    ),
]


@pytest.mark.parametrize(("name", "bad", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_violation_fails_exactly_its_checks(name: str, bad: Any, expected: dict[str, str]) -> None:
    failing = {}
    for check in ALL:
        result = outcome(check, bad, context())
        if result not in ("pass", "skip", "blocked"):
            failing[check.__name__] = result
    assert failing == expected


def test_non_json_body_only_fails_env_1() -> None:
    bad = exchange(500, b"<html>Internal Server Error</html>", headers=[("content-type", "text/html")])
    results = {check.__name__: outcome(check, bad, context()) for check in ALL}
    assert results.pop("response_is_json_object") == "LP-ENV-1"
    assert set(results.values()) == {"blocked"}  # issue 17: one defect, one failing clause


def test_request_ids_distinct() -> None:
    one, two = exchange(), exchange(body=success_body(request_id="req-9"))
    assert outcome(envelope.request_ids_are_distinct, [one, two], context()) == "pass"
    assert outcome(envelope.request_ids_are_distinct, [one, exchange()], context()) == "LP-ENV-2"
    empty = exchange(body=success_body(request_id=""))
    assert outcome(envelope.request_ids_are_distinct, [empty, empty], context()) == "pass"


def test_additional_fields_are_information() -> None:
    extra = exchange(body=success_body(trace="x", error_detail={**success_body()["error_detail"], "hint": 1}))
    assert envelope.additional_fields_are_reported(extra, context()) == (
        "additional fields: trace, error_detail.hint"
    )
