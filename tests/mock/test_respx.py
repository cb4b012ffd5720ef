"""The respx router: the real API URL answered by the reference server in-process, no socket."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from conformance.mock import ServerConfig, respx_router
from tests.mock import samples
from tests.mock.samples import KEY

URL = "https://www.ailabapi.com/api/portrait/effects/live-photo"
AUTH = {"ailabapi-api-key": KEY}


def test_sync_client_gets_a_real_video() -> None:
    """A sync httpx client posting to the real URL gets the reference server's answer."""
    with respx_router(config=ServerConfig(api_keys=(KEY,))) as router:
        response = httpx.post(URL, headers=AUTH, files={"image_target": ("f.png", samples.face_small())})
        assert router.calls.call_count == 1
    assert response.status_code == 200
    frames = samples.decode_video(base64.b64decode(response.json()["data"]["video"]))
    assert len(frames) >= 2


def test_async_client_and_errors() -> None:
    """An async client works too, and errors carry the envelope."""

    async def run() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient() as http:
            bad = await http.post(URL, files={"image_target": ("f.png", samples.face_small())})
            gif = await http.post(
                URL, headers=AUTH, files={"image_target": ("a.gif", samples.solid((40, 40), "GIF"))}
            )
            return bad, gif

    with respx_router(config=ServerConfig(api_keys=(KEY,))):
        bad, gif = asyncio.run(run())
    assert (bad.status_code, bad.json()["error_detail"]["code"]) == (401, "ERROR_APPLICATIONS_NOT_EXISTS")
    assert (gif.status_code, gif.json()["error_detail"]["code"]) == (415, "UNSUPPORTED_FILE_TYPES")


def test_other_hosts_are_not_routed() -> None:
    """Only the base URL is routed: anything else is reported as not mocked."""
    with respx_router(base_url="https://api.example.test") as router:
        assert httpx.get("https://api.example.test/nope").status_code == 404
        with pytest.raises(Exception, match="not mocked"):
            httpx.get("https://elsewhere.test/")
        router.assert_all_called()
