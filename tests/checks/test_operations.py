"""LP-OPS-2 "each response belongs to its own request", judged on the videos' aspect ratios."""

from __future__ import annotations

import json

from conformance.checks import operations
from conformance.exchange import Exchange
from tests.factories import context, outcome, success_body
from tests.video_factory import encode, exchange_for, zooming


def _video(width: int, height: int) -> bytes:
    return encode(zooming(width, height), count=12, fps=12, width=width, height=height)


def _with_id(exchange: Exchange, request_id: str) -> Exchange:
    body = json.loads(exchange.body)
    exchange.body = json.dumps({**success_body(request_id=request_id), "data": body["data"]}).encode()
    return exchange


def test_type1_videos_framed_from_their_own_images_pass() -> None:
    square, wide = _video(192, 192), _video(256, 144)
    exchanges = [
        _with_id(exchange_for(square, type_value="1", image=(512, 512)), "a"),
        _with_id(exchange_for(wide, type_value="1", image=(640, 360)), "b"),
    ]
    assert outcome(operations.concurrent_requests_are_consistent, exchanges, context()) == "pass"


def test_a_swapped_video_is_caught() -> None:
    square, wide = _video(192, 192), _video(256, 144)
    swapped = [
        _with_id(exchange_for(wide, type_value="1", image=(512, 512)), "a"),
        _with_id(exchange_for(square, type_value="1", image=(640, 360)), "b"),
    ]
    assert outcome(operations.concurrent_requests_are_consistent, swapped, context()) == "LP-OPS-2"


def test_type0_videos_are_not_held_to_the_input_ratio() -> None:
    """Avatar (type 0) videos may be cropped to any ratio: LP-VID-6 asks a face, not a ratio."""
    wide = _video(256, 144)
    exchanges = [_with_id(exchange_for(wide, type_value="0", image=(512, 512)), "a")]
    assert outcome(operations.concurrent_requests_are_consistent, exchanges, context()) == "pass"


def test_an_undecodable_video_is_left_to_the_video_checks() -> None:
    exchanges = [_with_id(exchange_for(b"not a video", type_value="1", image=(512, 512)), "a")]
    assert outcome(operations.concurrent_requests_are_consistent, exchanges, context()) == "pass"
