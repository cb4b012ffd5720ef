"""The triage model both the terminal and the HTML render: order, and each failure's parts."""

from __future__ import annotations

from conformance.reports.model import RunReport
from conformance.reports.triage import message_field, pretty_body, request_rows, response_line, triage
from conformance.spec import Level
from conformance.verdicts import (
    Evidence,
    ImageSummary,
    PartSummary,
    RequestSummary,
    ResponseSummary,
    Violation,
)
from tests.reports.conftest import all_passing, build, failing, result


def test_order_is_must_then_should_then_errors_each_in_spec_order(broken_report: RunReport) -> None:
    results = [r for c in broken_report.clauses for r in c.checks if c.id not in ("LP-REQ-1", "LP-ENV-2")]
    results += [result("LP-REQ-1", "error", message="the target did not answer"), failing("LP-ENV-2")]
    order = [(f.clause.id, f.group) for f in triage(build(results))]
    assert order == [
        ("LP-ENV-2", "MUST"),
        ("LP-ENV-3", "MUST"),
        ("LP-OK-2", "MUST"),
        ("LP-ERR-3", "MUST"),
        ("LP-VID-3", "SHOULD"),
        ("LP-REQ-1", "ERROR"),
    ]


def test_a_should_part_of_a_must_clause_is_a_should_failure() -> None:
    results = [r for r in all_passing() if r.clause != "LP-ENV-2"]
    results.append(failing("LP-ENV-2", "request_id is empty", level="SHOULD"))
    (only,) = triage(build(results))
    assert (only.group, only.head) == ("SHOULD", f"[LP-ENV-2 SHOULD] {only.clause.title}")


def test_the_shown_failure_is_at_the_failing_level_and_the_others_are_counted() -> None:
    results = [r for r in all_passing() if r.clause != "LP-ENV-2"]
    results += [failing("LP-ENV-2", "empty id", level="SHOULD"), failing("LP-ENV-2", "no request_id")]
    (only,) = triage(build(results))
    assert only.group == "MUST" and only.received == "no request_id" and len(only.others) == 1


def test_blocked_clauses_are_named_on_their_root() -> None:
    results = [r for r in all_passing() if r.clause not in ("LP-OK-2", "LP-VID-1")]
    results += [failing("LP-OK-2"), result("LP-VID-1", "blocked", message="blocked", blocked_by="LP-OK-2")]
    (root,) = triage(build(results))
    assert root.clause.id == "LP-OK-2" and root.blocks == ["LP-VID-1"]


def test_parts_come_from_a_real_violation() -> None:
    evidence = Evidence(
        request=RequestSummary(
            description="JPEG 512×512, type='0'",
            method="POST",
            path="/api/portrait/effects/live-photo",
            api_key="valid (redacted)",
            parts=(
                PartSummary("image_target", 40737, filename="face.jpg", content_type="image/jpeg"),
                PartSummary("type", 1, value="0"),
            ),
            image=ImageSummary("JPEG", 512, 512, 40737),
        ),
        response=ResponseSummary(
            status=200,
            headers=(("Content-Type", "application/json"),),
            body_excerpt='{"error_code": 0, "data": {"video": "<40 base64 chars>"}}',
            bytes=99,
            truncated=False,
            elapsed_ms=495.3,
        ),
        curl="curl -sS -X POST http://t/api/portrait/effects/live-photo",
        image="/tmp/a/samples/sample-1.jpg",
    )
    violation = Violation(
        "LP-VID-4",
        "The video moves",
        received="a still",
        expected="motion",
        evidence=evidence,
        level=Level.SHOULD,
    )
    check = result(
        "LP-VID-4",
        "fail",
        message=violation.render(),
        evidence=violation.evidence.as_dict(),
        videos=["/v.mp4"],
    )
    (failure,) = triage(build([*(r for r in all_passing() if r.clause != "LP-VID-4"), check]))
    assert (failure.received, failure.expected) == ("a still", "motion")
    assert failure.request == [
        ("request", "POST /api/portrait/effects/live-photo"),
        ("sent", "JPEG 512×512, type='0'"),
        ("key", "valid (redacted)"),
        ("image_target", "file 'face.jpg', image/jpeg, 40737 bytes"),
        ("type", "field '0'"),
        ("image", "JPEG 512×512"),
    ]
    assert failure.response == "HTTP 200 · 99 bytes · 495.3 ms · application/json"
    assert failure.body.splitlines()[:3] == ["{", '  "error_code": 0,', '  "data": {']
    assert failure.curl == evidence.curl and failure.image == evidence.image and failure.videos == ["/v.mp4"]


def test_helpers_tolerate_what_a_foreign_report_may_hold() -> None:
    assert message_field("Received: x\nExpected: y", "Expected") == "y"
    assert message_field("no such line", "Received") == ""
    assert request_rows(None) == [] and request_rows({"parts": "nonsense"}) == [("request", "POST")]
    assert response_line({"status": 500}) == "HTTP 500"
    assert pretty_body({"body_excerpt": '{"cut": "in the midd…'}) == '{"cut": "in the midd…'  # as received
    assert pretty_body({"body": {"a": 1}}) == '{\n  "a": 1\n}'
    assert pretty_body("nonsense") == ""
