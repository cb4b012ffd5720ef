"""One live progress display for long runs (the suite's ``run``, the load profile).

On a terminal a run redraws a rich ``Live`` view a few times a second; in a log (CI) redraws
would fill it with frames, so the same run prints a ``progress: …`` line now and then instead.
Both commands want exactly that, and the console that lines and other output go through must be
the one ``Live`` draws on, or the two tear each other: the shared part lives here, each command
only says what its view shows (``render``) and when a line is due.
"""

from __future__ import annotations

import time
from typing import Self

from rich.console import Console, RenderableType
from rich.live import Live

REFRESH_PER_SECOND = 4
LINE_PREFIX = "progress: "  # every progress line in a log starts so: tests and CI greps find them


class LiveDisplay:
    """A live view on a terminal (``live=True``), progress lines otherwise.

    Subclasses implement ``render`` (the frame) and call ``line`` where a log should get one;
    ``__exit__`` leaves the last frame on screen (the final figures).
    """

    def __init__(self, console: Console, *, live: bool) -> None:
        self.console = console
        self.live_mode = live
        self.started = time.monotonic()
        self._live: Live | None = None

    @property
    def elapsed(self) -> float:
        """Seconds since the display was made."""
        return time.monotonic() - self.started

    def render(self) -> RenderableType:
        """The current frame."""
        raise NotImplementedError

    def closing(self) -> None:
        """Called before the last frame is drawn: clear what only a running view shows."""

    def __enter__(self) -> Self:
        if self.live_mode:
            self._live = Live(
                console=self.console,
                get_renderable=self.render,
                refresh_per_second=REFRESH_PER_SECOND,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self.closing()
            self._live.stop()  # draws the last frame, which stays on screen
            self._live = None

    def line(self, text: str) -> None:
        """One progress line (``progress: …``), printed above a live view or straight through."""
        self.echo(LINE_PREFIX + text)

    def echo(self, text: str) -> None:
        """A line of other output (a child's), printed through the display's console: above the
        live view, never torn by a redraw. Printed as is: no markup, no highlighting."""
        self.console.print(text.rstrip("\n"), highlight=False, markup=False, soft_wrap=True)
