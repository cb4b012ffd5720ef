"""SPEC §7 security: no key echo, no internals, oversized bodies refused, the target survives."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from conformance import strategies as st
from conformance.checks import security
from conformance.client import TargetClient, TargetGone, TargetUnreachable
from conformance.exchange import ApiRequest, Key, Part
from conformance.engine import COMMON, ERROR_COMMON, Recorder
from conformance.suite._shared import send

OVERSIZED_BODY = 50 * 1024 * 1024  # LP-SEC-3: "Oversized bodies (e.g. 50 MB)"


def _oversized_request() -> ApiRequest:
    filler = b"\0" * OVERSIZED_BODY
    return ApiRequest(
        description=f"a {OVERSIZED_BODY // (1024 * 1024)} MiB multipart body",
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


def _survives(client: TargetClient, recorder: Recorder, judge: Any) -> None:
    """LP-SEC-4: a valid request after the hostile one succeeds; no answer at all is a failure
    of the clause (the target died), not an inability to judge it."""
    try:
        exchange = client.send(st.request_for(st.face_photo()))
    except TargetGone as exc:  # nothing was sent: the run has already lost the target
        pytest.fail(f"the target did not answer: {exc}", pytrace=False)
    except TargetUnreachable as exc:
        message = f"no answer to a valid request sent after the hostile one: {exc}"
        recorder.record_fail(security.target_survives, message)
        raise pytest.fail.Exception(f"[LP-SEC-4 MUST] {message}", pytrace=False) from None
    judge([security.target_survives], exchange)


@pytest.mark.clause("LP-SEC-3", "LP-SEC-4")
def test_oversized_body_is_refused_and_target_survives(
    client: TargetClient, recorder: Recorder, judge: Any
) -> None:
    """LP-SEC-3: a 50 MB body is refused with 413 (or the connection closed), and the target
    still answers a valid request afterwards."""
    try:
        exchange = client.send(_oversized_request())
    except TargetGone as exc:  # the breaker is open: nothing was sent, so nothing was refused
        pytest.fail(f"the target did not answer: {exc}", pytrace=False)
    except TargetUnreachable as exc:
        # "refused with 413 (or the connection closed)": a closed connection passes.
        recorder.record_pass(security.oversized_body_is_refused, f"connection closed: {exc}")
    else:
        judge([security.oversized_body_is_refused], exchange)
    _survives(client, recorder, judge)


@pytest.mark.clause("LP-SEC-1", "LP-SEC-2", "LP-SEC-4")
@pytest.mark.parametrize("api_request", _hostile_requests(), ids=lambda r: r.description)
def test_hostile_request_then_target_survives(
    api_request: ApiRequest, client: TargetClient, recorder: Recorder, judge: Any
) -> None:
    """LP-SEC-2 and LP-SEC-4: a hostile request reveals no internals and the next valid request
    still succeeds."""
    exchange = send(client, api_request)
    checks = [security.api_key_is_not_echoed]
    if exchange.status != 200:
        checks += [c for c in ERROR_COMMON if c is security.errors_reveal_no_internals]
    judge(checks, exchange)
    _survives(client, recorder, judge)


@pytest.mark.clause("LP-SEC-1")
@pytest.mark.parametrize("key", [Key.VALID, Key.INVALID], ids=["valid-key", "unknown-key"])
def test_key_is_not_echoed_on_errors(key: Key, client: TargetClient, judge: Any) -> None:
    """LP-SEC-1: the key is not echoed, not even in an authentication or validation error."""
    api_request = replace(
        st.request_for(st.face_photo(side=128), type_value="2"),
        key=key,
        description="type=2 (invalid) to provoke an error that could echo the request",
    )
    judge([*COMMON], send(client, api_request))
