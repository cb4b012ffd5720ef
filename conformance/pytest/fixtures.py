"""The fixtures the suite's tests use: settings, target, client, recorder, verify, judge.

Configuration reaches a test only through these (``Settings`` → fixtures → code); library code
never reads options or the environment. Outside the suite they skip, so a project that merely has
the package installed is not disturbed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from conformance.client import TargetClient, TargetUnreachable
from conformance.exchange import ApiRequest, Exchange
from conformance.pytest.collection import item_clauses
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

# Success videos kept for the HTML report, per test: one per distinct (image format, type) of the
# request, so a test sending many kinds of valid request offers the report distinct inputs.
SAMPLES_PER_TEST = 9  # 3 formats (LP-REQ-6) × 3 types (0, 1, absent: LP-REQ-5)
CONCURRENCY_CLAUSE = "LP-OPS-2"  # its test's exchanges are charted apart (concurrent requests)
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
def client(livephoto_settings: Settings) -> Iterator[TargetClient]:
    """The one HTTP client of the session (timeouts, response cap, no redirects)."""
    with target_client(livephoto_settings) as http:
        yield http


@pytest.fixture
def recorder(
    request: pytest.FixtureRequest, livephoto_settings: Settings, client: TargetClient
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

    def observe(exchange: Exchange) -> None:
        sent.append(exchange)  # and its timing, for the report's latency charts
        sent_at = time.time() - exchange.elapsed
        timings.append(Timing(sent_at, exchange.elapsed * 1000, exchange.status, concurrent))

    client.observers.append(observe)
    try:
        yield rec
    finally:
        client.observers.remove(observe)
        rec.judge_latency(sent)


@pytest.fixture
def verify(recorder: Recorder, client: TargetClient, livephoto_settings: Settings) -> Any:
    """``verify(request, expect=…)``: send a request, judge the exchange, fail on violations.

    ``expect`` is ``"success"`` or the §5 clause the request breaks. Violations at the gating
    level fail the test; weaker ones are recorded and reported (the test passes; the clause
    table and every report show them).
    """

    def send_and_judge(api_request: ApiRequest, *, expect: str) -> Any:
        try:
            exchange = client.send(api_request)
        except TargetUnreachable as exc:
            pytest.fail(f"[{expect}] the target did not answer: {exc}", pytrace=False)
        violations = recorder.judge(exchange, expect=expect)
        if expect == "success" and not violations:
            _keep_sample(recorder, exchange, livephoto_settings)
        raise_violations(violations, livephoto_settings)
        return exchange

    return send_and_judge


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
def judge(recorder: Recorder, livephoto_settings: Settings) -> Any:
    """``judge(checks, *exchanges)``: run the given checks on exchanges already sent; fail on violations."""

    def run_checks(checks: Any, *exchanges: Any) -> None:
        raise_violations(recorder.run_all(checks, *exchanges), livephoto_settings)

    return run_checks


def raise_violations(violations: list[Violation], settings: Settings) -> None:
    """Fail the test on a violation at the gating level. Weaker ones do not fail it: they are
    recorded, and the clause table and every report show them as failures of their level."""
    gating = [v for v in violations if v.level is not None and Level(v.level).rank <= settings.level.rank]
    if gating:
        raise gating[0]
