"""What a run cost the target: requests on the wire, successes, rate-limit back-off, waiting time.

Issue 18: a paid target bills every success and a slow one makes the run wait; the report states
both, and "waiting on the target" versus "working in the suite". The client keeps these counters
(``TargetClient.traffic()``); this module holds the snapshot and the interval arithmetic behind it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Traffic:
    """A snapshot of one client's traffic.

    ``requests`` counts attempts on the wire (a retried 429 is two), ``successes`` the answers 200
    (what a paid API bills). ``rate_limits_retried`` are 429 (or 503 with ``Retry-After``) answers
    the client waited out and sent again; ``rate_limits_returned`` those handed back to the caller
    because the wait allowed was used up. ``backoff_s`` is the wall time during which the client
    held new sends back; ``waited_s`` the wall time during which at least one request was in flight
    (concurrent requests count once), so wall time minus it is the suite's own work.
    """

    requests: int = 0
    successes: int = 0
    rate_limits_retried: int = 0
    rate_limits_returned: int = 0
    backoff_s: float = 0.0
    waited_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (the report's ``traffic`` object), seconds rounded to milliseconds."""
        data = asdict(self)
        data["backoff_s"] = round(self.backoff_s, 3)
        data["waited_s"] = round(self.waited_s, 3)
        return data


class BusyClock:
    """The length of the union of intervals that open and close in any order (requests in flight).

    A count of open intervals is enough: time is added only while at least one is open, so
    overlapping requests count once. Not locked: the owner calls it under its own lock.
    """

    def __init__(self) -> None:
        self._open = 0
        self._since = 0.0
        self._total = 0.0

    def enter(self, now: float) -> None:
        """An interval opens at ``now``."""
        if self._open == 0:
            self._since = now
        self._open += 1

    def leave(self, now: float) -> None:
        """An interval that was entered closes at ``now``."""
        if self._open <= 0:
            raise ValueError("leave() without a matching enter()")
        self._open -= 1
        if self._open == 0:
            self._total += max(0.0, now - self._since)

    def total(self, now: float) -> float:
        """Seconds covered so far, an interval still open counted up to ``now``."""
        return self._total + (max(0.0, now - self._since) if self._open else 0.0)


class PauseClock:
    """The length of the union of pauses ``[start, until]`` whose starts never go backwards.

    A pause asked for while another one runs only adds the part beyond the current end, so the
    total is the wall time during which sends were held back, however many threads asked for it.
    Not locked: the owner calls it under its own lock.
    """

    def __init__(self) -> None:
        self.until = float("-inf")  # the end of the latest pause: no send before it
        self._total = 0.0

    def pause(self, start: float, until: float) -> None:
        """Hold sends back from ``start`` until ``until`` (nothing when it ends before the current end)."""
        if until > self.until:
            self._total += until - max(start, self.until)
            self.until = until

    def total(self, now: float) -> float:
        """Seconds of pause so far (the part of a running pause that lies after ``now`` not counted)."""
        return self._total - max(0.0, self.until - now)
