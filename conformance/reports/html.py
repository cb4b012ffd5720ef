"""The HTML report: one self-contained file (inline CSS and JS, videos and pictures as data URIs,
charts as inline SVG, no network). It opens on the triage: MUST failures first, then SHOULD, each
compact, with the input photo beside the output video's frames."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from conformance.redact import Redactor
from conformance.reports.frames import Picture, Strip, frame_strip, image_thumbnail
from conformance.reports.latency import METRICS_KEY, budget_line, latency_charts
from conformance.reports.model import RunReport, RunTraffic, Sample
from conformance.reports.triage import GROUP_TITLES, Failure, grouped, message_field, triage
from conformance.spec import FAMILIES, Level

TEMPLATE = "report.html.j2"
MAX_EMBED_VIDEO_BYTES = 4 * 1024 * 1024  # beyond this a video is linked by path, not embedded
MAX_FAILURES_SHOWN = 5  # failing checks listed per clause (the first in full); the JSON report has all
OPEN_FAILURES = 10  # the first failures of the triage are open; the rest one click away
VIDEO_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".ogv": "video/ogg",
}


@dataclass(frozen=True)
class EmbeddedVideo:
    """A video for the page: a data URI when small enough, else its path and why."""

    path: str
    caption: str
    src: str = ""
    note: str = ""


def embed_video(
    path: str,
    caption: str = "",
    *,
    max_bytes: int = MAX_EMBED_VIDEO_BYTES,
    redactor: Redactor | None = None,
) -> EmbeddedVideo:
    """Read a video into a base64 data URI, or explain why the page only names its path."""
    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError:
        return EmbeddedVideo(path, caption, note="file not found when the report was written")
    if size > max_bytes:
        return EmbeddedVideo(
            path,
            caption,
            note=f"{size / 2**20:.1f} MiB, over the {max_bytes / 2**20:g} MiB embedding cap: open the file",
        )
    try:
        payload = base64.b64encode(file.read_bytes()).decode("ascii")
    except OSError as exc:
        return EmbeddedVideo(path, caption, note=f"unreadable: {exc.strerror or exc}")
    if redactor is not None and redactor.text(payload) != payload:
        return EmbeddedVideo(path, caption, note="not embedded: its bytes contain the API key")
    mime = VIDEO_TYPES.get(file.suffix.lower(), "video/mp4")
    return EmbeddedVideo(path, caption, src=f"data:{mime};base64,{payload}")


@dataclass(frozen=True)
class Pictures:
    """What went in and what came out: the input photo's thumbnail beside the video's frames."""

    video: EmbeddedVideo
    strip: Strip
    input: Picture | None = None
    input_note: str = ""


@dataclass(frozen=True)
class SampleView:
    """A success sample as the page shows it."""

    sample: Sample
    pictures: Pictures


@dataclass(frozen=True)
class FailureView:
    """A triage entry and its pictures (one row per failed video)."""

    failure: Failure
    pictures: list[Pictures] = field(default_factory=list)


@dataclass
class _PictureMaker:
    """Makes each picture once per page (a video failing several clauses is decoded once)."""

    max_video_bytes: int
    redactor: Redactor | None
    strips: dict[str, Strip] = field(default_factory=dict)
    thumbs: dict[str, Picture | str] = field(default_factory=dict)

    def __call__(self, video: str, caption: str, image: str) -> Pictures:
        if video not in self.strips:
            self.strips[video] = frame_strip(video)
        embedded = embed_video(video, caption, max_bytes=self.max_video_bytes, redactor=self.redactor)
        if not image:
            return Pictures(embedded, self.strips[video], None, "the input image was not saved")
        if image not in self.thumbs:
            self.thumbs[image] = image_thumbnail(image)
        thumb = self.thumbs[image]
        if isinstance(thumb, str):
            return Pictures(embedded, self.strips[video], None, thumb)
        return Pictures(embedded, self.strips[video], thumb)


@dataclass(frozen=True)
class TimeSplit:
    """The run's wall time cut in two for the page's bar: waiting on the target vs working."""

    waited_pct: float
    work_pct: float


def time_split(traffic: RunTraffic | None) -> TimeSplit | None:
    """Percentages of the wall time (summing to 100; 0/0 for a run that took no time)."""
    if traffic is None:
        return None
    if traffic.wall_s <= 0:
        return TimeSplit(0.0, 0.0)
    waited = round(min(100.0, max(0.0, 100.0 * traffic.waited_s / traffic.wall_s)), 1)
    return TimeSplit(waited, round(100.0 - waited, 1))


def _shown_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics for the page's table: the latency points are charted, not listed."""
    shown = dict(metrics)
    block = shown.get(METRICS_KEY)
    if isinstance(block, dict) and isinstance(block.get("points"), list):
        shown[METRICS_KEY] = {**block, "points": f"{len(block['points'])} points, charted above"}
    return shown


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("conformance.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False)
    return env


def _families(report: RunReport) -> list[tuple[str, list[Any]]]:
    order = {name: index for index, name in enumerate(FAMILIES)}
    grouped: dict[str, list[Any]] = {}
    for clause in report.clauses:
        grouped.setdefault(clause.family, []).append(clause)
    return sorted(grouped.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


def render_html(
    report: RunReport,
    redactor: Redactor | None = None,
    *,
    max_video_bytes: int = MAX_EMBED_VIDEO_BYTES,
) -> str:
    """The whole report as one HTML page.

    Every string of the report passes through ``redactor``; a video whose bytes hold a
    secret is named by path instead of embedded.
    """
    if redactor is not None:
        report = RunReport.from_dict(redactor(report.to_dict()))
    pictures = _PictureMaker(max_video_bytes, redactor)
    samples = [SampleView(s, pictures(s.path, s.caption, s.image)) for s in report.samples]
    failures = [
        FailureView(f, [pictures(v, Path(v).name, f.image) for v in dict.fromkeys(f.videos)])
        for f in triage(report)
    ]
    triage_groups = [
        (group, GROUP_TITLES[group], [v for v in failures if v.failure.group == group])
        for group, _ in grouped([v.failure for v in failures])
    ]
    charts = [Markup(svg) for svg in latency_charts(report.metrics)]  # every text in them is escaped
    gate = Level(report.level).rank
    below_gate = {c.id for c in report.failed if c.failed_level and Level(c.failed_level).rank > gate}
    score = report.should_score
    page = (
        _environment()
        .get_template(TEMPLATE)
        .render(
            report=report,
            families=_families(report),
            below_gate=below_gate,
            max_failures_shown=MAX_FAILURES_SHOWN,
            samples=samples,
            triage_groups=triage_groups,
            open_failures=OPEN_FAILURES,
            other_received=lambda check: message_field(check.message, "Received") or check.title,
            charts=charts,
            budget_line=budget_line(report.metrics),
            time_split=time_split(report.traffic),
            metrics_shown=_shown_metrics(report.metrics),
            score_text="n/a" if score is None else f"{score:g}%",
            outcome_title=f"{report.outcome.capitalize()} {report.scope}".strip(),
            config_json=json.dumps(report.config, indent=2, ensure_ascii=False),
        )
    )
    return redactor.text(page) if redactor is not None else page


def write_html(
    report: RunReport,
    path: str | Path,
    redactor: Redactor | None = None,
    *,
    max_video_bytes: int = MAX_EMBED_VIDEO_BYTES,
) -> Path:
    """Write the HTML report to ``path`` (parent folders created); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    html = render_html(report, redactor, max_video_bytes=max_video_bytes)
    target.write_text(html, encoding="utf-8")
    return target
