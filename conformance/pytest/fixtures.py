"""The fixtures the suite's tests use: settings, target, client, recorder, verify, judge.

Configuration reaches a test only through these (``Settings`` → fixtures → code); library code
never reads options or the environment. Outside the suite they skip, so a project that merely has
the package installed is not disturbed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from conformance.client import TargetUnreachable
from conformance.engine.groups import Group
from conformance.engine.schedule import OverBudget, PlannedClient
from conformance.exchange import ApiRequest, Exchange
from conformance.pytest.collection import item_clauses
from conformance.pytest.planning import over_budget_checks
from conformance.pytest.state import recorder_key, settings_key, state_key, timings_key
from conformance.pytest.target import target_client
from conformance.redact import Redactor
from conformance.reports.latency import Timing
from conformance.reports.model import Sample
from conformance.selection import selected_clauses
from conformance.settings import Settings
from conformance.spec import Level
from conformance.verdicts import Violation

if TYPE_CHECKING:
    from conformance.engine import Recorder
    from conformance.suite._shared import Judge, Verify

# Success videos kept for the HTML report, per test: one per distinct (image format, type) of the
# request, so a test sending many kinds of valid request offers the report distinct inputs.
SAMPLES_PER_TEST = 9  # 3 formats (LP-REQ-6) × 3 types (0, 1, absent: LP-REQ-5)
CONCURRENCY_CLAUSE = "LP-OPS-2"  # its test's exchanges are charted apart (concurrent requests)
SUCCESS_GROUPS = {Group.BURST, Group.IDENTICAL_PAIR, Group.FRAMING_PAIR, Group.ABSENT_TYPE_PAIR}
RATE_LIMIT_CLAUSE = "LP-ERR-12"  # the clause whose tests provoke rate limits on purpose
TYPE_CLAUSE = "LP-ERR-5"  # the failure that is about the type itself
# §5 failures about the image itself: its format, content, size, resolution or face (LP-ERR-4..10).
IMAGE_CLAUSES = {f"LP-ERR-{n}" for n in range(4, 11)}
TYPE_NAMES = {"0": "avatar", "1": "full body", "absent": "avatar"}


@pytest.fixture(scope="session")
def livephoto_settings(pytestconfig: pytest.Config) -> Settings:
    """The run's resolved settings (suite tests only)."""
    settings = pytestconfig.stash.get(settings_key, None)
    if settings is None:
        pytest.skip("the conformance suite runs with --target URL or on conformance.suite")
    if pytestconfig.stash[state_key].retired:
        pytest.skip("the target is retired: it answers 404 ERROR_AI_NOT_EXISTS (LP-ERR-15)")
    return settings


@pytest.fixture(scope="session")
def target_url(livephoto_settings: Settings) -> str:
    """The base URL of the implementation under test."""
    return livephoto_settings.target_url


@pytest.fixture(scope="session")
def client(pytestconfig: pytest.Config, livephoto_settings: Settings) -> Iterator[PlannedClient]:
    """The one client of the session: the answers the plan sent ahead (``--concurrency``), live
    sends otherwise (timeouts, response cap, no redirects)."""
    sender = pytestconfig.stash[state_key].sender
    if sender is not None:
        yield sender
        return
    with target_client(livephoto_settings) as http:  # no test loop of ours (e.g. a plugin's own)
        yield PlannedClient(http)


@pytest.fixture
def recorder(
    request: pytest.FixtureRequest, livephoto_settings: Settings, client: PlannedClient
) -> Iterator[Recorder]:
    """Runs checks and records their outcomes for this test.

    Every exchange the test sends, however it was judged, is also judged against LP-OPS-1's
    latency bounds when the test ends: the bound holds for the slowest answer of the run.
    """
    from conformance.engine import Recorder  # checks load PyAV and OpenCV: only when the suite runs

    state = request.config.stash[state_key]
    selected = selected_clauses(livephoto_settings)
    if state.collected_clauses is not None:
        selected = frozenset(
            state.collected_clauses if selected is None else selected & state.collected_clauses
        )
    rec = Recorder(
        context=livephoto_settings.check_context(),
        redactor=Redactor([livephoto_settings.api_key]),
        selected=selected,
        nodeid=request.node.nodeid,
    )
    request.node.stash[recorder_key] = rec
    sent: list[Exchange] = []
    timings: list[Timing] = []
    request.node.stash[timings_key] = timings
    concurrent = CONCURRENCY_CLAUSE in item_clauses(request.node)

    def observe(exchange: Exchange, sent_at: float) -> None:
        sent.append(exchange)  # and its timing, for the report's latency charts
        timings.append(Timing(sent_at, exchange.elapsed * 1000, exchange.status, concurrent))

    client.observers.append(observe)
    try:
        yield rec
    finally:
        client.observers.remove(observe)
        rec.judge_latency(_latency_sample(sent, client))


