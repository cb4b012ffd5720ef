"""What the suite sends (ApiRequest) and what it got back (Exchange)."""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Generic, Protocol, TypeVar, cast

from conformance.check_context import DEFAULT_INVALID_KEY
from conformance.protocol.request import ENDPOINT_PATH as ENDPOINT_PATH  # re-exported (LP-REQ-1)
from conformance.protocol.request import IMAGE_FIELD, TYPE_FIELD
from conformance.protocol.request import KEY_HEADER as KEY_HEADER  # re-exported (LP-REQ-3)
from conformance.schemas import SchemaError, envelope_errors
from conformance.verdicts import ImageSummary, PartSummary, RequestSummary, ResponseSummary

KEY_PLACEHOLDER = "$LIVEPHOTO_API_KEY"
BODY_EXCERPT = 600  # characters of a response body shown in evidence


JsonValue = object  # what ``json.loads`` returns: dict, list, str, int, float, bool or None
T = TypeVar("T")


class TargetUnreachable(Exception):
    """The target could not be reached or did not answer in time; the message says which."""


class TargetGone(TargetUnreachable):
    """The circuit breaker is open: the last requests all went unanswered, so none is sent."""


class _Printer(Protocol):
    """IPython's and Hypothesis's pretty printer, as ``_repr_pretty_`` receives it."""

    def text(self, text: str) -> None: ...


class Key(StrEnum):
    """Which API key a request carries; the real values come from the settings, never from here."""

    VALID = "valid"
    INVALID = "invalid"
    MISSING = "missing"
    EMPTY = "empty"


@dataclass(frozen=True)
class Part:
    """One multipart part: a file when it has a filename, otherwise a text field."""

    name: str
    content: bytes
    filename: str | None = None
    content_type: str | None = None

    def __repr__(self) -> str:
        # Hypothesis and pytest tracebacks show arguments: the size, not megabytes of bytes.
        content = self.content if len(self.content) <= 64 else f"<{len(self.content)} bytes>"
        return (
            f"Part({self.name!r}, {content!r}, filename={self.filename!r}, "
            f"content_type={self.content_type!r})"
        )

    def _repr_pretty_(self, printer: _Printer, cycle: bool) -> None:
        printer.text(repr(self))

    def summary(self) -> PartSummary:
        """The part without its bytes."""
        short_text = self.filename is None and len(self.content) <= 64
        return PartSummary(
            name=self.name,
            bytes=len(self.content),
            filename=self.filename,
            content_type=self.content_type,
            value=self.content.decode("utf-8", "replace") if short_text else None,
        )


@dataclass(frozen=True)
class ImageInfo:
    """What an uploaded image is, for reports: never the bytes."""

    format: str
    width: int
    height: int
    size: int
    has_face: bool | None = None
    notes: str = ""


