"""Helpers shared by the suite's test modules: Hypothesis settings and concurrent sending."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import pytest
from hypothesis import example, settings

from conformance.client import TargetUnreachable
from conformance.engine.groups import Group
from conformance.engine.schedule import OverBudget, PlannedClient
from conformance.exchange import ApiRequest, Exchange, Part
from conformance.strategies.covering import covering_requests

T = TypeVar("T")


class Verify(Protocol):
    """The ``verify`` fixture: send a request, judge it as ``expect`` says (``"success"`` or the
    §5 clause it breaks), fail the test on a violation at the gating level."""

    def __call__(self, api_request: ApiRequest, *, expect: str) -> Exchange | None: ...


class Judge(Protocol):
    """The ``judge`` fixture: judge exchanges already sent as what the test says they are."""

    def __call__(self, group: Group, *exchanges: Exchange | Sequence[Exchange]) -> None: ...


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


def send(
    client: PlannedClient, request: ApiRequest, *, fresh: bool = False, retry_rate_limits: bool = True
) -> Exchange:
    """Send one request (``fresh``: its own send, not an identical request's shared answer;
    ``retry_rate_limits=False``: a rate limit provoked on purpose comes back as it is); an
    unreachable target fails the test with one clear line."""
    try:
        return client.send(request, fresh=fresh, retry_rate_limits=retry_rate_limits)
    except OverBudget as exc:
        pytest.skip(str(exc))
    except TargetUnreachable as exc:
        pytest.fail(f"the target did not answer: {exc}", pytrace=False)


def send_all(client: PlannedClient, requests: Sequence[ApiRequest]) -> list[Exchange]:
    """Send requests all at once (a burst, alone); results in the order given."""
    try:
        return client.burst(requests)
    except OverBudget as exc:
        pytest.skip(str(exc))
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
