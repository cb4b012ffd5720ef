"""TargetClient and rate limits (issue 18): 429 / Retry-After waited out, one pause for every thread,
bounded against hostile values, and the traffic counters."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.client import ClientSettings, TargetClient, retry_after_seconds
from conformance.exchange import ApiRequest, Exchange
from conformance.traffic import BusyClock, PauseClock, Traffic
from tests.factories import API_KEY
from tests.hostile import servers as zoo

SLACK = 0.6  # seconds of scheduling slack on a loaded 2-core machine
OK = zoo.answer(b'{"error_code": 0, "data": {}}')


class RateLimited:
    """A behaviour: the first ``limited`` requests get ``status`` (with ``Retry-After`` when given),
    the rest 200 after ``delay`` seconds. Records when each request arrived and each limit left."""

    def __init__(
        self,
        limited: int,
        retry_after: str | None = "1",
        *,
        status: str = "429 Too Many Requests",
        delay: float = 0.0,
    ) -> None:
        self.limited = limited
        self.retry_after = retry_after
        self.status = status
        self.delay = delay
        self.arrivals: list[float] = []
        self.limits_sent: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, conn: zoo.Connection) -> None:
        if conn.read_request() is None:
            return
        with self._lock:
            index = len(self.arrivals)
            self.arrivals.append(time.monotonic())
        if index < self.limited:
            extra = {} if self.retry_after is None else {"Retry_After": self.retry_after}
            body = zoo.error_envelope(int(self.status.split()[0]), "EXCEEDING_LIMITS", "slow down")
            conn.send(zoo.answer(body, self.status, **extra))
            with self._lock:
                self.limits_sent.append(time.monotonic())
            return
        if conn.wait(self.delay):
            conn.send(OK)


def client_for(url: str, *, timeout: float = 5.0) -> TargetClient:
    """A client with a short timeout (the rate-limit wait is bounded by it)."""
    return TargetClient(ClientSettings(base_url=url, api_key=API_KEY, timeout=timeout))


def timed_send(client: TargetClient, **options: bool) -> tuple[Exchange, float]:
    """The exchange and how long ``send`` took."""
    started = time.perf_counter()
    exchange = client.send(ApiRequest(description="a rate-limit probe"), **options)
    return exchange, time.perf_counter() - started


def test_429_with_retry_after_is_waited_out_and_the_200_returned() -> None:
    behaviour = RateLimited(2, "1")
    seen: list[int] = []
    with zoo.serve(behaviour) as server, client_for(server.url) as client:
        client.observers.append(lambda exchange: seen.append(exchange.status))
        exchange, took = timed_send(client)
        traffic = client.traffic()
    assert exchange.status == 200
    assert 2.0 <= took < 2.0 + SLACK
    assert seen == [200]  # the retried 429s are not judged
    gaps = [b - a for a, b in zip(behaviour.arrivals, behaviour.arrivals[1:], strict=False)]
    assert all(gap >= 0.95 for gap in gaps), gaps
    assert (traffic.requests, traffic.successes, traffic.rate_limits_retried) == (3, 1, 2)
    assert traffic.rate_limits_returned == 0
    assert 1.9 <= traffic.backoff_s <= 2.1


def test_without_retries_the_429_comes_back_at_once_and_starts_no_pause() -> None:
    behaviour = RateLimited(1, "30")
    with zoo.serve(behaviour) as server, client_for(server.url, timeout=60.0) as client:
        limited, took = timed_send(client, retry_rate_limits=False)
        after, took_after = timed_send(client)
        traffic = client.traffic()
    assert limited.status == 429
    assert after.status == 200
    assert took < SLACK and took_after < SLACK
    assert (traffic.requests, traffic.rate_limits_retried, traffic.backoff_s) == (2, 0, 0.0)


def test_concurrent_sends_back_off_together() -> None:
    """One thread's 429 pauses every thread: no request reaches the server during the pause,
    though the others finished their requests long before it ends."""
    behaviour = RateLimited(1, "1", delay=0.3)
    threads, each = 4, 3
    start = threading.Barrier(threads)
    with zoo.serve(behaviour) as server, client_for(server.url) as client:

        def work(_: int) -> list[int]:
            start.wait()
            return [client.send(ApiRequest(description="concurrent")).status for _ in range(each)]

        with ThreadPoolExecutor(threads) as pool:
            statuses = [s for batch in pool.map(work, range(threads)) for s in batch]
        traffic = client.traffic()
    assert statuses == [200] * threads * each
    (paused_at,) = behaviour.limits_sent
    during = [t - paused_at for t in behaviour.arrivals if paused_at + 0.1 < t < paused_at + 0.9]
    assert not during, f"requests reached the server {during} s into the 1 s pause"
    assert traffic.requests == threads * each + 1
    assert traffic.rate_limits_retried == 1


def test_503_with_retry_after_is_retried_and_without_it_returned() -> None:
    with zoo.serve(RateLimited(1, "1", status="503 Service Unavailable")) as server:
        with client_for(server.url) as client:
            exchange, took = timed_send(client)
        assert exchange.status == 200 and 1.0 <= took < 1.0 + SLACK
    with zoo.serve(RateLimited(1, None, status="503 Service Unavailable")) as server:
        with client_for(server.url) as client:
            exchange, took = timed_send(client)
        assert exchange.status == 503 and took < SLACK


@pytest.mark.parametrize(
    ("value", "most"),
    [
        ("999999999", 0.0),  # asks for 31 years: refused at once
        ("9" * 5000, 0.0),  # more digits than int() takes
        ("Fri, 31 Dec 9999 23:59:59 GMT", 0.0),
        ("-5", 1.0),  # unusable: own back-off, 1 s, then 2 s exceeds the 2 s budget
        ("soon", 1.0),
        ("", 1.0),
        ("nan", 1.0),
        ("0", 0.0),  # "now", forever: bounded by the retry count
    ],
    ids=["huge", "endless-digits", "far-date", "negative", "garbage", "empty", "nan", "zero"],
)
def test_hostile_retry_after_cannot_hold_the_client(value: str, most: float) -> None:
    """A target that always answers 429 gets its 429 back within the bound, however it words
    Retry-After."""
    behaviour = RateLimited(10**9, value)
    with zoo.serve(behaviour) as server, client_for(server.url, timeout=2.0) as client:
        exchange, took = timed_send(client)
        traffic = client.traffic()
    assert exchange.status == 429
    assert took < most + SLACK
    assert traffic.rate_limits_returned == 1
    assert traffic.requests <= client.settings.rate_limit_retries + 1


def test_the_wait_stops_at_the_configured_bound() -> None:
    """rate_limit_wait bounds the waiting even when the timeout would allow more."""
    with zoo.serve(RateLimited(10**9, "1")) as server:
        settings_ = ClientSettings(base_url=server.url, api_key=API_KEY, timeout=30.0, rate_limit_wait=2.0)
        with TargetClient(settings_) as client:
            exchange, took = timed_send(client)
            traffic = client.traffic()
    assert exchange.status == 429
    assert 2.0 <= took < 2.0 + SLACK
    assert (traffic.requests, traffic.rate_limits_retried, traffic.rate_limits_returned) == (3, 2, 1)


NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("1.5", 1.5),
        ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0),
        ("Thu, 01 Jan 2026 11:00:00 GMT", 0.0),  # in the past: now
        ("Thursday, 01-Jan-26 12:00:10 GMT", 10.0),  # the obsolete RFC 850 form
        ("1" * 40, float("inf")),
        (None, None),
        ("-1", None),
        ("1e3", None),
        ("inf", None),
        ("soon", None),
        ("Thu, 99 Jan 2026 12:00:30 GMT", None),
    ],
)
def test_retry_after_values(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


def test_waiting_time_is_the_union_of_concurrent_requests() -> None:
    """Two requests in flight together for 0.5 s count 0.5 s of waiting, not 1 s."""
    behaviour = RateLimited(0, delay=0.5)
    with zoo.serve(behaviour) as server, client_for(server.url) as client:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: client.send(ApiRequest(description="pair")), range(2)))
        together = client.traffic().waited_s
        client.send(ApiRequest(description="alone"))
        traffic = client.traffic()
    assert 0.5 <= together < 0.5 + SLACK
    assert 1.0 <= traffic.waited_s < together + 0.5 + SLACK
    assert (traffic.requests, traffic.successes) == (3, 3)


def test_busy_clock_counts_overlaps_once() -> None:
    clock = BusyClock()
    for now, event in [(0, "in"), (1, "in"), (2, "out"), (3, "out"), (5, "in"), (6, "out")]:
        (clock.enter if event == "in" else clock.leave)(now)
    assert clock.total(10) == 4  # [0, 3] and [5, 6]
    clock.enter(7)
    assert clock.total(9) == 6  # an open interval counts up to now
    with pytest.raises(ValueError, match="without a matching enter"):
        BusyClock().leave(1)


def test_pause_clock_counts_overlapping_pauses_once() -> None:
    clock = PauseClock()
    clock.pause(0, 2)
    clock.pause(1, 3)  # extends the running pause by 1 s
    clock.pause(1.5, 2.5)  # inside it: nothing
    clock.pause(10, 11)
    assert clock.until == 11
    assert clock.total(20) == 4
    assert clock.total(10.5) == 3.5  # the running pause only up to now


def reference_union(intervals: list[tuple[float, float]]) -> float:
    """The length of a union of intervals, the obvious way: sort, merge, add."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


