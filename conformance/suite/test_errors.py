"""SPEC §5 errors: each failure gets its status and code in the edition (LP-ERR-*)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given

from conformance import strategies as st
from conformance.engine import Group, Recorder, failure_checks, own_checks
from conformance.engine.schedule import PlannedClient
from conformance.exchange import ApiRequest, Key
from conformance.settings import Settings
from conformance.suite._shared import Judge, Verify, error_settings, send, with_covering_set, with_header

# Clauses a failure test also exercises beyond its own (LP-REQ-4 and -5 are refusals too).
ALSO = {"LP-ERR-3": ("LP-REQ-4",), "LP-ERR-5": ("LP-REQ-5",)}
FAILURES = [
    ("LP-ERR-1", st.missing_key_requests),
    ("LP-ERR-2", st.unknown_key_requests),
    ("LP-ERR-3", st.missing_image_requests),
    ("LP-ERR-4", st.text_field_image_requests),
    ("LP-ERR-5", st.invalid_type_requests),
    ("LP-ERR-6", st.unsupported_format_requests),
    ("LP-ERR-7", st.corrupt_image_requests),
    ("LP-ERR-8", st.oversized_requests),
    ("LP-ERR-9", st.huge_resolution_requests),
    ("LP-ERR-10", st.faceless_requests),
    ("LP-ERR-11", st.wrong_content_type_requests),
]


def _failure_test(clause: str, strategy: Any) -> Any:
    # The envelope clauses are judged here too, but selecting them (--family envelope) runs the
    # dedicated envelope test, not every failure test.
    @pytest.mark.clause(clause, *ALSO.get(clause, ()), "LP-ERR-13", "LP-ERR-14")
    @error_settings()
    @given(api_request=strategy())
    def test(api_request: ApiRequest, verify: Verify) -> None:
        verify(api_request, expect=clause)

    must_doc = failure_checks(clause)[0].__doc__ or ""
    test.__doc__ = f"{clause}: {must_doc.split(' — ')[0]}"
    # The covering set: every named value, boundary and kind of the clause, in every run (issue 14).
    return with_covering_set(test, clause)


for _clause, _strategy in FAILURES:
    globals()[f"test_{_clause.lower().replace('-', '_')}"] = _failure_test(_clause, _strategy)


@pytest.mark.clause("LP-ERR-1")
@pytest.mark.parametrize(
    "image",
    [st.decompression_bomb(), st.image_of_exact_size(5 * 1024 * 1024 + 1)],
    ids=["bomb", "over-5-MiB"],
)
def test_authentication_comes_before_the_body(image: Any, verify: Verify) -> None:
    """LP-ERR-1: "no 200 and no 413/415/422 for a request without a key"."""
    verify(st.request_for(image, key=Key.MISSING), expect="LP-ERR-1")


@pytest.mark.clause("LP-ERR-11")
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_is_refused(method: str, client: PlannedClient, judge: Judge) -> None:
    """LP-ERR-11: "Wrong method (GET, PUT, DELETE) on the endpoint → 4xx (405 SHOULD …)"."""
    photo = st.request_for(st.face_photo(side=128))
    exchange = send(client, replace(photo, method=method, description=f"{method} on the endpoint"))
    judge(Group.WRONG_METHOD, exchange)


FAULTS: dict[str, Group] = {
    "rate-limit": Group.RATE_LIMITED,
    "credits": Group.OUT_OF_CREDITS,
    "server-error": Group.SERVER_ERROR,
    "retired": Group.RETIRED,
}


@pytest.mark.clause("LP-ERR-12", "LP-ERR-13", "LP-ERR-15")
@pytest.mark.parametrize("state", list(FAULTS))
def test_target_states(
    state: str, client: PlannedClient, judge: Judge, recorder: Recorder, livephoto_settings: Settings
) -> None:
    """LP-ERR-12, -13, -15: rate limits, credits, server failures and retirement, where the target
    can be put in that state by a request header (``--fault-header``; preset for the reference
    server)."""
    header = livephoto_settings.fault_headers.get(state)
    if header is None:
        reason = f"no --fault-header {state}='Name: value' given: the target cannot be put in that state"
        recorder.skip(own_checks(FAULTS[state]), reason, permitted=True)  # SPEC §5 LP-ERR-12/13/15
        pytest.skip(reason)
    api_request = with_header(
        st.request_for(st.face_photo(side=128)), header[0], header[1], f"fault header for {state}"
    )
    judge(FAULTS[state], send(client, api_request, retry_rate_limits=False))
