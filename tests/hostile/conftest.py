"""The hostile zoo's figures (time and peak RSS of each suite run) in the terminal summary."""

from __future__ import annotations

from typing import Any

FIGURES = ("hostile_seconds", "hostile_peak_rss_mib", "hostile_exit_code")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per zoo run: server, exit code, seconds, peak RSS of the suite's pytest process."""
    rows = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            props = dict(getattr(report, "user_properties", []) or [])
            if getattr(report, "when", None) == "call" and "hostile_peak_rss_mib" in props:
                rows.append((report.nodeid.rsplit("::", 1)[-1], props))
    if not rows:
        return
    terminalreporter.section("hostile zoo: suite runs")
    for name, props in sorted(rows):
        terminalreporter.write_line(
            f"{name:<55} exit {props['hostile_exit_code']}  {props['hostile_seconds']:6.1f} s  "
            f"peak RSS {props['hostile_peak_rss_mib']:6.0f} MiB"
        )
    peak = max(props["hostile_peak_rss_mib"] for _, props in rows)
    slowest = max(props["hostile_seconds"] for _, props in rows)
    terminalreporter.write_line(f"{len(rows)} runs; highest peak RSS {peak:.0f} MiB; slowest {slowest:.1f} s")