@pytest.fixture
def verify(recorder: Recorder, client: PlannedClient, livephoto_settings: Settings) -> Verify:
    """``verify(request, expect=…)``: send a request, judge the exchange, fail on violations.

    ``expect`` is ``"success"`` or the §5 clause the request breaks. Violations at the gating
    level fail the test; weaker ones are recorded and reported (the test passes; the clause
    table and every report show them).
    """

    def send_and_judge(api_request: ApiRequest, *, expect: str) -> Exchange | None:
        try:
            exchange = client.send(api_request)
        except OverBudget as exc:  # judged on the other samples; the report names the clause
            recorder.skip(over_budget_checks(expect, api_request), str(exc))
            return None
        except TargetUnreachable as exc:
            pytest.fail(f"[{expect}] the target did not answer: {exc}", pytrace=False)
        if expect != RATE_LIMIT_CLAUSE and _rate_limited(exchange):
            from conformance.engine import plan

            recorder.skip(plan(exchange, expect=expect), _rate_limit_reason(exchange))
            return exchange
        if expect == "success" and exchange.status != 200:
            try:
                violations = judge_refusal(recorder, client, exchange)
            except TargetUnreachable as exc:
                pytest.fail(f"[{expect}] the target did not answer: {exc}", pytrace=False)
            raise_violations(violations, livephoto_settings)
            return exchange
        mark = recorder.mark()
        violations = recorder.judge(exchange, expect=expect)
        if _unconfirmed(violations, client) and not client.was_alone(exchange):
            # Answered among other requests of the run: judge an answer sent alone instead, so a
            # consequence of concurrency is not charged to this clause (LP-OPS-2 judges it).
            recorder.rollback(mark)
            try:
                exchange = client.send_alone(api_request)
            except TargetUnreachable as exc:
                pytest.fail(f"[{expect}] the target did not answer: {exc}", pytrace=False)
            violations = recorder.judge(exchange, expect=expect)
            _confirm(violations, client)
        if expect.startswith("LP-ERR-") and expect in _failing(violations):
            violations = _explained_by_factor(recorder, client, exchange, expect, mark, violations)
        if expect == "success" and not violations:
            _keep_sample(recorder, exchange, livephoto_settings)
        raise_violations(violations, livephoto_settings)
        return exchange

    return send_and_judge


def _explained_by_factor(
    recorder: Recorder,
    client: PlannedClient,
    exchange: Exchange,
    expect: str,
    mark: int,
    violations: list[Violation],
) -> list[Violation]:
    """A §5 failure on a request that also carries a factor a valid request may carry — ``type`` 1
    or no type, unknown fields, an image that is only the carrier of another error — is judged
    again on the same request without it (sent alone, once). When that one is refused as the clause
    says, the failure was the factor's: a type 1 refused (LP-OK-1), an absent type not taken as 0
    (LP-REQ-5), unknown fields refused (LP-REQ-7), the carrier image's format refused (LP-REQ-6);
    the clause's checks are blocked by it (D-12)."""
    from conformance.engine import plan

    for owner, why, variant in _without_factors(exchange.request, expect):
        answer = client.alone_once(variant)
        trial = recorder.mark()
        still = expect in _failing(recorder.judge(answer, expect=expect))
        recorder.rollback(trial)
        if still:
            continue
        recorder.rollback(mark)
        checks = plan(exchange, expect=expect)
        own = [c for c in checks if check_clause(c) == expect]
        found = recorder.run_all([c for c in checks if c not in own], exchange)
        recorder.block(own, owner, f"the same request {why} is refused as {expect} says")
        return found
    return violations


