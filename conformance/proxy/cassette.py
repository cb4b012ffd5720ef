"""Record proxied exchanges as cassettes: ``DIR/cassettes.jsonl`` plus ``DIR/blobs/<sha256>``.

One JSON line per exchange. Images and videos are stored once each, by the SHA-256 of their bytes;
the response body is stored as text with the base64 video replaced by ``VIDEO_MARKER`` (raw JSON
cannot contain a NUL character, so the marker is unambiguous), or as a blob when it is not a JSON
text. Format: docs/proxy.md; schema: schemas/cassette.schema.json.

Nothing the redactor can still find the key in is written. A compressed body is decoded (gzip,
deflate, br; bounded by the response cap) before it is redacted, and stored decoded with its
Content-Encoding dropped, as VCR.py's ``decode_compressed_response`` does: the key is masked in
what the body says, not in bytes that hide it. A coding the proxy does not decode is not stored
at all (``withheld``). Credential headers (``CREDENTIAL_HEADERS``) are stored as ``***`` unless
kept with ``--keep-header``, like VCR.py's ``filter_headers``, and their values are redacted
wherever else they appear. Every string and every blob passes through the redactor.

Replay reads cassettes it did not necessarily write: every line is checked against the schema on
load, and a blob is read only when its name is a SHA-256, it is a regular file inside
``DIR/blobs`` (no symbolic link), it is within the size cap and its content has that SHA-256.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import json
import os
import re
import stat
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import IO, Any, Literal, cast

from jsonschema import Draft202012Validator

from conformance.exchange import KEY_HEADER, Exchange
from conformance.proxy.config import MAX_RESPONSE_BODY
from conformance.proxy.observed import Observed
from conformance.proxy.wire import Undecodable, decode_content
from conformance.redact import MASK, Redactor
from conformance.resources import load_json

CASSETTE_FILE = "cassettes.jsonl"
BLOB_DIR = "blobs"
FORMAT_VERSION = 1
VIDEO_MARKER = "\u0000video\u0000"  # where the base64 video goes back into the stored body text
MAX_INLINE_TEXT = 64 * 1024  # longer bodies (once the video is out) and text fields become blobs
MAX_INLINE_TOTAL = 256 * 1024  # text fields of one request inline in all; the rest become blobs
MAX_LINE = 16 * 1024 * 1024  # a longer cassette line was not written by the proxy: refused
MAX_BODY_BLOB = MAX_RESPONSE_BODY  # replay serves no body larger than the proxy would pass on
MAX_VIDEO_BLOB = MAX_RESPONSE_BODY * 3 // 4  # its base64 must fit in such a body
MAX_LISTED_ERRORS = 20  # bad cassettes named one per line in the load error
MIN_DERIVED_SECRET = 8  # a credential header's token shorter than this is not hunted elsewhere
# Headers that carry credentials: stored as ``***`` unless ``--keep-header NAME`` keeps one (the
# API key header is always ``***``). Set-Cookie is a response header: a session is a credential.
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
DIGEST = re.compile(r"[0-9a-f]{64}")


KeyState = Literal["present", "empty", "missing"]  # what a request's key was: never the key
JsonObject = dict[str, Any]  # one parsed cassette line: JSON, checked against the schema


class CassetteError(ValueError):
    """A cassette or a blob replay cannot use; the message is one line."""


Header = tuple[str, str]


def _headers_of(value: object) -> tuple[Header, ...]:
    return tuple((str(pair[0]), str(pair[1])) for pair in cast("list[list[object]]", value or []))


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class RecordedPart:
    """One multipart part as recorded: a short text field inline (``value``), anything else as
    the SHA-256 of its blob."""

    name: str
    bytes: int
    filename: str | None = None
    content_type: str | None = None
    value: str | None = None
    sha256: str | None = None

    def as_dict(self) -> JsonObject:
        """The part as the cassette line holds it (absent facts left out)."""
        out: JsonObject = {"name": self.name, "bytes": self.bytes}
        for key in ("filename", "content_type", "value", "sha256"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, data: JsonObject) -> RecordedPart:
        """A part of a line the schema accepted."""
        return cls(
            name=str(data["name"]),
            bytes=int(data["bytes"]),
            filename=_text_or_none(data.get("filename")),
            content_type=_text_or_none(data.get("content_type")),
            value=_text_or_none(data.get("value")),
            sha256=_text_or_none(data.get("sha256")),
        )


@dataclass(frozen=True)
class RecordedRequest:
    """What the client sent, redacted: credential headers ``***``, files by SHA-256."""

    method: str
    path: str
    query: str = ""
    headers: tuple[Header, ...] = ()
    key: KeyState = "present"
    content_type: str | None = None
    parts: tuple[RecordedPart, ...] = ()
    image_sha256: str | None = None  # a digest of the image as sent: matching needs it
    type: str | None = None
    body_bytes: int = 0

    def as_dict(self) -> JsonObject:
        """The request as the cassette line holds it."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": [list(pair) for pair in self.headers],
            "key": self.key,
            "content_type": self.content_type,
            "parts": [part.as_dict() for part in self.parts],
            "image_sha256": self.image_sha256,
            "type": self.type,
            "body_bytes": self.body_bytes,
        }

    @classmethod
    def from_dict(cls, data: JsonObject) -> RecordedRequest:
        """The request of a line the schema accepted (absent optional facts take defaults)."""
        return cls(
            method=str(data["method"]),
            path=str(data["path"]),
            query=str(data.get("query", "")),
            headers=_headers_of(data.get("headers")),
            key=cast(KeyState, data.get("key", "present")),
            content_type=_text_or_none(data.get("content_type")),
            parts=tuple(RecordedPart.from_dict(part) for part in data.get("parts", [])),
            image_sha256=_text_or_none(data.get("image_sha256")),
            type=_text_or_none(data.get("type")),
            body_bytes=int(data.get("body_bytes", 0)),
        )


