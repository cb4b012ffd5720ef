"""Progress of a load run while Locust works in its child process (rich).

The master (or lone runner) writes a small JSON snapshot every half second (``locustfile``'s
``LIVEPHOTO_LOAD_PROGRESS``); this side reads it and shows elapsed time against the duration,
requests against the cap, requests/s, failures and current latency. On a terminal that is a live
bar; elsewhere (a CI log) one line every ``LINE_EVERY`` seconds. Locust's own output is pumped
through the same console so that the two never tear each other.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.text import Text

from conformance.reports.live import LiveDisplay

POLL_INTERVAL = 0.25  # s between two looks at the child and its snapshot
LINE_EVERY = 5.0  # s between two progress lines in a log


class LoadProgress(LiveDisplay):
    """The display of one load run: fed snapshots, rendered live or as lines."""

    def __init__(self, console: Console, *, live: bool, duration: int, max_requests: int) -> None:
        super().__init__(console, live=live)
        self.duration = duration
        self.max_requests = max_requests
        self.snapshot: dict[str, Any] = {}
        self._last_line = 0.0

    @property
    def fraction(self) -> float:
        """How far the run is: by time or by the request cap, whichever is further."""
        elapsed = float(self.snapshot.get("elapsed", 0.0))
        requests = int(self.snapshot.get("requests", 0))
        return min(1.0, max(elapsed / max(self.duration, 1), requests / max(self.max_requests, 1)))

    def summary(self) -> str:
        """One line of the current figures."""
        s = self.snapshot
        if not s:
            return f"starting Locust… {self.elapsed:.0f} s"

        def ms(key: str) -> str:
            return "—" if s.get(key) is None else f"{s[key]:g} ms"

        elapsed = float(s.get("elapsed", 0))
        stopping = " (stopping)" if elapsed > self.duration else ""
        return (
            f"{elapsed:.0f}/{self.duration} s{stopping} · {s.get('requests', 0)}/{self.max_requests} "
            f"requests · {s.get('rps', 0):g} req/s · {s.get('failures', 0)} failed · "
            f"p50 {ms('p50')} · p95 {ms('p95')} · {s.get('users', 0)} users"
        )

    def render(self) -> RenderableType:
        """The live view: a bar and the figures."""
        bar = ProgressBar(total=1000, completed=int(self.fraction * 1000), width=40)
        return Group(Text("livephoto load", style="bold"), bar, Text(self.summary(), style="dim"))

    def update(self, snapshot: dict[str, Any]) -> None:
        """A new snapshot; in line mode, print one line now and then."""
        self.snapshot = snapshot
        now = time.monotonic()
        if not self.live_mode and now - self._last_line >= LINE_EVERY:
            self._last_line = now
            self.line(self.summary())


def read_snapshot(path: Path) -> dict[str, Any] | None:
    """The latest snapshot, or None when there is none (yet) or it does not parse."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _pump(stream: IO[str], write: Callable[[str], None]) -> None:
    for line in stream:
        write(line)


def watch(
    process: subprocess.Popen[str],
    progress: LoadProgress,
    snapshot: Path,
    *,
    deadline: float,
    out: Callable[[str], None],
) -> int | None:
    """Show the child's progress and output until it exits; its exit code, or None when the
    deadline passed (the child is then killed)."""
    pumps = []
    for stream, write in ((process.stdout, out), (process.stderr, progress.echo)):
        if stream is not None:
            thread = threading.Thread(target=_pump, args=(stream, write), daemon=True)
            thread.start()
            pumps.append(thread)
    code: int | None = None
    while True:
        found = read_snapshot(snapshot)
        if found is not None:
            progress.update(found)
        code = process.poll()
        if code is not None:
            break
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            break
        time.sleep(POLL_INTERVAL)
    for thread in pumps:
        thread.join(timeout=5)
    final = read_snapshot(snapshot)
    if final is not None:
        progress.update(final)
    return code
