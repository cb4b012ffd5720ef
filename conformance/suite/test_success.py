"""SPEC §3 success and §4 video: valid face photos get a real video (LP-OK-*, LP-VID-*)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given

from conformance.checks import request as request_checks
from conformance.checks import video
from conformance.strategies import face_photo, request_for, valid_requests
from conformance.suite._shared import send, success_settings, with_covering_set

SUCCESS_CLAUSES = (
    "LP-OK-1",
    "LP-OK-2",
    "LP-OK-3",
    "LP-REQ-1",
    "LP-REQ-5",
    "LP-REQ-6",
    "LP-VID-1",
    "LP-VID-2",
    "LP-VID-3",
    "LP-VID-4",
    "LP-VID-5",
    "LP-VID-6",
    "LP-VID-7",
)


@pytest.mark.clause(*SUCCESS_CLAUSES)
@pytest.mark.parametrize("type_value", ["0", "1", None], ids=["type-0", "type-1", "type-absent"])
def test_face_photo_gets_a_video(type_value: str | None, verify: Any) -> None:
    """LP-OK-1: "for type 0, 1 and absent"."""
    framing = "full-body" if type_value == "1" else "portrait"
    api_request = request_for(face_photo(framing=framing), type_value=type_value)
    verify(replace(api_request, labels=(*api_request.labels, "LP-REQ-5")), expect="success")


@pytest.mark.clause(*SUCCESS_CLAUSES, "LP-REQ-2", "LP-REQ-3", "LP-REQ-7")
@success_settings()
@given(api_request=valid_requests())
def test_generated_valid_requests_get_a_video(api_request: Any, verify: Any) -> None:
    """Valid requests: every image encoding, name, type, key casing and multipart variant of the
    covering set (each request combines several), then Hypothesis-generated ones."""
    verify(api_request, expect="success")


test_generated_valid_requests_get_a_video = with_covering_set(
    test_generated_valid_requests_get_a_video, "LP-OK-1"
)


@pytest.mark.clause("LP-OPS-3")
def test_identical_requests_give_videos_of_the_same_shape(client: Any, judge: Any) -> None:
    """LP-OPS-3: identical requests SHOULD give videos of the same duration, frames and size."""
    api_request = request_for(face_photo(), type_value="0")
    first, second = send(client, api_request), send(client, api_request)
    judge([video.identical_requests_give_same_shape], first, second)


@pytest.mark.clause("LP-VID-6")
def test_avatar_and_full_body_framings_differ(client: Any, judge: Any) -> None:
    """LP-VID-6: type 0 crops on the face, type 1 keeps the whole full-body frame."""
    photo = face_photo(framing="full-body")
    avatar = send(client, request_for(photo, type_value="0"))
    full_body = send(client, request_for(photo, type_value="1"))
    judge([video.avatar_and_full_body_framings_differ], avatar, full_body)


@pytest.mark.clause("LP-REQ-5")
def test_absent_type_is_treated_as_avatar(client: Any, judge: Any) -> None:
    """LP-REQ-5: "A request without type MUST be treated as type=0"."""
    photo = face_photo(framing="full-body")
    absent = send(client, request_for(photo, type_value=None))
    avatar = send(client, request_for(photo, type_value="0"))
    judge([request_checks.absent_type_is_avatar], absent, avatar)
