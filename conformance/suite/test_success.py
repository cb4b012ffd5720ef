"""SPEC §3 success and §4 video: valid face photos get a real video (LP-OK-*, LP-VID-*).

Every valid request here is one of the success pool's (``strategies.covering.success_pool``):
identical requests of several tests are sent once and judged by each (issue 18, frugality).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from conformance.engine import Group
from conformance.engine.schedule import PlannedClient
from conformance.strategies import valid_requests
from conformance.strategies.covering import TRIPLE, success_pool
from conformance.suite._shared import Judge, Verify, send, success_settings, with_covering_set

SUCCESS_CLAUSES = (
    "LP-OK-1",
    "LP-OK-2",
    "LP-OK-3",
    "LP-REQ-1",
    "LP-REQ-6",
    "LP-VID-1",
    "LP-VID-2",
    "LP-VID-3",
    "LP-VID-4",
    "LP-VID-5",
    "LP-VID-6",
    "LP-VID-7",
)
TYPES = {"type-1": "1", "type-0": "0", "type-absent": None}


@pytest.mark.clause(*SUCCESS_CLAUSES)
@pytest.mark.parametrize("type_value", list(TYPES.values()), ids=list(TYPES))
def test_face_photo_gets_a_video(type_value: str | None, verify: Verify) -> None:
    """LP-OK-1: "for type 0, 1 and absent" — one picture under each type."""
    verify(success_pool()[TRIPLE[type_value]], expect="success")


@pytest.mark.clause(*SUCCESS_CLAUSES, "LP-REQ-2", "LP-REQ-3", "LP-REQ-7")
@success_settings()
@given(api_request=valid_requests())
def test_generated_valid_requests_get_a_video(api_request: Any, verify: Verify) -> None:
    """Valid requests: the success pool (every image encoding and extension, every LP-REQ-6
    boundary, type, key casing and multipart variant, each request combining several), then
    Hypothesis-generated ones."""
    verify(api_request, expect="success")


test_generated_valid_requests_get_a_video = with_covering_set(
    test_generated_valid_requests_get_a_video, "LP-OK-1"
)


@pytest.mark.clause("LP-OPS-3")
def test_identical_requests_give_videos_of_the_same_shape(client: PlannedClient, judge: Judge) -> None:
    """LP-OPS-3: identical requests SHOULD give videos of the same duration, frames and size."""
    api_request = success_pool()[0]
    first, second = send(client, api_request), send(client, api_request, fresh=True)
    judge(Group.IDENTICAL_PAIR, first, second)


@pytest.mark.clause("LP-VID-6")
def test_avatar_and_full_body_framings_differ(client: PlannedClient, judge: Judge) -> None:
    """LP-VID-6: type 0 crops on the face, type 1 keeps the whole full-body frame (one picture)."""
    avatar = send(client, success_pool()[TRIPLE["0"]])
    full_body = send(client, success_pool()[TRIPLE["1"]])
    judge(Group.FRAMING_PAIR, avatar, full_body)


@pytest.mark.clause("LP-REQ-5")
def test_absent_type_is_treated_as_avatar(client: PlannedClient, judge: Judge) -> None:
    """LP-REQ-5: "A request without type MUST be treated as type=0" (one picture)."""
    absent = send(client, success_pool()[TRIPLE[None]])
    avatar = send(client, success_pool()[TRIPLE["0"]])
    judge(Group.ABSENT_TYPE_PAIR, absent, avatar)
