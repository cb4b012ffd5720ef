"""Aggregation of check results into clause verdicts (rules in docs/reports.md)."""

from __future__ import annotations

import pytest

from conformance.reports.model import NOT_EXERCISED, CheckResult, RunReport, aggregate
from conformance.spec import catalogue
from conformance.verdicts import Verdict
from tests.reports.conftest import all_passing, build, failing, result

# (clause, [(verdict, level or "", message)], expected verdict, expected failed_level)
CASES = [
    ("LP-ENV-3", [], "skipped", None),
    ("LP-ENV-3", [("pass", "", "")], "pass", None),
    ("LP-ENV-3", [("pass", "", ""), ("fail", "", "[LP-ENV-3 MUST] x")], "fail", "MUST"),
    ("LP-ENV-3", [("pass", "", ""), ("error", "", "boom")], "error", None),
    ("LP-ENV-3", [("fail", "", "a"), ("error", "", "boom")], "fail", "MUST"),
    ("LP-ENV-3", [("skipped", "", "no"), ("pass", "", "")], "pass", None),
    ("LP-ENV-3", [("skipped", "", "no 429"), ("skipped", "", "no 429")], "skipped", None),
    ("LP-ENV-2", [("pass", "MUST", ""), ("fail", "SHOULD", "empty id")], "fail", "SHOULD"),
    ("LP-ENV-2", [("fail", "SHOULD", "a"), ("fail", "MUST", "b")], "fail", "MUST"),
    ("LP-REQ-6", [("pass", "MUST", ""), ("fail", "MAY", "rejected 16x16")], "pass", None),
    ("LP-REQ-6", [("info", "MAY", "note")], "pass", None),
    ("LP-ENV-7", [("fail", "MAY", "extra fields")], "info", None),
    ("LP-ENV-7", [("pass", "MAY", "")], "info", None),
    ("LP-ENV-7", [("skipped", "MAY", "no response")], "skipped", None),
    ("LP-VID-2", [("fail", "", "webm")], "fail", "SHOULD"),
]


@pytest.mark.parametrize(("clause", "outcomes", "verdict", "failed_level"), CASES)
def test_clause_verdicts(
    clause: str, outcomes: list[tuple[str, str, str]], verdict: str, failed_level: str | None
) -> None:
    results = [
        result(clause, v, check=f"c{i}", level=level, message=msg)
        for i, (v, level, msg) in enumerate(outcomes)
    ]
    report = aggregate(results, clauses=[clause])
    (only,) = report.clauses
    assert only.verdict == verdict
    assert only.failed_level == failed_level


def test_every_catalogue_clause_gets_a_verdict_in_spec_order() -> None:
    report = aggregate([result("LP-ENV-3", "pass")])
    assert [c.id for c in report.clauses] == list(catalogue())
    skipped = [c for c in report.clauses if c.id != "LP-ENV-3"]
    assert {c.verdict for c in skipped} == {Verdict.SKIPPED}
    assert {c.reason for c in skipped} == {NOT_EXERCISED}


def test_selection_limits_clauses_but_keeps_stray_results() -> None:
    report = aggregate(
        [result("LP-ENV-1", "pass"), result("LP-OK-1", "fail", message="x")],
        clauses=["LP-ENV-1", "LP-ENV-3"],
    )
    assert [c.id for c in report.clauses] == ["LP-ENV-1", "LP-ENV-3", "LP-OK-1"]
    assert report.clauses[1].reason == NOT_EXERCISED


def test_skip_reasons_are_joined_and_deduplicated() -> None:
    results = [
        result("LP-ERR-12", "skipped", check="a", message="no fault header"),
        result("LP-ERR-12", "skipped", check="b", message="no fault header"),
        result("LP-ERR-12", "skipped", check="c", message="target has no credits"),
    ]
    (clause,) = aggregate(results, clauses=["LP-ERR-12"]).clauses
    assert clause.reason == "no fault header; target has no credits"


def test_duplicate_results_collapse() -> None:
    same = [failing("LP-ENV-3"), failing("LP-ENV-3"), failing("LP-ENV-3", "HTTP 502")]
    (clause,) = aggregate(same, clauses=["LP-ENV-3"]).clauses
    assert len(clause.checks) == 2


def test_failure_reason_is_the_first_message_line() -> None:
    (clause,) = aggregate([failing("LP-ENV-3")], clauses=["LP-ENV-3"]).clauses
    assert clause.reason.startswith("[LP-ENV-3 MUST] error_code is 0 on 200")


def test_unknown_clause_from_a_newer_catalogue_is_kept() -> None:
    stray = CheckResult("future_check", "LP-NEW-1", "SHOULD", Verdict.FAIL, "x")
    report = aggregate([stray], clauses=[])
    (clause,) = report.clauses
    assert (clause.id, clause.family, clause.verdict, clause.levels) == (
        "LP-NEW-1",
        "new",
        Verdict.FAIL,
        ["SHOULD"],
    )


def test_all_passing_is_compatible_with_full_score() -> None:
    report = build(all_passing())
    assert report.compatible
    assert report.must_failures == 0
    assert report.should_score == 100.0
    assert report.failed == []
    assert report.counts["pass"] + report.counts["info"] == len(catalogue())


def test_must_failure_breaks_compatibility() -> None:
    results = [r for r in all_passing() if r.clause != "LP-OK-1"] + [failing("LP-OK-1")]
    report = build(results)
    assert not report.compatible
    assert report.must_failures == 1
    assert [c.id for c in report.failed] == ["LP-OK-1"]
    assert report.counts["fail"] == 1


def test_should_failure_lowers_score_and_gates_only_at_should() -> None:
    results = [r for r in all_passing() if r.clause != "LP-VID-2"] + [failing("LP-VID-2")]
    must_gate, should_gate = build(results), build(results, level="SHOULD")
    assert must_gate.compatible
    assert not should_gate.compatible
    should_clauses = [c for c in catalogue().values() if "SHOULD" in c.levels]
    expected = round(100 * (len(should_clauses) - 1) / len(should_clauses), 1)
    assert must_gate.should_score == expected
    assert must_gate.must_failures == 0


def test_error_breaks_compatibility() -> None:
    results = [r for r in all_passing() if r.clause != "LP-ENV-1"]
    results.append(result("LP-ENV-1", "error", message="connection refused"))
    report = build(results)
    assert not report.compatible
    assert report.counts["error"] == 1
    assert report.should_score == 100.0


def test_should_score_is_none_when_nothing_applicable() -> None:
    report = build([result("LP-ENV-1", "pass")])
    assert report.should_score is None
    assert "n/a" in report.verdict_line


def test_dict_round_trip_keeps_everything() -> None:
    results = [*all_passing()[1:], failing("LP-REQ-1", videos=["/tmp/x.mp4"])]
    report = build(results, metrics={"requests": 12, "p95_ms": 812.5})
    again = RunReport.from_dict(report.to_dict())
    assert again == report
    assert again.to_dict() == report.to_dict()


def test_aggregate_rejects_unknown_metadata() -> None:
    with pytest.raises(TypeError, match="target"):
        aggregate([], target="http://x")