@dataclass(frozen=True)
class RecordedResponse:
    """The upstream's answer as recorded: the body as text (the video as ``VIDEO_MARKER`` and a
    blob), or as a blob, or ``withheld`` with the reason."""

    status: int
    headers: tuple[Header, ...] = ()
    bytes: int = 0
    body: str | None = None
    body_sha256: str | None = None
    video_sha256: str | None = None
    decoded_from: str | None = None  # the Content-Encoding the body was decoded from
    withheld: str | None = None  # why no body was stored

    def as_dict(self) -> JsonObject:
        """The response as the cassette line holds it (``decoded_from``/``withheld`` only when set)."""
        out: JsonObject = {
            "status": self.status,
            "headers": [list(pair) for pair in self.headers],
            "bytes": self.bytes,
            "body": self.body,
            "body_sha256": self.body_sha256,
            "video_sha256": self.video_sha256,
        }
        if self.decoded_from is not None:
            out["decoded_from"] = self.decoded_from
        if self.withheld is not None:
            out["withheld"] = self.withheld
        return out

    @classmethod
    def from_dict(cls, data: JsonObject) -> RecordedResponse:
        """The response of a line the schema accepted."""
        return cls(
            status=int(data["status"]),
            headers=_headers_of(data.get("headers")),
            bytes=int(data.get("bytes", 0)),
            body=_text_or_none(data.get("body")),
            body_sha256=_text_or_none(data.get("body_sha256")),
            video_sha256=_text_or_none(data.get("video_sha256")),
            decoded_from=_text_or_none(data.get("decoded_from")),
            withheld=_text_or_none(data.get("withheld")),
        )


