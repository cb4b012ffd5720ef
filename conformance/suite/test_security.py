"""SPEC §7 security: no key echo, no internals, oversized bodies refused, the target survives."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conformance import strategies as st
from conformance.client import TargetGone, TargetUnreachable
from conformance.engine import GROUP_PLANS, Group, Recorder
from conformance.engine.schedule import OverBudget, PlannedClient
from conformance.exchange import ApiRequest, Exchange, Key, Part
from conformance.strategies.isolation import baseline
from conformance.suite._shared import Judge, send
from conformance.verdicts import Violation

OVERSIZED_BODY = 50 * 1024 * 1024  # LP-SEC-3: "Oversized bodies (e.g. 50 MB)"
OVERSIZED_DESCRIPTION = f"a {OVERSIZED_BODY // (1024 * 1024)} MiB multipart body"


def _oversized_request() -> ApiRequest:
    filler = b"\0" * OVERSIZED_BODY
    return ApiRequest(
        description=OVERSIZED_DESCRIPTION,
        parts=(Part("image_target", filler, "photo.jpg", "image/jpeg"),),
    )


def _hostile_requests() -> list[ApiRequest]:
    boundary = "conformance-broken"
    return [
        st.request_for(st.decompression_bomb()),
        ApiRequest(
            description="a multipart body cut off in the middle of a part",
            raw_body=f'--{boundary}\r\nContent-Disposition: form-data; name="image_target"; '.encode(),
            content_type=f"multipart/form-data; boundary={boundary}",
        ),
        ApiRequest(
            description="a multipart Content-Type without a boundary",
            raw_body=b"garbage",
            content_type="multipart/form-data",
        ),
        ApiRequest(
            description="binary garbage declared as multipart",
            raw_body=bytes(range(256)) * 64,
            content_type=f"multipart/form-data; boundary={boundary}",
        ),
        replace(
            st.request_for(st.face_photo(side=128)),
            parts=(Part("image_target", b"\xff\xd8\xff" + b"\x00" * 4096, "../../etc/passwd", None),),
            description="a truncated JPEG named ../../etc/passwd",
        ),
    ]


def _judge_hostile(
    api_request: ApiRequest, answer: Exchange | Exception, recorder: Recorder, judge: Judge
) -> None:
    """LP-SEC-3 for the oversized body; LP-SEC-1 and -2 for the others (no key, no internals)."""
    if api_request.description == OVERSIZED_DESCRIPTION:
        if isinstance(answer, TargetUnreachable):
            # "refused with 413 (or the connection closed)": a closed connection passes.
            recorder.record_pass(GROUP_PLANS[Group.OVERSIZED][0], f"connection closed: {answer}")
        elif isinstance(answer, Exchange):
            judge(Group.OVERSIZED, answer)
        return
    if isinstance(answer, Exchange):
        judge(Group.HOSTILE if answer.status == 200 else Group.HOSTILE_ERROR, answer)


@pytest.mark.clause("LP-SEC-1", "LP-SEC-2", "LP-SEC-3", "LP-SEC-4")
@pytest.mark.ordered(last=True)  # the test runs last, its hostile wave after every other request
def test_hostile_requests_then_target_survives(
    client: PlannedClient, recorder: Recorder, judge: Judge
) -> None:
    """LP-SEC-3: a 50 MB body is refused with 413 (or the connection closed); LP-SEC-2: hostile
    requests reveal no internals; LP-SEC-4: after them, the next valid request still succeeds.

    The hostile requests go at once, after every other request of the run (a target that dies of
    one takes no other clause with it), and one valid request follows when all are answered: it
    is "the next valid request" after each of them.
    """
    hostile = [_oversized_request(), *_hostile_requests()]
    try:
        answers, survivor = client.wave(hostile, baseline())
    except OverBudget as exc:
        pytest.skip(str(exc))
    if isinstance(survivor, TargetGone) and all(isinstance(a, TargetGone) for a in answers):
        # the breaker was open before the wave: nothing was sent, so nothing can be judged
        raise pytest.fail.Exception(f"the target did not answer: {survivor}", pytrace=False) from survivor
    failed: list[BaseException] = []  # every part is judged before the test fails on the first
    for api_request, answer in zip(hostile, answers, strict=True):
        try:
            _judge_hostile(api_request, answer, recorder, judge)
        except Violation as violation:
            failed.append(violation)
    if isinstance(survivor, TargetUnreachable):
        message = f"no answer to a valid request sent after the hostile ones: {survivor}"
        recorder.record_fail(GROUP_PLANS[Group.SURVIVOR][0], message)
        failed.append(pytest.fail.Exception(f"[LP-SEC-4 MUST] {message}", pytrace=False))
    else:
        try:
            judge(Group.SURVIVOR, survivor)
        except Violation as violation:
            failed.append(violation)
    if failed:
        raise failed[0]


@pytest.mark.clause("LP-SEC-1")
@pytest.mark.parametrize("key", [Key.VALID, Key.INVALID], ids=["valid-key", "unknown-key"])
def test_key_is_not_echoed_on_errors(key: Key, client: PlannedClient, judge: Judge) -> None:
    """LP-SEC-1: the key is not echoed, not even in an authentication or validation error."""
    api_request = replace(
        st.request_for(st.face_photo(side=128), type_value="2"),
        key=key,
        description="type=2 (invalid) to provoke an error that could echo the request",
    )
    judge(Group.ANY_ANSWER, send(client, api_request))
