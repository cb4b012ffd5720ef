"""Route the real API URL to the reference server in-process with respx: offline tests, no socket."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import httpx
import respx as _respx

from conformance.mock.app import create_app
from conformance.mock.config import ServerConfig

API_BASE_URL = "https://www.ailabapi.com"


class _AsgiSideEffect:
    """A respx side effect that answers with the ASGI app; works for sync and async httpx clients."""

    def __init__(self, config: ServerConfig) -> None:
        self.transport = httpx.ASGITransport(app=create_app(config), raise_app_exceptions=False)

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response = await self.transport.handle_async_request(forwarded)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def __call__(self, request: httpx.Request) -> httpx.Response | Coroutine[Any, Any, httpx.Response]:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a sync client: run the app on a private event loop
            return asyncio.run(self._answer(request))
        return self._answer(request)  # an async client: respx awaits the coroutine


def respx_router(base_url: str = API_BASE_URL, config: ServerConfig | None = None) -> _respx.MockRouter:
    """A respx router that sends every request under ``base_url`` to the reference server in-process.

    Use it as a context manager around code that uses httpx (sync or async)::

        with respx_router(config=ServerConfig(api_keys=("k",))):
            httpx.post("https://www.ailabapi.com/api/portrait/effects/live-photo", ...)
    """
    router = _respx.MockRouter(base_url=base_url, assert_all_called=False, assert_all_mocked=True)
    router.route().mock(side_effect=_AsgiSideEffect(config or ServerConfig()))
    return router