@dataclass(frozen=True)
class CassetteEntry:
    """One line of ``cassettes.jsonl``: a request, the answer it got, and when."""

    request: RecordedRequest
    response: RecordedResponse
    recorded_at: str = ""
    upstream_ms: float | None = None
    total_ms: float | None = None
    format: int = FORMAT_VERSION

    def as_dict(self) -> JsonObject:
        """The line as written (schemas/cassette.schema.json)."""
        timings: JsonObject = {}
        if self.upstream_ms is not None:
            timings["upstream_ms"] = self.upstream_ms
        if self.total_ms is not None:
            timings["total_ms"] = self.total_ms
        return {
            "format": self.format,
            "recorded_at": self.recorded_at,
            "request": self.request.as_dict(),
            "response": self.response.as_dict(),
            "timings": timings,
        }

    @classmethod
    def from_dict(cls, data: JsonObject) -> CassetteEntry:
        """A line the schema accepted (``load_numbered`` validates first)."""
        timings = data.get("timings") or {}
        upstream, total = timings.get("upstream_ms"), timings.get("total_ms")
        return cls(
            request=RecordedRequest.from_dict(data["request"]),
            response=RecordedResponse.from_dict(data["response"]),
            recorded_at=str(data.get("recorded_at", "")),
            upstream_ms=None if upstream is None else float(upstream),
            total_ms=None if total is None else float(total),
            format=int(data["format"]),
        )


@dataclass(frozen=True)
class Timings:
    """When and how long: ``upstream_ms`` from sending to the last response byte, ``total_ms``
    from the first request byte to the answer being ready."""

    started_at: str
    upstream_ms: float
    total_ms: float


def credential_secrets(headers: Iterable[tuple[str, str]]) -> list[str]:
    """The secrets credential headers carry, to be masked wherever else they appear: the whole
    value, an Authorization token without its scheme, each cookie's value."""
    found: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered not in CREDENTIAL_HEADERS or not value.strip():
            continue
        found.append(value.strip())
        if lowered.endswith("authorization"):
            found.append(value.strip().partition(" ")[2].strip())
        elif lowered in ("cookie", "set-cookie"):
            cookies = SimpleCookie()
            try:
                cookies.load(value)
            except CookieError:
                continue
            found += [morsel.value for morsel in cookies.values()]
    return [secret for secret in found if len(secret) >= MIN_DERIVED_SECRET]


def credential_header(text: str) -> str:
    """``--keep-header NAME``: a credential header's name, lower case; ValueError otherwise (a
    header that is not filtered needs no keeping, so a typo would otherwise go unnoticed)."""
    name = text.strip().lower()
    if name not in CREDENTIAL_HEADERS:
        names = ", ".join(sorted(CREDENTIAL_HEADERS))
        raise ValueError(f"--keep-header takes a credential header ({names}), got {text!r}")
    return name


def content_codings(headers: Iterable[tuple[str, str]]) -> list[str]:
    """The response's content codings in the order they were applied (``identity`` left out)."""
    codings: list[str] = []
    for name, value in headers:
        if name.lower() == "content-encoding":
            codings += [
                c.strip().lower() for c in value.split(",") if c.strip().lower() not in ("", "identity")
            ]
    return codings


