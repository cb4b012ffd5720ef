"""The compatibility badge: a shields-style SVG: "livephoto | compatible 92%" (green), "not
compatible" (red) or "incomplete" (grey: not every selected clause was judged)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from conformance.reports.model import INCOMPLETE, NOT_COMPATIBLE, RunReport

LABEL = "livephoto"
GREEN = "#3fb950"
RED = "#e05d44"
GREY = "#555"
INCOMPLETE_GREY = "#9f9f9f"
CHAR_WIDTH = 6.5  # average advance of Verdana 11px, enough to size the two halves
PADDING = 10


def badge_message(report: RunReport) -> tuple[str, str]:
    """The right-hand text and its colour."""
    if report.outcome == NOT_COMPATIBLE:
        return "not compatible", RED
    if report.outcome == INCOMPLETE:
        return "incomplete", INCOMPLETE_GREY
    score = report.should_score
    scope = f" ({len(report.clauses)}/{report.catalogue_size} clauses)" if report.is_selection else ""
    return ("compatible" if score is None else f"compatible {score:.0f}%") + scope, GREEN


def _width(text: str) -> int:
    return round(len(text) * CHAR_WIDTH) + 2 * PADDING


def render_badge(report: RunReport) -> str:
    """The badge as an SVG document."""
    message, colour = badge_message(report)
    left, right = _width(LABEL), _width(message)
    total = left + right
    label, text = escape(LABEL), escape(message)
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" \
aria-label="{label}: {text}">
  <title>{label}: {text}</title>
  <linearGradient id="s" x2="0" y2="100%">
    <stop offset="0" stop-color="#bbb" stop-opacity=".1"/>
    <stop offset="1" stop-opacity=".1"/>
  </linearGradient>
  <clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>
  <g clip-path="url(#r)">
    <rect width="{left}" height="20" fill="{GREY}"/>
    <rect x="{left}" width="{right}" height="20" fill="{colour}"/>
    <rect width="{total}" height="20" fill="url(#s)"/>
  </g>
  <g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" \
font-size="11">
    <text x="{left / 2:g}" y="15" fill="#010101" fill-opacity=".3">{label}</text>
    <text x="{left / 2:g}" y="14">{label}</text>
    <text x="{left + right / 2:g}" y="15" fill="#010101" fill-opacity=".3">{text}</text>
    <text x="{left + right / 2:g}" y="14" id="message">{text}</text>
  </g>
</svg>
"""


def write_badge(report: RunReport, path: str | Path) -> Path:
    """Write the badge SVG to ``path`` (parent folders created); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_badge(report), encoding="utf-8")
    return target
