"""Serve recorded cassettes back as a mock: a recorded session becomes an offline fixture.

A request is matched by the SHA-256 of its ``image_target`` bytes and its ``type`` (absent counts
as ``0``, LP-REQ-5), preferring an entry recorded with the same key state (present, empty,
missing); the most recent recording wins. An unmatched request gets a 404 envelope
``ERROR_RESOURCE_NOT_FOUND``. The request body is bounded like the proxy's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.contract import Edition
from conformance.proxy.cassette import load_cassettes, response_body
from conformance.proxy.config import MAX_REQUEST_BODY
from conformance.proxy.observed import observe_request
from conformance.proxy.wire import forwardable, proxy_answer

MatchKey = tuple[str, str, str]  # image SHA-256, type, key state


def normalised_type(value: str | None) -> str:
    """``type`` as matched: absent is ``0`` (LP-REQ-5), anything else as sent."""
    return "0" if value is None else value


class Cassettes:
    """The entries of a record directory, indexed for matching."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.entries = load_cassettes(self.directory)
        self._exact: dict[MatchKey, dict[str, Any]] = {}
        self._loose: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in self.entries:  # later recordings replace earlier ones
            request = entry["request"]
            image = request.get("image_sha256")
            if not image:
                continue
            kind = normalised_type(request.get("type"))
            self._exact[(image, kind, request.get("key", "present"))] = entry
            self._loose[(image, kind)] = entry

    def match(
        self, image_sha256: str | None, type_value: str | None, key_state: str
    ) -> dict[str, Any] | None:
        """The recorded entry for an image and type (same key state first), or None."""
        if image_sha256 is None:
            return None
        kind = normalised_type(type_value)
        return self._exact.get((image_sha256, kind, key_state)) or self._loose.get((image_sha256, kind))


def create_replay_app(directory: Path, *, edition: Edition = Edition.ANY) -> Starlette:
    """An ASGI app answering from the cassettes in ``directory`` (ValueError if there are none)."""
    cassettes = Cassettes(directory)

    async def serve(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > MAX_REQUEST_BODY:
            return proxy_answer(
                "ERROR_REQUEST_BODY_TOO_LARGE",
                f"The request body exceeds {MAX_REQUEST_BODY} bytes.",
                edition,
                "request-too-large",
            )
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_REQUEST_BODY:
                return proxy_answer(
                    "ERROR_REQUEST_BODY_TOO_LARGE",
                    f"The request body exceeds {MAX_REQUEST_BODY} bytes.",
                    edition,
                    "request-too-large",
                )
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
        observed = observe_request(request.method, request.url.path, "", headers, bytes(body))
        entry = cassettes.match(observed.image_sha256, observed.type_value, observed.key_state)
        if entry is None:
            shown = observed.image_sha256[:16] + "…" if observed.image_sha256 else "no image_target"
            kind = normalised_type(observed.type_value)
            return proxy_answer(
                "ERROR_RESOURCE_NOT_FOUND",
                f"No recorded answer for this request ({shown}, type {kind}).",
                edition,
                "replay-miss",
            )
        recorded = entry["response"]
        content = response_body(cassettes.directory, recorded)
        raw = [(str(k).encode("latin-1"), str(v).encode("latin-1")) for k, v in recorded["headers"]]
        headers_out = [(k, v) for k, v in forwardable(raw, request=False) if k.lower() != b"content-length"]
        response = Response(content=content, status_code=int(recorded["status"]))
        response.raw_headers = [*headers_out, (b"content-length", str(len(content)).encode())]
        return response

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", serve, methods=methods)])
    app.router.redirect_slashes = False
    app.state.cassettes = cassettes
    return app
