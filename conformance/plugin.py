"""The pytest plugin (``pytest11`` entry point): options, fixtures and hooks only.

``pytest --target URL`` runs the suite in ``conformance/suite`` against the target; without
``--target`` the suite (``pytest --pyargs conformance.suite``) runs against the embedded reference
server. In a project that merely has the package installed, the plugin stays out of the way.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance import __version__
from conformance.client import ClientSettings, TargetClient, TargetUnreachable, check_base_url
from conformance.contract import Edition
from conformance.exchange import ApiRequest
from conformance.options import (
    ENV_KEY,
    register_hypothesis_profiles,
    resolve_settings,
    selected_clauses,
)
from conformance.redact import Redactor
from conformance.reports.model import CheckResult, RunReport, Sample, aggregate
from conformance.settings import FAULT_STATES, Settings
from conformance.spec import FAMILIES, Level, catalogue
from conformance.verdicts import Verdict, Violation

if TYPE_CHECKING:
    from conformance.runner import Recorder

SUITE_DIR = Path(__file__).resolve().parent / "suite"
RESULTS_PROPERTY = "livephoto_results"

settings_key = pytest.StashKey[Settings]()
results_key = pytest.StashKey[list[CheckResult]]()
state_key = pytest.StashKey[dict[str, Any]]()
recorder_key = pytest.StashKey["Recorder"]()
unanswered_key = pytest.StashKey[list[CheckResult]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The suite's options; all in one group so ``pytest --help`` shows them together."""
    group = parser.getgroup("livephoto", "Live Photos API conformance suite")
    group.addoption("--target", metavar="URL", help="base URL of the implementation under test")
    group.addoption("--api-key", metavar="KEY", help=f"a valid API key for the target (default: ${ENV_KEY})")
    group.addoption("--invalid-api-key", metavar="KEY", default="invalid-key-for-conformance")
    group.addoption("--edition", choices=[e.value for e in Edition], default=Edition.ANY.value)
    group.addoption(
        "--level",
        choices=["must", "should"],
        default="must",
        help="gate on MUST failures only (default) or on SHOULD failures too",
    )
    group.addoption("--max-examples", type=int, default=6, metavar="N")
    group.addoption("--request-timeout", type=float, default=60.0, metavar="S")
    group.addoption("--clause", action="append", default=[], metavar="ID", help="run only this clause")
    group.addoption(
        "--family", action="append", default=[], metavar="NAME", help=f"one of {', '.join(FAMILIES)}"
    )
    group.addoption(
        "--fault-header",
        action="append",
        default=[],
        metavar="STATE='Name: value'",
        help=f"the header that puts the target into a state ({', '.join(FAULT_STATES)})",
    )
    group.addoption("--insecure", action="store_true", help="do not verify TLS certificates")
    group.addoption("--artefacts", metavar="DIR", default=None, help="where samples and videos go")
    group.addoption("--examples-db", metavar="DIR", default=None, help="Hypothesis example database")
    group.addoption("--thorough", action="store_true", help="shrink failing examples (slower)")
    for fmt in ("json", "html", "md", "badge"):
        group.addoption(f"--report-{fmt}", metavar="PATH", default=None)


def _suite_requested(config: pytest.Config) -> bool:
    if config.getoption("target"):
        return True
    return any("conformance.suite" in arg or str(SUITE_DIR) in str(arg) for arg in config.args)


def pytest_configure(config: pytest.Config) -> None:
    """Resolve the settings once; start the embedded server when the suite runs without a target."""
    config.addinivalue_line("markers", "clause(*ids): the SPEC clauses a suite test exercises")
    if not _suite_requested(config):
        return
    target = config.getoption("target")
    workerinput = getattr(config, "workerinput", None)
    if target:
        try:
            target = check_base_url(target)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        if config.args_source != pytest.Config.ArgsSource.ARGS:
            config.args = [str(SUITE_DIR)]
    settings = resolve_settings(config, target)
    if workerinput is not None and "livephoto_target" in workerinput:
        settings = settings.with_changes(target_url=workerinput["livephoto_target"])
    elif settings.embedded:
        settings = settings.with_changes(target_url=_start_embedded(config, settings))
    seed = register_hypothesis_profiles(config, settings)
    settings = settings.with_changes(seed=seed)
    config.stash[settings_key] = settings
    config.stash[results_key] = []
    config.stash[state_key] = {"started_at": _now(), "retired": False, "samples": []}
    if workerinput is None:
        _preflight(config, settings)


def _start_embedded(config: pytest.Config, settings: Settings) -> str:
    from conformance.mock.config import ServerConfig
    from conformance.mock.runner import start_server_process

    edition = settings.edition if settings.edition is not Edition.ANY else Edition.E2026_01
    try:
        server = start_server_process(
            ServerConfig(api_keys=(settings.api_key,), edition=edition, allow_fault_header=True)
        )
    except (RuntimeError, OSError) as exc:
        first = str(exc).splitlines()[0]
        raise pytest.UsageError(f"the embedded reference server did not start: {first}") from None
    config.add_cleanup(server.stop)
    return server.url


