"""SPEC §2 envelope: the same public fields on every kind of answer (LP-ENV-*)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import strategies as st
from conformance.checks import envelope
from conformance.client import TargetClient
from conformance.exchange import Key
from conformance.engine import COMMON
from conformance.suite._shared import send


# LP-OK-3 too: the common checks judge ``data`` on every answer (no video on an error).
@pytest.mark.clause(
    "LP-ENV-1", "LP-ENV-2", "LP-ENV-3", "LP-ENV-4", "LP-ENV-5", "LP-ENV-6", "LP-ENV-7", "LP-OK-3"
)
def test_every_kind_of_answer_has_the_envelope(client: TargetClient, judge: Any) -> None:
    """SPEC §2: success, authentication errors and validation errors all carry the envelope, and
    request ids differ between requests; errors carry no video (LP-OK-3)."""
    photo = st.face_photo(side=192)
    exchanges = [
        send(client, st.request_for(photo)),
        send(client, st.request_for(photo, key=Key.MISSING)),
        send(client, st.request_for(photo, key=Key.INVALID)),
        send(client, st.request_for(photo, type_value="7")),
        send(client, st.request_for(st.decompression_bomb())),
    ]
    for exchange in exchanges:
        judge(COMMON, exchange)
    judge([envelope.request_ids_are_distinct], exchanges)