intervals = st.lists(
    st.tuples(st.integers(0, 100), st.integers(1, 30)).map(lambda p: (float(p[0]), float(p[0] + p[1]))),
    max_size=12,
)


@settings(max_examples=200, database=None, deadline=None)
@given(intervals)
def test_busy_clock_is_the_union_of_intervals(spans: list[tuple[float, float]]) -> None:
    events = sorted([(start, 1) for start, _ in spans] + [(stop, 0) for _, stop in spans])
    clock = BusyClock()
    for now, opens in events:  # at equal times a close goes first: touching intervals still add up
        (clock.enter if opens else clock.leave)(now)
    assert clock.total(1000.0) == reference_union(spans)


@settings(max_examples=200, database=None, deadline=None)
@given(intervals)
def test_pause_clock_is_the_union_of_pauses(spans: list[tuple[float, float]]) -> None:
    clock = PauseClock()
    for start, until in sorted(spans):
        clock.pause(start, until)
    assert clock.total(1000.0) == reference_union(spans)


def test_traffic_as_dict_is_json_ready() -> None:
    data = Traffic(requests=3, successes=1, backoff_s=1.23456, waited_s=2.0).as_dict()
    assert data == {
        "requests": 3,
        "successes": 1,
        "rate_limits_retried": 0,
        "rate_limits_returned": 0,
        "backoff_s": 1.235,
        "waited_s": 2.0,
    }
