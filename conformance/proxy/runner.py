"""Run the proxy (or the replay mock) on a real socket in a background thread: for tests and
benchmarks. Unlike the reference server's runner it runs the lifespan, so the upstream client is
closed and pending judgements finish when it stops."""

from __future__ import annotations

from typing import Any

import uvicorn

from conformance.serving import HOST, UvicornThread


def uvicorn_config(app: Any, host: str, port: int, log_level: str = "warning") -> uvicorn.Config:
    """uvicorn settings that keep traffic unchanged: no Server or Date header of its own. The
    connection limits every shipped server has (``serving.harden``) are applied by whoever runs it:
    ``UvicornThread`` in-process, the ``proxy`` / ``replay`` commands for the command line."""
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


class AppThread(UvicornThread):
    """An ASGI app served by uvicorn in a daemon thread on 127.0.0.1, lifespan on."""

    def __init__(self, app: Any, *, host: str = HOST, port: int = 0) -> None:
        self.app = app
        super().__init__(uvicorn_config(app, host, port), name="the proxy")
