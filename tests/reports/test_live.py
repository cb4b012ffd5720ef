"""The one live progress display: a redrawn view on a terminal, ``progress:`` lines in a log."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType
from rich.text import Text

from conformance.load.progress import LoadProgress
from conformance.reports.live import LiveDisplay
from conformance.standalone.progress import FamilyCount, FamilyProgress


class Counter(LiveDisplay):
    def __init__(self, console: Console, *, live: bool) -> None:
        super().__init__(console, live=live)
        self.frames = 0
        self.state = "running"

    def render(self) -> RenderableType:
        self.frames += 1
        return Text(f"frame {self.frames} {self.state}")

    def closing(self) -> None:
        self.state = "done"


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=60, color_system=None), out


def test_in_a_log_there_are_lines_and_no_frames() -> None:
    console, out = _console(terminal=False)
    with Counter(console, live=False) as display:
        display.line("half way [not markup]")
        display.echo("a child's own line\n")
    assert out.getvalue() == "progress: half way [not markup]\na child's own line\n"
    assert display.frames == 0


def test_on_a_terminal_the_last_frame_stays_and_lines_print_above_it() -> None:
    console, out = _console(terminal=True)
    with Counter(console, live=True) as display:
        display.line("a line " + "x" * 80)  # longer than the console: not wrapped
    text = out.getvalue()
    assert display.frames >= 1 and "progress: a line " + "x" * 80 in text
    last_frame = text.rsplit("frame ", 1)[1]
    assert last_frame.startswith(f"{display.frames} done")  # closing() ran before the last frame


def test_both_commands_share_the_display() -> None:
    console, out = _console(terminal=False)
    load = LoadProgress(console, live=False, duration=10, max_requests=100)
    load.update({"elapsed": 3, "requests": 40, "rps": 13.3, "failures": 0, "p50": 12, "p95": 40, "users": 4})
    suite = FamilyProgress(console, live=False)
    suite._line(
        "envelope", FamilyCount(total=1, outcomes={"passed": 1, "failed": 0, "skipped": 0, "below gate": 0})
    )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("progress: 3/10 s · 40/100 requests") and isinstance(load, LiveDisplay)
    assert lines[1] == "progress: envelope done, 1/1 tests: 1 passed, 0 failed, 0 skipped, 0 below gate"
    assert isinstance(suite, LiveDisplay)