def _without_factors(request: ApiRequest, expect: str) -> list[tuple[str, str, ApiRequest]]:
    """The request without each factor a valid request may carry: (owner clause, how, request)."""
    from dataclasses import replace

    from conformance.exchange import Part
    from conformance.strategies.isolation import baseline

    if request.raw_body is not None or not request.parts:
        return []
    variants: list[tuple[str, str, ApiRequest]] = []
    typed = [p for p in request.parts if p.name == "type" and p.filename is None]
    if expect != TYPE_CLAUSE and (not typed or typed[0].content == b"1"):
        zero = Part("type", b"0")
        parts = (
            tuple(zero if p is typed[0] else p for p in request.parts) if typed else (*request.parts, zero)
        )
        owner = "LP-OK-1" if typed else "LP-REQ-5"
        variants.append((owner, "with type=0", replace(request, parts=parts)))
    # Unknown text fields (LP-REQ-7); a file under another name is not one (LP-ERR-3 sends it).
    extra = [p for p in request.parts if p.filename is None and p.name not in ("type", "image_target")]
    if extra:
        kept = tuple(p for p in request.parts if p not in extra)
        variants.append(("LP-REQ-7", "without its unknown fields", replace(request, parts=kept)))
    image = next((p for p in request.parts if p.name == "image_target" and p.filename), None)
    plain = next(p for p in baseline().parts if p.name == "image_target")
    if (
        expect not in IMAGE_CLAUSES
        and _valid_carrier(request)
        and image is not None
        and image.content != plain.content
    ):
        parts = tuple(plain if p is image else p for p in request.parts)
        variants.append(
            ("LP-REQ-6", "with a plain JPEG face photo", replace(request, parts=parts, image=None))
        )
    return [
        (owner, why, replace(v, description=f"{request.description}; {why}")) for owner, why, v in variants
    ]


def _valid_carrier(request: ApiRequest) -> bool:
    """Whether the request's image is a valid face photo (a mere carrier of another error), not an
    image the failure is about (a bomb, a file over 5 MiB: LP-ERR-1's "auth before the body")."""
    from conformance.protocol.request import MAX_IMAGE_BYTES, MAX_SIDE

    info = request.image
    if info is None or info.has_face is not True:
        return False
    return info.size <= MAX_IMAGE_BYTES and max(info.width, info.height) <= MAX_SIDE


def _framed_alike_alone(recorder: Recorder, client: PlannedClient, burst: list[Exchange]) -> str | None:
    """LP-OPS-2 failed on the burst: when a type 1 request of it gets a wrong shape alone too, the
    shape is LP-VID-6's defect, not a video handed over under concurrency. The reason, or None."""
    from conformance.checks.video import video_keeps_aspect_ratio_full_body

    for exchange in burst:
        if exchange.status != 200 or exchange.request.type_value != "1":
            continue
        alone = client.alone_once(exchange.request)
        trial = recorder.mark()
        wrong = _failing(recorder.run_all([video_keeps_aspect_ratio_full_body], alone))
        recorder.rollback(trial)
        if wrong:
            return f"{alone.request.description} gets a wrong shape alone too"
    return None


def _refused_member(
    recorder: Recorder, client: PlannedClient, checks: Any, exchanges: list[Exchange]
) -> list[Violation] | None:
    """A group of valid requests (a burst, a pair) one of which is refused alone too: the refusal
    is that request's own defect (its root clause, found by ``judge_refusal``), and the group's
    checks are blocked by it. None when every member succeeds, or succeeds alone (a refusal only
    among others is the burst's to judge: LP-OPS-2)."""
    for exchange in exchanges:
        if exchange.status == 200 or _rate_limited(exchange):
            continue
        alone = exchange if client.was_alone(exchange) else client.alone_once(exchange.request)
        if alone.status == 200:
            continue
        found = judge_refusal(recorder, client, alone)
        roots = sorted(_failing(found)) or ["LP-OK-1"]
        recorder.block(list(checks), roots[0], f"{alone.request.description} is refused alone too")
        return found
    return None


