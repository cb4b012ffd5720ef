"""Issue 17: one defect, one failing clause. A check that cannot judge because a more basic clause
already failed on the same exchange is recorded as blocked by it; the report groups failures by
root cause, and blocked clauses never gate by themselves."""

from __future__ import annotations

from pathlib import Path

from conformance.redact import Redactor
from conformance.reports.model import aggregate
from conformance.engine import Recorder
from conformance.verdicts import Verdict
from tests.factories import API_KEY, exchange, settings, success_body


def _recorder(tmp_path: Path, selected: frozenset[str] | None = None) -> Recorder:
    return Recorder(
        context=settings(tmp_path).check_context(), redactor=Redactor([API_KEY]), selected=selected
    )


def _verdicts(recorder: Recorder) -> dict[str, Verdict]:
    report = aggregate(recorder.results)
    return {c.id: c.verdict for c in report.clauses if c.checks}


def test_a_refusal_without_json_fails_lp_env_1_alone(tmp_path: Path) -> None:
    """An invalid type refused with the right status but an HTML body: LP-ENV-1 is the root; the
    §5 clause and the envelope clauses are blocked by it, not failed."""
    bad = exchange(400, b"<html>Bad Request</html>", headers=[("content-type", "text/html")])
    recorder = _recorder(tmp_path)
    recorder.judge(bad, expect="LP-ERR-5")
    verdicts = _verdicts(recorder)
    assert {c for c, v in verdicts.items() if v is Verdict.FAIL} == {"LP-ENV-1"}
    assert verdicts["LP-ERR-5"] is Verdict.BLOCKED
    assert verdicts["LP-ENV-3"] is Verdict.BLOCKED
    report = aggregate(recorder.results)
    ((root, blocked),) = report.roots
    assert root.id == "LP-ENV-1" and "LP-ERR-5" in blocked
    assert report.root_line.startswith("1 root failure: LP-ENV-1 (")
    assert report.outcome == "NOT COMPATIBLE"  # the root gates; the blocked clauses never do


def test_a_refusal_with_the_wrong_status_still_fails_its_clause(tmp_path: Path) -> None:
    """Blocking never hides a defect of the clause itself: accepting an invalid type is LP-ERR-5's."""
    recorder = _recorder(tmp_path)
    recorder.judge(exchange(200, success_body()), expect="LP-ERR-5")
    assert _verdicts(recorder)["LP-ERR-5"] is Verdict.FAIL


def test_a_video_that_is_not_strict_base64_fails_lp_ok_2_alone(tmp_path: Path) -> None:
    body = success_body()
    video = body["data"]["video"]
    body["data"]["video"] = video[:40] + "\r\n" + video[40:]
    recorder = _recorder(tmp_path)
    recorder.judge(exchange(200, body), expect="success")
    verdicts = _verdicts(recorder)
    assert {c for c, v in verdicts.items() if v is Verdict.FAIL} == {"LP-OK-2"}
    assert verdicts["LP-VID-1"] is Verdict.BLOCKED


def test_a_root_outside_the_selection_still_blocks_and_the_run_is_incomplete(tmp_path: Path) -> None:
    """--clause LP-ERR-5 alone: LP-ENV-1 is judged silently to know what it blocks; LP-ERR-5 is
    blocked, nothing is claimed: INCOMPLETE, not a false pass."""
    bad = exchange(400, b"<html>Bad Request</html>", headers=[("content-type", "text/html")])
    recorder = _recorder(tmp_path, selected=frozenset({"LP-ERR-5"}))
    recorder.judge(bad, expect="LP-ERR-5")
    assert {r.clause for r in recorder.results} == {"LP-ERR-5"}
    report = aggregate(recorder.results, clauses=["LP-ERR-5"])
    (clause,) = report.clauses
    assert clause.verdict is Verdict.BLOCKED and clause.blocked_by == ["LP-ENV-1"]
    assert report.outcome == "INCOMPLETE"
