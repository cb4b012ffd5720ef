"""Suite runtime against the embedded reference server: total wall time vs the target's own time.

Run on demand: ``.venv/bin/python benchmarks/suite_runtime.py``. The suite runs in this process
(``pytest --pyargs conformance.suite``, no ``--target``: the plugin starts the embedded reference
server in a subprocess); every ``TargetClient.send`` is timed. Figures, measured side by side in
one run:

- wall: the whole pytest session (collection, Hypothesis generation, checks, video judging, reports);
- target: the time the target spent answering — the union of the send intervals (concurrent sends,
  as in LP-OPS-2, count once), with the plain sum of exchange ``elapsed`` beside it;
- suite overhead: (wall − target) / wall.

Targets (issue 10): the suite takes ≤ 60 s and its overhead is ≤ 30 % of the wall time.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest

from conformance.client import TargetClient

WALL_TARGET = 60.0  # s, issue 10: "suite runtime ≤ 60 s"
OVERHEAD_TARGET = 0.30  # issue 10: "suite overhead ≤ 30 %"


class SendTimer:
    """Wraps ``TargetClient.send`` to record each exchange's interval and elapsed time."""

    def __init__(self) -> None:
        self.intervals: list[tuple[float, float]] = []
        self.elapsed: list[float] = []
        self._lock = threading.Lock()
        self._original = TargetClient.send

    def __enter__(self) -> SendTimer:
        original, timer = self._original, self

        def send(client: TargetClient, request: Any, **options: Any) -> Any:
            started = time.perf_counter()
            try:
                exchange = original(client, request, **options)
            finally:
                with timer._lock:
                    timer.intervals.append((started, time.perf_counter()))
            with timer._lock:
                timer.elapsed.append(exchange.elapsed)
            return exchange

        TargetClient.send = send  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        TargetClient.send = self._original  # type: ignore[method-assign]


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    """Total length covered by the intervals (overlaps counted once)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def main() -> int:
    """Run the suite once and print the figures."""
    with TemporaryDirectory(prefix="suite-runtime-") as scratch:
        args = [
            "--pyargs",
            "conformance.suite",
            "-q",
            "-p",
            "no:randomly",
            "--artefacts",
            str(Path(scratch) / "artefacts"),
            "--report-json",
            str(Path(scratch) / "report.json"),
        ]
        os.chdir(scratch)  # reports and samples stay out of the checkout
        output = io.StringIO()  # pytest's own report stays out of the figures
        with SendTimer() as timer, contextlib.redirect_stdout(output):
            started = time.perf_counter()
            code = pytest.main(args)
            wall = time.perf_counter() - started
        tail = [line for line in output.getvalue().splitlines() if " passed" in line or " failed" in line]
    target = union_seconds(timer.intervals)
    summed = sum(timer.elapsed)
    overhead = (wall - target) / wall if wall else 0.0
    outcome = tail[-1].strip("= ") if tail else "no summary"
    print(f"pytest exit code {int(code)}: {outcome}; {len(timer.elapsed)} exchanges")
    print(f"suite wall time: {wall:.1f} s (target ≤ {WALL_TARGET:.0f} s)")
    print(f"target answering time: {target:.1f} s (union of send intervals); sum of elapsed {summed:.1f} s")
    print(f"suite overhead: {overhead:.0%} of wall time (target ≤ {OVERHEAD_TARGET:.0%})")
    print(f"wall / target ratio: {wall / target if target else float('inf'):.2f}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    # Figures of a run that did not pass are not the suite's runtime: the benchmark fails (its
    # send wrapper once fell behind TargetClient.send's options, and every request failed).
    return 0 if int(code) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
