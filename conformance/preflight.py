"""One cheap request before a long run: is the target there, and does it take the key?

A run against an unreachable target, or with a key the target rejects, would spend its whole
duration learning nothing; the preflight says so at once (exit 4). The probe carries the valid
key and no image, so no generation is billed.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.client import ClientSettings, TargetClient, TargetUnreachable
from conformance.exchange import ApiRequest

KEY_REJECTED = (401, 403)  # the probe's answer when the target does not take the valid key
PROBE_TIMEOUT = 15.0  # s: the probe's own cap (a slow target still answers an empty request fast)


@dataclass(frozen=True)
class Preflight:
    """What the probe learned: a usage problem (one sentence) or none, and whether retired."""

    problem: str | None = None
    retired: bool = False
    requests: int = 0  # sent (the probe, and any retry after a rate limit)


def preflight(settings: ClientSettings, key_source: str | None) -> Preflight:
    """Send the probe; ``key_source`` names where the key came from, for the message (None: the
    caller has no key to judge, only whether the target answers)."""
    probe = ApiRequest(description="preflight: the valid key, a request without image_target")
    capped = ClientSettings(
        base_url=settings.base_url,
        api_key=settings.api_key,
        invalid_api_key=settings.invalid_api_key,
        timeout=min(settings.timeout, PROBE_TIMEOUT),
        verify=settings.verify,
    )
    with TargetClient(capped) as client:
        try:
            exchange = client.send(probe)
        except TargetUnreachable as exc:
            return Preflight(problem=f"cannot reach the target: {exc}", requests=client.traffic().requests)
        requests = client.traffic().requests
    if exchange.status == 404 and exchange.code == "ERROR_AI_NOT_EXISTS":
        return Preflight(retired=True, requests=requests)
    if key_source is not None and exchange.status in KEY_REJECTED:
        code = f" {exchange.code}" if exchange.code else ""
        return Preflight(
            problem=f"the target rejected the key given by {key_source} ({exchange.status}{code})",
            requests=requests,
        )
    return Preflight(requests=requests)
