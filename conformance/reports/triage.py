"""The triage view of a report: what to fix first, each failure in a few lines.

MUST failures come first, then SHOULD failures, then the clauses in error (the suite could not
judge them); within a group, SPEC order. Each failure shows its clause, one line of received
against expected, a small request table, the response and its body pretty-printed, and one curl
command. The terminal and the HTML report both render this one model, so they cannot disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from conformance.reports.model import CheckResult, ClauseResult, RunReport
from conformance.spec import Level
from conformance.verdicts import Verdict

GROUPS = (Level.MUST.value, Level.SHOULD.value, "ERROR")
GROUP_TITLES = {
    Level.MUST.value: "MUST failures",
    Level.SHOULD.value: "SHOULD failures",
    "ERROR": "Not judged: errors",
}


@dataclass(frozen=True)
class Failure:
    """One failing clause, as triage shows it: the first failure at its failing level in full."""

    clause: ClauseResult
    group: str  # MUST, SHOULD or ERROR
    shown: CheckResult
    received: str
    expected: str
    request: list[tuple[str, str]]
    response: str
    body: str
    curl: str
    notes: list[str]
    image: str  # the uploaded image as saved ("" when unknown)
    videos: list[str]  # the failed videos of the shown check
    saved: list[str]  # every artefact the shown check saved (videos and others)
    blocks: list[str]  # the clauses blocked by this one
    others: list[CheckResult] = field(default_factory=list)  # further failing checks of the clause
    # The clause shown earlier in the triage that failed on this very exchange (same request and
    # answer): its request, response and curl are not printed twice.
    same_as: str = ""

    @property
    def head(self) -> str:
        """``[LP-ENV-3 MUST] title``: the line a Violation starts with."""
        level = self.group if self.group != "ERROR" else self.clause.level
        return f"[{self.clause.id} {level}] {self.clause.title}"


def message_field(message: str, name: str) -> str:
    """The value of a rendered Violation's ``Received:`` / ``Expected:`` line ("" when absent)."""
    prefix = f"{name}: "
    return next((line[len(prefix) :] for line in message.splitlines() if line.startswith(prefix)), "")


def received_expected(received: str, expected: str) -> str:
    """One line: ``received X · expected Y``."""
    return f"received {received}" + (f" · expected {expected}" if expected else "")


def request_rows(request: Any) -> list[tuple[str, str]]:
    """A small table of what was sent, from a request summary (``ApiRequest.summary``)."""
    if not isinstance(request, dict) or not request:
        return []
    rows = [("request", f"{request.get('method', 'POST')} {request.get('path', '')}".strip())]
    if request.get("description"):
        rows.append(("sent", str(request["description"])))
    key = str(request.get("api_key", ""))
    if key:
        header = request.get("key_header")
        rows.append(("key", key + (f" in header {header}" if header else "")))
    for part in request.get("parts", []) if isinstance(request.get("parts"), list) else []:
        if not isinstance(part, dict):
            continue
        if "value" in part:
            rows.append((str(part.get("name")), f"field {part['value']!r}"))
        else:
            kind = part.get("content_type") or "no Content-Type"
            shown = f"file {part.get('filename')!r}, {kind}, {part.get('bytes')} bytes"
            rows.append((str(part.get("name")), shown))
    image = request.get("image")
    if isinstance(image, dict):
        rows.append(("image", f"{image.get('format')} {image.get('width')}×{image.get('height')}"))
    if "raw_body_bytes" in request:
        rows.append(("raw body", f"{request['raw_body_bytes']} bytes, {request.get('content_type')}"))
    headers = request.get("headers")
    for name, value in headers.items() if isinstance(headers, dict) else []:
        rows.append(("header", f"{name}: {value}"))
    return rows


def response_line(response: Any) -> str:
    """``HTTP 400 · 312 bytes · 4.1 ms · application/json`` from a response summary."""
    if not isinstance(response, dict) or not response:
        return ""
    parts = [f"HTTP {response.get('status')}"]
    if "bytes" in response:
        parts.append(f"{response['bytes']} bytes" + (" (truncated)" if response.get("truncated") else ""))
    if "elapsed_ms" in response:
        parts.append(f"{response['elapsed_ms']} ms")
    headers = response.get("headers")
    if isinstance(headers, dict):
        kind = next((str(v) for k, v in headers.items() if str(k).lower() == "content-type"), "")
        if kind:
            parts.append(kind)
    return " · ".join(parts)


def pretty_body(response: Any) -> str:
    """The response body as formatted JSON when it is JSON, else as received (the excerpt)."""
    if not isinstance(response, dict):
        return ""
    if "body" in response and not isinstance(response["body"], str):
        return json.dumps(response["body"], indent=2, ensure_ascii=False)
    text = response.get("body_excerpt", response.get("body", ""))
    if not isinstance(text, str):
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text


def _group(clause: ClauseResult) -> str:
    if clause.verdict is Verdict.ERROR:
        return "ERROR"
    return clause.failed_level or clause.level


def _failure(clause: ClauseResult, blocks: list[str]) -> Failure:
    failures = clause.failures
    shown = next((c for c in failures if c.level == clause.failed_level), failures[0])
    evidence = shown.evidence if isinstance(shown.evidence, dict) else {}
    received = message_field(shown.message, "Received") or shown.title or clause.reason
    notes = evidence.get("notes", [])
    artefacts = evidence.get("artefacts", [])
    return Failure(
        clause=clause,
        group=_group(clause),
        shown=shown,
        received=received,
        expected=message_field(shown.message, "Expected"),
        request=request_rows(evidence.get("request")),
        response=response_line(evidence.get("response")),
        body=pretty_body(evidence.get("response")),
        curl=str(evidence.get("curl") or ""),
        notes=[str(n) for n in notes] if isinstance(notes, list) else [],
        image=str(evidence.get("image") or ""),
        videos=list(shown.videos),
        saved=[str(a) for a in artefacts] if isinstance(artefacts, list) else [],
        blocks=blocks,
        others=[c for c in failures if c is not shown],
    )


def triage(report: RunReport) -> list[Failure]:
    """The report's failing and errored clauses: MUST first, then SHOULD, then errors."""
    blocked = {clause.id: blocks for clause, blocks in report.roots}
    found = [_failure(c, blocked.get(c.id, [])) for c in report.failed if c.failures]
    rank = {group: index for index, group in enumerate(GROUPS)}
    ordered = sorted(found, key=lambda f: rank.get(f.group, len(rank)))  # stable: SPEC order kept
    first: dict[tuple[str, str, str], str] = {}
    for index, failure in enumerate(ordered):
        exchange = (failure.curl, failure.response, failure.body)
        if not failure.curl:
            continue
        if exchange in first:
            ordered[index] = replace(failure, same_as=first[exchange])
        else:
            first[exchange] = failure.clause.id
    return ordered


def grouped(failures: list[Failure]) -> list[tuple[str, list[Failure]]]:
    """The failures by group, in triage order, empty groups left out."""
    return [(g, [f for f in failures if f.group == g]) for g in GROUPS if any(f.group == g for f in failures)]
