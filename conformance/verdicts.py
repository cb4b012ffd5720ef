"""Verdicts and the failure a check raises: what every report renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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


@dataclass
class Evidence:
    """What a person needs to see and reproduce a verdict."""

    request: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)
    curl: str = ""
    artefacts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    image: str = ""  # the uploaded image as saved: the HTML report shows it beside the video

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "request": self.request,
            "response": self.response,
            "curl": self.curl,
            "artefacts": list(self.artefacts),
            "notes": list(self.notes),
            "image": self.image,
        }


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
        level: str | None = None,
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
        if request:
            lines.append(f"Request: {request.get('method', 'POST')} {request.get('description', '')}")
            if request.get("parts"):
                lines.append("Parts: " + "; ".join(_part_text(part) for part in request["parts"]))
        if response:
            headers = response.get("headers", {})
            lines.append(
                f"Response: HTTP {response.get('status')}, {response.get('bytes')} bytes in "
                f"{response.get('elapsed_ms')} ms; headers: "
                + (", ".join(f"{k}: {v}" for k, v in list(headers.items())[:8]) or "(none)")
            )
            lines.append(f"Body: {response.get('body_excerpt', '')}")
        for note in self.evidence.notes:
            lines.append(f"Note: {note}")
        if self.evidence.artefacts:
            lines.append("Saved: " + ", ".join(self.evidence.artefacts))
        if self.evidence.curl:
            lines.append(f"Reproduce: {self.evidence.curl}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def _part_text(part: dict[str, Any]) -> str:
    if "value" in part:
        return f"{part['name']}={part['value']!r}"
    details = [part.get("content_type") or "no Content-Type", f"{part.get('bytes')} bytes"]
    return f"{part['name']}={part.get('filename')!r} ({', '.join(details)})"


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
