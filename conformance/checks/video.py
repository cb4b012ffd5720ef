"""Checks of SPEC §4, the video (LP-VID-*), with LP-OK-2 (strict base64) and LP-OPS-3 (same shape)."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from conformance.check_context import CheckContext
from conformance.exchange import Exchange, ImageInfo
from conformance.faces import detect_faces
from conformance.media import (
    MOTION_THRESHOLD,  # LP-VID-4's, kept with the probe: it stops decoding frames once it is exceeded
    Base64Defect,
    VideoProbe,
    probe_exchange,
    save_video,
    strict_video,
    video_bytes,
)
from conformance.registry import fail, requirement
from conformance.verdicts import Blocked, NotApplicable

MIN_FRAMES = 2  # LP-VID-1
MP4_CODECS = ("h264", "hevc")  # LP-VID-2
DURATION_RANGE = (1.0, 15.0)  # s, LP-VID-3
FPS_RANGE = (10.0, 60.0)  # LP-VID-3
SIDE_RANGE = (64, 4096)  # px, LP-VID-5
ASPECT_TOLERANCE = 0.10  # LP-VID-6: |video ratio / input ratio − 1|
FRAMING_SIDE = 64  # px: first frames are compared at this size (LP-VID-6, type 0 vs type 1)
FRAMING_THRESHOLD = 10.0  # LP-VID-6: grey levels of mean difference that make two framings distinct
DURATION_TOLERANCE = 0.05  # s, LP-OPS-3: container timestamps round; shapes otherwise match exactly
VIDEO_DIR = "videos"  # under ctx.artefacts_dir


def _save(exchange: Exchange, ctx: CheckContext, check: str) -> list[str]:
    data = video_bytes(exchange)
    if not data:
        return []
    return [str(save_video(data, ctx.artefacts_dir / VIDEO_DIR, check))]


def _video(exchange: Exchange, ctx: CheckContext, check: str, received: str, expected: str) -> None:
    """Fail the calling check with the video saved next to the report."""
    saved = _save(exchange, ctx, check)
    where = f" (saved to {saved[0]})" if saved else ""
    fail(received + where, expected, artefacts=saved)


def _probe(exchange: Exchange) -> VideoProbe:
    """The probe of a success response's video; NotApplicable when there is none."""
    if exchange.status != 200:
        raise NotApplicable(f"HTTP {exchange.status}: no video to judge")
    probe = probe_exchange(exchange)
    if probe is None:
        raise NotApplicable("no data.video string in the response (see LP-OK-1)")
    return probe


def _decoded(exchange: Exchange) -> VideoProbe:
    """The probe of a video that passes LP-VID-1; the other video clauses judge only those."""
    probe = _probe(exchange)
    if not probe.ok or probe.frames < MIN_FRAMES:
        raise Blocked("LP-VID-1", f"the video does not decode to two frames: {probe.describe()}")
    return probe


def aspect_drift(image: ImageInfo, probe: VideoProbe) -> tuple[float, float, float]:
    """(input ratio, video ratio, relative drift) of a full-body answer (LP-VID-6, LP-OPS-2)."""
    wanted, got = image.width / image.height, probe.width / probe.height
    return wanted, got, abs(got / wanted - 1)


@requirement("LP-OK-2")
def video_is_strict_base64(exchange: Exchange, ctx: CheckContext) -> str:
    """``data.video`` MUST be standard base64 (RFC 4648 §4 alphabet, with padding, no line breaks)
    and MUST NOT carry a ``data:`` URI prefix."""
    text = exchange.video_b64
    if text is None or (not text and exchange.status != 200):
        raise NotApplicable("no data.video string in the response")
    if not text:
        raise Blocked("LP-OK-1", "an empty data.video on a success")
    try:
        data = strict_video(exchange) or b""  # decoded once per exchange: the probe reuses the bytes
    except Base64Defect as defect:
        excerpt = text[max(0, defect.position - 10) : defect.position + 10]
        saved = _save(exchange, ctx, "video_is_strict_base64")
        where = f"; leniently decoded video saved to {saved[0]}" if saved else ""
        fail(
            f"{defect.reason} at character {defect.position} of {len(text)} (near {excerpt!r}){where}",
            "RFC 4648 §4 base64 with padding, no whitespace, no data: prefix",
            artefacts=saved,
        )
    return f"{len(text)} characters → {len(data)} bytes"


