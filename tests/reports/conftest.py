"""Shared builders for the report tests: realistic check results, reports and a real video."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from conformance.reports.latency import Timing, latency_metrics
from conformance.reports.model import CheckResult, RunReport, Sample, aggregate
from conformance.spec import catalogue
from conformance.verdicts import Verdict

SECRET = "sk-SECRET-1234"
TARGET = "http://127.0.0.1:8765"


def violation_message(clause: str, level: str, title: str, received: str, curl: str) -> str:
    """The text a rendered Violation carries (conformance.verdicts.Violation.render)."""
    return f"[{clause} {level}] {title}\nReceived: {received}\nExpected: as the SPEC says\nReproduce: {curl}"


def curl_for(key: str = "***") -> str:
    """A curl reproduction like the client's."""
    return (
        f"curl -X POST '{TARGET}/api/portrait/effects/live-photo' -H 'ailabapi-api-key: {key}' "
        "-F 'image_target=@face.png;type=image/png' -F 'type=0'"
    )


def result(
    clause: str, verdict: str, *, check: str = "", level: str = "", message: str = "", **kw: Any
) -> CheckResult:
    """One check result; level defaults to the clause's level."""
    return CheckResult(
        check=check or f"check_{clause.lower().replace('-', '_')}",
        clause=clause,
        level=level or catalogue()[clause].level.value,
        verdict=Verdict(verdict),
        message=message,
        **kw,
    )


def failing(
    clause: str, received: str = "HTTP 500", *, key: str = "***", image: str = "", **kw: Any
) -> CheckResult:
    """A failing check with a Violation-like message and evidence holding a curl command."""
    level = kw.pop("level", "") or catalogue()[clause].level.value
    title = catalogue()[clause].title
    curl = curl_for(key)
    return result(
        clause,
        "fail",
        level=level,
        message=violation_message(clause, level, title, received, curl),
        evidence={
            "request": {"method": "POST", "headers": {"ailabapi-api-key": key}},
            "response": {"status": 500, "body": {"error_code": 500, "request_id": f"req-{clause}"}},
            "curl": curl,
            "artefacts": list(kw.get("videos", [])),
            "notes": [],
            "image": image,
        },
        **kw,
    )


def all_passing() -> list[CheckResult]:
    """One passing result per clause (MAY clauses get an info note)."""
    return [
        result(cid, "info" if c.level == "MAY" else "pass", message="noted" * (c.level == "MAY"))
        for cid, c in catalogue().items()
    ]


def build(results: list[CheckResult], **meta: Any) -> RunReport:
    """Aggregate with the fixed metadata of these tests."""
    defaults: dict[str, Any] = {
        "target_url": TARGET,
        "edition": "any",
        "level": "MUST",
        "seed": 1234,
        "started_at": "2026-11-25T22:00:00Z",
        "finished_at": "2026-11-25T22:01:30Z",
        "config": {"target_url": TARGET, "api_key": "***", "level": "MUST"},
    }
    defaults.update(meta)
    return aggregate(results, **defaults)


def write_video(path: Path, *, frames: int = 12, size: int = 64) -> Path:
    """A real H.264 MP4 (a moving gradient) encoded with PyAV."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, 12)
        ramp = np.linspace(0, 255, size, dtype=np.uint8)
        for index in range(frames):
            image = np.zeros((size, size, 3), dtype=np.uint8)
            image[..., 0] = np.roll(ramp, index * 4)[None, :]
            image[..., 2] = ramp[:, None]
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_photo(
    path: Path, *, size: tuple[int, int] = (200, 260), color: tuple[int, int, int] = (200, 120, 40)
) -> Path:
    """A real image file (the format from the suffix: .jpg, .png, .bmp) with a bright square."""
    image = Image.new("RGB", size, color)
    image.paste((250, 250, 250), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    image.save(path)
    return path


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A small real JPEG: the input a success sample was made of."""
    return write_photo(tmp_path / "input.jpg")


@pytest.fixture
def video(tmp_path: Path) -> Path:
    """A small real MP4 file."""
    return write_video(tmp_path / "sample.mp4")


@pytest.fixture
def broken_report(tmp_path: Path, video: Path, photo: Path) -> RunReport:
    """Three MUST failures, one SHOULD failure (a failed video made of ``photo``), a success
    sample (``video`` made of ``photo``) and the latency of a few exchanges."""
    failed_video = write_video(tmp_path / "failed-LP-VID-1.mp4", frames=6)
    broken = {"LP-ENV-3", "LP-OK-2", "LP-ERR-3"}
    results = [r for r in all_passing() if r.clause not in broken | {"LP-VID-3"}]
    results += [failing(clause) for clause in sorted(broken)]
    results.append(failing("LP-VID-3", "duration 40 s", videos=[str(failed_video)], image=str(photo)))
    sample = Sample(str(video), "JPEG 200×260, type 0 (avatar)", str(photo), "JPEG", "0")
    return build(results, samples=[sample], metrics=latency_metrics(TIMINGS))


# Exchanges of a run: successes, client errors, one 500 and LP-OPS-2's concurrent requests.
TIMINGS = [
    *(Timing(1000.0 + i, 300.0 + 40 * i, 200) for i in range(6)),
    *(Timing(1010.0 + i / 2, 3.0 + i, 400) for i in range(10)),
    Timing(1016.0, 12.0, 500),
    *(Timing(1020.0, 500.0 + 90 * i, 200, concurrent=True) for i in range(8)),
]


Builder = Callable[..., RunReport]
