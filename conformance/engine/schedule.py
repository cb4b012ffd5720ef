"""Send a run's requests concurrently, ahead of the tests that judge them (issue 18).

A real target spends seconds on every success, so a run that sends one request after another is
as slow as the sum of them. The suite instead plans its requests up front (the planning pass runs
every test once without sending: ``conformance.pytest.planning``), hands the plan to a
``Prefetcher`` that keeps up to ``--concurrency`` requests in flight, and then runs the tests as
usual: each test's ``send`` takes the answer already on its way (``PlannedClient``). Hypothesis
stays the generator: with the run's seed forced, the judging pass draws the very examples the
planning pass drew; a request nobody planned (a shrink, a split of a failure) is sent live.

Orderings the clauses need are units of the plan, never reordered inside:

- a **chain** is sent one request after the other (LP-OPS-3's identical pair);
- a **burst** is sent all at once and alone, whatever the concurrency (LP-OPS-2's exactly 8);
- a **wave** sends its first hostile request, then the others at once and, when all are
  answered, one valid request (a target that dies of one cannot spoil the first one's status):
  "after any hostile request, the next valid request MUST still succeed" (LP-SEC-4);
- units marked **last** (chains, waves) run after every other unit has been answered, one at a
  time: a target that dies of a hostile request takes nothing else down with it.

Identical single requests of different tests are sent once and their answer shared: a valid
request serves every test that asks for it (frugality on paid targets).
"""

from __future__ import annotations

import contextlib
import enum
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Protocol

from conformance.exchange import ApiRequest, Exchange, TargetUnreachable

Fingerprint = tuple[object, ...]
BurstKey = tuple[str, tuple[Fingerprint, ...]]  # the test, and its burst's requests
Observer = Callable[[Exchange, float], None]
OVER_BUDGET = "not sent: --budget"  # how a request --budget left out is reported
BURST_DEADLINE = 600.0  # s: a burst's answers are awaited at most this long (the client times out first)


def fingerprint(request: ApiRequest) -> Fingerprint:
    """What makes two requests the same on the wire: everything but descriptions and labels."""
    return (
        request.method,
        request.path,
        request.key,
        request.key_header,
        request.headers,
        request.boundary,
        request.raw_body,
        request.content_type,
        request.parts,
    )


class Transport(Protocol):
    """What sends one request (``conformance.client.TargetClient``)."""

    def send(
        self, request: ApiRequest, *, retry_rate_limits: bool = True, may_close: bool = False
    ) -> Exchange: ...


class OverBudget(Exception):
    """A planned success request ``--budget`` left out: the test judges nothing with it."""

    def __init__(self, budget: int) -> None:
        super().__init__(f"{OVER_BUDGET} {budget} success requests were spent on other clauses")
        self.budget = budget


class UnitKind(enum.Enum):
    """How the requests of one unit of the plan are sent."""

    SINGLE = "single"
    CHAIN = "chain"
    BURST = "burst"
    WAVE = "wave"  # all but the last request at once, then the last one (hostile, then valid)


@dataclass(frozen=True)
class Sent:
    """An answer and when its request left (wall clock), for the latency charts."""

    exchange: Exchange
    sent_at: float
    alone: bool  # nothing else of the run was in flight while it was answered


@dataclass
class Unit:
    """Requests sent together under one ordering, and the slots their answers land in."""

    kind: UnitKind
    requests: list[ApiRequest]
    slots: list[Future[Sent]]
    last: bool = False


Rank = Callable[[ApiRequest, Unit], int | None]  # a success request's priority; None: not one


