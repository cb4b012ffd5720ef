"""The planning pass: run every suite test once without sending, to learn the run's requests.

Before the tests run, each selected suite test is called with stand-ins for its fixtures: the
client records what the test would send and answers with a placeholder, ``verify`` and ``judge``
judge nothing. Hypothesis runs as it will in the real pass (the run's seed is forced), so the
plan holds the covering set and every drawn example. The ``Prefetcher`` then sends the plan with
``--concurrency`` requests in flight while the tests run and judge the answers as they arrive.

A test marked ``@pytest.mark.ordered`` sends its requests as one chain, one after the other;
``ordered(last=True)`` runs the chain after everything else (hostile requests: LP-SEC-4).
``client.burst`` plans a burst (LP-OPS-2). ``--concurrency 1`` sends the same plan one request at
a time (bursts are always 8 at once). xdist workers each run a share of the tests and do not plan:
their tests send as they run, identical requests once per worker.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from conformance.engine.schedule import (
    Fingerprint,
    PlannedClient,
    Prefetcher,
    Rank,
    RunPlan,
    Unit,
    UnitKind,
    fingerprint,
)
from conformance.exchange import ApiRequest, Exchange, TargetUnreachable
from conformance.pytest.state import settings_key, state_key
from conformance.pytest.target import target_client
from conformance.reports.model import RunTraffic
from conformance.settings import Settings
from conformance.traffic import Traffic

PLACEHOLDER_BODY = b'{"error_code": 0, "request_id": "planning", "log_id": "planning", "data": {}}'


def placeholder(request: ApiRequest) -> Exchange:
    """The answer a test sees while it is being planned: nothing was sent."""
    return Exchange(
        request=request, url="planning", status=200, headers=[], body=PLACEHOLDER_BODY, elapsed=0.0
    )


class PlanningClient:
    """Stands in for the client during planning: records each request of the current test."""

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan
        self.current = ""
        self.chain: list[ApiRequest] | None = None
        self.observers: list[Any] = []

    def send(self, request: ApiRequest, *, fresh: bool = False, retry_rate_limits: bool = True) -> Exchange:
        """Plan one request (``fresh``: its own send, never an identical request's answer; a
        request provoking a rate limit is not planned, it goes when its test runs)."""
        if not retry_rate_limits:
            return placeholder(request)
        if self.chain is not None:
            self.chain.append(request)
        elif fresh:
            self.plan.chain(self.current, [request])
        else:
            self.plan.single(self.current, request)
        return placeholder(request)

    def wave(
        self, hostile: Sequence[ApiRequest], then: ApiRequest
    ) -> tuple[list[Exchange | Exception], Exchange | TargetUnreachable]:
        """Plan hostile requests at once, then a valid one (LP-SEC-4)."""
        self.plan.wave(self.current, hostile, then)
        return [placeholder(r) for r in hostile], placeholder(then)

    def burst(self, requests: Sequence[ApiRequest]) -> list[Exchange]:
        """Plan requests sent all at once."""
        self.plan.burst(self.current, requests)
        return [placeholder(r) for r in requests]


class PlanningRecorder:
    """Stands in for the recorder during planning: records nothing."""

    def __init__(self) -> None:
        self.samples: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: []


def plan_run(items: Sequence[pytest.Item], settings: Settings) -> RunPlan:
    """Call every suite test once with planning stand-ins; the requests they would send."""
    plan = RunPlan()
    client = PlanningClient(plan)
    expected_success: list[Fingerprint] = []  # valid requests the tests judge as such, in order

    def verify(api_request: ApiRequest, *, expect: str) -> Exchange:
        if expect == "success":
            expected_success.append(fingerprint(api_request))
        return client.send(api_request)

    def judge(checks: Any, *exchanges: Any) -> None:
        return None

    fixtures: dict[str, Any] = {
        "client": client,
        "verify": verify,
        "judge": judge,
        "recorder": PlanningRecorder(),
        "livephoto_settings": settings,
        "target_url": settings.target_url,
    }
    for item in items:
        if not isinstance(item, pytest.Function) or item.get_closest_marker("clause") is None:
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        names = item._fixtureinfo.argnames
        if any(name not in params and name not in fixtures for name in names):
            continue  # a fixture the planning pass cannot stand in for: the test sends live
        kwargs = {name: params[name] if name in params else fixtures[name] for name in names}
        ordered = item.get_closest_marker("ordered")
        client.current = item.nodeid
        client.chain = [] if ordered is not None else None
        # Skips and the suite's own errors surface in the real pass.
        with contextlib.suppress(Exception, pytest.skip.Exception, pytest.fail.Exception):
            item.obj(**kwargs)
        if ordered is not None and client.chain:
            plan.chain(item.nodeid, client.chain, last=bool(ordered.kwargs.get("last", False)))
    plan.finish()
    rank = success_rank(expected_success)
    if settings.budget is not None:
        plan.apply_budget(settings.budget, rank)
    plan.order(rank)
    return plan


def success_rank(expected_success: Sequence[Fingerprint]) -> Rank:
    """The order in which ``--budget`` keeps success requests: the burst of 8 (which holds one
    picture under every type), the valid request after the hostile ones (LP-SEC-4), LP-REQ-6's
    limits, LP-OPS-3's repeat, then the generated ones."""
    from conformance.strategies.covering import BURST, POOL, success_pool

    pool = {fingerprint(r): i for i, r in enumerate(success_pool())}
    later = {key: n for n, key in enumerate(dict.fromkeys(expected_success))}

    def rank(request: ApiRequest, unit: Unit) -> int | None:
        key = fingerprint(request)
        if unit.kind is UnitKind.WAVE:
            return len(BURST) if request is unit.requests[-1] else None
        if key in pool:
            index = pool[key]
            if unit.kind is UnitKind.CHAIN:  # a fresh repeat of a pool request
                return len(POOL) + 1
            return index if index in BURST else index + 1
        if key in later:
            return len(POOL) + 2 + later[key]
        return None

    return rank


