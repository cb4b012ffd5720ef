"""The HTML report: one self-contained file (inline CSS and JS, videos as data URIs, no network)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from conformance.redact import Redactor
from conformance.reports.model import RunReport
from conformance.spec import FAMILIES, Level

TEMPLATE = "report.html.j2"
MAX_EMBED_VIDEO_BYTES = 4 * 1024 * 1024  # beyond this a video is linked by path, not embedded
MAX_FAILURES_SHOWN = 5  # failing checks with full evidence per clause; the JSON report has all
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
    samples = [
        embed_video(s.path, s.caption, max_bytes=max_video_bytes, redactor=redactor) for s in report.samples
    ]
    failure_videos: dict[str, list[EmbeddedVideo]] = {}
    for clause in report.failed:
        paths = dict.fromkeys(v for check in clause.failures for v in check.videos)
        failure_videos[clause.id] = [
            embed_video(p, Path(p).name, max_bytes=max_video_bytes, redactor=redactor) for p in paths
        ]
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
            failure_videos=failure_videos,
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
