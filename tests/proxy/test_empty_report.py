"""Issue 14: a proxy report with no exchange claims nothing (INCOMPLETE, grey badge)."""

from __future__ import annotations

from conformance.proxy.config import ProxyConfig
from conformance.proxy.observe import Observer
from conformance.reports.badge import badge_message


def test_a_proxy_that_saw_nothing_is_incomplete() -> None:
    report = Observer(ProxyConfig(upstream="http://127.0.0.1:1")).report()
    assert report.outcome == "INCOMPLETE" and not report.compatible and not report.complete
    assert "the proxy has seen no exchange" in report.incomplete_reasons
    assert badge_message(report)[0] == "incomplete"
