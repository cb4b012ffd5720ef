"""Verdicts and the failure a check raises: what every report renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from conformance.spec import Level


class Verdict(StrEnum):
    """Outcome of a clause, ordered from best to worst.

    ``fail`` says the target is wrong; ``error`` says the suite could not judge it (unreachable
    target, a bug in the suite): the two are never mixed up. ``blocked`` says a check could not
    judge because an earlier check on the same exchange failed (the root cause): it is counted
    apart and never gates by itself — the root clause does.
    """

    PASS = "pass"
    INFO = "info"
    SKIPPED = "skipped"
    BLOCKED = "blocked"
    FAIL = "fail"
    ERROR = "error"


JsonObject = dict[str, Any]  # a JSON object as reports store it: the one untyped boundary here


@dataclass(frozen=True)
class PartSummary:
    """One multipart part for reports: its size and names, a short text field's value, no bytes."""

    name: str
    bytes: int
    filename: str | None = None
    content_type: str | None = None
    value: str | None = None  # a text field of at most 64 bytes

    def as_dict(self) -> JsonObject:
        """The part as reports record it (absent facts left out)."""
        out: JsonObject = {"name": self.name, "bytes": self.bytes}
        for key in ("filename", "content_type", "value"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, data: JsonObject) -> PartSummary:
        """Read back ``as_dict`` output."""
        return cls(
            name=str(data.get("name", "")),
            bytes=int(data.get("bytes", 0)),
            filename=_optional_str(data.get("filename")),
            content_type=_optional_str(data.get("content_type")),
            value=_optional_str(data.get("value")),
        )

    def text(self) -> str:
        """The part in one line of a failure message."""
        if self.value is not None:
            return f"{self.name}={self.value!r}"
        details = [self.content_type or "no Content-Type", f"{self.bytes} bytes"]
        return f"{self.name}={self.filename!r} ({', '.join(details)})"


@dataclass(frozen=True)
class ImageSummary:
    """The uploaded image's format, size in pixels and in bytes."""

    format: str
    width: int
    height: int
    bytes: int

    def as_dict(self) -> JsonObject:
        """The image as reports record it."""
        return {"format": self.format, "width": self.width, "height": self.height, "bytes": self.bytes}


@dataclass(frozen=True)
class RequestSummary:
    """A request for reports: fields, image facts and sizes, never bytes or the key."""

    description: str
    method: str
    path: str
    api_key: str  # the key's state ("valid (redacted)", "invalid", "missing", "empty")
    key_header: str | None = None  # only when not the SPEC's header
    parts: tuple[PartSummary, ...] = ()
    raw_body_bytes: int | None = None  # a hand-built body (then ``content_type`` is its type)
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    image: ImageSummary | None = None

    def as_dict(self) -> JsonObject:
        """The request as the JSON report records it (absent facts left out)."""
        out: JsonObject = {
            "description": self.description,
            "method": self.method,
            "path": self.path,
            "api_key": self.api_key,
        }
        if self.key_header is not None:
            out["key_header"] = self.key_header
        if self.parts:
            out["parts"] = [part.as_dict() for part in self.parts]
        if self.raw_body_bytes is not None:
            out["raw_body_bytes"] = self.raw_body_bytes
            out["content_type"] = self.content_type
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.image is not None:
            out["image"] = self.image.as_dict()
        return out

    @classmethod
    def from_dict(cls, data: JsonObject) -> RequestSummary:
        """Read back ``as_dict`` output (after redaction, which keeps its shape)."""
        image = data.get("image")
        raw = data.get("raw_body_bytes")
        shown = None
        if isinstance(image, dict):
            shown = ImageSummary(
                str(image["format"]), int(image["width"]), int(image["height"]), int(image["bytes"])
            )
        return cls(
            description=str(data.get("description", "")),
            method=str(data.get("method", "POST")),
            path=str(data.get("path", "")),
            api_key=str(data.get("api_key", "")),
            key_header=_optional_str(data.get("key_header")),
            parts=tuple(PartSummary.from_dict(part) for part in data.get("parts", [])),
            raw_body_bytes=None if raw is None else int(raw),
            content_type=_optional_str(data.get("content_type")),
            headers=tuple((str(k), str(v)) for k, v in dict(data.get("headers", {})).items()),
            image=shown,
        )


