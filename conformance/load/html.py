"""The load run's HTML page: the suite's report page plus the load charts.

The clause verdicts, failures and metrics are the suite's own HTML report (one writer for every
kind of run). Added here: requests/s and the p50/p95/p99 latency over time, drawn from Locust's own
chart history (the data behind Locust's report), and a link to Locust's HTML report, written next
to ours, for what it does better: per-request-type statistics, failures and exceptions tables.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from conformance.redact import Redactor
from conformance.reports.charts import Series, line_chart
from conformance.reports.html import render_html
from conformance.reports.model import RunReport

SECTION_ANCHOR = "<main>"  # the report page's main column starts here: the charts come first
LATENCY_KEYS = (("p50", "p50"), ("p95", "p95"), ("p99", "p99"))
# The width the browser gave each chart's first line: lets a headless browser test prove the
# charts render (the page's CSP allows inline scripts; nothing is loaded).
LAYOUT_PROBE = """<script>
document.querySelectorAll("#load-charts svg.chart").forEach(function (svg) {
  var line = svg.querySelector("polyline.series");
  svg.setAttribute("data-line-width", (line ? line.getBBox().width : 0).toFixed(1));
});
</script>"""


def _seconds(value: float) -> str:
    return f"{value:.0f} s"


def load_charts(timeline: list[dict[str, Any]]) -> list[str]:
    """Two SVG charts from the run's timeline: throughput (and failures) and latency percentiles."""
    if not timeline:
        return []
    labels = [_seconds(float(point.get("t", 0))) for point in timeline]
    throughput = line_chart(
        [
            Series("requests/s", [point.get("rps") for point in timeline]),
            Series("failures/s", [point.get("fail_per_s") for point in timeline], color="#dc2626"),
        ],
        labels,
        title="Requests per second",
        y_label="req/s",
        chart_id="rps-chart",
    )
    latency = line_chart(
        [Series(name, [point.get(key) for point in timeline]) for key, name in LATENCY_KEYS],
        labels,
        title="Latency percentiles (ms, Locust's 10 s window)",
        y_label="ms",
        chart_id="latency-chart",
    )
    return [throughput, latency]


def charts_section(report: RunReport, locust_html: Path | None) -> str:
    """The HTML section inserted into the report page."""
    charts = load_charts(report.metrics.get("timeline", []))
    parts = ['<section id="load-charts">', "<h2>Load over time</h2>"]
    if charts:
        parts.append('<div class="charts" style="display:flex;flex-wrap:wrap;gap:16px">')
        parts.extend(charts)
        parts.append("</div>")
    else:
        parts.append('<p class="muted">No timeline: the run ended before Locust sampled it.</p>')
    if locust_html is not None:
        parts.append(
            f'<p>Locust\'s own report: <a id="locust-report" href="{escape(locust_html.name)}">'
            f"{escape(locust_html.name)}</a> (per request type: statistics, response-time "
            "percentiles, failures and exceptions).</p>"
        )
    parts.append(LAYOUT_PROBE)
    parts.append("</section>")
    return "\n".join(parts)


def render_load_html(
    report: RunReport, redactor: Redactor | None = None, locust_html: Path | None = None
) -> str:
    """The report page with the load section at the top of its main column (at the end of the
    page should the report template ever lose its ``<main>``)."""
    page = render_html(report, redactor)
    section = charts_section(report, locust_html)
    if redactor is not None:
        section = redactor.text(section)
    if SECTION_ANCHOR in page:
        head, _, tail = page.partition(SECTION_ANCHOR)
        return f"{head}{SECTION_ANCHOR}\n{section}{tail}"
    head, _, tail = page.rpartition("</body>")
    return f"{head}{section}\n</body>{tail}"


def write_load_html(
    report: RunReport, path: Path, redactor: Redactor | None = None, locust_html: Path | None = None
) -> Path:
    """Write the page (parent folders created); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_load_html(report, redactor, locust_html), encoding="utf-8")
    return path
