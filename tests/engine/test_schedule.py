"""The prefetcher against a real server (issue 18): the orderings the clauses need hold under
concurrency, the concurrency bound holds, tests take their planned answers, ``--budget`` leaves
whole units out, and a request sent alone has nothing else of the run in flight."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future

import pytest

from conformance.client import ClientSettings, TargetClient
from conformance.engine.schedule import OverBudget, PlannedClient, Prefetcher, RunPlan, Sent, Unit, UnitKind
from conformance.exchange import ApiRequest, Exchange, Part, TargetGone, TargetUnreachable
from tests.factories import API_KEY
from tests.hostile import servers as zoo

DELAY = 0.25  # s each answer takes: long enough for overlaps to show, short for the test
OK = zoo.answer(b'{"error_code": 0, "data": {}}')
TEST = "tests/engine::planned"


class Recording:
    """Answers every request after ``DELAY`` and records (probe name, arrived, answered)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, float, float]] = []
        self._lock = threading.Lock()

    def __call__(self, conn: zoo.Connection) -> None:
        request = conn.read_request()
        if request is None:
            return
        arrived = time.monotonic()
        if not conn.wait(DELAY):
            return
        # Stamped before the answer leaves: a request the client sends once it has the answer
        # arrives after this stamp (stamped after the send, a busy machine could reorder them).
        answered = time.monotonic()
        with self._lock:
            self.log.append((request.headers.get("x-probe", "?"), arrived, answered))
        conn.send(OK)

    def window(self, prefix: str) -> tuple[float, float]:
        """From the first arrival to the last answer of the requests named ``prefix…``."""
        rows = [(a, b) for name, a, b in self.log if name.startswith(prefix)]
        return min(a for a, _ in rows), max(b for _, b in rows)

    def most_in_flight(self) -> int:
        events = sorted([(a, 1) for _, a, _ in self.log] + [(b, -1) for _, _, b in self.log])
        most = current = 0
        for _, step in events:
            current += step
            most = max(most, current)
        return most


def probe(name: str) -> ApiRequest:
    """A distinct request the server can name."""
    return ApiRequest(
        description=name,
        headers=(("X-Probe", name),),
        parts=(Part("image_target", name.encode(), "a.jpg", "image/jpeg"),),
    )


@pytest.fixture
def target() -> Iterator[tuple[Recording, TargetClient]]:
    recording = Recording()
    with (
        zoo.serve(recording) as server,
        TargetClient(ClientSettings(base_url=server.url, api_key=API_KEY, timeout=10)) as client,
    ):
        yield recording, client


def run(plan: RunPlan, client: TargetClient, concurrency: int) -> PlannedClient:
    """Send the whole plan and wait until it is done."""
    prefetcher = Prefetcher(client, plan, concurrency)
    prefetcher.start()
    assert prefetcher.done.wait(30), "the plan was not sent within 30 s"
    return PlannedClient(client, plan, prefetcher)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_no_more_than_the_concurrency_in_flight(
    concurrency: int, target: tuple[Recording, TargetClient]
) -> None:
    recording, client = target
    plan = RunPlan()
    for i in range(12):
        plan.single(TEST, probe(f"s{i}"))
    started = time.monotonic()
    run(plan, client, concurrency=concurrency)
    assert len(recording.log) == 12
    assert recording.most_in_flight() == concurrency
    if concurrency > 1:
        assert time.monotonic() - started < 12 * DELAY  # concurrent, not one after the other


def test_a_burst_goes_all_at_once_and_alone(target: tuple[Recording, TargetClient]) -> None:
    """LP-OPS-2: exactly 8 in flight at once, whatever --concurrency, and nothing else with them."""
    recording, client = target
    plan = RunPlan()
    for i in range(6):
        plan.single(TEST, probe(f"before{i}"))
    plan.burst(TEST, [probe(f"burst{i}") for i in range(8)])
    for i in range(6):
        plan.single(TEST, probe(f"after{i}"))
    run(plan, client, concurrency=2)
    burst = [(a, b) for name, a, b in recording.log if name.startswith("burst")]
    assert len(burst) == 8
    assert max(a for a, _ in burst) < min(b for _, b in burst), "the 8 were not all in flight at once"
    start, end = recording.window("burst")
    others = [(a, b) for name, a, b in recording.log if not name.startswith("burst")]
    assert all(b <= start or a >= end for a, b in others), "another request overlapped the burst"