class CassetteWriter:
    """Appends cassette entries to a record directory (thread-safe).

    ``keep_headers`` names credential headers to store as received (their values are still
    redacted of the API key); ``max_body`` bounds a decoded body (the proxy's response cap).
    """

    def __init__(
        self, directory: Path, *, keep_headers: Iterable[str] = (), max_body: int = MAX_RESPONSE_BODY
    ) -> None:
        self.directory = Path(directory)
        self.blobs = self.directory / BLOB_DIR
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.keep_headers = frozenset(name.strip().lower() for name in keep_headers)
        self.max_body = max_body
        self._lock = threading.Lock()

    def blob(self, content: bytes) -> str:
        """Store bytes once under their SHA-256; return the digest (callers redact first)."""
        digest = hashlib.sha256(content).hexdigest()
        path = self.blobs / digest
        if not path.exists():
            partial = path.with_name(f".{digest}.{os.getpid()}.{threading.get_ident()}.part")
            partial.write_bytes(content)
            partial.replace(path)  # atomic: a reader never sees half a blob
        return digest

    def record(self, observed: Observed, exchange: Exchange, timings: Timings) -> CassetteEntry:
        """Write one exchange (the upstream's answer as received); returns the entry as written."""
        secrets = [observed.key or ""]
        secrets += credential_secrets(
            (name, value) for name, value in observed.headers if name.lower() not in self.keep_headers
        )
        secrets += credential_secrets(
            (name, value) for name, value in exchange.headers if name.lower() not in self.keep_headers
        )
        redactor = Redactor(secrets)
        entry = CassetteEntry(
            request=self._request(observed, redactor),
            response=self._response(exchange, redactor),
            recorded_at=timings.started_at,
            upstream_ms=timings.upstream_ms,
            total_ms=timings.total_ms,
        )
        line = json.dumps(entry.as_dict(), ensure_ascii=False)
        with self._lock, (self.directory / CASSETTE_FILE).open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return entry

    def _headers(self, headers: Iterable[Header], redactor: Redactor) -> tuple[Header, ...]:
        """Credential headers (and the key header, always) as ``***``; the rest redacted."""
        kept = []
        for name, value in headers:
            lowered = name.lower()
            filtered = lowered == KEY_HEADER or (
                lowered in CREDENTIAL_HEADERS and lowered not in self.keep_headers
            )
            kept.append((redactor.text(name), MASK if filtered else redactor.text(value)))
        return tuple(kept)

    def _request(self, observed: Observed, redactor: Redactor) -> RecordedRequest:
        request = observed.request
        parts = []
        inline = 0
        for part in request.parts:
            size = len(part.content)
            short_text = (
                part.filename is None and size <= MAX_INLINE_TEXT and inline + size <= MAX_INLINE_TOTAL
            )
            if short_text:
                inline += size
            parts.append(
                RecordedPart(
                    name=redactor.text(part.name),
                    bytes=size,
                    filename=None if part.filename is None else redactor.text(part.filename),
                    content_type=None if part.content_type is None else redactor.text(part.content_type),
                    value=redactor.text(part.content.decode("utf-8", "replace")) if short_text else None,
                    sha256=None if short_text else self.blob(redactor.data(part.content)),
                )
            )
        return RecordedRequest(
            method=redactor.text(request.method),
            path=redactor.text(request.path),
            query=redactor.text(observed.query),
            headers=self._headers(observed.headers, redactor),
            key=cast(KeyState, observed.key_state),
            content_type=None if request.content_type is None else redactor.text(request.content_type),
            parts=tuple(parts),
            image_sha256=observed.image_sha256,  # a digest of what was sent: matching needs it
            type=None if observed.type_value is None else redactor.text(observed.type_value),
            body_bytes=observed.body_bytes,
        )

    def _response(self, exchange: Exchange, redactor: Redactor) -> RecordedResponse:
        headers = list(exchange.headers)
        codings = content_codings(headers)
        if codings:  # the body is stored decoded: the header would no longer be true
            headers = [(name, value) for name, value in headers if name.lower() != "content-encoding"]
        recorded = RecordedResponse(
            status=exchange.status, headers=self._headers(headers, redactor), bytes=len(exchange.body)
        )
        if codings and exchange.body:
            try:
                decoded = decode_content(exchange.body, ", ".join(codings), self.max_body)
            except Undecodable as exc:
                return replace(recorded, withheld=f"{exc}: the body is not recorded")
            recorded = replace(recorded, decoded_from=", ".join(codings))
            exchange = replace(exchange, body=decoded)
        try:
            text: str | None = exchange.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        video = exchange.video_b64
        if text is not None and video and text.count(video) == 1 and VIDEO_MARKER not in text:
            try:
                decoded_video = base64.b64decode(video, validate=True)
            except (binascii.Error, ValueError):
                decoded_video = None
            if decoded_video is not None and base64.b64encode(decoded_video).decode("ascii") == video:
                recorded = replace(recorded, video_sha256=self.blob(redactor.data(decoded_video)))
                text = text.replace(video, VIDEO_MARKER)
        if text is not None and len(text) <= MAX_INLINE_TEXT:
            return replace(recorded, body=redactor.text(text))
        body = exchange.body if text is None else text.encode("utf-8")
        return replace(recorded, body_sha256=self.blob(redactor.data(body)))


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_json("cassette.schema.json"))


