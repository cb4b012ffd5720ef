"""The clause catalogue: every SPEC clause with its id, level and family (``schemas/requirements.json``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from conformance.resources import load_json


class Level(StrEnum):
    """RFC 2119 strength of an obligation; MUST decides compatibility, SHOULD the score."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"

    @property
    def rank(self) -> int:
        """0 for MUST, the strongest."""
        return list(Level).index(self)

    @property
    def informational(self) -> bool:
        """A MAY finding is information, never a failure (the one rule, used by every front)."""
        return self is Level.MAY

    def gates(self, gate: Level | str) -> bool:
        """Whether a failure at this level fails a run gating at ``gate`` (``--level``)."""
        return self.rank <= Level(gate).rank


FAMILIES = ("request", "envelope", "success", "video", "errors", "operations", "security")


@dataclass(frozen=True)
class Clause:
    """One clause of SPEC.md."""

    id: str
    level: Level
    levels: tuple[Level, ...]
    family: str
    section: str
    title: str
    text: str

    @property
    def number(self) -> int:
        """The clause's number within its family, for sorting."""
        return int(self.id.rsplit("-", 1)[1])


class Catalogue(Mapping[str, Clause]):
    """Clauses by id, in SPEC order."""

    def __init__(self, clauses: list[Clause]) -> None:
        self._clauses = {clause.id: clause for clause in clauses}

    def __getitem__(self, clause_id: str) -> Clause:
        try:
            return self._clauses[clause_id]
        except KeyError:
            raise KeyError(
                f"{clause_id!r} is not a clause of the SPEC; known ids look like 'LP-ENV-3' "
                f"(see schemas/requirements.json)"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._clauses)

    def __len__(self) -> int:
        return len(self._clauses)

    def family(self, name: str) -> list[Clause]:
        """The clauses of one family (``envelope``, ``errors``, … or the id's tag ``ENV``)."""
        return [c for c in self._clauses.values() if name in (c.family, c.id.split("-")[1])]


@cache
def catalogue() -> Catalogue:
    """The clause catalogue, loaded once from ``schemas/requirements.json``."""
    document = load_json("requirements.json")
    return Catalogue(
        [
            Clause(
                id=item["id"],
                level=Level(item["level"]),
                levels=tuple(Level(level) for level in item["levels"]),
                family=item["family"],
                section=item["section"],
                title=item["title"],
                text=item["text"],
            )
            for item in document["clauses"]
        ]
    )