def test_a_wave_runs_last_and_its_valid_request_after_every_hostile_answer(
    target: tuple[Recording, TargetClient],
) -> None:
    """LP-SEC-4: the hostile requests after everything else, the valid one after all of them."""
    recording, client = target
    plan = RunPlan()
    plan.wave(TEST, [probe("first"), *(probe(f"hostile{i}") for i in range(3))], probe("valid"))
    for i in range(8):
        plan.single(TEST, probe(f"single{i}"))
    plan.chain(TEST, [probe("chain0"), probe("chain1")])
    run(plan, client, concurrency=8)
    hostile_start, hostile_end = recording.window("hostile")
    first_start, first_end = recording.window("first")
    assert first_start >= max(recording.window("single")[1], recording.window("chain")[1])
    assert hostile_start >= first_end  # the first hostile request alone, its status unspoilt
    assert recording.window("valid")[0] >= hostile_end
    hostile = [(a, b) for name, a, b in recording.log if name.startswith("hostile")]
    assert max(a for a, _ in hostile) < min(b for _, b in hostile), "the hostile requests went one by one"


def closes_on_hostile(conn: zoo.Connection) -> None:
    """Closes the connection without an answer on every hostile probe (LP-SEC-3 allows it) and
    answers the others: a target that lives on."""
    request = conn.read_request()
    if request is not None and not request.headers.get("x-probe", "").startswith(("first", "hostile")):
        conn.send(OK)


def dies_on_the_first_hostile(dead: threading.Event) -> zoo.Behaviour:
    def behaviour(conn: zoo.Connection) -> None:
        request = conn.read_request()
        if request is None or dead.is_set() or request.headers.get("x-probe") == "first":
            dead.set()
            return
        conn.send(OK)

    return behaviour


def wave_requests() -> tuple[list[ApiRequest], ApiRequest]:
    return [probe("first"), *(probe(f"hostile{i}") for i in range(4))], probe("valid")


def wave_against(
    behaviour: zoo.Behaviour, planned: bool
) -> tuple[list[Exchange | Exception], Exchange | TargetUnreachable, TargetClient]:
    """Five hostile requests then a valid one, prefetched (``planned``) or sent live."""
    hostile, valid = wave_requests()
    with (
        zoo.serve(behaviour) as server,
        TargetClient(ClientSettings(base_url=server.url, api_key=API_KEY, timeout=5)) as client,
    ):
        plan = RunPlan()
        plan.wave(TEST, hostile, valid)
        sender = run(plan, client, concurrency=8) if planned else PlannedClient(client)
        sender.current = TEST
        answers, survivor = sender.wave(hostile, valid)
        if isinstance(survivor, Exchange):
            assert client.send(probe("after")).status == 200
        return answers, survivor, client


@pytest.mark.parametrize("planned", [True, False], ids=["prefetched", "live"])
def test_hostile_requests_left_unanswered_do_not_open_the_breaker(planned: bool) -> None:
    """Regression: five hostile requests closed unanswered opened the breaker, so the valid request
    after them was never sent and LP-SEC-4 could not be judged on a target that lives on."""
    answers, survivor, client = wave_against(closes_on_hostile, planned)
    assert all(isinstance(answer, TargetUnreachable) for answer in answers)
    assert isinstance(survivor, Exchange) and survivor.status == 200
    assert client.consecutive_failures == 0


@pytest.mark.parametrize("planned", [True, False], ids=["prefetched", "live"])
def test_a_target_dead_after_the_hostile_requests_leaves_the_survivor_unanswered(planned: bool) -> None:
    """The valid request after them is sent and its missing answer is returned (LP-SEC-4 fails), not
    ``TargetGone`` (which says nothing was sent)."""
    _, survivor, _ = wave_against(dies_on_the_first_hostile(threading.Event()), planned)
    assert isinstance(survivor, TargetUnreachable) and not isinstance(survivor, TargetGone)


def test_a_wave_after_the_breaker_opened_sends_nothing() -> None:
    """Every place holds ``TargetGone``: the test says nothing could be judged."""
    hostile, valid = wave_requests()
    with (
        zoo.serve(zoo.silent) as server,
        TargetClient(ClientSettings(base_url=server.url, api_key=API_KEY, timeout=0.5)) as client,
    ):
        for _ in range(3):
            with pytest.raises(TargetUnreachable):
                client.send(probe("before"))
        seen = len(server.requests)
        answers, survivor = PlannedClient(client).wave(hostile, valid)
        assert all(isinstance(answer, TargetGone) for answer in answers)
        assert isinstance(survivor, TargetGone)
        assert len(server.requests) == seen


def test_a_chain_goes_one_request_after_the_other(target: tuple[Recording, TargetClient]) -> None:
    """LP-OPS-3's identical pair and ``ordered`` tests: each request after the previous answer."""
    recording, client = target
    plan = RunPlan()
    plan.chain(TEST, [probe(f"chain{i}") for i in range(4)])
    for i in range(8):
        plan.single(TEST, probe(f"single{i}"))
    run(plan, client, concurrency=8)
    chain = sorted((a, b) for name, a, b in recording.log if name.startswith("chain"))
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(chain))


