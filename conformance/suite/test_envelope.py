"""SPEC §2 envelope: the same public fields on every kind of answer (LP-ENV-*)."""

from __future__ import annotations

import pytest

from conformance.engine import Group
from conformance.engine.schedule import PlannedClient
from conformance.strategies.covering import TRIPLE, covering_requests, success_pool
from conformance.suite._shared import Judge, send

# One answer of each kind, all requests the run sends anyway (shared): a success, no key, an
# unknown key, an invalid type, a decompression bomb.
KINDS = (("LP-ERR-1", 0), ("LP-ERR-2", 0), ("LP-ERR-5", 0), ("LP-ERR-9", -1))


# LP-OK-3 too: the common checks judge ``data`` on every answer (no video on an error).
@pytest.mark.clause(
    "LP-ENV-1", "LP-ENV-2", "LP-ENV-3", "LP-ENV-4", "LP-ENV-5", "LP-ENV-6", "LP-ENV-7", "LP-OK-3"
)
def test_every_kind_of_answer_has_the_envelope(client: PlannedClient, judge: Judge) -> None:
    """SPEC §2: success, authentication errors and validation errors all carry the envelope, and
    request ids differ between requests; errors carry no video (LP-OK-3)."""
    requests = [success_pool()[TRIPLE["0"]], *(covering_requests(clause)[i] for clause, i in KINDS)]
    exchanges = [send(client, request) for request in requests]
    for exchange in exchanges:
        judge(Group.ANY_ANSWER, exchange)
    judge(Group.DISTINCT_ANSWERS, exchanges)
