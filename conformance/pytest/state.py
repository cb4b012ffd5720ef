"""What the plugin knows about one run, typed, and the stash keys it is kept under.

Every module of the plugin reaches the run through ``config.stash`` (never a module global), so
two runs in one process (``pytester``, ``livephoto-conformance run``) cannot see each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.config_file import FileConfig
from conformance.engine.schedule import PlannedClient
from conformance.reports.latency import Timing
from conformance.reports.model import CheckResult, RunReport, RunTraffic, Sample
from conformance.settings import Settings

if TYPE_CHECKING:
    from conformance.engine import Recorder


@dataclass
class RunState:
    """What the plugin learns during one run (controller or xdist worker)."""

    started_at: str
    retired: bool = False
    samples: list[Sample] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)  # one per exchange sent, for the latency charts
    results: list[CheckResult] = field(default_factory=list)
    # The clauses of the tests left after collection (-k, -m, --clause, --family); None until known.
    collected_clauses: set[str] | None = None
    report: RunReport | None = None
    junit_path: str | None = None
    temporary_artefacts: Path | None = None
    sender: PlannedClient | None = None  # the session's one client (planned answers, live sends)
    traffic: RunTraffic | None = None  # what the run cost the target, for the report
    preflight_requests: int = 0  # the preflight's own client (counted in the traffic too)


# On the config: the run's resolved settings and what it learns (set once, in pytest_configure).
settings_key = pytest.StashKey[Settings]()
state_key = pytest.StashKey[RunState]()
config_file_key = pytest.StashKey[FileConfig]()
key_source_key = pytest.StashKey[str]()  # where the valid key came from, for messages
# On a test item: its recorder, and the error verdicts of a test the target stopped answering.
recorder_key: pytest.StashKey[Recorder] = pytest.StashKey()
unanswered_key = pytest.StashKey[list[CheckResult]]()
timings_key = pytest.StashKey[list[Timing]]()  # the test's exchanges, timed

WORKER_CLAUSES = "livephoto_clauses"  # xdist workeroutput: the clauses a worker kept


def now() -> str:
    """The current time as the reports write it (UTC, to the second)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
