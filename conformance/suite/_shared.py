"""Helpers shared by the suite's test modules: Hypothesis settings and concurrent sending."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from hypothesis import example, settings

from conformance.client import TargetClient, TargetUnreachable
from conformance.exchange import ApiRequest, Exchange, Part
from conformance.strategies.covering import covering_requests

T = TypeVar("T")


def success_settings() -> settings:
    """Few examples for the costly success path (``--max-examples`` / 3)."""
    return settings.get_profile("livephoto-success")


def error_settings() -> settings:
    """More examples for the cheap error paths (``--max-examples``)."""
    return settings.get_profile("livephoto-errors")


def with_covering_set(test: Callable[..., T], clause: str) -> Callable[..., T]:
    """The Hypothesis test with the clause's covering set as explicit examples (issue 14).

    Explicit examples run in every run, before any generated one, whatever the seed and
    ``--max-examples`` (the suite's profiles keep Hypothesis' explicit phase), so every named value
    and boundary of ``conformance.strategies.covering`` is sent each time; generation explores on.
    """
    # Hypothesis runs explicit examples in the order written above the test, i.e. the reverse of
    # the order decorators are applied: apply them last-first to keep the covering set's order.
    for api_request in reversed(covering_requests(clause)):
        test = example(api_request=api_request)(test)
    return test


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