@requirement("LP-VID-1", needs=("LP-OK-2",))
def video_is_decodable_with_two_frames(exchange: Exchange, ctx: CheckContext) -> str:
    """The decoded bytes MUST be a video file that a standard decoder (FFmpeg/libav) opens, with at
    least one video stream and at least 2 decodable frames."""
    probe = _probe(exchange)
    if not probe.ok:
        _video(
            exchange,
            ctx,
            "video_is_decodable_with_two_frames",
            probe.describe(),
            "a video FFmpeg decodes",
        )
    if probe.frames < MIN_FRAMES:
        _video(
            exchange,
            ctx,
            "video_is_decodable_with_two_frames",
            f"{probe.frames} decodable frame(s): {probe.describe()}",
            f"at least {MIN_FRAMES} decodable frames",
        )
    return probe.describe()


@requirement("LP-VID-2", needs=("LP-OK-2",))
def video_is_mp4_h264_or_hevc(exchange: Exchange, ctx: CheckContext) -> str:
    """The container SHOULD be MP4 (ISO BMFF, ``ftyp`` box) with an H.264 or HEVC video stream."""
    probe = _decoded(exchange)
    problems = []
    if not probe.is_mp4_ftyp:
        problems.append(f"container {probe.container} without an ftyp box")
    if probe.codec not in MP4_CODECS:
        problems.append(f"codec {probe.codec}")
    if problems:
        _video(exchange, ctx, "video_is_mp4_h264_or_hevc", "; ".join(problems), "MP4 with H.264 or HEVC")
    return f"MP4 {probe.codec} {probe.pix_fmt}"


@requirement("LP-VID-3", needs=("LP-OK-2",))
def video_duration_and_fps_in_range(exchange: Exchange, ctx: CheckContext) -> str:
    """Duration SHOULD be between 1 s and 15 s; frame rate SHOULD be between 10 and 60 fps."""
    probe = _decoded(exchange)
    problems = []
    if not DURATION_RANGE[0] <= probe.duration <= DURATION_RANGE[1]:
        problems.append(f"duration {probe.duration:.2f} s")
    if not FPS_RANGE[0] <= probe.fps <= FPS_RANGE[1]:
        problems.append(f"frame rate {probe.fps:.2f} fps")
    if problems:
        _video(
            exchange,
            ctx,
            "video_duration_and_fps_in_range",
            "; ".join(problems),
            f"{DURATION_RANGE[0]:g}–{DURATION_RANGE[1]:g} s at {FPS_RANGE[0]:g}–{FPS_RANGE[1]:g} fps",
        )
    return f"{probe.duration:.2f} s at {probe.fps:.2f} fps"


@requirement("LP-VID-4", needs=("LP-OK-2",))
def video_moves(exchange: Exchange, ctx: CheckContext) -> str:
    """The video SHOULD move: consecutive frames are not all identical (mean absolute difference
    between the first frame and some later frame above a small threshold)."""
    probe = _decoded(exchange)
    if probe.motion <= MOTION_THRESHOLD:
        _video(
            exchange,
            ctx,
            "video_moves",
            f"a still: {probe.frames} frames within {probe.motion:.2f} grey levels of the first",
            f"some frame more than {MOTION_THRESHOLD} grey levels from the first",
        )
    return f"motion of at least {probe.motion:.1f} grey levels"


@requirement("LP-VID-5", needs=("LP-OK-2",))
def video_dimensions_even_and_in_range(exchange: Exchange, ctx: CheckContext) -> str:
    """Frame width and height SHOULD each be ≥ 64 px and ≤ 4096 px, and SHOULD be even (H.264
    yuv420p requires even dimensions)."""
    probe = _decoded(exchange)
    low, high = SIDE_RANGE
    problems = [
        f"{name} {side} px {'odd' if side % 2 else 'out of range'}"
        for name, side in (("width", probe.width), ("height", probe.height))
        if side % 2 or not low <= side <= high
    ]
    if problems:
        _video(
            exchange,
            ctx,
            "video_dimensions_even_and_in_range",
            f"{probe.width}×{probe.height}: " + "; ".join(problems),
            f"even sides of {low}–{high} px",
        )
    return f"{probe.width}×{probe.height}"


@requirement("LP-VID-6", needs=("LP-OK-2",))
def video_keeps_aspect_ratio_full_body(exchange: Exchange, ctx: CheckContext) -> str:
    """``type`` 1 (full body) SHOULD keep the input's aspect ratio within 10 %."""
    if exchange.request.type_value != "1":
        raise NotApplicable("not a type 1 (full body) request")
    image = exchange.request.image
    if image is None or not image.width or not image.height:
        raise NotApplicable("the input image's size is unknown")
    probe = _decoded(exchange)
    wanted, got, drift = aspect_drift(image, probe)
    if drift > ASPECT_TOLERANCE:
        _video(
            exchange,
            ctx,
            "video_keeps_aspect_ratio_full_body",
            f"{probe.width}×{probe.height} (ratio {got:.3f}) for a {image.width}×{image.height} input "
            f"(ratio {wanted:.3f}): {drift:.0%} off",
            f"the input's ratio within {ASPECT_TOLERANCE:.0%}",
        )
    return f"ratio {got:.3f} for {wanted:.3f} ({drift:.1%} off)"


