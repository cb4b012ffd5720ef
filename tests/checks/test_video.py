"""The video checks (SPEC §4, LP-OK-2, LP-OPS-3) pass good videos and fail exactly the bad they target."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.check_context import CheckContext
from conformance.checks import video
from conformance.exchange import Exchange
from conformance.registry import check_of
from conformance.verdicts import Blocked, NotApplicable, Violation
from tests.video_factory import exchange_for, videos

ALL_CHECKS = (video.video_is_strict_base64, *video.VIDEO_CHECKS)
SQUARE = (512, 512)
TALL = (300, 600)


@pytest.fixture
def settings(tmp_path: Path) -> CheckContext:
    return CheckContext(api_key="key", artefacts_dir=tmp_path / "artefacts")


def outcomes(exchange: Exchange, settings: CheckContext) -> dict[str, Any]:
    """Each check's outcome by name: the info string, the Violation or the NotApplicable."""
    found: dict[str, Any] = {}
    for check in ALL_CHECKS:
        try:
            found[check.__name__] = check(exchange, settings)
        except (Violation, NotApplicable, Blocked) as outcome:
            found[check.__name__] = outcome
    return found


def _b64(name: str) -> str:
    return base64.b64encode(videos()[name]).decode()


def url_safe() -> str:
    text = base64.urlsafe_b64encode(videos()["mp4_h264"]).decode()
    assert "-" in text or "_" in text
    return text


def unpadded() -> str:
    data = videos()["mp4_h264"]
    text = base64.b64encode(data + b"\0" * (len(data) % 3 == 0)).decode()
    assert text.endswith("=")
    return text.rstrip("=")


# (sample, type, input size) → the clauses that fail; every other check passes or does not apply.
CASES: list[tuple[str, str | Callable[[], str], str | None, tuple[int, int], set[str]]] = [
    ("good H.264 avatar", "mp4_h264", "0", SQUARE, set()),
    ("good H.264, type absent", "mp4_h264", None, SQUARE, set()),
    ("good H.264 full body", "mp4_h264", "1", SQUARE, set()),
    ("full body within 10 % of the ratio", "mp4_h264", "1", (540, 512), set()),
    ("good H.264 with audio", "mp4_h264_audio", "0", SQUARE, set()),
    ("good HEVC", "mp4_hevc", "0", SQUARE, set()),
    ("good tall full body", "mp4_h264_portrait_1x2", "1", TALL, set()),
    ("faceless full body", "mp4_faceless", "1", SQUARE, set()),
    ("WebM/VP9", "webm_vp9", "0", SQUARE, {"LP-VID-2"}),
    ("MJPEG AVI", "avi_mjpeg", "0", SQUARE, {"LP-VID-2"}),
    ("one-frame MP4", "mp4_one_frame", "0", SQUARE, {"LP-VID-1"}),
    ("static MP4", "mp4_static", "0", SQUARE, {"LP-VID-4"}),
    ("odd dimensions", "mp4_odd", "0", SQUARE, {"LP-VID-5"}),
    ("48-px sides", "mp4_tiny", "1", SQUARE, {"LP-VID-5"}),
    ("0.5 s", "mp4_short", "0", SQUARE, {"LP-VID-3"}),
    ("5 fps", "mp4_slow_fps", "0", SQUARE, {"LP-VID-3"}),
    ("square video for a tall full body", "mp4_h264", "1", TALL, {"LP-VID-6"}),
    ("square video 17 % off a full body", "mp4_h264", "1", (600, 512), {"LP-VID-6"}),
    ("faceless avatar", "mp4_faceless", "0", SQUARE, {"LP-VID-6"}),
    ("truncated MP4", "truncated", "0", SQUARE, {"LP-VID-1"}),
    ("fragmented MP4 cut in the middle", "fragmented_truncated", "0", SQUARE, {"LP-VID-1"}),
    ("a PNG", "png", "0", SQUARE, {"LP-VID-1"}),
    ("random bytes", "random", "0", SQUARE, {"LP-VID-1"}),
    ("huge PNG header", "huge_png", "0", SQUARE, {"LP-VID-1"}),
    ("huge Y4M header", "huge_y4m", "0", SQUARE, {"LP-VID-1"}),
    ("zero bytes", "zeros", "0", SQUARE, {"LP-VID-1"}),
    ("empty string", lambda: "", "0", SQUARE, {"LP-VID-1"}),  # LP-OK-2: blocked by LP-OK-1 (D-10)
    ("URL-safe base64", url_safe, "0", SQUARE, {"LP-OK-2", "LP-VID-1"}),
    (
        "line breaks",
        lambda: _b64("mp4_h264")[:76] + "\n" + _b64("mp4_h264")[76:],
        "0",
        SQUARE,
        {"LP-OK-2", "LP-VID-1"},
    ),
    (
        "data: prefix",
        lambda: "data:video/mp4;base64," + _b64("mp4_h264"),
        "0",
        SQUARE,
        {"LP-OK-2", "LP-VID-1"},
    ),
    ("missing padding", unpadded, "0", SQUARE, {"LP-OK-2", "LP-VID-1"}),
]


