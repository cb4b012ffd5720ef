"""Helpers shared by the suite's test modules: Hypothesis settings and concurrent sending."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import settings

from conformance.client import TargetClient, TargetUnreachable
from conformance.exchange import ApiRequest, Exchange, Part


def success_settings() -> settings:
    """Few examples for the costly success path (``--max-examples`` / 3)."""
    return settings.get_profile("livephoto-success")


def error_settings() -> settings:
    """More examples for the cheap error paths (``--max-examples``)."""
    return settings.get_profile("livephoto-errors")


def send(client: TargetClient, request: ApiRequest) -> Exchange:
    """Send one request; an unreachable target fails the test with one clear line."""
    try:
        return client.send(request)
    except TargetUnreachable as exc:
        pytest.fail(f"the target did not answer: {exc}", pytrace=False)


def send_all(client: TargetClient, requests: Sequence[ApiRequest]) -> list[Exchange]:
    """Send requests concurrently, one thread each; results in the order given."""
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [pool.submit(client.send, r) for r in requests]
        try:
            return [f.result() for f in futures]
        except TargetUnreachable as exc:
            pytest.fail(f"the target did not answer: {exc}", pytrace=False)


def with_header(request: ApiRequest, name: str, value: str, why: str) -> ApiRequest:
    """A copy of the request carrying one more header."""
    from dataclasses import replace

    return replace(
        request,
        headers=(*request.headers, (name, value)),
        description=f"{request.description}; {why}",
    )


def type_part(value: str) -> Part:
    """The ``type`` text field."""
    return Part("type", value.encode())
