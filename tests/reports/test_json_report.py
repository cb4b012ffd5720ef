"""The JSON report validates against schemas/report.schema.json and loads back unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from conformance.reports.json_report import ReportError, load_report, report_validator, write_json
from conformance.reports.model import RunReport
from conformance.resources import load_json
from tests.reports.conftest import all_passing, build, failing


def test_schema_is_versioned_and_itself_valid() -> None:
    schema = load_json("report.schema.json")
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith("/report-1.1.schema.json")
    assert schema["properties"]["schema_version"]["pattern"] == "^1\\.[0-9]+$"  # 1.0 reports still load


def test_summary_says_compatible_complete_and_what_was_not_judged(tmp_path: Path) -> None:
    """Issue 14: nothing judged, nothing claimed: compatible false, complete false, and why."""
    report = build([r for r in all_passing() if r.clause != "LP-ERR-12"])
    data = json.loads(write_json(report, tmp_path / "r.json").read_text(encoding="utf-8"))
    assert list(report_validator().iter_errors(data)) == []
    summary = data["summary"]
    assert (summary["verdict"], summary["compatible"], summary["complete"]) == ("INCOMPLETE", False, False)
    assert summary["not_judged"] == [{"clause": "LP-ERR-12", "reason": "not exercised in this run"}]
    assert load_report(tmp_path / "r.json").outcome == "INCOMPLETE"


def test_written_report_validates_and_round_trips(tmp_path: Path, broken_report: RunReport) -> None:
    path = write_json(broken_report, tmp_path / "out" / "report.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(report_validator().iter_errors(data)) == []
    assert data["summary"]["compatible"] is False
    assert data["summary"]["must_failures"] == 3
    loaded = load_report(path)
    assert loaded == broken_report


def test_passing_report_validates(tmp_path: Path) -> None:
    data = json.loads(write_json(build(all_passing()), tmp_path / "r.json").read_text())
    assert report_validator().is_valid(data)
    assert data["summary"]["compatible"] is True


def _mutate(data: dict[str, Any], how: str) -> None:
    if how == "verdict":
        data["clauses"][0]["verdict"] = "maybe"
    elif how == "missing":
        del data["target_url"]
    elif how == "level":
        data["clauses"][0]["checks"][0]["level"] = "OPTIONAL"
    elif how == "timestamp":
        data["started_at"] = "yesterday"
    elif how == "extra":
        data["surprise"] = 1


@pytest.mark.parametrize(
    ("how", "fragment"),
    [
        ("verdict", "clauses/0/verdict"),
        ("missing", "'target_url' is a required property"),
        ("level", "clauses/0/checks/0/level"),
        ("timestamp", "started_at"),
        ("extra", "surprise"),
    ],
)
def test_invalid_reports_give_one_line_errors(tmp_path: Path, how: str, fragment: str) -> None:
    results = [failing("LP-REQ-1"), *all_passing()[1:]]
    data = build(results).to_dict()
    _mutate(data, how)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ReportError) as caught:
        load_report(path)
    message = str(caught.value)
    assert "\n" not in message
    assert fragment in message
    assert str(path) in message


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "does not exist"),
        ("{not json", "is not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"schema_version": "2.0"}', "uses report schema 2.0"),
        (b"\xff\xfe\x00garbage", "cannot read report"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: str | bytes | None, fragment: str) -> None:
    path = tmp_path / "report.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ReportError, match=fragment):
        load_report(path)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="is a directory"):
        load_report(tmp_path)


def test_real_violation_and_evidence_survive_the_round_trip(tmp_path: Path) -> None:
    from conformance.reports.model import CheckResult
    from conformance.spec import Level
    from conformance.verdicts import (
        Evidence,
        PartSummary,
        RequestSummary,
        ResponseSummary,
        Verdict,
        Violation,
    )

    evidence = Evidence(
        request=RequestSummary(
            "HTML", "POST", "/", "valid (redacted)", parts=(PartSummary("type", 1, value="0"),)
        ),
        response=ResponseSummary(200, (("content-type", "text/html"),), "<html>", 12, False, 1.5),
        curl="curl -X POST 'http://127.0.0.1:9/api/portrait/effects/live-photo'",
        artefacts=["/tmp/x/response.bin"],
        notes=["the body is HTML"],
    )
    violation = Violation(
        "LP-ENV-1",
        "Every response is JSON",
        received="text/html",
        expected="JSON",
        evidence=evidence,
        level=Level.MUST,
    )
    check = CheckResult(
        "responses_are_json",
        "LP-ENV-1",
        "MUST",
        Verdict.FAIL,
        violation.render(),
        evidence.as_dict(),
        "suite/test_envelope.py::test_json",
        0.25,
        ["/tmp/x/response.bin"],
    )
    others = [r for r in all_passing() if r.clause != "LP-ENV-1"]
    report = build([check, *others], kind="proxy", metrics={"exchanges": 3})
    loaded = load_report(write_json(report, tmp_path / "r.json"))
    (clause,) = [c for c in loaded.clauses if c.id == "LP-ENV-1"]
    assert clause.checks == [check]
    assert clause.reason == "[LP-ENV-1 MUST] Every response is JSON"
    assert (loaded.kind, loaded.metrics) == ("proxy", {"exchanges": 3})