def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker shares the controller's target (and its embedded server)."""
    settings = node.config.stash.get(settings_key, None)
    if settings is not None:
        node.workerinput["livephoto_target"] = settings.target_url
        node.workerinput["livephoto_retired"] = node.config.stash[state_key]["retired"]


def _preflight(config: pytest.Config, settings: Settings) -> None:
    """One cheap request: an unreachable target is a usage error, a retired one is reported."""
    probe = ApiRequest(description="preflight: a request without image_target")
    with _client(settings) as client:
        try:
            exchange = client.send(probe)
        except TargetUnreachable as exc:
            _write_unreachable_report(config, settings, f"cannot reach the target: {exc}")
            raise pytest.UsageError(f"cannot reach the target: {exc}") from None
    if exchange.status == 404 and exchange.code == "ERROR_AI_NOT_EXISTS":
        config.stash[state_key]["retired"] = True


def _write_unreachable_report(config: pytest.Config, settings: Settings, message: str) -> None:
    """The reports asked for, with an ``error`` verdict on every selected clause: nothing could
    be judged. The run then stops as a usage error (exit 4)."""
    selected = selected_clauses(settings)
    clauses = [c for c in catalogue() if selected is None or c in selected]
    results = [
        CheckResult("target_answers", c, catalogue()[c].level.value, Verdict.ERROR, message) for c in clauses
    ]
    _write_reports(config, aggregate(results, clauses=clauses, **_run_facts(config, settings)))


def _run_facts(config: pytest.Config, settings: Settings) -> dict[str, Any]:
    """The report's description of this run (everything but the results)."""
    return {
        "kind": "suite",
        "suite_version": __version__,
        "target_url": settings.target_url,
        "edition": settings.edition.value,
        "level": settings.level.value,
        "seed": settings.seed,
        "started_at": config.stash[state_key]["started_at"],
        "finished_at": _now(),
        "config": settings.redacted(),
    }


