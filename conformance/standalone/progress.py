"""Progress of a suite run, per clause family, with live pass/fail counts (rich).

``FamilyProgress`` is a pytest plugin object that ``livephoto-conformance run`` hands to
``pytest.main``: it learns each test's families from its ``clause`` marks after collection and
counts outcomes as reports arrive. On a terminal the counts are a live table; elsewhere (a CI
log) one line is printed as each family finishes, so the log shows progress without redraws.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest
from rich.console import Console, Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from conformance.reports.live import LiveDisplay
from conformance.spec import FAMILIES, catalogue

OTHER = "other"  # tests without a clause mark
OUTCOMES = ("passed", "failed", "skipped", "below gate")
STYLES = {"passed": "green", "failed": "bold red", "skipped": "yellow", "below gate": "magenta"}


@dataclass
class FamilyCount:
    """The tests of one family: how many, and how each finished so far."""

    total: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def done(self) -> int:
        """Tests of the family that finished."""
        return sum(self.outcomes.values())


def item_families(clauses: Iterable[str]) -> list[str]:
    """The families of a test's clauses, in SPEC order (``other`` when it names none)."""
    cat = catalogue()
    found = {cat[c].family for c in clauses if c in cat}
    ordered = [f for f in FAMILIES if f in found] + sorted(found - set(FAMILIES))
    return ordered or [OTHER]


def outcome_of(report: pytest.TestReport) -> str | None:
    """The test's outcome as this phase tells it, or None when the phase says nothing final.

    A weaker-than-gating violation makes the suite's test xfail: counted as ``below gate``.
    """
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if hasattr(report, "wasxfail"):
            return "below gate" if report.skipped else "failed"
        return {"passed": "passed", "failed": "failed", "skipped": "skipped"}[report.outcome]
    if report.when == "teardown" and report.failed:
        return "failed"
    return None


class FamilyProgress(LiveDisplay):
    """A pytest plugin that counts test outcomes per clause family and shows them."""

    def __init__(self, console: Console, *, live: bool, title: str = "") -> None:
        super().__init__(console, live=live)
        self.title = title
        self.families: dict[str, FamilyCount] = {}
        self.item_families: dict[str, list[str]] = {}
        self.outcome: dict[str, str] = {}
        self.current = "collecting the suite…"

    # ---------------------------------------------------------------- the display

    def closing(self) -> None:
        """The last frame shows the final counts, not the test that ran last."""
        self.current = ""

    def render(self) -> RenderableType:
        """The table of families: progress bar, done/total and one column per outcome."""
        table = Table(title=self.title or None, title_justify="left", expand=False, box=None)
        table.add_column("family")
        table.add_column("progress", width=22)
        table.add_column("tests", justify="right")
        for outcome in OUTCOMES:
            table.add_column(outcome, justify="right", style=STYLES[outcome])
        rows = list(self.families.items())
        total = FamilyCount(
            total=len(self.item_families),
            outcomes={o: sum(1 for v in self.outcome.values() if v == o) for o in OUTCOMES},
        )
        for name, count in [*rows, ("all tests", total)]:
            bar = ProgressBar(total=max(count.total, 1), completed=count.done, width=20)
            table.add_row(
                Text(name, style="bold" if name == "all tests" else ""),
                bar,
                f"{count.done}/{count.total}",
                *(str(count.outcomes[o]) for o in OUTCOMES),
            )
        footer = Text(
            f"{self.elapsed:5.0f} s  {self.current}", style="dim", overflow="ellipsis", no_wrap=True
        )
        return Group(table, footer)

    def _line(self, name: str, count: FamilyCount) -> None:
        counts = ", ".join(f"{count.outcomes[o]} {o}" for o in OUTCOMES)
        self.line(f"{name} done, {count.done}/{count.total} tests: {counts}")

    # ---------------------------------------------------------------- pytest hooks

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Know every test's families once collection (and deselection) is over."""
        for item in session.items:
            clauses = [c for mark in item.iter_markers("clause") for c in mark.args]
            families = item_families(clauses)
            self.item_families[item.nodeid] = families
            for family in families:
                self.families.setdefault(family, FamilyCount()).total += 1
        order = {name: index for index, name in enumerate([*FAMILIES, OTHER])}
        self.families = dict(sorted(self.families.items(), key=lambda kv: order.get(kv[0], len(order))))
        self.current = f"{len(session.items)} tests collected"
        if not self.live_mode:
            summary = ", ".join(f"{name} {count.total}" for name, count in self.families.items())
            self.line(f"{len(session.items)} tests: {summary}")

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        """Name the test that runs now."""
        self.current = f"running {nodeid}"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Note the outcome a phase reports (a failing teardown turns a pass into a failure)."""
        outcome = outcome_of(report)
        if outcome is not None and self.outcome.get(report.nodeid) != "failed":
            self.outcome[report.nodeid] = outcome

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        """Count the finished test in each of its families."""
        outcome = self.outcome.setdefault(nodeid, "passed")
        for family in self.item_families.get(nodeid, [OTHER]):
            count = self.families.setdefault(family, FamilyCount())
            count.outcomes[outcome] += 1
            if not self.live_mode and count.done == count.total:
                self._line(family, count)
