"""The compatibility badge is well-formed SVG with the right words and colour."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.reports.badge import GREEN, INCOMPLETE_GREY, RED, render_badge, write_badge
from conformance.reports.model import RunReport
from tests.reports.conftest import all_passing, build, failing, result

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> tuple[str, set[str], int]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    message = root.find(f".//{SVG}text[@id='message']")
    assert message is not None and message.text
    fills = {rect.get("fill", "") for rect in root.iter(f"{SVG}rect")}
    return message.text, fills, int(root.get("width", "0"))


def test_compatible_badge_is_green_with_score() -> None:
    results = [r for r in all_passing() if r.clause != "LP-VID-2"] + [failing("LP-VID-2")]
    message, fills, width = _parse(render_badge(build(results)))
    assert message == "compatible 96%"
    assert GREEN in fills and RED not in fills
    assert width > 100


def test_incompatible_badge_is_red(broken_report: RunReport) -> None:
    message, fills, _ = _parse(render_badge(broken_report))
    assert message == "not compatible"
    assert RED in fills and GREEN not in fills


def test_badge_of_a_run_that_judged_nothing_is_grey_incomplete() -> None:
    """Issue 14: a run that judged nothing (-k nomatch, --collect-only) is never green."""
    message, fills, _ = _parse(render_badge(build([])))
    assert message == "incomplete"
    assert INCOMPLETE_GREY in fills and GREEN not in fills and RED not in fills


def test_badge_of_a_selection_without_should_clauses_names_its_scope() -> None:
    report = build([result("LP-REQ-1", "pass")], clauses=["LP-REQ-1"])
    message, fills, _ = _parse(render_badge(report))
    assert message == "compatible (1/46 clauses)"
    assert GREEN in fills


@pytest.mark.parametrize("name", ["badge.svg", "nested/dir/badge.svg"])
def test_write_badge(tmp_path: Path, name: str) -> None:
    path = write_badge(build(all_passing()), tmp_path / name)
    assert _parse(path.read_text(encoding="utf-8"))[0] == "compatible 100%"