@dataclass(frozen=True)
class ResponseSummary:
    """The target's answer for reports: status, headers, a body excerpt, sizes and time."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body_excerpt: str
    bytes: int
    truncated: bool
    elapsed_ms: float

    def as_dict(self) -> JsonObject:
        """The response as the JSON report records it (headers as an object: the last of a
        repeated name wins)."""
        return {
            "status": self.status,
            "headers": dict(self.headers),
            "body_excerpt": self.body_excerpt,
            "bytes": self.bytes,
            "truncated": self.truncated,
            "elapsed_ms": self.elapsed_ms,
        }

    @classmethod
    def from_dict(cls, data: JsonObject) -> ResponseSummary:
        """Read back ``as_dict`` output (after redaction, which keeps its shape)."""
        return cls(
            status=int(data.get("status", 0)),
            headers=tuple((str(k), str(v)) for k, v in dict(data.get("headers", {})).items()),
            body_excerpt=str(data.get("body_excerpt", "")),
            bytes=int(data.get("bytes", 0)),
            truncated=bool(data.get("truncated", False)),
            elapsed_ms=float(data.get("elapsed_ms", 0.0)),
        )


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass
class Evidence:
    """What a person needs to see and reproduce a verdict."""

    request: RequestSummary | None = None
    response: ResponseSummary | None = None
    curl: str = ""
    artefacts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    image: str = ""  # the uploaded image as saved: the HTML report shows it beside the video

    def as_dict(self) -> JsonObject:
        """A JSON-ready copy (an absent summary is an empty object, as reports have it)."""
        return {
            "request": {} if self.request is None else self.request.as_dict(),
            "response": {} if self.response is None else self.response.as_dict(),
            "curl": self.curl,
            "artefacts": list(self.artefacts),
            "notes": list(self.notes),
            "image": self.image,
        }

    @classmethod
    def from_dict(cls, data: JsonObject) -> Evidence:
        """Read back ``as_dict`` output (the recorder rebuilds a violation's evidence redacted)."""
        request, response = data.get("request"), data.get("response")
        return cls(
            request=RequestSummary.from_dict(request) if request else None,
            response=ResponseSummary.from_dict(response) if response else None,
            curl=str(data.get("curl", "")),
            artefacts=[str(a) for a in data.get("artefacts", [])],
            notes=[str(n) for n in data.get("notes", [])],
            image=str(data.get("image", "")),
        )


class Violation(AssertionError):
    """A check found the target breaking a clause: pytest reports it as a failure.

    ``received`` and ``expected`` are short sentences; ``evidence`` carries the exchange.
    """

    def __init__(
        self,
        clause: str,
        title: str,
        *,
        received: str,
        expected: str,
        evidence: Evidence | None = None,
        level: Level | None = None,
        text: str = "",
    ) -> None:
        self.clause = clause
        self.text = text
        self.title = title
        self.received = received
        self.expected = expected
        self.evidence = evidence or Evidence()
        self.level = level
        super().__init__(self.render())

    def render(self) -> str:
        """The failure as the terminal and every report show it."""
        head = f"[{self.clause}{' ' + self.level if self.level else ''}] {self.title}"
        lines = [head]
        if self.text:
            lines.append(f"Clause: {self.text}")
        lines += [f"Received: {self.received}", f"Expected: {self.expected}"]
        request, response = self.evidence.request, self.evidence.response
        if request is not None:
            lines.append(f"Request: {request.method} {request.description}")
            if request.parts:
                lines.append("Parts: " + "; ".join(part.text() for part in request.parts))
        if response is not None:
            lines.append(
                f"Response: HTTP {response.status}, {response.bytes} bytes in "
                f"{response.elapsed_ms} ms; headers: "
                + (", ".join(f"{k}: {v}" for k, v in list(dict(response.headers).items())[:8]) or "(none)")
            )
            lines.append(f"Body: {response.body_excerpt}")
        for note in self.evidence.notes:
            lines.append(f"Note: {note}")
        if self.evidence.artefacts:
            lines.append("Saved: " + ", ".join(self.evidence.artefacts))
        if self.evidence.curl:
            lines.append(f"Reproduce: {self.evidence.curl}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class Blocked(Exception):
    """A check cannot judge because the exchange already breaks a more basic clause (``by``):
    no JSON object, no envelope field, no strictly decodable video. The violation belongs to that
    clause alone; this one is reported as ``blocked by`` it."""

    def __init__(self, by: str, reason: str) -> None:
        self.by = by
        self.reason = reason
        super().__init__(f"blocked by {by}: {reason}")


class NotApplicable(Exception):
    """The clause cannot be exercised against this target; the reason goes into the report."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