@pytest.mark.parametrize(
    ("sample", "type_value", "image", "failing"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_each_check_fails_exactly_the_bad_videos_it_targets(
    sample: str | Callable[[], str],
    type_value: str | None,
    image: tuple[int, int],
    failing: set[str],
    settings: CheckContext,
) -> None:
    payload = videos()[sample] if isinstance(sample, str) else sample()
    found = outcomes(exchange_for(payload, type_value=type_value, image=image), settings)
    violations = {name: v for name, v in found.items() if isinstance(v, Violation)}
    assert {v.clause for v in violations.values()} == failing, {n: str(v) for n, v in violations.items()}
    for name, violation in violations.items():
        assert violation.clause == check_of(getattr(video, name)).clause.id
        for path in violation.evidence.artefacts:
            assert Path(path).is_file()
            assert Path(path).parent == settings.artefacts_dir / video.VIDEO_DIR
            assert path in str(violation)
    if failing == set():
        assert isinstance(found["video_is_decodable_with_two_frames"], str)
        assert not list(settings.artefacts_dir.glob("**/*"))


@pytest.mark.parametrize("name", ["webm_vp9", "mp4_static", "mp4_one_frame", "random", "mp4_odd"])
def test_a_failing_video_is_saved_playable_next_to_the_report(name: str, settings: CheckContext) -> None:
    found = outcomes(exchange_for(videos()[name]), settings)
    violation = next(v for v in found.values() if isinstance(v, Violation))
    (saved,) = violation.evidence.artefacts
    assert Path(saved).read_bytes() == videos()[name]
    assert f"Saved: {saved}" in str(violation)


def test_a_defective_base64_video_is_saved_decoded(settings: CheckContext) -> None:
    with pytest.raises(Violation) as caught:
        video.video_is_strict_base64(exchange_for(url_safe()), settings)
    assert "character" in caught.value.received
    (saved,) = caught.value.evidence.artefacts
    assert Path(saved).read_bytes() == videos()["mp4_h264"]
    assert Path(saved).suffix == ".mp4"


def test_base64_failure_names_the_position(settings: CheckContext) -> None:
    text = _b64("mp4_h264")
    with pytest.raises(Violation) as caught:
        video.video_is_strict_base64(exchange_for(text[:300] + "\r\n" + text[300:]), settings)
    assert caught.value.clause == "LP-OK-2"
    assert "line break at character 300 of" in caught.value.received


@pytest.mark.parametrize("status", [400, 401, 500])
def test_checks_do_not_apply_to_error_responses(status: int, settings: CheckContext) -> None:
    found = outcomes(exchange_for(None, status=status), settings)
    assert all(isinstance(outcome, NotApplicable) for outcome in found.values()), found


def test_checks_do_not_apply_without_a_video_string(settings: CheckContext) -> None:
    found = outcomes(exchange_for(None), settings)
    assert all(isinstance(outcome, NotApplicable) for outcome in found.values()), found


def test_audio_is_reported_never_failed(settings: CheckContext) -> None:
    assert (
        video.video_audio_reported(exchange_for(videos()["mp4_h264_audio"]), settings)
        == "audio stream present"
    )
    assert video.video_audio_reported(exchange_for(videos()["mp4_h264"]), settings) == "no audio stream"
    assert check_of(video.video_audio_reported).level.value == "MAY"


def test_same_request_same_shape_passes(settings: CheckContext) -> None:
    first, second = exchange_for(videos()["mp4_h264"]), exchange_for(videos()["mp4_h264_audio"])
    assert "192×192" in video.identical_requests_give_same_shape(first, second, settings)


@pytest.mark.parametrize("other", ["mp4_short", "mp4_odd", "mp4_slow_fps"])
def test_same_request_different_shape_fails(other: str, settings: CheckContext) -> None:
    first, second = exchange_for(videos()["mp4_h264"]), exchange_for(videos()[other])
    with pytest.raises(Violation) as caught:
        video.identical_requests_give_same_shape(first, second, settings)
    assert caught.value.clause == "LP-OPS-3"
    assert len(caught.value.evidence.artefacts) == 2
    assert all(Path(path).is_file() for path in caught.value.evidence.artefacts)


def test_same_shape_is_blocked_by_undecodable_videos(settings: CheckContext) -> None:
    with pytest.raises(Blocked, match="blocked by LP-VID-1"):
        video.identical_requests_give_same_shape(
            exchange_for(videos()["mp4_h264"]), exchange_for(videos()["random"]), settings
        )


@pytest.mark.parametrize("full_body", ["mp4_h264_portrait_1x2", "mp4_faceless"])
def test_avatar_and_full_body_framings_differ_passes(full_body: str, settings: CheckContext) -> None:
    avatar = exchange_for(videos()["mp4_h264"], type_value="0")
    body = exchange_for(videos()[full_body], type_value="1")
    assert video.avatar_and_full_body_framings_differ(avatar, body, settings)


@pytest.mark.parametrize("full_body", ["mp4_h264", "mp4_h264_audio", "mp4_static"])
def test_identical_framings_fail(full_body: str, settings: CheckContext) -> None:
    avatar = exchange_for(videos()["mp4_h264"], type_value="0")
    body = exchange_for(videos()[full_body], type_value="1")
    with pytest.raises(Violation) as caught:
        video.avatar_and_full_body_framings_differ(avatar, body, settings)
    assert caught.value.clause == "LP-VID-6"
    assert all(path in str(caught.value) for path in caught.value.evidence.artefacts)


def test_every_check_is_registered_under_its_clause_with_the_clause_as_docstring() -> None:
    expected = {
        "video_is_strict_base64": "LP-OK-2",
        "video_is_decodable_with_two_frames": "LP-VID-1",
        "video_is_mp4_h264_or_hevc": "LP-VID-2",
        "video_duration_and_fps_in_range": "LP-VID-3",
        "video_moves": "LP-VID-4",
        "video_dimensions_even_and_in_range": "LP-VID-5",
        "video_keeps_aspect_ratio_full_body": "LP-VID-6",
        "video_shows_face_avatar": "LP-VID-6",
        "video_audio_reported": "LP-VID-7",
        "identical_requests_give_same_shape": "LP-OPS-3",
        "avatar_and_full_body_framings_differ": "LP-VID-6",
    }
    for name, clause in expected.items():
        registered = check_of(getattr(video, name))
        assert registered.clause.id == clause
        assert registered.doc
    assert [f.__name__ for f in video.VIDEO_CHECKS] == list(expected)[1:9]
