"""Serve recorded cassettes back as a mock: a recorded session becomes an offline fixture.

A request identical to a recorded one (``request_fingerprint``: method, path, key state, Content-Type
with its boundary, every part, body size) gets the recorded answers of that request in recording
order: the suite sends the same bytes for the same seed (issue 14), so a run replays as recorded,
an unknown key's answer included. Otherwise a request is matched by the SHA-256 of its
``image_target`` bytes and its ``type`` (absent counts as ``0``, LP-REQ-5), preferring an entry
recorded with the same key state (present, empty, missing); the most recent recording wins. An
unmatched request gets a 404 envelope ``ERROR_RESOURCE_NOT_FOUND``. The request body is bounded
like the proxy's.

Cassettes are input, possibly hand-edited or planted: they are checked against the schema on load
(``load_numbered``), blobs are checked again when served (``read_blob``), and whatever still goes
wrong while answering becomes a 502 ``ERROR_GATEWAY`` envelope and one log line, never a plain-text
500 with a traceback.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.contract import Edition
from conformance.proxy.cassette import (
    CREDENTIAL_HEADERS,
    CassetteEntry,
    CassetteError,
    RecordedRequest,
    RecordedResponse,
    load_numbered,
    response_body,
)
from conformance.proxy.config import MAX_REQUEST_BODY
from conformance.proxy.observed import Observed, observe_request
from conformance.proxy.wire import forwardable, proxy_answer
from conformance.redact import MASK

MatchKey = tuple[str, str, str]  # image SHA-256, type, key state
BODILESS = (204, 304)  # RFC 9110 §6.4.1: these answers have no content

log = logging.getLogger("livephoto.replay")


def normalised_type(value: str | None) -> str:
    """``type`` as matched: absent is ``0`` (LP-REQ-5), anything else as sent."""
    return "0" if value is None else value


PartFacts = tuple[str, str | None, str | None, str]  # name, file name, part type, content SHA-256


def request_fingerprint(
    method: str, path: str, key_state: str, content_type: str, parts: Iterable[PartFacts], body_bytes: int
) -> str:
    """What identifies a request for an exact replay (the key itself is never recorded: its state)."""
    facts = [method, path, key_state, content_type, [list(part) for part in parts], body_bytes]
    return hashlib.sha256(json.dumps(facts, ensure_ascii=False).encode()).hexdigest()


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def recorded_fingerprint(request: RecordedRequest) -> str:
    """The fingerprint of a cassette's request (text parts are stored as text, files by digest)."""
    content_type = next((v for n, v in request.headers if n.lower() == "content-type"), "")
    parts = [
        (
            part.name,
            part.filename,
            part.content_type,
            part.sha256 if part.sha256 is not None else _text_digest(part.value or ""),
        )
        for part in request.parts
    ]
    return request_fingerprint(
        request.method, request.path, request.key, content_type, parts, request.body_bytes
    )


def observed_fingerprint(observed: Observed) -> str:
    """The fingerprint of a request the replay received (text parts as the recorder keeps them)."""
    content_type = next((v for n, v in observed.headers if n.lower() == "content-type"), "")
    parts = [
        (
            part.name,
            part.filename,
            part.content_type,
            hashlib.sha256(part.content).hexdigest()
            if part.filename is not None
            else _text_digest(part.content.decode("utf-8", "replace")),
        )
        for part in observed.request.parts
    ]
    request = observed.request
    return request_fingerprint(
        request.method, request.path, observed.key_state, content_type, parts, observed.body_bytes
    )


