"""The scatter chart and the histogram of charts.py: one mark per value, placed on the axis,
every text escaped, and the SVG well formed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from conformance.reports.charts import (
    HEIGHT,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_TOP,
    PLOT_W,
    Dots,
    Series,
    histogram,
    scatter_chart,
)

SVG = "{http://www.w3.org/2000/svg}"


def _tree(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_scatter_places_every_point_on_its_axes() -> None:
    svg = scatter_chart(
        [Dots("fast", [(0.0, 0.0), (10.0, 50.0)]), Dots("slow <b>", [(40.0, 200.0)], color="#123456")],
        title="latency & time",
        x_unit="s",
        chart_id="scatter-test",
    )
    root = _tree(svg)
    circles = root.findall(f".//{SVG}circle")
    assert len(circles) == 3 and root.get("data-points") == "3"
    # x axis 0…40 s, y axis 0…200 ms (tight round maxima): the corners of the plot
    first, _, last = ((float(c.get("cx", "")), float(c.get("cy", ""))) for c in circles)
    assert first == (MARGIN_LEFT, HEIGHT - MARGIN_BOTTOM)
    assert last == (MARGIN_LEFT + PLOT_W, MARGIN_TOP)
    assert "slow &lt;b&gt;" in svg and "latency &amp; time" in svg
    assert root.find(f".//{SVG}g[@data-series='slow <b>']").get("fill") == "#123456"  # type: ignore[union-attr]
    assert re.findall(r">(\d+(?: s)?)</text>", svg)[-5:] == ["0", "10", "20", "30", "40 s"]


def test_histogram_counts_every_value_once_and_stacks_series() -> None:
    svg = histogram(
        [Series("a", [1.0, 2.0, 2.5, 99.0]), Series("b", [2.2, None, 120.0])],
        title="h",
        bins=4,
        x_unit="ms",
        marks=[("budget", 100.0), ("far away", 5000.0)],
    )
    root = _tree(svg)
    bars = root.findall(f".//{SVG}rect[@class='bar']")
    counts = [(b.get("data-series"), int(b.get("data-count", "0"))) for b in bars]
    # axis 0…120 in 4 bins of 30: [1, 2, 2.5] and 99 for a; 2.2 and 120 (the last bin) for b
    assert counts == [("a", 3), ("a", 1), ("b", 1), ("b", 1)]
    stacked = [b for b in bars if b.get("x") == bars[0].get("x")]
    assert len(stacked) == 2  # a's 3 and b's 1 share the first bin, one on top of the other
    assert float(stacked[1].get("y", "")) + float(stacked[1].get("height", "")) == float(
        stacked[0].get("y", "")
    )
    marks = root.findall(f".//{SVG}line[@class='mark']")
    assert len(marks) == 1  # the budget within the axis; the one beyond it is not drawn
    ticks = re.findall(r'text-anchor="end" font-size="11" fill="#4b5563">([\d.]+)<', svg)
    assert ticks == ["0", "1", "2", "3", "4"]  # whole counts on the y axis


def test_empty_charts_are_still_well_formed() -> None:
    _tree(scatter_chart([], title="nothing"))
    _tree(histogram([Series("none", [])], title="nothing"))
