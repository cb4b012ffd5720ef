"""The reference server's configuration: one frozen object (issue 3)."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.contract import Edition
from conformance.mock.hooks import REFERENCE, ServerHooks
from conformance.settings import REFERENCE_API_KEY


@dataclass(frozen=True)
class ServerConfig:
    """Everything the reference server needs; validated eagerly so a bad value fails at start-up.

    ``faults`` are server-wide fault states (see ``conformance.mock.faults``); ``allow_fault_header``
    lets a request ask for one with ``x-livephoto-fault``; ``latency`` (seconds) delays every answer;
    ``success_latency`` (seconds) delays only the successes, as a real replacement does that spends
    seconds generating a video but refuses bad requests at once (issue 18); ``hooks`` alter the
    server's stages (``conformance.mock.hooks``; none by default; the mutant catalogue builds them
    with ``conformance.mutants.server_hooks``).
    """

    api_keys: tuple[str, ...] = (REFERENCE_API_KEY,)
    edition: Edition = Edition.E2026_01
    seed: int = 0
    faults: tuple[str, ...] = ()
    allow_fault_header: bool = False
    latency: float = 0.0
    success_latency: float = 0.0
    hooks: ServerHooks = REFERENCE

    def __post_init__(self) -> None:
        from conformance.mock.faults import parse_fault

        if isinstance(self.api_keys, str):
            raise ValueError("api_keys must be a tuple of keys, not a single string")
        if any(not key for key in self.api_keys):
            raise ValueError("api_keys must not contain an empty key (LP-ERR-1: an empty key is refused)")
        object.__setattr__(self, "edition", Edition(self.edition))
        for name in ("latency", "success_latency"):
            seconds = getattr(self, name)
            if not 0 <= seconds < float("inf"):  # NaN and infinity too: asyncio.sleep would hang
                raise ValueError(f"{name} must be a finite number of seconds ≥ 0, got {seconds}")
        for fault in self.faults:
            parse_fault(fault)  # raises ValueError with a clear message
        if not isinstance(self.hooks, ServerHooks):
            raise ValueError(f"hooks must be a ServerHooks, got {type(self.hooks).__name__}")
