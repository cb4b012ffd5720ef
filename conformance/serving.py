"""An ASGI app served by uvicorn in a background thread on a real socket: the reference server,
the proxy, the replay mock and the test servers all start this way."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn

HOST = "127.0.0.1"
START_TIMEOUT = 30.0  # seconds to wait for the socket to listen


class UvicornThread:
    """uvicorn in a daemon thread; a context manager.

    An exception in the server thread is re-raised by ``start`` (``__enter__``) or ``stop``.
    """

    def __init__(self, uv_config: uvicorn.Config, *, name: str) -> None:
        self._server = uvicorn.Server(uv_config)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._error: BaseException | None = None
        self._host = uv_config.host
        self._name = name

    def _run(self) -> None:
        try:
            self._server.run()
        except BaseException as exc:  # surfaced to the caller by start()/stop()
            self._error = exc

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        sockets = self._server.servers[0].sockets if self._server.servers else []
        if not sockets:
            raise RuntimeError(f"{self._name} is not running")
        return f"http://{self._host}:{sockets[0].getsockname()[1]}"

    def start(self) -> UvicornThread:
        """Start and wait until the socket listens."""
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self._name} did not start: {self._error or 'timeout'}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop the server (a lifespan's shutdown runs, if enabled) and join the thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=START_TIMEOUT)
        error, self._error = self._error, None
        if error is not None and not isinstance(error, SystemExit):
            raise RuntimeError(f"{self._name} thread failed: {error!r}") from error

    def __enter__(self) -> UvicornThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