def _problem(entry: object) -> str | None:
    """What makes a parsed line unusable, in one line, or None."""
    error = next(iter(sorted(_validator().iter_errors(entry), key=lambda e: list(e.absolute_path))), None)
    if error is None:
        return None
    where = "/".join(str(step) for step in error.absolute_path) or "(top level)"
    message = error.message
    if error.validator == "pattern" and where.endswith("sha256"):
        message = f"{str(error.instance)[:80]!r} is not a SHA-256 (64 lowercase hex characters): refused"
    elif error.validator == "pattern" and "/headers/" in where:
        message = f"{str(error.instance)[:80]!r} cannot be sent as an HTTP header field"
    message = message if len(message) <= 160 else message[:160] + "…"
    return f"{where}: {message}".replace("\n", " ")


def _lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines, each at most ``MAX_LINE`` bytes; None for a longer one (skipped unread)."""
    number = 0
    while True:
        line = handle.readline(MAX_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            while (rest := handle.readline(1024 * 1024)) and not rest.endswith(b"\n"):
                pass
            yield number, None
            continue
        yield number, line


def load_numbered(directory: Path) -> list[tuple[int, CassetteEntry]]:
    """Every entry of a record directory with its line number, in recording order.

    CassetteError when there is none, or naming every bad line (one line each, the first
    ``MAX_LISTED_ERRORS``): not JSON, not an entry of the schema, or naming a missing or
    unusable blob. A partly usable recording is refused: a fixture must be whole.
    """
    path = Path(directory) / CASSETTE_FILE
    if not path.is_file():
        raise CassetteError(
            f"{directory} holds no {CASSETTE_FILE}: "
            "record one with `livephoto-conformance proxy --record DIR`"
        )
    entries: list[tuple[int, CassetteEntry]] = []
    problems: list[str] = []
    with path.open("rb") as handle:
        for number, line in _lines(handle):
            if line is None:
                problems.append(f"{path}:{number}: longer than {MAX_LINE} bytes")
                continue
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except (ValueError, RecursionError):
                problems.append(f"{path}:{number}: not a JSON line")
                continue
            problem = _problem(entry)
            if problem is None:
                try:
                    typed = CassetteEntry.from_dict(entry)  # the schema vouches for every field read
                except (KeyError, TypeError, ValueError, OverflowError) as exc:
                    problem = f"not a cassette entry: {type(exc).__name__}: {str(exc)[:120]}"
                else:
                    problem = _blob_problem(Path(directory), typed.response)
            if problem is not None:
                problems.append(f"{path}:{number}: {problem}")
                continue
            entries.append((number, typed))
    if problems:
        listed = problems[:MAX_LISTED_ERRORS]
        if len(problems) > len(listed):
            listed.append(f"… and {len(problems) - len(listed)} more")
        count = f"{len(problems)} bad cassette{'s' if len(problems) > 1 else ''}"
        raise CassetteError(f"{count} in {path}:\n" + "\n".join(listed))
    return entries


def load_cassettes(directory: Path) -> list[CassetteEntry]:
    """Every entry of a record directory, in recording order (see ``load_numbered``)."""
    return [entry for _, entry in load_numbered(directory)]


def _blob_problem(directory: Path, response: RecordedResponse) -> str | None:
    """Whether the blobs a response names exist as regular files within their caps (their
    content is checked when they are served)."""
    named = (
        ("body_sha256", response.body_sha256, MAX_BODY_BLOB),
        ("video_sha256", response.video_sha256, MAX_VIDEO_BLOB),
    )
    for field, digest, cap in named:
        if digest is not None:
            try:
                _open_blob(directory, digest, cap).close()
            except CassetteError as exc:
                return f"response/{field}: {exc}"
    return None


def _open_blob(directory: Path, digest: str, cap: int) -> IO[bytes]:
    """The blob named ``digest`` opened for reading: a SHA-256 name, a regular file directly in
    ``directory/blobs`` (no symbolic link on the way), at most ``cap`` bytes."""
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        raise CassetteError(f"blob name {str(digest)[:80]!r} is not a SHA-256 (64 lowercase hex characters)")
    root = Path(directory).resolve()
    blobs = Path(directory) / BLOB_DIR
    if blobs.is_symlink() or blobs.resolve() != root / BLOB_DIR:
        raise CassetteError(f"{blobs} is a symbolic link or outside {root}: refused")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        if (blobs / digest).is_symlink():  # O_NOFOLLOW where the platform has no such flag
            raise OSError(errno.ELOOP, "symbolic link")
        descriptor = os.open(blobs / digest, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CassetteError(f"blob {digest[:12]}… is a symbolic link: refused") from None
        raise CassetteError(f"blob {digest[:12]}… cannot be read: {exc.strerror or exc}") from None
    handle = os.fdopen(descriptor, "rb")
    info = os.fstat(handle.fileno())
    if not stat.S_ISREG(info.st_mode):
        handle.close()
        raise CassetteError(f"blob {digest[:12]}… is not a regular file: refused")
    if info.st_size > cap:
        handle.close()
        raise CassetteError(f"blob {digest[:12]}… is {info.st_size} bytes, over the {cap}-byte cap")
    return handle


def read_blob(directory: Path, digest: str, cap: int) -> bytes:
    """A blob's bytes, checked (``_open_blob``) and verified against its SHA-256 name."""
    with _open_blob(directory, digest, cap) as handle:
        content = handle.read(cap + 1)
    if len(content) > cap:
        raise CassetteError(f"blob {digest[:12]}… grew over the {cap}-byte cap")
    if hashlib.sha256(content).hexdigest() != digest:
        raise CassetteError(f"blob {digest[:12]}…'s content does not match its SHA-256 name")
    return content


