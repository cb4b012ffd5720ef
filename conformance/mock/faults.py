"""Fault injection: put the reference server in the states of LP-ERR-12, -13 and -15 on demand.

A fault is one of ``rate-limit``, ``credits``, ``server-error[:500|502|503|504]``, ``latency:<seconds>``
or ``retired``; several may be given comma-separated in the ``x-livephoto-fault`` header.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.contract import Edition
from conformance.protocol.envelope import Outcome, error

FAULT_HEADER = "x-livephoto-fault"
RETRY_AFTER_SECONDS = "1"  # LP-ERR-12: a Retry-After header SHOULD accompany a 429
MAX_LATENCY = 60.0  # seconds: a larger injected delay is refused as a mistake

SERVER_ERROR_CODES = {  # LP-ERR-13
    500: "SERVICE_INTERNAL_ERROR",
    502: "ERROR_GATEWAY",
    503: "AI_SERVICE_FLOW_RESTRICTION",
    504: "AI_SERVICE_TIMEOUT",
}
FAULT_NAMES = ("rate-limit", "credits", "server-error", "latency", "retired")


@dataclass(frozen=True)
class Fault:
    """One parsed fault: its name and argument (status for server-error, seconds for latency)."""

    name: str
    argument: float = 0.0


def parse_fault(text: str) -> Fault:
    """Parse one fault word; a ValueError names the accepted forms."""
    name, _, argument = text.strip().partition(":")
    name = name.strip().lower()
    argument = argument.strip()
    usage = (
        f"unknown fault {text!r}: use rate-limit, credits, server-error[:500|502|503|504], "
        "latency:<seconds> or retired"
    )
    if name in ("rate-limit", "credits", "retired") and not argument:
        return Fault(name)
    if name == "server-error":
        status = int(argument) if argument.isdigit() else (500 if not argument else -1)
        if status not in SERVER_ERROR_CODES:
            raise ValueError(usage)
        return Fault(name, float(status))
    if name == "latency":
        try:
            seconds = float(argument)
        except ValueError:
            raise ValueError(usage) from None
        if not 0 <= seconds <= MAX_LATENCY:
            raise ValueError(f"latency {seconds} s is outside 0..{MAX_LATENCY:g} s")
        return Fault(name, seconds)
    raise ValueError(usage)


def parse_faults(text: str) -> list[Fault]:
    """Parse a comma-separated list of faults (the header's value)."""
    return [parse_fault(part) for part in text.split(",") if part.strip()]


def latency_of(faults: list[Fault]) -> float:
    """The total injected delay in seconds."""
    return sum(f.argument for f in faults if f.name == "latency")


def fault_outcome(faults: list[Fault], edition: Edition) -> Outcome | None:
    """The error a list of faults forces (the first non-latency fault wins), or None."""
    retry = {"Retry-After": RETRY_AFTER_SECONDS}
    for fault in faults:
        if fault.name == "rate-limit":
            return error("EXCEEDING_LIMITS", "Injected fault: request rate limit exceeded.", edition, retry)
        if fault.name == "credits":
            return error("ERROR_NOT_ENOUGH_CREDITS", "Injected fault: not enough credits.", edition, retry)
        if fault.name == "server-error":
            code = SERVER_ERROR_CODES[int(fault.argument)]
            headers = retry if code == "AI_SERVICE_FLOW_RESTRICTION" else {}
            return error(code, "Injected fault: the service failed.", edition, headers)
        if fault.name == "retired":
            return error("ERROR_AI_NOT_EXISTS", "Injected fault: this API has been retired.", edition)
    return None
