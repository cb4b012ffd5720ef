"""The reference server's configuration: one frozen object (issue 3)."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.contract import Edition
from conformance.settings import REFERENCE_API_KEY


@dataclass(frozen=True)
class ServerConfig:
    """Everything the reference server needs; validated eagerly so a bad value fails at start-up.

    ``faults`` are server-wide fault states (see ``conformance.mock.faults``); ``allow_fault_header``
    lets a request ask for one with ``x-livephoto-fault``; ``latency`` (seconds) delays every answer;
    ``mutants`` names faults of the mutant catalogue to switch on (``conformance.mock.mutants``; off
    unless named).
    """

    api_keys: tuple[str, ...] = (REFERENCE_API_KEY,)
    edition: Edition = Edition.E2026_01
    seed: int = 0
    faults: tuple[str, ...] = ()
    allow_fault_header: bool = False
    latency: float = 0.0
    mutants: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        from conformance.mock.faults import parse_fault

        if isinstance(self.api_keys, str):
            raise ValueError("api_keys must be a tuple of keys, not a single string")
        if any(not key for key in self.api_keys):
            raise ValueError("api_keys must not contain an empty key (LP-ERR-1: an empty key is refused)")
        object.__setattr__(self, "edition", Edition(self.edition))
        if self.latency < 0:
            raise ValueError(f"latency must be ≥ 0 seconds, got {self.latency}")
        for fault in self.faults:
            parse_fault(fault)  # raises ValueError with a clear message
        if isinstance(self.mutants, str):
            raise ValueError("mutants must be a tuple of mutant names, not a single string")
        if self.mutants:
            from conformance.mock.mutants import get

            for name in self.mutants:
                get(name)  # raises ValueError naming the known mutants (issue 8)