def response_body(directory: Path, response: RecordedResponse) -> bytes:
    """The recorded response body, the video put back (byte-exact unless the key was redacted or
    the body was decoded); empty when it was withheld. CassetteError for an unusable blob."""
    text = response.body
    video_sha = response.video_sha256
    if text is not None:
        if video_sha and VIDEO_MARKER in text:
            if text.count(VIDEO_MARKER) != 1:
                raise CassetteError("response/body holds the video marker more than once")
            video = read_blob(directory, video_sha, MAX_VIDEO_BLOB)
            text = text.replace(VIDEO_MARKER, base64.b64encode(video).decode("ascii"))
        return text.encode("utf-8")
    if response.body_sha256 is None:
        return b""  # withheld (a coding the proxy does not decode), or nothing recorded
    body = read_blob(directory, response.body_sha256, MAX_BODY_BLOB)
    if video_sha and VIDEO_MARKER.encode() in body:
        if body.count(VIDEO_MARKER.encode()) != 1:
            raise CassetteError("the body blob holds the video marker more than once")
        video = read_blob(directory, video_sha, MAX_VIDEO_BLOB)
        body = body.replace(VIDEO_MARKER.encode(), base64.b64encode(video))
    return body


def now_iso() -> str:
    """The current UTC time, ISO 8601 with a ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
