"""Enforce mode answers on the verdict of the MUST checks and judges the SHOULD and MAY ones while the
answer travels (issue 18: the enforcing proxy added 22.7 % to a success, 22 of its 35 ms the face
detection of LP-VID-6, a SHOULD clause that can never make it withhold an answer).

The split is sound only if no MUST verdict can appear after the decision: the checks a clause
builds on (``needs``) run as foundations and must be MUST checks of the first part. The first test
holds every plan to that, so a new check or plan that broke it fails here, not in production."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from conformance.checks import errors
from conformance.engine import LABEL_CHECKS, WRONG_METHOD, decisive_first, foundation_checks, plan
from conformance.exchange import ApiRequest, Exchange
from conformance.proxy.config import Mode, ProxyConfig
from conformance.proxy.observe import Judgement, Observer
from conformance.proxy.observed import observe_request
from conformance.proxy.runner import AppThread
from conformance.registry import check_of
from conformance.spec import Level
from tests.mock.samples import KEY, face_small
from tests.proxy.conftest import ENDPOINT, fixed_app, proxied

EXPECTATIONS = [None, "success", *sorted(errors.FAILURE_CHECKS)]


def _plans() -> list[tuple[str, list[Any]]]:
    labelled = ApiRequest("labelled", labels=tuple(f"{clause}:x" for clause in LABEL_CHECKS))
    found = [("wrong method", list(WRONG_METHOD))]
    for status in (200, 400, 401, 500):
        exchange = Exchange(labelled, "http://upstream", status, [], b"{}", 0.1)
        found += [(f"{status} expecting {expect}", plan(exchange, expect=expect)) for expect in EXPECTATIONS]
    return found


@pytest.mark.parametrize(("name", "checks"), _plans(), ids=[name for name, _ in _plans()])
def test_every_plan_decides_on_its_must_checks(name: str, checks: list[Any]) -> None:
    first, rest = decisive_first(checks)
    assert sorted(map(id, first + rest)) == sorted(map(id, checks))  # nothing lost, nothing added
    assert [c for c in checks if c in first] == first  # order kept
    assert all(check_of(c).level is Level.MUST for c in first)
    assert all(check_of(c).level is not Level.MUST for c in rest)
    for check in checks:
        for clause in check_of(check).needs:
            for foundation in foundation_checks(clause):
                assert foundation in first, f"{check.__name__} builds on {foundation.__name__}, not decisive"


def _multipart() -> tuple[list[tuple[str, str]], bytes]:
    request = httpx.Request(
        "POST",
        "http://upstream" + ENDPOINT,
        files={"image_target": ("face.png", face_small(), "image/png")},
        headers={"ailabapi-api-key": KEY},
    )
    body = request.read()
    return [(k.decode(), v.decode()) for k, v in request.headers.raw], body


# A 200 with error_code 1 (MUST clauses of §2 break: LP-ENV-3 / LP-ENV-6) and an empty request_id
# (LP-ENV-2's SHOULD) at once.
BOTH = json.dumps(
    {
        "request_id": "",
        "log_id": "l-1",
        "error_code": 1,
        "error_msg": "",
        "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""},
        "data": {"video": "AAAA"},
    }
).encode()
# Only the SHOULD clause broken: an empty request_id on an otherwise well-formed error answer.
SHOULD_ONLY = json.dumps(
    {
        "request_id": "",
        "log_id": "l-2",
        "error_code": 401,
        "error_msg": "The API key is not recognised.",
        "error_detail": {
            "status_code": 401,
            "code": "ERROR_USER_NOT_EXISTS",
            "code_message": "ERROR_USER_NOT_EXISTS",
            "message": "The API key is not recognised.",
        },
    }
).encode()


def test_the_decision_comes_first_and_is_the_whole_plans(tmp_path: Any) -> None:
    """The observer reports the MUST verdict before it runs the other checks (the totals are not
    counted yet, the SHOULD finding not found yet), and that verdict is the whole plan's."""
    observer = Observer(ProxyConfig(upstream="http://upstream", artefacts_dir=tmp_path))
    headers, body = _multipart()
    observed = observe_request("POST", ENDPOINT, "", headers, body)
    exchange = Exchange(observed.request, "http://upstream" + ENDPOINT, 200, [], BOTH, 0.1)
    heard: list[tuple[Judgement, int]] = []
    final = observer.judge(
        observed, exchange, 1, lambda j: heard.append((j, sum(observer.verdicts.values())))
    )
    assert len(heard) == 1
    decided, judged_then = heard[0]
    assert judged_then == 0  # the totals come after every check ran
    assert decided.verdict == "fail" and decided.must and decided.must == final.must
    assert all(f.level == Level.MUST for f in decided.findings)
    should = [f for f in final.findings if f.level == Level.SHOULD]
    assert "LP-ENV-2" in {f.clause for f in should}  # found after the decision, still reported


@pytest.mark.parametrize(
    ("body", "status", "answered"),
    [(BOTH, 200, 502), (SHOULD_ONLY, 401, 401)],
    ids=["must-and-should", "should-only"],
)
def test_enforce_withholds_on_must_only_and_still_reports_the_rest(
    body: bytes, status: int, answered: int
) -> None:
    with (
        AppThread(fixed_app(body, status=status)) as upstream,
        proxied(upstream.url, mode=Mode.ENFORCE) as proxy,
    ):
        files = {"image_target": ("face.png", face_small(), "image/png")}
        answer = httpx.post(proxy.url + ENDPOINT, files=files, headers={"ailabapi-api-key": KEY}, timeout=60)
        report = httpx.get(proxy.url + "/_livephoto/report", timeout=60).json()
    assert answer.status_code == answered
    outcomes = report["metrics"]["outcomes"]  # [check, clause, level, verdict, count]
    failed = {(clause, level) for _, clause, level, verdict, _ in outcomes if verdict == "fail"}
    assert ("LP-ENV-2", "SHOULD") in failed  # judged after the decision, reported all the same
    must = {clause for clause, level in failed if level == "MUST"}
    if answered == 502:
        message = answer.json()["error_detail"]["message"]
        assert must and all(clause in message for clause in must)
        assert "LP-ENV-2" not in message  # a SHOULD never withholds
    else:
        assert not must
        assert answer.content == body  # passed on untouched
    assert report["metrics"]["enforced"] == (1 if answered == 502 else 0)
