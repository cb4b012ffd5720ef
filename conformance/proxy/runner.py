"""Run the proxy (or the replay mock) on a real socket in a background thread: for tests and
benchmarks. Unlike the reference server's runner it runs the lifespan, so the upstream client is
closed and pending judgements finish when it stops."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

HOST = "127.0.0.1"
START_TIMEOUT = 30.0  # seconds to wait for the socket to listen


def uvicorn_config(app: Any, host: str, port: int, log_level: str = "warning") -> uvicorn.Config:
    """uvicorn settings that keep traffic unchanged: no Server or Date header of its own."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        server_header=False,
        date_header=False,
    )


class AppThread:
    """An ASGI app served by uvicorn in a daemon thread on 127.0.0.1; a context manager."""

    def __init__(self, app: Any, *, host: str = HOST, port: int = 0) -> None:
        self.app = app
        self._server = uvicorn.Server(uvicorn_config(app, host, port))
        self._thread = threading.Thread(target=self._run, name="livephoto-proxy", daemon=True)
        self._error: BaseException | None = None
        self._host = host

    def _run(self) -> None:
        try:
            self._server.run()
        except BaseException as exc:  # surfaced by start()/stop()
            self._error = exc

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        sockets = self._server.servers[0].sockets if self._server.servers else []
        if not sockets:
            raise RuntimeError("the app is not running")
        return f"http://{self._host}:{sockets[0].getsockname()[1]}"

    def start(self) -> AppThread:
        """Start and wait until the socket listens."""
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the app did not start: {self._error or 'timeout'}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop the server (the lifespan's shutdown runs) and join the thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=START_TIMEOUT)
        error, self._error = self._error, None
        if error is not None and not isinstance(error, SystemExit):
            raise RuntimeError(f"the app thread failed: {error!r}") from error

    def __enter__(self) -> AppThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
