"""SPEC §6 operations: latency budgets and behaviour under 8 concurrent requests (LP-OPS-*)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import strategies as st
from conformance.checks import envelope, operations
from conformance.client import TargetClient
from conformance.exchange import Key
from conformance.suite._shared import send, send_all


@pytest.mark.clause("LP-OPS-1")
def test_latency_budgets(client: TargetClient, judge: Any) -> None:
    """LP-OPS-1: a success within 30 s for a ≤ 1 MP image; a client error within 5 s."""
    successes = [send(client, st.request_for(st.face_photo(side=side))) for side in (256, 512, 1000)]
    client_errors = [
        send(client, st.request_for(st.face_photo(side=256), key=Key.MISSING)),
        send(client, st.request_for(st.face_photo(side=256), type_value="2")),
        send(client, st.request_for(st.decompression_bomb())),
    ]
    judge([operations.success_arrives_in_time], successes)
    judge([operations.client_error_arrives_in_time], client_errors)


@pytest.mark.clause("LP-OPS-2", "LP-ENV-2")
def test_eight_concurrent_requests_stay_consistent(client: TargetClient, judge: Any) -> None:
    """LP-OPS-2: 8 concurrent valid requests get 200 (or rate limits) and distinct request ids,
    each video framed from its own image."""
    requests = [
        st.request_for(st.face_photo(side=192 + 32 * i, framing=framing), type_value="1")
        for i, framing in enumerate(["portrait", "full-body"] * (operations.CONCURRENCY // 2))
    ]
    exchanges = send_all(client, requests)
    judge([operations.concurrent_requests_are_consistent, envelope.request_ids_are_distinct], exchanges)
