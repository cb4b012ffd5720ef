"""The suite's resolved configuration: one frozen object, built once from options and environment."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from conformance.check_context import DEFAULT_INVALID_KEY, CheckContext
from conformance.contract import Edition
from conformance.spec import Level

REFERENCE_API_KEY = "conformance-reference-key"  # the embedded server's key when none is given
FAULT_STATES = ("rate-limit", "credits", "server-error", "retired")  # LP-ERR-12, -13, -15
REFERENCE_FAULT_HEADER = "x-livephoto-fault"  # the embedded reference server's fault injection header


@dataclass(frozen=True)
class Settings:
    """Everything a check or the client needs to know about the run."""

    target_url: str
    api_key: str = field(repr=False)  # pytest prints fixtures' reprs in tracebacks: never the key
    invalid_api_key: str = DEFAULT_INVALID_KEY
    edition: Edition = Edition.ANY
    level: Level = Level.MUST
    max_examples: int = 10
    concurrency: int = 8  # requests in flight at once; 1 sends one after the other
    budget: int | None = None  # at most this many success requests; None: the default run's
    request_timeout: float = 60.0
    insecure: bool = False
    embedded: bool = False
    seed: int | None = None
    fault_headers: dict[str, tuple[str, str]] = field(default_factory=dict)
    artefacts_dir: Path = Path("livephoto-artefacts")
    clauses: tuple[str, ...] = ()
    families: tuple[str, ...] = ()

    def check_context(self) -> CheckContext:
        """The part of the settings a check may read."""
        return CheckContext(
            edition=self.edition,
            level=self.level,
            api_key=self.api_key,
            invalid_api_key=self.invalid_api_key,
            artefacts_dir=self.artefacts_dir,
        )

    def with_changes(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def redacted(self) -> dict[str, Any]:
        """The configuration for reports, the key masked."""
        return {
            "target_url": self.target_url,
            "api_key": "***" if self.api_key else "",
            "invalid_api_key": self.invalid_api_key,
            "edition": self.edition.value,
            "level": self.level.value,
            "max_examples": self.max_examples,
            "concurrency": self.concurrency,
            "budget": self.budget,
            "request_timeout": self.request_timeout,
            "insecure": self.insecure,
            "embedded": self.embedded,
            "seed": self.seed,
            "fault_headers": {
                state: f"{name}: {value}" for state, (name, value) in self.fault_headers.items()
            },
            "clauses": list(self.clauses),
            "families": list(self.families),
        }


def parse_fault_headers(values: list[str], embedded: bool) -> dict[str, tuple[str, str]]:
    """The header that puts the target into each fault state, from ``STATE='Name: value'`` values.

    The embedded reference server knows its own header for every state; a given value overrides
    it per state. A malformed value: ``ValueError`` naming it and the form to write.
    """
    headers = {state: (REFERENCE_FAULT_HEADER, state) for state in FAULT_STATES} if embedded else {}
    for value in values:
        state, _, header = value.partition("=")
        name, _, header_value = header.strip().strip("'\"").partition(":")
        if state not in FAULT_STATES or not name.strip() or not header_value.strip():
            raise ValueError(
                f"{value!r}: write STATE='Header-Name: value' with STATE one of "
                f"{', '.join(FAULT_STATES)}, e.g. --fault-header rate-limit='X-Fault: rate-limit'"
            )
        headers[state] = (name.strip(), header_value.strip())
    return headers
