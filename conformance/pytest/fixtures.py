"""The fixtures the suite's tests use: settings, target, client, recorder, verify, judge.

Configuration reaches a test only through these (``Settings`` → fixtures → code); library code
never reads options or the environment. Outside the suite they skip, so a project that merely has
the package installed is not disturbed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from conformance.client import TargetClient, TargetUnreachable
from conformance.exchange import ApiRequest, Exchange
from conformance.pytest.state import recorder_key, settings_key, state_key
from conformance.pytest.target import target_client
from conformance.redact import Redactor
from conformance.selection import selected_clauses
from conformance.settings import Settings
from conformance.spec import Level
from conformance.verdicts import Violation

if TYPE_CHECKING:
    from conformance.runner import Recorder

SAMPLES_PER_TEST = 1  # success videos kept for the HTML report, per test


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
    from conformance.runner import Recorder  # checks load PyAV and OpenCV: only when the suite runs

    state = request.config.stash[state_key]
    selected = selected_clauses(livephoto_settings)
    if state.collected_clauses is not None:
        selected = frozenset(
            state.collected_clauses if selected is None else selected & state.collected_clauses
        )
    rec = Recorder(
        settings=livephoto_settings,
        redactor=Redactor([livephoto_settings.api_key]),
        selected=selected,
        nodeid=request.node.nodeid,
    )
    request.node.stash[recorder_key] = rec
    sent: list[Exchange] = []
    client.observers.append(sent.append)
    try:
        yield rec
    finally:
        client.observers.remove(sent.append)
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
    """Save one good success video per test so the HTML report can play it."""
    if len(recorder.samples) >= SAMPLES_PER_TEST or not exchange.video_b64:
        return
    from conformance.media import decode_base64_strict, save_video

    path = save_video(decode_base64_strict(exchange.video_b64), settings.artefacts_dir / "samples", "success")
    recorder.samples.append((str(path), exchange.request.description))


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