def test_tests_take_their_planned_answers_and_share_identical_ones(
    target: tuple[Recording, TargetClient],
) -> None:
    """An identical request of two tests goes out once; ``fresh`` gets its own; a burst's requests
    answer the same requests planned as singles; an unplanned one is sent live."""
    recording, client = target
    plan = RunPlan()
    shared, member = probe("shared"), probe("member")
    plan.single("a", shared)
    plan.single("b", shared)
    plan.chain("b", [shared])  # a fresh repeat
    plan.single("c", member)
    plan.burst("d", [member, *(probe(f"burst{i}") for i in range(7))])
    plan.finish()
    sender = run(plan, client, concurrency=4)
    assert [name for name, _, _ in recording.log].count("shared") == 2  # once shared, once fresh
    assert [name for name, _, _ in recording.log].count("member") == 1  # the burst's, shared
    for test in ("a", "b"):
        sender.current = test
        assert sender.send(shared).request is shared
    sender.current = "b"
    sender.send(shared)  # its fresh repeat
    sender.current = "c"
    assert sender.send(member).status == 200
    assert sender.live == 0 and plan.misses == 0
    sender.send(probe("unplanned"))
    assert sender.live == 1 and plan.misses == 1


def test_a_budget_leaves_whole_units_out(target: tuple[Recording, TargetClient]) -> None:
    """--budget keeps the lowest-ranked success requests; a burst straddling the cut is left out
    whole, and a test taking a left-out request gets OverBudget, never a live send."""
    recording, client = target
    plan = RunPlan()
    plan.single("t", probe("first"))
    plan.burst("t", [probe(f"burst{i}") for i in range(8)])
    plan.single("t", probe("error"))  # not a success request: always sent

    def rank(request: ApiRequest, unit: Unit) -> int | None:
        if request.description == "error":
            return None
        return 0 if request.description == "first" else 1 + int(request.description[-1])

    assert plan.successes(rank) == 9
    left_out = plan.apply_budget(4, rank)
    assert len(left_out) == 8 and {u.kind for u in plan.units} == {UnitKind.SINGLE}
    sender = run(plan, client, concurrency=4)
    assert sorted(name for name, _, _ in recording.log) == ["error", "first"]
    sender.current = "t"
    with pytest.raises(OverBudget, match="--budget 4"):
        sender.burst([probe(f"burst{i}") for i in range(8)])
    assert sender.live == 0


def test_a_request_sent_alone_has_nothing_of_the_run_in_flight(
    target: tuple[Recording, TargetClient],
) -> None:
    """The answer a failed check is judged on again: the prefetcher pauses around it."""
    recording, client = target
    plan = RunPlan()
    for i in range(24):
        plan.single(TEST, probe(f"s{i}"))
    prefetcher = Prefetcher(client, plan, 4)
    sender = PlannedClient(client, plan, prefetcher)
    prefetcher.start()
    time.sleep(DELAY)  # the plan is under way
    exchange = sender.send_alone(probe("alone"))
    assert prefetcher.done.wait(30)
    assert sender.was_alone(exchange)
    start, end = recording.window("alone")
    others = [(a, b) for name, a, b in recording.log if name != "alone"]
    assert all(b <= start or a >= end for a, b in others), "a planned request overlapped the solo one"


class SlowToStart(Future[Sent]):
    """A planned slot whose send takes a moment to start: it widens the gap between a send seeing
    no pause and being counted in flight, which a busy machine opens by itself."""

    def __init__(self, entered: threading.Event) -> None:
        super().__init__()
        self.entered = entered

    def set_running_or_notify_cancel(self) -> bool:
        self.entered.set()
        time.sleep(DELAY / 2)
        return super().set_running_or_notify_cancel()


def test_a_send_starting_as_a_pause_begins_waits_for_the_solo_request(
    target: tuple[Recording, TargetClient],
) -> None:
    """Regression: a planned send that had seen no pause but was not yet counted in flight left
    next to the request meant to be answered alone (under CPU load, a concurrency fault's copy of
    one answer then reached a request judged alone, and was charged to that request's clause)."""
    recording, client = target
    plan = RunPlan()
    plan.single(TEST, probe("planned"))
    entered = threading.Event()
    plan.units[0].slots[0] = SlowToStart(entered)
    prefetcher = Prefetcher(client, plan, 4)
    sender = PlannedClient(client, plan, prefetcher)
    prefetcher.start()
    assert entered.wait(5)
    sender.send_alone(probe("alone"))
    assert prefetcher.done.wait(30)
    start, end = recording.window("alone")
    first, last = recording.window("planned")
    assert last <= start or first >= end, "the planned request overlapped the solo one"