@requirement("LP-VID-6", needs=("LP-OK-2",))
def video_shows_face_avatar(exchange: Exchange, ctx: CheckContext) -> str:
    """``type`` 0 (avatar) SHOULD show the face: a face detector finds a face in the first frame."""
    if exchange.request.type_value != "0":
        raise NotApplicable("not a type 0 (avatar) request")
    probe = _decoded(exchange)
    if probe.first_frame is None:
        raise NotApplicable("no first frame was decoded")
    faces = detect_faces(probe.first_frame)
    if not faces:
        _video(
            exchange,
            ctx,
            "video_shows_face_avatar",
            f"no face found in the first {probe.width}×{probe.height} frame",
            "a face in the first frame (OpenCV Haar detector, as the reference server)",
        )
    return f"{len(faces)} face(s) in the first frame"


@requirement("LP-VID-7", needs=("LP-OK-2",))
def video_audio_reported(exchange: Exchange, ctx: CheckContext) -> str:
    """The video MAY carry an audio stream; it is reported as information."""
    probe = _decoded(exchange)
    return "audio stream present" if probe.audio else "no audio stream"


def _thumbnail(frame: NDArray[np.uint8]) -> NDArray[np.int16]:
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray, (FRAMING_SIDE, FRAMING_SIDE), interpolation=cv2.INTER_AREA)
    return small.astype(np.int16)


def _both(first: Exchange, second: Exchange) -> tuple[VideoProbe, VideoProbe]:
    return _decoded(first), _decoded(second)


@requirement("LP-OPS-3", needs=("LP-OK-2",))
def identical_requests_give_same_shape(first: Exchange, second: Exchange, ctx: CheckContext) -> str:
    """Identical requests SHOULD give videos with the same duration, frame count and dimensions
    (determinism of shape, not of bytes)."""
    one, two = _both(first, second)
    problems = []
    if (one.width, one.height) != (two.width, two.height):
        problems.append(f"{one.width}×{one.height} then {two.width}×{two.height}")
    if one.frames != two.frames:
        problems.append(f"{one.frames} then {two.frames} frames")
    if abs(one.duration - two.duration) > DURATION_TOLERANCE:
        problems.append(f"{one.duration:.2f} s then {two.duration:.2f} s")
    if problems:
        saved = _save(first, ctx, "identical_requests_give_same_shape-first")
        saved += _save(second, ctx, "identical_requests_give_same_shape-second")
        fail(
            "; ".join(problems) + (f" (saved to {', '.join(saved)})" if saved else ""),
            "the same duration, frame count and dimensions for the same request",
            artefacts=saved,
            exchange=second,
        )
    return f"both {one.width}×{one.height}, {one.frames} frames, {one.duration:.2f} s"


@requirement("LP-VID-6", needs=("LP-OK-2",))
def avatar_and_full_body_framings_differ(avatar: Exchange, full_body: Exchange, ctx: CheckContext) -> str:
    """``type`` 1 (full body) and ``type`` 0 (avatar) of the same full-body image give different
    framings: different frame sizes or visibly different first frames."""
    one, two = _both(avatar, full_body)
    if (one.width, one.height) != (two.width, two.height):
        return f"avatar {one.width}×{one.height}, full body {two.width}×{two.height}"
    if one.first_frame is None or two.first_frame is None:
        raise NotApplicable("no first frame was decoded")
    difference = float(np.abs(_thumbnail(one.first_frame) - _thumbnail(two.first_frame)).mean())
    if difference <= FRAMING_THRESHOLD:
        saved = _save(avatar, ctx, "avatar_and_full_body_framings_differ-avatar")
        saved += _save(full_body, ctx, "avatar_and_full_body_framings_differ-full-body")
        fail(
            f"the same {one.width}×{one.height} framing: first frames {difference:.1f} grey levels apart"
            + (f" (saved to {', '.join(saved)})" if saved else ""),
            f"different sizes or first frames more than {FRAMING_THRESHOLD:g} grey levels apart",
            artefacts=saved,
            exchange=full_body,
        )
    return f"first frames {difference:.1f} grey levels apart"


VIDEO_CHECKS = (
    video_is_decodable_with_two_frames,
    video_is_mp4_h264_or_hevc,
    video_duration_and_fps_in_range,
    video_moves,
    video_dimensions_even_and_in_range,
    video_keeps_aspect_ratio_full_body,
    video_shows_face_avatar,
    video_audio_reported,
)