def judge_refusal(recorder: Recorder, client: PlannedClient, exchange: Exchange) -> list[Violation]:
    """Judge a valid request the target refused, naming the factor at fault (issue 18).

    The answer's envelope and error checks are judged as usual. The success checks are judged on
    the plainest valid request and on one follow-up per factor of the refused request (its image,
    its ``type``, its key header casing, its multipart form, its unknown fields): the clause of a
    factor refused alone fails, and the refused request's own success checks are recorded as
    blocked by it. A plain request refused too is LP-OK-1's failure; a combination refused while
    each factor passes alone is LP-OK-1's as well. Extra requests are spent only here.
    """
    from conformance.checks.success import valid_request_succeeds
    from conformance.engine import LABEL_CHECKS, SUCCESS, plan
    from conformance.strategies.isolation import baseline, factors

    if not client.was_alone(exchange):
        exchange = client.send_alone(exchange.request)  # refused among others: ask again alone
        if exchange.status == 200:
            return recorder.judge(exchange, expect="success")
    success_side = [c for c in (*SUCCESS, *LABEL_CHECKS.values()) if c.__name__ != "endpoint_answers_post"]
    planned = plan(exchange, expect="success")
    own = [c for c in planned if c in success_side]
    violations = recorder.run_all([c for c in planned if c not in success_side], exchange)
    if any(v.clause == "LP-REQ-1" for v in violations):
        recorder.block(own, "LP-REQ-1", "the endpoint itself did not answer")
        return violations
    split = factors(exchange.request)
    if not split:
        return violations + recorder.run_all(own, exchange)
    plain = client.alone_once(baseline())
    if plain.status != 200:
        found = recorder.run_all([valid_request_succeeds], plain)
        recorder.block(own, "LP-OK-1", "the plainest valid request is refused too")
        return violations + found
    roots: list[str] = []
    for factor in split:
        answer = client.alone_once(factor.request)
        if answer.status != 200:
            violations += recorder.run_all([LABEL_CHECKS.get(factor.clause, valid_request_succeeds)], answer)
            roots.append(f"{factor.clause} ({factor.what} is refused alone)")
    if not roots:  # every factor passes alone: the combination is refused, LP-OK-1's failure
        found = recorder.run_all([valid_request_succeeds], exchange)
        recorder.block(
            [c for c in own if c is not valid_request_succeeds], "LP-OK-1", "the combination is refused"
        )
        return violations + found
    root = roots[0].split(" ", 1)[0]
    recorder.block(own, root, "; ".join(roots))
    return violations


def _keep_sample(recorder: Recorder, exchange: Exchange, settings: Settings) -> None:
    """Save a good success video so the HTML report can show it beside its input: one per
    distinct (image format, type) of this test's requests (the report picks among every test's).
    A hand-built body whose parts are not described is not a sample: its input is unknown."""
    image = exchange.request.image
    type_value = _type_of(exchange)
    kept = {(s.image_format, s.type_value) for s in recorder.samples}
    if image is None or len(kept) >= SAMPLES_PER_TEST or (image.format, type_value) in kept:
        return
    photo = exchange.input_image()
    if not photo or not exchange.video_b64:
        return
    from conformance.media import decode_base64_strict, save_video

    path = save_video(decode_base64_strict(exchange.video_b64), settings.artefacts_dir / "samples", "success")
    kind = TYPE_NAMES.get(type_value, "?")
    caption = f"{image.format} {image.width}×{image.height}, type {type_value} ({kind})"
    recorder.samples.append(
        Sample(str(path), caption, photo, image_format=image.format, type_value=type_value)
    )


def _type_of(exchange: Exchange) -> str:
    """The request's ``type`` field as sent: "0", "1", or "absent" (LP-REQ-5: then it is 0)."""
    values = [p.content for p in exchange.request.parts if p.filename is None and p.name == "type"]
    return values[0].decode("utf-8", "replace") if values else "absent"


@pytest.fixture
def judge(recorder: Recorder, client: PlannedClient, livephoto_settings: Settings) -> Judge:
    """``judge(group, *exchanges)``: judge exchanges already sent as what the test says they are
    (``engine.Group``: a burst, an identical pair, …); the engine picks the checks. Fails on
    violations at the gating level."""

    def run_checks(group: Group, *exchanges: Any) -> None:
        from conformance.engine import GROUP_PLANS

        checks = GROUP_PLANS[group]
        if group in SUCCESS_GROUPS:
            found = _refused_member(recorder, client, checks, _exchanges_in(exchanges))
            if found is not None:
                raise_violations(found, livephoto_settings)
                return
        limited = [e for e in _exchanges_in(exchanges) if _rate_limited(e)]
        if limited and not _judges_concurrency(checks) and not _judges_rate_limits(checks):
            recorder.skip(list(checks), _rate_limit_reason(limited[0]))
            return
        mark = recorder.mark()
        violations = recorder.run_all(checks, *exchanges)
        if group is Group.BURST and _failing(violations):
            framed = _framed_alike_alone(recorder, client, _exchanges_in(exchanges))
            if framed is not None:
                recorder.rollback(mark)
                recorder.block(list(checks), "LP-VID-6", framed)
                return
        concurrent = [e for e in _exchanges_in(exchanges) if not client.was_alone(e)]
        if _unconfirmed(violations, client) and concurrent and not _judges_concurrency(checks):
            # As in ``verify``: the same requests, each answered alone, are what the checks judge.
            recorder.rollback(mark)
            try:
                exchanges = _resent_alone(exchanges, client)
            except TargetUnreachable as exc:
                pytest.fail(f"the target did not answer: {exc}", pytrace=False)
            violations = recorder.run_all(checks, *exchanges)
            _confirm(violations, client)
        raise_violations(violations, livephoto_settings)

    return run_checks