def _client(settings: Settings) -> TargetClient:
    return TargetClient(
        ClientSettings(
            base_url=settings.target_url,
            api_key=settings.api_key,
            invalid_api_key=settings.invalid_api_key,
            timeout=settings.request_timeout,
            verify=not settings.insecure,
            sample_dir=settings.artefacts_dir / "samples",
        )
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """Echo the target, edition, level and seed so every run can be reproduced."""
    settings = config.stash.get(settings_key, None)
    if settings is None:
        return None
    where = "embedded reference server at " if settings.embedded else ""
    return [
        f"livephoto-conformance {__version__}: target {where}{settings.target_url}",
        f"edition {settings.edition}, gating level {settings.level}, max examples "
        f"{settings.max_examples}, seed {settings.seed} (reproduce with --hypothesis-seed={settings.seed})",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--clause`` / ``--family``: keep the suite tests whose clauses intersect the selection."""
    settings = config.stash.get(settings_key, None)
    selected = selected_clauses(settings) if settings else None
    if selected is None:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        clauses = {c for mark in item.iter_markers("clause") for c in mark.args}
        (keep if not clauses or clauses & selected else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _is_retired(config: pytest.Config) -> bool:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return bool(workerinput.get("livephoto_retired"))
    return bool(config.stash[state_key]["retired"])


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def livephoto_settings(pytestconfig: pytest.Config) -> Settings:
    """The run's resolved settings (suite tests only)."""
    settings = pytestconfig.stash.get(settings_key, None)
    if settings is None:
        pytest.skip("the conformance suite runs with --target URL or on conformance.suite")
    if _is_retired(pytestconfig):
        pytest.skip("the target is retired: it answers 404 ERROR_AI_NOT_EXISTS (LP-ERR-15)")
    return settings


@pytest.fixture(scope="session")
def target_url(livephoto_settings: Settings) -> str:
    """The base URL of the implementation under test."""
    return livephoto_settings.target_url


@pytest.fixture(scope="session")
def client(livephoto_settings: Settings) -> Iterator[TargetClient]:
    """The one HTTP client of the session (timeouts, response cap, no redirects)."""
    with _client(livephoto_settings) as http:
        yield http


@pytest.fixture
def recorder(request: pytest.FixtureRequest, livephoto_settings: Settings) -> Recorder:
    """Runs checks and records their outcomes for this test."""
    from conformance.runner import Recorder  # checks load PyAV and OpenCV: only when the suite runs

    rec = Recorder(
        settings=livephoto_settings,
        redactor=Redactor([livephoto_settings.api_key]),
        selected=selected_clauses(livephoto_settings),
        nodeid=request.node.nodeid,
    )
    request.node.stash[recorder_key] = rec
    return rec


@pytest.fixture
def verify(recorder: Recorder, client: TargetClient, livephoto_settings: Settings) -> Any:
    """``verify(request, expect=…)``: send a request, judge the exchange, fail on violations.

    ``expect`` is ``"success"`` or the §5 clause the request breaks. Violations at the gating
    level fail the test; weaker ones are recorded and reported (the test then xfails).
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


SAMPLES_PER_TEST = 1  # success videos kept for the HTML report, per test


def _keep_sample(recorder: Recorder, exchange: Any, settings: Settings) -> None:
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
    """Fail the test on a violation at the gating level; xfail on weaker ones."""
    gating = [v for v in violations if _gates(v, settings)]
    if gating:
        raise gating[0]
    if violations:
        pytest.xfail(
            "; ".join(f"{v.clause} {v.level} violated (not gating at --level must)" for v in violations)
        )


def _gates(violation: Violation, settings: Settings) -> bool:
    if violation.level == Level.MUST.value:
        return True
    return violation.level == Level.SHOULD.value and settings.level is Level.SHOULD


# ---------------------------------------------------------------- results and verdict


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Attach the test's check results (and clause ids for JUnit) to its report."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when == "call" and report.failed and call.excinfo is not None:
        _record_unanswered(item, call.excinfo.value)
    if report.when != "teardown":
        return
    for mark in item.iter_markers("clause"):
        for clause in mark.args:
            report.user_properties.append(("clause", clause))
            report.user_properties.append(("level", catalogue()[clause].level.value))
    rec = item.stash.get(recorder_key, None)
    results = [*(rec.results if rec is not None else []), *item.stash.get(unanswered_key, [])]
    samples = rec.samples if rec is not None else []
    if results or samples:
        payload = {"results": [asdict(r) for r in results], "samples": samples}
        report.user_properties.append((RESULTS_PROPERTY, json.dumps(payload)))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect results (from this process or an xdist worker) before JUnit sees the report."""
    config = _CONFIG.get("config")
    if config is None or results_key not in config.stash or hasattr(config, "workerinput"):
        return  # an xdist worker forwards the results to the controller untouched
    kept = []
    for name, value in report.user_properties:
        if name == RESULTS_PROPERTY:
            payload = json.loads(str(value))
            config.stash[results_key].extend(CheckResult(**r) for r in payload["results"])
            config.stash[state_key]["samples"].extend(payload["samples"])
        else:
            kept.append((name, value))
    report.user_properties[:] = kept


def _record_unanswered(item: pytest.Item, exc: BaseException) -> None:
    """A test that failed because the target stopped answering: an ``error`` verdict for each of
    its clauses (the suite could not judge them), never a silent "not exercised"."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, TargetUnreachable):
        cause = cause.__cause__ or (None if cause.__suppress_context__ else cause.__context__)
    settings = item.config.stash.get(settings_key, None)
    if cause is None or settings is None:
        return
    selected = selected_clauses(settings)
    message = Redactor([settings.api_key]).text(f"the target did not answer: {cause}")
    clauses = dict.fromkeys(c for mark in item.iter_markers("clause") for c in mark.args)
    item.stash[unanswered_key] = [
        CheckResult(
            check="target_answers",
            clause=clause,
            level=catalogue()[clause].level.value,
            verdict=Verdict.ERROR,
            message=message,
            nodeid=item.nodeid,
        )
        for clause in clauses
        if selected is None or clause in selected
    ]


_CONFIG: dict[str, pytest.Config] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Remember the config for the log-report hook (which receives no config)."""
    _CONFIG["config"] = session.config


def _build_report(config: pytest.Config) -> RunReport | None:
    settings = config.stash.get(settings_key, None)
    if settings is None or getattr(config, "workerinput", None) is not None:
        return None
    selected = selected_clauses(settings)
    results: list[CheckResult] = config.stash[results_key]
    return aggregate(
        results,
        clauses=sorted(selected) if selected else None,
        samples=[Sample(path, caption) for path, caption in config.stash[state_key]["samples"][:6]],
        **_run_facts(config, settings),
    )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The clause table and the verdict line; the reports written."""
    report = config.stash[state_key].get("report") if state_key in config.stash else None
    if report is None:
        return
    from conformance.reports.terminal import render_terminal

    if _is_retired(config):
        terminalreporter.write_line(
            "RETIRED: the target answers 404 ERROR_AI_NOT_EXISTS (LP-ERR-15); nothing else was judged",
            red=True,
            bold=True,
        )
    for line in render_terminal(report):
        terminalreporter.write_line(line)
    for path in _write_reports(config, report):
        terminalreporter.write_line(f"report written: {path}")


def _write_reports(config: pytest.Config, report: RunReport) -> list[Path]:
    from conformance.reports import append_step_summary, write_reports

    settings = config.stash[settings_key]
    written = write_reports(
        report,
        json=config.getoption("report_json"),
        html=config.getoption("report_html"),
        md=config.getoption("report_md"),
        badge=config.getoption("report_badge"),
        redactor=Redactor([settings.api_key]),
    )
    append_step_summary(report)
    return written


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Build the report; exit 0 when compatible at the gating level, 1 when not.

    Runs before the terminal summary (pytest's terminal reporter wraps this hook). Usage errors
    and interruptions keep their own exit code.
    """
    config = session.config
    report = _build_report(config)
    if report is None:
        return
    config.stash[state_key]["report"] = report
    if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return
    compatible = report.compatible and not _is_retired(config)
    session.exitstatus = pytest.ExitCode.OK if compatible else pytest.ExitCode.TESTS_FAILED
