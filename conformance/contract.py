"""The provider's error codes and the edition rules of SPEC §0, as code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from conformance.resources import load_json


class Edition(StrEnum):
    """Which statuses the contract accepts (SPEC §0)."""

    ANY = "any"
    E2025_09 = "2025-09"
    E2026_01 = "2026-01"

    @property
    def concrete(self) -> tuple[Edition, ...]:
        """The dated editions this one admits: both for ``any``."""
        if self is Edition.ANY:
            return (Edition.E2025_09, Edition.E2026_01)
        return (self,)


DEFAULT_SERVER_EDITION = Edition.E2026_01  # the edition in force when the API was retired

# Pairs that SPEC clauses name in their own text although the table gives the code another status
# in one edition: the clause text is normative, so they are valid in every edition (docs/DECISIONS.md D-2).
SPEC_NAMED_PAIRS: frozenset[tuple[int, str]] = frozenset(
    {
        (405, "ERROR_ILLEGAL_OPERATION"),  # LP-ERR-11: "405 SHOULD, code ERROR_ILLEGAL_OPERATION SHOULD"
        (429, "EXCEEDING_LIMITS"),  # LP-ERR-12: "429 EXCEEDING_LIMITS"
    }
)


@dataclass(frozen=True)
class ErrorCode:
    """One row of the provider's table."""

    code: str
    status: Mapping[Edition, int]
    code_message: str

    def status_in(self, edition: Edition) -> int:
        """The HTTP status of this code in a dated edition (``any`` resolves to the newest)."""
        if edition is Edition.ANY:
            edition = DEFAULT_SERVER_EDITION
        return self.status[edition]


@cache
def error_codes() -> Mapping[str, ErrorCode]:
    """The 126 documented codes by name, loaded once from ``schemas/error-codes.json``."""
    return {
        row["code"]: ErrorCode(
            code=row["code"],
            status={Edition(name): status for name, status in row["status"].items()},
            code_message=row["code_message"],
        )
        for row in load_json("error-codes.json")["codes"]
    }


def documented_message(code: str) -> str | None:
    """The documented ``code_message`` for a code, or None for an undocumented code."""
    row = error_codes().get(code)
    return row.code_message if row else None


def is_valid_pair(status: int, code: str, edition: Edition = Edition.ANY) -> bool:
    """Whether (HTTP status, ``error_detail.code``) is valid in the edition (SPEC §0)."""
    if (status, code) in SPEC_NAMED_PAIRS:
        return True
    row = error_codes().get(code)
    if row is None:
        return False
    return any(row.status[e] == status for e in edition.concrete)


def statuses_for(code: str, edition: Edition = Edition.ANY) -> set[int]:
    """Every status the code may carry in the edition (empty for an undocumented code)."""
    row = error_codes().get(code)
    named = {status for status, named_code in SPEC_NAMED_PAIRS if named_code == code}
    if row is None:
        return named
    return {row.status[e] for e in edition.concrete} | named
