"""A broken target for the load profile's own tests: it mixes up responses under concurrency.

``MixUp`` wraps the reference server's app and answers each success with the success it produced
for the *previous* request: another request's video and ``request_id`` (the first one twice). The
load profile must report that as LP-OPS-2 / LP-ENV-2 violations.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from conformance.mock.app import create_app
from conformance.mock.config import ServerConfig

Message = dict[str, Any]
START_TIMEOUT = 10.0


class MixUp:
    """ASGI middleware: every 200 answer goes to the next request instead of its own."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.previous: tuple[Message, bytes] | None = None

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        answer = (start, b"".join(chunks))
        if start.get("status") == 200:
            answer, self.previous = self.previous or answer, answer
        await send(answer[0])
        await send({"type": "http.response.body", "body": answer[1]})


class MixUpServer:
    """uvicorn serving ``MixUp(reference app)`` on 127.0.0.1 in a thread; a context manager."""

    def __init__(self, config: ServerConfig | None = None) -> None:
        app = MixUp(create_app(config or ServerConfig()))
        uv = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(uv)
        self.thread = threading.Thread(target=self.server.run, name="mixup-server", daemon=True)

    @property
    def url(self) -> str:
        """The base URL."""
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> MixUpServer:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the mix-up server did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=START_TIMEOUT)
