"""Record proxied exchanges as cassettes: ``DIR/cassettes.jsonl`` plus ``DIR/blobs/<sha256>``.

One JSON line per exchange. Images and videos are stored once each, by the SHA-256 of their bytes;
the response body is stored as text with the base64 video replaced by ``VIDEO_MARKER`` (raw JSON
cannot contain a NUL character, so the marker is unambiguous), or as a blob when it is not a JSON
text. Every string passes through the request's ``Redactor``: the API key becomes ``***``.
Format: docs/proxy.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.exchange import KEY_HEADER, Exchange
from conformance.proxy.observed import Observed
from conformance.redact import MASK, Redactor, key_forms

CASSETTE_FILE = "cassettes.jsonl"
BLOB_DIR = "blobs"
FORMAT_VERSION = 1
VIDEO_MARKER = "\u0000video\u0000"  # where the base64 video goes back into the stored body text
MAX_INLINE_TEXT = 64 * 1024  # longer bodies (once the video is out) and text fields become blobs


@dataclass(frozen=True)
class Timings:
    """When and how long: ``upstream_ms`` from sending to the last response byte, ``total_ms``
    from the first request byte to the answer being ready."""

    started_at: str
    upstream_ms: float
    total_ms: float


class CassetteWriter:
    """Appends cassette entries to a record directory (thread-safe)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.blobs = self.directory / BLOB_DIR
        self.blobs.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def blob(self, content: bytes) -> str:
        """Store bytes once under their SHA-256; return the digest."""
        digest = hashlib.sha256(content).hexdigest()
        path = self.blobs / digest
        if not path.exists():
            partial = path.with_name(f".{digest}.{os.getpid()}.{threading.get_ident()}.part")
            partial.write_bytes(content)
            partial.replace(path)  # atomic: a reader never sees half a blob
        return digest

    def record(
        self,
        observed: Observed,
        exchange: Exchange,
        timings: Timings,
    ) -> dict[str, Any]:
        """Write one exchange; returns the entry as written."""
        redactor = Redactor([observed.key or ""])
        entry = {
            "format": FORMAT_VERSION,
            "recorded_at": timings.started_at,
            "request": self._request(observed, redactor),
            "response": self._response(exchange, redactor, observed.key or ""),
            "timings": {"upstream_ms": timings.upstream_ms, "total_ms": timings.total_ms},
        }
        # Only the free-text fields are redacted: digests must stay intact.
        line = json.dumps(entry, ensure_ascii=False)
        with self._lock, (self.directory / CASSETTE_FILE).open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return entry

    def _request(self, observed: Observed, redactor: Redactor) -> dict[str, Any]:
        request, headers = observed.request, observed.headers
        parts = []
        for part in request.parts:
            described: dict[str, Any] = {"name": redactor.text(part.name), "bytes": len(part.content)}
            if part.filename is not None:
                described["filename"] = redactor.text(part.filename)
            if part.content_type is not None:
                described["content_type"] = redactor.text(part.content_type)
            if part.filename is None and len(part.content) <= MAX_INLINE_TEXT:
                described["value"] = redactor.text(part.content.decode("utf-8", "replace"))
            else:
                described["sha256"] = self.blob(part.content)
            parts.append(described)
        return {
            "method": request.method,
            "path": redactor.text(request.path),
            "query": redactor.text(observed.query),
            "headers": [
                [name, MASK if name.lower() == KEY_HEADER else redactor.text(value)]
                for name, value in headers
            ],
            "key": observed.key_state,
            "content_type": None if request.content_type is None else redactor.text(request.content_type),
            "parts": parts,
            "image_sha256": observed.image_sha256,
            "type": None if observed.type_value is None else redactor.text(observed.type_value),
            "body_bytes": observed.body_bytes,
        }

    def _response(self, exchange: Exchange, redactor: Redactor, key: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": exchange.status,
            "headers": [[redactor.text(name), redactor.text(value)] for name, value in exchange.headers],
            "bytes": len(exchange.body),
            "body": None,
            "body_sha256": None,
            "video_sha256": None,
        }
        try:
            text = exchange.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        video = exchange.video_b64
        if text is not None and video and text.count(video) == 1:
            try:
                decoded = base64.b64decode(video, validate=True)
            except (binascii.Error, ValueError):
                decoded = None
            if decoded is not None and base64.b64encode(decoded).decode("ascii") == video:
                out["video_sha256"] = self.blob(decoded)
                text = text.replace(video, VIDEO_MARKER)
        if text is not None and len(text) <= MAX_INLINE_TEXT:
            out["body"] = redactor.text(text)
        else:
            body = exchange.body if text is None else text.encode("utf-8")
            for form in key_forms(key):
                body = body.replace(form.encode(), MASK.encode())
            out["body_sha256"] = self.blob(body)
        return out


def load_cassettes(directory: Path) -> list[dict[str, Any]]:
    """Every entry of a record directory, in recording order; ValueError naming a bad line."""
    path = Path(directory) / CASSETTE_FILE
    if not path.is_file():
        raise ValueError(
            f"{directory} holds no {CASSETTE_FILE}: "
            "record one with `livephoto-conformance proxy --record DIR`"
        )
    entries = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                raise ValueError(f"{path}:{number} is not a JSON line") from None
            if not isinstance(entry, dict) or "request" not in entry or "response" not in entry:
                raise ValueError(f"{path}:{number} is not a cassette entry (request and response expected)")
            entries.append(entry)
    return entries


def response_body(directory: Path, response: dict[str, Any]) -> bytes:
    """The recorded response body, the video put back (byte-exact unless the key was redacted)."""
    blobs = Path(directory) / BLOB_DIR
    if response.get("body") is not None:
        text: str = response["body"]
        if response.get("video_sha256") and VIDEO_MARKER in text:
            video = (blobs / response["video_sha256"]).read_bytes()
            text = text.replace(VIDEO_MARKER, base64.b64encode(video).decode("ascii"))
        return text.encode("utf-8")
    body: bytes = (blobs / response["body_sha256"]).read_bytes()
    if response.get("video_sha256"):
        video = (blobs / response["video_sha256"]).read_bytes()
        body = body.replace(VIDEO_MARKER.encode(), base64.b64encode(video))
    return body


def now_iso() -> str:
    """The current UTC time, ISO 8601 with a ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