@dataclass(frozen=True)
class ApiRequest:
    """One request to the target, described without the API key.

    ``parts`` build a multipart body with httpx (in that order); ``raw_body`` with ``content_type``
    is a hand-built body for anomalies httpx cannot express (and for JSON or urlencoded bodies).
    """

    description: str
    parts: tuple[Part, ...] = ()
    key: Key = Key.VALID
    key_header: str = KEY_HEADER
    method: str = "POST"
    path: str = ENDPOINT_PATH
    headers: tuple[tuple[str, str], ...] = ()
    boundary: str | None = None
    raw_body: bytes | None = None
    content_type: str | None = None
    image: ImageInfo | None = None
    expect_clause: str | None = None
    labels: tuple[str, ...] = ()

    def _repr_pretty_(self, printer: _Printer, cycle: bool) -> None:
        # Hypothesis prints falsifying examples with this: the description, never megabytes of body.
        printer.text(
            f"ApiRequest({self.description!r}, key={self.key.value!r}, expect={self.expect_clause!r})"
        )

    @property
    def type_value(self) -> str:
        """The ``type`` text field as sent, ``"0"`` when absent (LP-REQ-5: absent means avatar)."""
        for part in self.parts:
            if part.filename is None and part.name == TYPE_FIELD:
                return part.content.decode("utf-8", "replace")
        return "0"

    @property
    def image_bytes(self) -> bytes | None:
        """The content of the first file part, if any."""
        for part in self.parts:
            if part.filename is not None or part.name == IMAGE_FIELD:
                return part.content
        return None

    def key_value(self, valid: str, invalid: str) -> str | None:
        """The header value this request carries, given the configured keys."""
        return {
            Key.VALID: valid,
            Key.INVALID: invalid,
            Key.MISSING: None,
            Key.EMPTY: "",
        }[self.key]

    def summary(self) -> RequestSummary:
        """The request for reports: fields, image facts and sizes, never bytes or the key."""
        image = self.image
        return RequestSummary(
            description=self.description,
            method=self.method,
            path=self.path,
            api_key=self.key.value if self.key is not Key.VALID else "valid (redacted)",
            key_header=self.key_header if self.key_header != KEY_HEADER else None,
            parts=tuple(part.summary() for part in self.parts),
            raw_body_bytes=None if self.raw_body is None else len(self.raw_body),
            content_type=self.content_type if self.raw_body is not None else None,
            headers=self.headers,
            image=None
            if image is None
            else ImageSummary(image.format, image.width, image.height, image.size),
        )

    def curl(self, url: str, sample_dir: Path | None = None, invalid_key: str = DEFAULT_INVALID_KEY) -> str:
        """A curl command that replays this request, with the key as ``$LIVEPHOTO_API_KEY``.

        File contents are written under ``sample_dir`` (named by their SHA-256) so the command
        works as printed. ``invalid_key`` is the configured key the target must not know: not a
        secret, and the command must send the key that was sent to reproduce the answer.
        """
        args = ["curl", "-sS", "-X", self.method, url]
        if self.key is Key.VALID:
            args += ["-H", f"{self.key_header}: {KEY_PLACEHOLDER}"]
        elif self.key is Key.INVALID:
            args += ["-H", f"{self.key_header}: {invalid_key}"]
        elif self.key is Key.EMPTY:
            args += ["-H", f"{self.key_header};"]
        for name, value in self.headers:
            args += ["-H", f"{name}: {value}"]
        if self.raw_body is not None:
            path = _save(self.raw_body, sample_dir, ".body")
            args += ["-H", f"Content-Type: {self.content_type}", "--data-binary", f"@{path}"]
        for part in () if self.raw_body is not None else self.parts:  # the raw body is what is sent
            if part.filename is None:
                args += ["--form-string", f"{part.name}={part.content.decode('utf-8', 'replace')}"]
                continue
            path = _save(part.content, sample_dir, Path(part.filename).suffix)
            spec = f"{part.name}=@{path};filename={part.filename}"
            if part.content_type:
                spec += f";type={part.content_type}"
            args += ["-F", spec]
        command = shlex.join(args)
        # The placeholder must expand in the user's shell: unquote it.
        return command.replace(
            shlex.quote(f"{self.key_header}: {KEY_PLACEHOLDER}"),
            f'"{self.key_header}: {KEY_PLACEHOLDER}"',
        )


def _save(content: bytes, sample_dir: Path | None, suffix: str) -> str:
    digest = hashlib.sha256(content).hexdigest()[:16]
    if sample_dir is None:
        return f"sample-{digest}{suffix}"
    sample_dir.mkdir(parents=True, exist_ok=True)
    path = sample_dir / f"sample-{digest}{suffix}"
    if not path.exists():
        path.write_bytes(content)
    return str(path)


class _NoJson:
    """Marker for a body that is not JSON."""

    def __repr__(self) -> str:
        return "<not JSON>"


NOT_JSON: JsonValue = _NoJson()