@dataclass
class RunPlan:
    """The requests of a run, by test, as the planning pass found them."""

    units: list[Unit] = field(default_factory=list)
    _by_test: dict[tuple[str, Fingerprint], deque[Future[Sent]]] = field(default_factory=dict)
    _bursts: dict[tuple[str, tuple[Fingerprint, ...]], deque[list[Future[Sent]]]] = field(
        default_factory=dict
    )
    _singles: dict[Fingerprint, Future[Sent]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    misses: int = 0  # requests the tests sent that no unit planned (sent live)

    def single(self, test: str, request: ApiRequest) -> None:
        """A request of ``test`` that may go any time; identical ones of other tests share it."""
        key = fingerprint(request)
        slot = self._singles.get(key)
        if slot is None:
            slot = self._singles[key] = Future()
            self.units.append(Unit(UnitKind.SINGLE, [request], [slot]))
        self._by_test.setdefault((test, key), deque()).append(slot)

    def chain(self, test: str, requests: Sequence[ApiRequest], *, last: bool = False) -> None:
        """Requests of ``test`` sent one after the other, each its own send."""
        if not requests:
            return
        slots: list[Future[Sent]] = [Future() for _ in requests]
        self.units.append(Unit(UnitKind.CHAIN, list(requests), slots, last=last))
        for request, slot in zip(requests, slots, strict=True):
            self._by_test.setdefault((test, fingerprint(request)), deque()).append(slot)

    def burst(self, test: str, requests: Sequence[ApiRequest]) -> None:
        """Requests of ``test`` sent all at once, alone."""
        slots: list[Future[Sent]] = [Future() for _ in requests]
        self.units.append(Unit(UnitKind.BURST, list(requests), slots))
        key = (test, tuple(fingerprint(r) for r in requests))
        self._bursts.setdefault(key, deque()).append(slots)

    def wave(self, test: str, hostile: Sequence[ApiRequest], then: ApiRequest) -> None:
        """Hostile requests of ``test`` (the first alone, then the others at once), then ``then``
        when all are answered; run last."""
        requests = [*hostile, then]
        slots: list[Future[Sent]] = [Future() for _ in requests]
        self.units.append(Unit(UnitKind.WAVE, requests, slots, last=True))
        self._bursts.setdefault((test, tuple(fingerprint(r) for r in requests)), deque()).append(slots)

    def finish(self) -> None:
        """Singles a burst also sends take the burst's answers: each request goes out once."""
        in_bursts: dict[Fingerprint, Future[Sent]] = {}
        for unit in self.units:
            if unit.kind is UnitKind.BURST:
                for request, slot in zip(unit.requests, unit.slots, strict=True):
                    in_bursts.setdefault(fingerprint(request), slot)
        kept: list[Unit] = []
        for unit in self.units:
            source = in_bursts.get(fingerprint(unit.requests[0])) if unit.kind is UnitKind.SINGLE else None
            if source is None:
                kept.append(unit)
            else:
                source.add_done_callback(_forward_to(unit.slots[0]))
        self.units = kept

    def order(self, rank: Rank) -> None:
        """Send what takes longest first: bursts (alone, so best before anything is in flight),
        then the units holding success requests (a real target spends seconds on each), then
        the rest; units marked ``last`` stay last. Stable: the plan's order within each kind."""

        def key(unit: Unit) -> int:
            if unit.kind is UnitKind.BURST:
                return 0
            return 1 if any(rank(request, unit) is not None for request in unit.requests) else 2

        self.units.sort(key=key)

    def successes(self, rank: Rank) -> int:
        """The success requests the plan sends (``rank`` not None)."""
        return sum(1 for unit in self.units for request in unit.requests if rank(request, unit) is not None)

    def apply_budget(self, budget: int, rank: Rank) -> list[ApiRequest]:
        """Keep the ``budget`` success requests of lowest ``rank`` (None: not a success request);
        the units holding the others are not sent, their slots raise ``OverBudget``. A unit is
        sent whole or not at all (a burst of 8, hostile requests and the valid one after them).
        Returns the success requests left out."""
        ranked = sorted(
            (
                (rank_of, n, unit)
                for n, unit in enumerate(self.units)
                for request in unit.requests
                if (rank_of := rank(request, unit)) is not None
            ),
            key=lambda entry: (entry[0], entry[1]),
        )
        dropped = {id(unit) for _, _, unit in ranked[budget:]}
        left_out: list[ApiRequest] = []
        kept: list[Unit] = []
        for unit in self.units:
            if id(unit) not in dropped:
                kept.append(unit)
                continue
            left_out += [r for r in unit.requests if rank(r, unit) is not None]
            for slot in unit.slots:
                if not slot.done():
                    slot.set_exception(OverBudget(budget))
        self.units = kept
        return left_out

    def take(self, test: str, request: ApiRequest) -> Future[Sent] | None:
        """The slot of the next planned send of this request by ``test``, or None (send it live)."""
        with self._lock:
            queue = self._by_test.get((test, fingerprint(request)))
            if queue:
                return queue.popleft()
            self.misses += 1
            return None

    def take_burst(self, test: str, requests: Sequence[ApiRequest]) -> list[Future[Sent]] | None:
        """The slots of a planned burst of exactly these requests by ``test``, or None."""
        with self._lock:
            queue = self._bursts.get((test, tuple(fingerprint(r) for r in requests)))
            if queue:
                return queue.popleft()
            self.misses += len(requests)
            return None

    def take_wave(
        self, test: str, hostile: Sequence[ApiRequest], then: ApiRequest
    ) -> list[Future[Sent]] | None:
        """The slots of a planned wave by ``test``, or None."""
        return self.take_burst(test, [*hostile, then])

    @property
    def requests(self) -> int:
        """Requests the plan sends (identical singles once)."""
        return sum(len(unit.requests) for unit in self.units)


def _forward_to(target: Future[Sent]) -> Callable[[Future[Sent]], None]:
    """A callback copying a finished slot's outcome into another slot."""

    def forward(source: Future[Sent]) -> None:
        if source.cancelled():
            target.cancel()
        elif (error := source.exception()) is not None:
            target.set_exception(error)
        else:
            target.set_result(source.result())

    return forward


class Prefetcher:
    """Sends a plan's units in the background, at most ``concurrency`` requests in flight."""

    def __init__(self, transport: Transport, plan: RunPlan, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be ≥ 1, got {concurrency}")
        self.transport = transport
        self.plan = plan
        self.concurrency = concurrency
        self._stop = threading.Event()
        self._in_flight = 0
        self._starts = 0
        self._flight_lock = threading.Lock()
        self._idle = threading.Condition(self._flight_lock)
        self._pauses = 0  # tests sending alone right now (``paused``); guarded by the flight lock
        self.done = threading.Event()  # every unit sent (or cancelled)
        self._thread = threading.Thread(target=self._drive, name="livephoto-prefetch", daemon=True)

    def start(self) -> None:
        """Start sending; returns at once."""
        self._thread.start()

    def stop(self) -> None:
        """Send nothing more; units not started yet are cancelled (their tests send live)."""
        self._stop.set()
        self._thread.join(timeout=5)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Nothing of the plan in flight while the block runs (a request sent alone)."""
        with self._idle:
            self._pauses += 1
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=BURST_DEADLINE)
        try:
            yield
        finally:
            with self._idle:
                self._pauses -= 1
                self._idle.notify_all()

    def _drive(self) -> None:
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="livephoto-send")
        pending: set[Future[None]] = set()
        try:
            for unit in [u for u in self.plan.units if not u.last]:
                if self._stop.is_set():
                    break
                if unit.kind is UnitKind.BURST:
                    wait(pending)  # alone: nothing else of the run in flight
                    pending.clear()
                    self._burst(unit)
                else:
                    pending.add(pool.submit(self._chain, unit))
            wait(pending)
            for unit in [u for u in self.plan.units if u.last]:
                if self._stop.is_set():
                    break
                if unit.kind is UnitKind.WAVE:
                    self._wave(unit)
                else:
                    self._chain(unit)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            self._cancel_rest()
            self.done.set()

    def _cancel_rest(self) -> None:
        """Slots never sent fall back to live sending in their tests."""
        for unit in self.plan.units:
            for slot in unit.slots:
                if not slot.done():
                    slot.cancel()

    def _send_into(self, request: ApiRequest, slot: Future[Sent], *, may_close: bool = False) -> bool:
        """Send one request into its slot; False when the target did not answer."""
        # Waiting out a pause and counting the send happen under one lock: a send that saw no pause
        # must be counted before ``paused`` can see nothing in flight (regression: a planned request
        # could leave in that gap, next to a request meant to be answered alone).
        with self._idle:
            self._idle.wait_for(lambda: self._pauses == 0)
            if not slot.set_running_or_notify_cancel():
                return False
            others_in_flight = self._in_flight
            self._in_flight += 1
            self._starts += 1
            number = self._starts
        sent_at = time.time()
        try:
            exchange = self.transport.send(request, may_close=may_close)
        except BaseException as exc:  # the test that takes the slot gets the exception
            slot.set_exception(exc)
            return False
        finally:
            with self._flight_lock:
                # Alone: nothing in flight when it left, and nothing sent until it was answered.
                alone = others_in_flight == 0 and self._starts == number
                self._in_flight -= 1
                self._idle.notify_all()
        slot.set_result(Sent(exchange, sent_at, alone))
        return True

    def _chain(self, unit: Unit) -> None:
        for request, slot in zip(unit.requests, unit.slots, strict=True):
            if self._stop.is_set():
                return
            self._send_into(request, slot)

    def _wave(self, unit: Unit) -> None:
        # The first hostile request alone (its status is judged: LP-SEC-3's 413), the others at once.
        self._send_into(unit.requests[0], unit.slots[0], may_close=True)
        self._at_once(unit.requests[1:-1], unit.slots[1:-1], may_close=True)
        if not self._stop.is_set():
            self._send_into(unit.requests[-1], unit.slots[-1])

    def _burst(self, unit: Unit) -> None:
        self._at_once(unit.requests, unit.slots)

    def _at_once(
        self, requests: Sequence[ApiRequest], slots: Sequence[Future[Sent]], *, may_close: bool = False
    ) -> None:
        threads = [
            threading.Thread(
                target=self._send_into, args=(request, slot), kwargs={"may_close": may_close}, daemon=True
            )
            for request, slot in zip(requests, slots, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=BURST_DEADLINE)


def _outcome(future: Future[Sent]) -> Sent | Exception:
    """A sent request's answer, or the exception its send raised."""
    try:
        return future.result()
    except Exception as exc:
        return exc


class PlannedClient:
    """What the tests send through: the planned answer when there is one, a live send otherwise.

    ``current`` names the running test (set by the plugin before each test), so two tests that
    planned the same request each take their own planned send, or the shared one.
    """

    def __init__(
        self, transport: Transport, plan: RunPlan | None = None, prefetcher: Prefetcher | None = None
    ) -> None:
        self.transport = transport
        self.plan = plan
        self.prefetcher = prefetcher
        self.current = ""
        self.observers: list[Observer] = []
        self.live = 0  # requests sent live (unplanned, or no plan at all)
        self._memo: dict[Fingerprint, Sent] = {}  # answers of unplanned sends, shared like planned ones
        self._memo_lock = threading.Lock()
        self._solo: dict[Fingerprint, Exchange] = {}  # answers sent alone, by request
        self._alone: dict[int, tuple[Exchange, bool]] = {}  # by id: was it answered alone?
        # Failures already confirmed on an answer sent alone (clause ids, or a clause and the kind
        # of answer): more of them among concurrent answers need no solo send of their own.
        self.confirmed: set[str] = set()

    def was_alone(self, exchange: Exchange) -> bool:
        """Whether nothing else of the run was in flight while ``exchange`` was answered."""
        if self.prefetcher is None:
            return True  # one request after the other
        known = self._alone.get(id(exchange))
        return known is not None and known[0] is exchange and known[1]

    def send_alone(self, request: ApiRequest) -> Exchange:
        """Send ``request`` now, with nothing else of the run in flight: the answer a check judges
        when one sent among others failed (a consequence of concurrency is LP-OPS-2's to judge, and
        a queue at the target is not slowness: LP-OPS-1)."""
        if self.prefetcher is None:
            return self._deliver(self._live(request, alone=True), request)
        with self.prefetcher.paused():
            sent = self._live(request, alone=True)
        return self._deliver(sent, request)

    def alone_once(self, request: ApiRequest) -> Exchange:
        """``send_alone``, once per run for identical requests (the follow-ups that split a refused
        request, which several tests may ask for)."""
        key = fingerprint(request)
        with self._memo_lock:
            known = self._solo.get(key)
        if known is None:
            known = self.send_alone(request)
            with self._memo_lock:
                self._solo.setdefault(key, known)
        return known if known.request is request else replace(known, request=request)

    def send(self, request: ApiRequest, *, fresh: bool = False, retry_rate_limits: bool = True) -> Exchange:
        """The answer to ``request``: planned and prefetched, or sent now. ``fresh`` asks for a
        send of its own (planned apart), never the answer an identical request shares.
        ``retry_rate_limits=False`` (a request that provokes a rate limit on purpose) is never
        planned: it is sent now and its 429 comes back as it is."""
        if not retry_rate_limits:
            return self._deliver(self._live(request, retry_rate_limits=False), request)
        slot = self.plan.take(self.current, request) if self.plan is not None else None
        sent = self._result(slot) if slot is not None else None
        if sent is None:
            sent = self._fresh(request) if fresh else self._shared(request)
        return self._deliver(sent, request)

    def _shared(self, request: ApiRequest) -> Sent:
        """An unplanned request: an identical one's answer when there is one (sent once)."""
        key = fingerprint(request)
        with self._memo_lock:
            known = self._memo.get(key)
        if known is None:
            known = self._fresh(request)
            with self._memo_lock:
                self._memo.setdefault(key, known)
        return known

    def _fresh(self, request: ApiRequest) -> Sent:
        return self._live(request)

    def burst(self, requests: Sequence[ApiRequest]) -> list[Exchange]:
        """All requests in flight at once (LP-OPS-2), answers in the order given."""
        slots = self.plan.take_burst(self.current, requests) if self.plan is not None else None
        if slots is not None:
            planned = [self._result(slot) for slot in slots]
            if all(s is not None for s in planned):
                return [self._deliver(s, r) for s, r in zip(planned, requests, strict=True) if s]
        with ThreadPoolExecutor(max_workers=len(requests)) as pool:
            futures = [pool.submit(self._live, r) for r in requests]
            return [self._deliver(f.result(), r) for f, r in zip(futures, requests, strict=True)]

    def wave(
        self, hostile: Sequence[ApiRequest], then: ApiRequest
    ) -> tuple[list[Exchange | Exception], Exchange | TargetUnreachable]:
        """Hostile requests (the first alone, the others at once), then ``then`` once all are
        answered (LP-SEC-4). A hostile request may legitimately get no answer (a closed
        connection): its place holds the error, and it does not open the breaker. The follow-up's
        place holds the error when it got no answer: the target did not live on, or (``TargetGone``)
        the breaker was open before the wave, so nothing was sent. ``OverBudget`` is raised."""
        slots = self.plan.take_wave(self.current, hostile, then) if self.plan is not None else None
        last: Sent | TargetUnreachable | None
        if slots is None:
            first: Future[Sent] = Future()
            try:
                first.set_result(self._live(hostile[0], may_close=True))
            except Exception as exc:
                first.set_exception(exc)
            with ThreadPoolExecutor(max_workers=max(1, len(hostile))) as pool:
                futures = [pool.submit(self._live, r, may_close=True) for r in hostile[1:]]
                answers = [_outcome(first), *(_outcome(f) for f in futures)]
            last = None
        else:
            answers = [_outcome(slot) for slot in slots[:-1]]
            try:
                last = self._result(slots[-1])
            except TargetUnreachable as exc:
                last = exc
        if last is None:
            try:
                last = self._live(then)
            except TargetUnreachable as exc:
                last = exc
        delivered = [
            a if isinstance(a, Exception) else self._deliver(a, r)
            for a, r in zip(answers, hostile, strict=True)
        ]
        return delivered, last if isinstance(last, TargetUnreachable) else self._deliver(last, then)

    def _result(self, slot: Future[Sent]) -> Sent | None:
        """The planned answer (waiting for it), None when it was cancelled; raises what the send raised."""
        try:
            return slot.result()
        except CancelledError:
            return None

    def _live(
        self,
        request: ApiRequest,
        *,
        alone: bool | None = None,
        retry_rate_limits: bool = True,
        may_close: bool = False,
    ) -> Sent:
        self.live += 1
        sent_at = time.time()
        exchange = self.transport.send(request, retry_rate_limits=retry_rate_limits, may_close=may_close)
        return Sent(exchange, sent_at, alone=self.prefetcher is None if alone is None else alone)

    def _deliver(self, sent: Sent, request: ApiRequest) -> Exchange:
        exchange = sent.exchange
        if exchange.request is not request:  # a shared answer: the test's own description and labels
            exchange = replace(exchange, request=request)
        self._alone[id(exchange)] = (exchange, sent.alone)
        for observe in list(self.observers):
            observe(exchange, sent.sent_at)
        return exchange