def _rate_limited(exchange: Exchange) -> bool:
    """A rate-limit answer (LP-ERR-12) the client still got after backing off."""
    from conformance.checks.operations import RATE_LIMIT_ANSWERS

    return (exchange.status, exchange.code) in RATE_LIMIT_ANSWERS


def _rate_limit_reason(exchange: Exchange) -> str:
    return (
        f"the target answered HTTP {exchange.status} {exchange.code} (a rate limit) even after "
        "backing off as Retry-After asked: not judged, never counted as a failure"
    )


def _judges_rate_limits(checks: Any) -> bool:
    """Whether the checks judge a provoked rate limit or quota (LP-ERR-12, -13, -15's fault states)."""
    from conformance.registry import check_of

    return any(check_of(check).clause.id.startswith("LP-ERR-") for check in checks)


def _latency_sample(sent: list[Exchange], client: PlannedClient) -> list[Exchange]:
    """The exchanges LP-OPS-1 judges: one answered among other requests of the run that took
    longer than the bound is sent again alone (a queue the run itself caused is not slowness)."""
    from conformance.checks.operations import ERROR_BUDGET, SUCCESS_BUDGET

    judged: list[Exchange] = []
    for exchange in sent:
        bound, kind = (SUCCESS_BUDGET, "success") if exchange.status == 200 else (ERROR_BUDGET, "error")
        confirmed = f"LP-OPS-1 {kind}" in client.confirmed  # slow alone already: no more solo sends
        if exchange.elapsed > bound and not client.was_alone(exchange) and not confirmed:
            with contextlib.suppress(TargetUnreachable):
                exchange = client.send_alone(exchange.request)
            if exchange.elapsed > bound:
                client.confirmed.add(f"LP-OPS-1 {kind}")
        judged.append(exchange)
    return judged


def check_clause(check: Any) -> str:
    from conformance.registry import check_of

    return check_of(check).clause.id


def _failing(violations: list[Violation]) -> set[str]:
    """The clauses of the violations that can fail a run (MAY findings are information)."""
    return {v.clause for v in violations if v.level is not None and not Level(v.level).informational}


def _unconfirmed(violations: list[Violation], client: PlannedClient) -> bool:
    """Whether a violation among concurrent answers still needs its solo send: its clause has not
    failed on an answer sent alone yet (then the failure is established; no send per exchange)."""
    return bool(_failing(violations) - client.confirmed)


def _confirm(violations: list[Violation], client: PlannedClient) -> None:
    client.confirmed |= _failing(violations)


def _judges_concurrency(checks: Any) -> bool:
    """Whether the checks are about concurrency itself (LP-OPS-2): never judged on solo answers."""
    from conformance.registry import check_of

    return any(check_of(check).clause.id == CONCURRENCY_CLAUSE for check in checks)


def _exchanges_in(args: Any) -> list[Exchange]:
    found: list[Exchange] = []
    for arg in args:
        if isinstance(arg, Exchange):
            found.append(arg)
        elif isinstance(arg, list | tuple):
            found += _exchanges_in(arg)
    return found


def _resent_alone(args: Any, client: PlannedClient) -> tuple[Any, ...]:
    """The check arguments with every exchange replaced by its request answered alone."""
    out: list[Any] = []
    for arg in args:
        if isinstance(arg, Exchange):
            out.append(client.send_alone(arg.request))
        elif isinstance(arg, list | tuple):
            out.append(type(arg)(_resent_alone(arg, client)))
        else:
            out.append(arg)
    return tuple(out)


def raise_violations(violations: list[Violation], settings: Settings) -> None:
    """Fail the test on a violation at the gating level. Weaker ones do not fail it: they are
    recorded, and the clause table and every report show them as failures of their level."""
    gating = [v for v in violations if v.level is not None and Level(v.level).gates(settings.level)]
    if gating:
        raise gating[0]