def over_budget_checks(expect: str, request: ApiRequest) -> list[Any]:
    """The checks a request ``--budget`` left out would have been judged by (recorded skipped)."""
    from conformance.engine import LABEL_CHECKS, SUCCESS, failure_checks

    if expect != "success":
        return list(failure_checks(expect))
    labels = sorted({label.split(":", 1)[0] for label in request.labels} & set(LABEL_CHECKS))
    return [*SUCCESS, *(LABEL_CHECKS[label] for label in labels)]


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Any:
    """Plan the run, start sending it, run the tests, stop sending: the session's one client."""
    config = session.config
    settings = config.stash.get(settings_key, None)
    if settings is None or config.option.collectonly or not session.items:
        return (yield)
    state = config.stash[state_key]
    started = time.monotonic()
    with target_client(settings) as transport:
        plan = None
        # xdist workers each run a share of the tests: they send their own, one after the other.
        if getattr(config, "workerinput", None) is None:
            plan = plan_run(session.items, settings)
        prefetcher = Prefetcher(transport, plan, settings.concurrency) if plan is not None else None
        state.sender = PlannedClient(transport, plan, prefetcher)
        if prefetcher is not None:
            prefetcher.start()
        try:
            return (yield)
        finally:
            if prefetcher is not None:
                prefetcher.stop()
            traffic = _traffic(transport.traffic(), time.monotonic() - started, settings, plan)
            state.traffic = replace(
                traffic, requests=traffic.requests + state.preflight_requests, unplanned=state.sender.live
            )


def _traffic(sent: Traffic, wall: float, settings: Settings, plan: RunPlan | None) -> RunTraffic:
    return RunTraffic(
        requests=sent.requests,
        successes=sent.successes,
        wall_s=wall,
        waited_s=min(sent.waited_s, wall),
        concurrency=settings.concurrency,
        rate_limits_retried=sent.rate_limits_retried,
        rate_limits_returned=sent.rate_limits_returned,
        backoff_s=sent.backoff_s,
        planned=plan.requests if plan is not None else 0,
        budget=settings.budget,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """The running test, so its sends take the answers planned for it."""
    state = item.config.stash.get(state_key, None)
    if state is not None and state.sender is not None:
        state.sender.current = item.nodeid