class Cassettes:
    """The entries of a record directory, indexed for matching (CassetteError when unusable)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        numbered = load_numbered(self.directory)
        self.entries = [entry for _, entry in numbered]
        self.lines = {id(entry): number for number, entry in numbered}
        self._exact: dict[MatchKey, CassetteEntry] = {}
        self._loose: dict[tuple[str, str], CassetteEntry] = {}
        for entry in self.entries:  # later recordings replace earlier ones
            request = entry.request
            image = request.image_sha256
            if not image:
                continue
            kind = normalised_type(request.type)
            self._exact[(image, kind, request.key)] = entry
            self._loose[(image, kind)] = entry
        # Exact replay: each fingerprint's entries in recording order, and how many were served.
        self._identical: dict[str, list[CassetteEntry]] = {}
        self._served: dict[str, int] = {}
        for entry in self.entries:
            self._identical.setdefault(recorded_fingerprint(entry.request), []).append(entry)

    def match(
        self, image_sha256: str | None, type_value: str | None, key_state: str, fingerprint: str = ""
    ) -> CassetteEntry | None:
        """The recorded entry for an identical request (the n-th time it comes, the n-th recorded
        answer, the last one once they are used up), else for an image and type (same key state
        first), or None."""
        identical = self._identical.get(fingerprint)
        if identical:
            served = self._served.get(fingerprint, 0)
            self._served[fingerprint] = served + 1
            return identical[min(served, len(identical) - 1)]
        if image_sha256 is None:
            return None
        kind = normalised_type(type_value)
        return self._exact.get((image_sha256, kind, key_state)) or self._loose.get((image_sha256, kind))


def recorded_answer(directory: Path, recorded: RecordedResponse) -> Response:
    """The recorded status, headers (minus hop-by-hop and filtered credential ones) and body."""
    status = recorded.status
    content = b"" if status in BODILESS else response_body(directory, recorded)
    raw = []
    for name, value in recorded.headers:
        if name.lower() in CREDENTIAL_HEADERS and value == MASK:
            continue  # filtered when recorded: there is nothing to serve
        raw.append((name.encode("latin-1"), value.encode("latin-1")))
    headers = [(k, v) for k, v in forwardable(raw, request=False) if k.lower() != b"content-length"]
    if status not in BODILESS:
        headers.append((b"content-length", str(len(content)).encode()))
    response = Response(content=content, status_code=status)
    response.raw_headers = headers
    return response


def create_replay_app(directory: Path, *, edition: Edition = Edition.ANY) -> Starlette:
    """An ASGI app answering from the cassettes in ``directory`` (CassetteError, a ValueError,
    naming every bad cassette, if there are none or some are unusable)."""
    cassettes = Cassettes(directory)

    def too_large() -> Response:
        return proxy_answer(
            "ERROR_REQUEST_BODY_TOO_LARGE",
            f"The request body exceeds {MAX_REQUEST_BODY} bytes.",
            edition,
            "request-too-large",
        )

    async def serve(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > MAX_REQUEST_BODY:
            return too_large()
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_REQUEST_BODY:
                return too_large()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
        observed = observe_request(request.method, request.url.path, "", headers, bytes(body))
        entry = cassettes.match(
            observed.image_sha256, observed.type_value, observed.key_state, observed_fingerprint(observed)
        )
        if entry is None:
            shown = observed.image_sha256[:16] + "…" if observed.image_sha256 else "no image_target"
            kind = normalised_type(observed.type_value)
            return proxy_answer(
                "ERROR_RESOURCE_NOT_FOUND",
                f"No recorded answer for this request ({shown}, type {kind}).",
                edition,
                "replay-miss",
            )
        try:
            return recorded_answer(cassettes.directory, entry.response)
        except (CassetteError, OSError, LookupError, TypeError, ValueError) as exc:
            where = f"{cassettes.directory}/cassettes.jsonl:{cassettes.lines.get(id(entry), '?')}"
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.error(json.dumps({"verdict": "broken-cassette", "cassette": where, "reason": reason}))
            return proxy_answer(
                "ERROR_GATEWAY",
                f"The recorded answer for this request is unusable: {reason}",
                edition,
                "replay-broken-cassette",
            )

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", serve, methods=methods)])
    app.router.redirect_slashes = False
    app.state.cassettes = cassettes
    return app
