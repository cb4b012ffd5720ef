"""The API key appears in no artefact of any format, even when it leaked into the results."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.redact import Redactor, key_forms
from conformance.reports import write_reports
from conformance.reports.diff import diff_reports, render_diff_markdown, render_diff_text
from conformance.reports.html import embed_video, render_html
from conformance.reports.json_report import load_report, render_json
from conformance.reports.markdown import append_step_summary, render_markdown
from conformance.reports.model import RunReport, Sample
from tests.reports.conftest import SECRET, all_passing, build, failing, result

FORMS = key_forms(SECRET)


def _leaky_report(video: Path) -> RunReport:
    """Results where the key slipped through: evidence, notes, messages, config, URL."""
    leak = failing("LP-SEC-1", f"the body echoes {SECRET}", key=SECRET)
    leak.evidence["notes"].append(f"base64 of the key: {FORMS[-1]}")
    leak.evidence["response"]["headers"] = {"x-echo": SECRET}
    leak.videos.append(str(video))
    skipped = result("LP-ERR-12", "skipped", message=f"no fault header for key {SECRET}")
    results = [r for r in all_passing() if r.clause not in {"LP-SEC-1", "LP-ERR-12"}]
    return build(
        [*results, leak, skipped],
        target_url=f"http://127.0.0.1:1/?key={SECRET}",
        config={"api_key": SECRET, "headers": {"ailabapi-api-key": SECRET}},
        samples=[Sample(str(video), f"sample made with {SECRET}")],
        metrics={"note": SECRET},
    )


def _assert_clean(text: str, where: str) -> None:
    for form in FORMS:
        assert form not in text, f"{where} contains the key as {form!r}"


def test_the_planted_report_really_leaks_without_a_redactor(video: Path) -> None:
    # proves the test below can fail: the raw data holds every kind of leak
    raw = render_json(_leaky_report(video))
    assert SECRET in raw and FORMS[-1] in raw


def test_no_artefact_contains_the_key(tmp_path: Path, video: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = _leaky_report(video)
    redactor = Redactor([SECRET])
    written = write_reports(
        report,
        json=tmp_path / "r.json",
        html=tmp_path / "r.html",
        md=tmp_path / "r.md",
        badge=tmp_path / "r.svg",
        redactor=redactor,
    )
    summary = tmp_path / "step.md"
    append_step_summary(report, {"GITHUB_STEP_SUMMARY": str(summary)}, redactor)
    for path in [*written, summary]:
        _assert_clean(path.read_text(encoding="utf-8"), path.name)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "data:video/mp4;base64," in html  # the clean video is still embedded
    assert "***" in html
    loaded = load_report(tmp_path / "r.json")
    diff = diff_reports(build(all_passing()), loaded)
    _assert_clean(render_diff_text(diff) + render_diff_markdown(diff), "diff")
    _assert_clean(render_markdown(report, redactor), "markdown")


def test_video_holding_the_key_is_not_embedded(tmp_path: Path, video: Path) -> None:
    tainted = tmp_path / "tainted.mp4"
    tainted.write_bytes(video.read_bytes() + b"\x00\x00" + SECRET.encode() * 3)
    redactor = Redactor([SECRET])
    embedded = embed_video(str(tainted), "x", redactor=redactor)
    assert embedded.src == ""
    assert "contain the API key" in embedded.note
    page = render_html(build(all_passing(), samples=[Sample(str(tainted), "t")]), redactor)
    _assert_clean(page, "html")
    assert "data:video" not in page
