"""SPEC §6 operations: latency budgets and behaviour under 8 concurrent requests (LP-OPS-*)."""

from __future__ import annotations

import pytest

from conformance.engine import Group
from conformance.engine.schedule import PlannedClient
from conformance.strategies.covering import BURST, covering_requests, success_pool
from conformance.suite._shared import Judge, send, send_all

BURST_SIZE = 8  # LP-OPS-2: "Under 8 concurrent valid requests"
# Client errors of the covering set (sent anyway by the failure tests: shared, not sent again).
CLIENT_ERRORS = (("LP-ERR-1", 0), ("LP-ERR-5", 0), ("LP-ERR-9", -1))


@pytest.mark.clause("LP-OPS-1")
def test_latency_budgets(client: PlannedClient, judge: Judge) -> None:
    """LP-OPS-1: a success within 30 s for a ≤ 1 MP image; a client error within 5 s. (Every
    exchange of the run is held to these bounds too, when its test ends.)"""
    successes = [send(client, request) for request in success_pool()[:3]]
    client_errors = [send(client, covering_requests(clause)[i]) for clause, i in CLIENT_ERRORS]
    judge(Group.SUCCESS_LATENCY, successes)
    judge(Group.ERROR_LATENCY, client_errors)


@pytest.mark.clause("LP-OPS-2", "LP-ENV-2")
def test_eight_concurrent_requests_stay_consistent(client: PlannedClient, judge: Judge) -> None:
    """LP-OPS-2: 8 concurrent valid requests get 200 (or rate limits) and distinct request ids,
    each video framed from its own image (six are type 1 with aspect ratios 25 % apart)."""
    requests = [success_pool()[i] for i in BURST]
    assert len(requests) == BURST_SIZE
    exchanges = send_all(client, requests)
    judge(Group.BURST, exchanges)
