"""Parse SPEC.md into clauses: the rules that derive a clause's level from its text.

The catalogue (``schemas/requirements.json``) is data; this parser is what keeps that data honest:
``tools/build_catalogue.py`` writes the catalogue from SPEC.md and a test compares the two.
The level rules are documented in ``docs/DECISIONS.md`` (D-1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CLAUSE_LINE = re.compile(r"^- \*\*(?P<id>LP-(?P<family>[A-Z]+)-\d+)\*\*\s*(?P<text>.*)$")
SECTION_LINE = re.compile(r"^## (?P<number>\d+)\. (?P<title>.+?)(?: \((?P<family>[A-Z]+)\).*)?$")
# RFC 2119 keywords, strongest first. "must" is matched in any case: SPEC LP-REQ-6 states an
# obligation in lower case ("must be accepted"). OPTIONAL describes a field, not a clause.
KEYWORDS = (
    ("MUST", re.compile(r"\b(MUST|MUST NOT|REQUIRED|must)\b")),
    ("SHOULD", re.compile(r"\b(SHOULD|SHOULD NOT)\b")),
    ("MAY", re.compile(r"\bMAY\b")),
)
LEVEL_ORDER = ("MUST", "SHOULD", "MAY")


@dataclass(frozen=True)
class ParsedClause:
    """One clause as SPEC.md states it."""

    id: str
    family: str
    section: str
    text: str
    levels: tuple[str, ...]

    @property
    def level(self) -> str:
        """The strongest obligation in the clause: it decides compatibility."""
        return self.levels[0]


def _levels(family: str, text: str) -> tuple[str, ...]:
    found = {name for name, pattern in KEYWORDS if pattern.search(text)}
    if not found:
        # A normative statement without a keyword ("The endpoint is …") is a requirement.
        found.add("MUST")
    if family == "ERR" and "→" in text:
        # §5's preamble: "For each failure below, the response MUST be an error envelope (…)
        # and SHOULD use the listed code".
        found.update(("MUST", "SHOULD"))
    return tuple(level for level in LEVEL_ORDER if level in found)


def parse_spec(markdown: str) -> list[ParsedClause]:
    """Every ``- **LP-…**`` clause of SPEC.md, continuation lines joined, in document order."""
    clauses: list[ParsedClause] = []
    section = ""
    current: dict[str, str] | None = None

    def flush() -> None:
        if current is not None:
            text = " ".join(current["text"].split())
            clauses.append(
                ParsedClause(
                    id=current["id"],
                    family=current["family"],
                    section=current["section"],
                    text=text,
                    levels=_levels(current["family"], text),
                )
            )

    for line in markdown.splitlines():
        if match := SECTION_LINE.match(line):
            flush()
            current = None
            section = f"§{match['number']} {match['title']}"
            continue
        if match := CLAUSE_LINE.match(line):
            flush()
            current = {
                "id": match["id"],
                "family": match["family"],
                "section": section,
                "text": match["text"],
            }
            continue
        if current is not None:
            if line.startswith("  ") and line.strip():
                current["text"] += " " + line.strip()
            else:
                flush()
                current = None
    flush()
    return clauses