class MemoKey(Generic[T]):
    """A typed slot of ``Exchange.memo``, owned by the layer that computes its value (the media
    layer's decoded video): the model keeps the value without knowing its type, like pytest's
    ``StashKey``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"MemoKey({self.name!r})"


class Memo:
    """Values computed once per exchange, each under its typed ``MemoKey``."""

    def __init__(self) -> None:
        self._values: dict[MemoKey[object], object] = {}

    def get(self, key: MemoKey[T], compute: Callable[[], T]) -> T:
        """The value under ``key``, computed by ``compute`` the first time."""
        slot = cast("MemoKey[object]", key)
        if slot not in self._values:
            self._values[slot] = compute()
        return cast(T, self._values[slot])

    def put(self, key: MemoKey[T], value: T) -> None:
        """Set the value under ``key`` (a value known without computing it)."""
        self._values[cast("MemoKey[object]", key)] = value

    def __contains__(self, key: MemoKey[T]) -> bool:
        return key in self._values


@dataclass
class Exchange:
    """A request and the target's answer, with the body capped and the key redacted from views."""

    request: ApiRequest
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    elapsed: float
    truncated: bool = False
    sample_dir: Path | None = None
    invalid_api_key: str = DEFAULT_INVALID_KEY  # what a ``Key.INVALID`` request carried (no secret)
    # What layers above compute once per exchange (the media layer's decoded video). Not an init
    # field: ``dataclasses.replace`` (a decoded body) starts with an empty memo, as it starts with
    # no cached ``json`` or ``schema_errors``.
    memo: Memo = field(default_factory=Memo, init=False, repr=False, compare=False)

    def __repr__(self) -> str:
        # pytest's long tracebacks repr every frame's arguments: a 64 MiB body would become a
        # 256 MiB string per frame (hostile zoo), so the body is shown by its size only.
        return (
            f"Exchange({self.request.description!r}, {self.url!r}, status={self.status}, "
            f"body=<{len(self.body)} bytes{', truncated' if self.truncated else ''}>, "
            f"elapsed={self.elapsed:.3f})"
        )

    def header(self, name: str) -> str | None:
        """The first value of a response header, any casing."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    @cached_property
    def json(self) -> JsonValue:
        """The body parsed as JSON (once), or ``NOT_JSON``."""
        try:
            parsed: JsonValue = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return NOT_JSON
        return parsed

    @property
    def envelope(self) -> dict[str, object] | None:
        """The body when it is a JSON object, else None."""
        body = self.json
        return cast("dict[str, object]", body) if isinstance(body, dict) else None

    @cached_property
    def schema_errors(self) -> tuple[SchemaError, ...]:
        """The envelope's schema violations for its status, validated once (several LP-ENV checks
        read them); none without an envelope (LP-ENV-1 judges that)."""
        envelope = self.envelope
        return () if envelope is None else tuple(envelope_errors(envelope, self.status))

    @property
    def code(self) -> str | None:
        """``error_detail.code`` when present and a string."""
        detail = (self.envelope or {}).get("error_detail")
        code = detail.get("code") if isinstance(detail, dict) else None
        return code if isinstance(code, str) else None

    @property
    def video_b64(self) -> str | None:
        """``data.video`` when present and a string."""
        data = (self.envelope or {}).get("data")
        video = data.get("video") if isinstance(data, dict) else None
        return video if isinstance(video, str) else None

    def body_excerpt(self, limit: int = BODY_EXCERPT) -> str:
        """The start of the body as text, long base64 videos shortened."""
        envelope = self.envelope
        data = (envelope or {}).get("data")
        if envelope is not None and isinstance(data, dict) and self.video_b64 and len(self.video_b64) > 80:
            shown = dict(envelope)
            shown["data"] = {**data, "video": f"<{len(self.video_b64)} base64 chars>"}
            text = json.dumps(shown, ensure_ascii=False)
        else:
            text = self.body[: limit * 4].decode("utf-8", "replace")
        return text if len(text) <= limit else text[:limit] + "…"

    def summary(self) -> ResponseSummary:
        """The response for reports."""
        return ResponseSummary(
            status=self.status,
            headers=tuple(self.headers),
            body_excerpt=self.body_excerpt(),
            bytes=len(self.body),
            truncated=self.truncated,
            elapsed_ms=round(self.elapsed * 1000, 1),
        )

    def curl(self) -> str:
        """The curl reproduction of the request."""
        return self.request.curl(self.url, self.sample_dir, self.invalid_api_key)

    def input_image(self) -> str:
        """The uploaded image as saved under ``sample_dir`` (the very file the curl command
        sends), so a report can show it beside the video made of it; "" without a saved file."""
        parts = self.request.parts
        part = next((p for p in parts if p.filename is not None), None) or next(
            (p for p in parts if p.name == IMAGE_FIELD), None
        )
        if self.sample_dir is None or part is None:
            return ""
        return _save(part.content, self.sample_dir, Path(part.filename or "").suffix)
