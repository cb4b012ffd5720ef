"""Issue 17: one defect, one failing clause. A check that cannot judge because a more basic clause
already failed on the same exchange is recorded as blocked by it; the report groups failures by
root cause, and blocked clauses never gate by themselves."""

from __future__ import annotations

from pathlib import Path

from conformance.engine import Recorder
from conformance.redact import Redactor
from conformance.reports.model import aggregate
from conformance.verdicts import Verdict
from tests.factories import API_KEY, error_body, exchange, mutate, settings, success_body


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
    """Blocking never hides a defect of the clause itself: refusing an invalid type with a wrong
    status is LP-ERR-5's failure."""
    recorder = _recorder(tmp_path)
    recorder.judge(exchange(415, error_body(415, "ERROR_FILE_FORMAT_NOT_SUPPORTED")), expect="LP-ERR-5")
    assert _verdicts(recorder)["LP-ERR-5"] is Verdict.FAIL


def test_accepting_a_request_the_request_rules_refuse_is_their_clause_s(tmp_path: Path) -> None:
    """D-12: a 200 to an invalid type is LP-REQ-5's failure ("exactly 0 and 1 are valid"), a 200
    without image_target LP-REQ-4's; the §5 clause has no refusal to judge and is blocked by it."""
    for expect, owner in (("LP-ERR-5", "LP-REQ-5"), ("LP-ERR-3", "LP-REQ-4")):
        recorder = _recorder(tmp_path)
        recorder.judge(exchange(200, success_body()), expect=expect)
        verdicts = _verdicts(recorder)
        assert verdicts[owner] is Verdict.FAIL and verdicts[expect] is Verdict.BLOCKED, verdicts


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


def _failing(recorder: Recorder) -> set[str]:
    return {c for c, v in _verdicts(recorder).items() if v is Verdict.FAIL}


# The factories' video is a few base64 bytes, not a decodable video: judge all but the LP-VID clauses.
NO_VIDEO = frozenset({*(f"LP-ENV-{n}" for n in range(1, 8)), "LP-OK-1", "LP-OK-2", "LP-OK-3", "LP-REQ-5"})


def test_a_success_whose_envelope_fields_are_wrong_fails_their_clause_not_lp_ok_1(tmp_path: Path) -> None:
    """D-10: LP-OK-1 judges the status and the video; a 200 whose error_code, error_detail or data
    is wrong breaks the clause that states the field, and LP-OK-1 (and what builds on it) is
    blocked by that clause."""
    cases = {
        "LP-ENV-6": mutate(success_body(), "error_code", 200),
        "LP-ENV-3": mutate(success_body(), "error_code", "0"),
        "LP-ENV-4": mutate(success_body(), "error_detail.status_code", 201),
        "LP-OK-3": {**mutate(success_body(), "data", ...), "video": success_body()["data"]["video"]},
    }
    for root, body in cases.items():
        recorder = _recorder(tmp_path, NO_VIDEO)
        recorder.judge(exchange(200, body), expect="success")
        assert _failing(recorder) == {root}, root
        assert _verdicts(recorder)["LP-OK-1"] is Verdict.BLOCKED, root


def test_lp_ok_1_still_fails_on_its_own_part(tmp_path: Path) -> None:
    """Blocking never hides LP-OK-1's own defects: a refusal, or a 200 without a video."""
    recorder = _recorder(tmp_path, NO_VIDEO)
    recorder.judge(exchange(422, error_body(422, "ERROR_NO_FACE_IN_FILE")), expect="success")
    assert "LP-OK-1" in _failing(recorder)
    recorder = _recorder(tmp_path, NO_VIDEO)
    recorder.judge(exchange(200, mutate(success_body(), "data.video", "")), expect="success")
    assert _failing(recorder) == {"LP-OK-1"}


def test_a_check_needing_a_blocked_clause_is_blocked_by_its_root(tmp_path: Path) -> None:
    """A 200 whose body is not one JSON object: LP-OK-1 is blocked by LP-ENV-1, so LP-REQ-5's
    absent-type comparison (which needs LP-OK-1) is blocked by LP-ENV-1 too, not failed."""
    from conformance.checks.request import absent_type_is_avatar

    bad = exchange(200, b'{"a": 1}\n{"b": 2}')
    recorder = _recorder(tmp_path, NO_VIDEO)
    recorder.judge(bad, expect="success")
    recorder.run(absent_type_is_avatar, bad, bad)
    assert _failing(recorder) == {"LP-ENV-1"}
    assert _verdicts(recorder)["LP-REQ-5"] is Verdict.BLOCKED
    assert {r.blocked_by for r in recorder.results if r.clause == "LP-REQ-5"} == {"LP-ENV-1"}


def test_a_refusal_with_the_right_status_but_no_readable_code_is_blocked(tmp_path: Path) -> None:
    """LP-ERR-12/-13/-15 compare the code only when it can be read: a 429 as an HTML page is
    LP-ENV-1's defect; a 429 with another code is still LP-ERR-12's."""
    from conformance.checks.errors import out_of_credits_is_429, retired_answers_404_ai_not_exists

    page = exchange(429, b"<html>429</html>", headers=[("content-type", "text/html")])
    recorder = _recorder(tmp_path)
    recorder.judge(page, expect=None)
    recorder.run(out_of_credits_is_429, page)
    assert _failing(recorder) == {"LP-ENV-1"}
    assert _verdicts(recorder)["LP-ERR-12"] is Verdict.BLOCKED
    recorder = _recorder(tmp_path)
    recorder.run(out_of_credits_is_429, exchange(429, error_body(429, "EXCEEDING_LIMITS")))
    recorder.run(
        retired_answers_404_ai_not_exists,
        exchange(404, mutate(error_body(404, "ERROR_AI_NOT_EXISTS"), "error_detail", ...)),
    )
    assert _verdicts(recorder)["LP-ERR-12"] is Verdict.FAIL
    assert _verdicts(recorder)["LP-ERR-15"] is Verdict.BLOCKED
