"""The pytest plugin (``pytest11`` entry point): options, fixtures and hooks only.

``pytest --target URL`` runs the suite in ``conformance/suite`` against the target; without
``--target`` the suite (``pytest --pyargs conformance.suite``) runs against the embedded reference
server. In a project that merely has the package installed, the plugin stays out of the way.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance import __version__
from conformance.client import ClientSettings, TargetClient, TargetUnreachable, check_base_url
from conformance.contract import Edition
from conformance.exchange import ApiRequest, Exchange
from conformance.options import (
    ENV_KEY,
    apply_config_file,
    key_source_key,
    register_hypothesis_profiles,
    resolve_settings,
    selected_clauses,
)
from conformance.redact import Redactor
from conformance.reports.model import (
    COMPATIBLE,
    INCOMPLETE,
    NOT_COMPATIBLE,
    CheckResult,
    RunReport,
    Sample,
    aggregate,
)
from conformance.reports.paths import folder_problem, writable_problem
from conformance.settings import Settings
from conformance.spec import Level, catalogue
from conformance.verdicts import Verdict, Violation

if TYPE_CHECKING:
    from conformance.runner import Recorder

SUITE_DIR = Path(__file__).resolve().parent / "suite"
RESULTS_PROPERTY = "livephoto_results"

# The exit code follows the verdict (documented in README and docs/reports.md).
EXIT_COMPATIBLE, EXIT_NOT_COMPATIBLE, EXIT_INCOMPLETE = 0, 1, 6
EXIT_CODES = {COMPATIBLE: EXIT_COMPATIBLE, NOT_COMPATIBLE: EXIT_NOT_COMPATIBLE, INCOMPLETE: EXIT_INCOMPLETE}
KEY_REJECTED = (401, 403)  # the preflight's answer when the target does not take the valid key
REPORT_FORMATS = ("json", "html", "md", "badge")
ALWAYS_JUDGED = frozenset({"LP-OPS-1"})  # judged on every exchange of every test (Recorder.judge_latency)
WORKER_CLAUSES = "livephoto_clauses"  # xdist workeroutput: the clauses a worker kept

settings_key = pytest.StashKey[Settings]()
state_key = pytest.StashKey["RunState"]()
recorder_key = pytest.StashKey["Recorder"]()
unanswered_key = pytest.StashKey[list[CheckResult]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The suite's options, generated from ``conformance.option_table`` (which also generates the
    config-file keys and ``livephoto-conformance run``); one group so ``pytest --help`` shows them
    together. Options the config file may set default to None here: ``options.apply_config_file``
    fills them in (command line > environment > config file > default)."""
    from conformance.option_table import argparse_kwargs, plugin_options

    group = parser.getgroup("livephoto", "Live Photos API conformance suite")
    for option in plugin_options():
        group.addoption(*option.flags, **argparse_kwargs(option, for_pytest=True))


def _suite_requested(config: pytest.Config) -> bool:
    if config.getoption("target"):
        return True
    return any("conformance.suite" in arg or str(SUITE_DIR) in str(arg) for arg in config.args)


@dataclass
class RunState:
    """What the plugin learns during one run (controller or xdist worker)."""

    started_at: str
    retired: bool = False
    samples: list[tuple[str, str]] = field(default_factory=list)
    results: list[CheckResult] = field(default_factory=list)
    # The clauses of the tests left after collection (-k, -m, --clause, --family); None until known.
    collected_clauses: set[str] | None = None
    report: RunReport | None = None
    junit_path: str | None = None
    temporary_artefacts: Path | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Resolve and check the settings once, before anything runs; start the embedded server when
    the suite runs without a target; check the key with one request (exit 4 when rejected)."""
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
    state = RunState(started_at=_now())
    if workerinput is None:
        apply_config_file(config)  # report paths from the config file are checked up front too
        _check_report_paths(config)
        # The suite's JUnit file has one testcase per clause, written from the report model.
        state.junit_path = config.option.xmlpath or None
        config.option.xmlpath = None
    settings = resolve_settings(config, target)
    if workerinput is not None and "livephoto_target" in workerinput:
        settings = settings.with_changes(
            target_url=workerinput["livephoto_target"], artefacts_dir=Path(workerinput["livephoto_artefacts"])
        )
        state.retired = bool(workerinput.get("livephoto_retired"))
    else:
        if not config.getoption("artefacts"):
            state.temporary_artefacts = settings.artefacts_dir
            config.add_cleanup(lambda: shutil.rmtree(settings.artefacts_dir, ignore_errors=True))
        if settings.embedded:
            settings = settings.with_changes(target_url=_start_embedded(config, settings))
    seed = register_hypothesis_profiles(config, settings)
    settings = settings.with_changes(seed=seed)
    config.stash[settings_key] = settings
    config.stash[state_key] = state
    if workerinput is None:
        _preflight(config, settings)


def _check_report_paths(config: pytest.Config) -> None:
    """Every report path must be writable before the run starts, not after it (exit 4)."""
    paths = [(f"--report-{fmt}", config.getoption(f"report_{fmt}")) for fmt in REPORT_FORMATS]
    paths.append(("--junitxml", config.option.xmlpath))
    for option, value in paths:
        if not value:
            continue
        problem = writable_problem(Path(value))
        if problem:
            raise pytest.UsageError(f"{option} {value}: {problem}")
    artefacts = config.getoption("artefacts")
    if artefacts:
        problem = folder_problem(Path(artefacts))
        if problem:
            raise pytest.UsageError(f"--artefacts {artefacts}: {problem}")


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


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist (optional): every worker shares the controller's target, embedded server and
    artefacts folder."""
    settings = node.config.stash.get(settings_key, None)
    if settings is not None:
        node.workerinput["livephoto_target"] = settings.target_url
        node.workerinput["livephoto_artefacts"] = str(settings.artefacts_dir)
        node.workerinput["livephoto_retired"] = node.config.stash[state_key].retired


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist (optional): merge the clauses each worker kept after collection."""
    state = node.config.stash.get(state_key, None)
    clauses = getattr(node, "workeroutput", {}).get(WORKER_CLAUSES)
    if state is not None and clauses is not None:
        state.collected_clauses = (state.collected_clauses or set()) | set(clauses)


def _preflight(config: pytest.Config, settings: Settings) -> None:
    """One cheap request with the valid key (no image, so no generation is billed): an
    unreachable target or a rejected key is a usage error (exit 4); a retired one is reported."""
    probe = ApiRequest(description="preflight: the valid key, a request without image_target")
    with _client(settings) as client:
        try:
            exchange = client.send(probe)
        except TargetUnreachable as exc:
            _write_unjudged_report(config, settings, f"cannot reach the target: {exc}")
            raise pytest.UsageError(f"cannot reach the target: {exc}") from None
    if exchange.status == 404 and exchange.code == "ERROR_AI_NOT_EXISTS":
        config.stash[state_key].retired = True
    elif exchange.status in KEY_REJECTED:
        code = f" {exchange.code}" if exchange.code else ""
        message = (
            f"the target rejected the key given by {_key_source(config, settings)} ({exchange.status}{code})"
        )
        _write_unjudged_report(config, settings, message)
        raise pytest.UsageError(message)


def _key_source(config: pytest.Config, settings: Settings) -> str:
    """Where the valid key came from, as options.resolve_settings found it (--api-key, an
    environment variable, the config file's api-key-env)."""
    return config.stash.get(key_source_key, f"${ENV_KEY}")


def _write_unjudged_report(config: pytest.Config, settings: Settings, message: str) -> None:
    """The reports asked for, with an ``error`` verdict on every selected clause: nothing could
    be judged (INCOMPLETE). The run then stops as a usage error (exit 4)."""
    selected = selected_clauses(settings)
    clauses = [c for c in catalogue() if selected is None or c in selected]
    results = [
        CheckResult("target_answers", c, catalogue()[c].level.value, Verdict.ERROR, message) for c in clauses
    ]
    report = aggregate(results, clauses=clauses, incomplete_reasons=[message], **_run_facts(config, settings))
    _write_reports(config, report)


def _run_facts(config: pytest.Config, settings: Settings) -> dict[str, Any]:
    """The report's description of this run (everything but the results)."""
    return {
        "kind": "suite",
        "suite_version": __version__,
        "target_url": settings.target_url,
        "edition": settings.edition.value,
        "level": settings.level.value,
        "seed": settings.seed,
        "started_at": config.stash[state_key].started_at,
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
    """Echo the target, edition, level, seed and artefacts folder so every run can be reproduced."""
    settings = config.stash.get(settings_key, None)
    if settings is None:
        return None
    where = "embedded reference server at " if settings.embedded else ""
    state = config.stash[state_key]
    kept = (
        "removed at the end; keep it with --artefacts DIR"
        if state.temporary_artefacts is not None
        else "kept"
    )
    return [
        f"livephoto-conformance {__version__}: target {where}{settings.target_url}",
        f"edition {settings.edition}, gating level {settings.level}, max examples "
        f"{settings.max_examples}, seed {settings.seed} (reproduce with --hypothesis-seed={settings.seed})",
        f"artefacts: {settings.artefacts_dir} ({kept})",
    ]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--clause`` / ``--family``: keep the suite tests whose clauses intersect the selection.

    Runs after ``-k`` / ``-m`` have deselected theirs; the clauses of the tests left are the run's
    selection (a report "for n of 46 clauses").
    """
    settings = config.stash.get(settings_key, None)
    if settings is None:
        return
    selected = selected_clauses(settings)
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        clauses = _item_clauses(item)
        (keep if selected is None or not clauses or clauses & selected else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    kept = set().union(*(_item_clauses(item) for item in keep)) if keep else set()
    if selected is not None:
        kept &= selected
    state = config.stash[state_key]
    state.collected_clauses = kept
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[WORKER_CLAUSES] = sorted(kept)


def _item_clauses(item: pytest.Item) -> set[str]:
    """The clauses a suite test exercises: its marks, and LP-OPS-1 for every test that sends
    (the recorder judges the latency of each exchange)."""
    marked = {c for mark in item.iter_markers("clause") for c in mark.args}
    return marked | (ALWAYS_JUDGED if "recorder" in getattr(item, "fixturenames", ()) else set())


# ---------------------------------------------------------------- fixtures


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
    with _client(livephoto_settings) as http:
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


SAMPLES_PER_TEST = 1  # success videos kept for the HTML report, per test


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


# ---------------------------------------------------------------- results and verdict


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Attach the test's check results to its report (xdist workers forward them)."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when == "call" and report.failed and call.excinfo is not None:
        _record_unanswered(item, call.excinfo.value)
    if report.when != "teardown":
        return
    rec = item.stash.get(recorder_key, None)
    results = [*(rec.results if rec is not None else []), *item.stash.get(unanswered_key, [])]
    samples = rec.samples if rec is not None else []
    if results or samples:
        payload = {"results": [asdict(r) for r in results], "samples": samples}
        report.user_properties.append((RESULTS_PROPERTY, json.dumps(payload)))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect results (from this process or an xdist worker) on the controller."""
    config = _CONFIG.get("config")
    if config is None or state_key not in config.stash or hasattr(config, "workerinput"):
        return  # an xdist worker forwards the results to the controller untouched
    state = config.stash[state_key]
    kept = []
    for name, value in report.user_properties:
        if name == RESULTS_PROPERTY:
            payload = json.loads(str(value))
            state.results.extend(CheckResult(**r) for r in payload["results"])
            state.samples.extend((str(p), str(c)) for p, c in payload["samples"])
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
    item.stash[unanswered_key] = [
        CheckResult(
            check="target_answers",
            clause=clause,
            level=catalogue()[clause].level.value,
            verdict=Verdict.ERROR,
            message=message,
            nodeid=item.nodeid,
        )
        for clause in sorted(_item_clauses(item))
        if selected is None or clause in selected
    ]


_CONFIG: dict[str, pytest.Config] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Remember the config for the log-report hook (which receives no config)."""
    _CONFIG["config"] = session.config


def _build_report(config: pytest.Config, exitstatus: int) -> RunReport | None:
    settings = config.stash.get(settings_key, None)
    if settings is None or getattr(config, "workerinput", None) is not None:
        return None
    state = config.stash[state_key]
    selected = selected_clauses(settings)
    clauses = set(selected) if selected is not None else set(catalogue())
    if state.collected_clauses is not None:
        clauses &= state.collected_clauses
    reasons = []
    if config.option.collectonly:
        reasons.append("only collected (--collect-only): no test request was sent")
    elif exitstatus == pytest.ExitCode.INTERRUPTED:
        reasons.append("the run was interrupted")
    elif not clauses:
        reasons.append("no test of the suite was selected (-k, -m, --clause, --family)")
    if state.retired:
        reasons.append("the target is retired (LP-ERR-15): nothing else could be judged")
    return aggregate(
        [r for r in state.results if r.clause in clauses],
        clauses=sorted(clauses, key=_clause_order),
        samples=[Sample(path, caption) for path, caption in state.samples[:6]],
        incomplete_reasons=reasons,
        **_run_facts(config, settings),
    )


def _clause_order(clause_id: str) -> int:
    order = list(catalogue())
    return order.index(clause_id) if clause_id in order else len(order)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The clause table and the verdict line; the reports written."""
    state = config.stash.get(state_key, None)
    if state is None or state.report is None:
        return
    from conformance.reports.terminal import render_terminal, verdict_markup

    if state.retired:
        terminalreporter.write_line(
            "RETIRED: the target answers 404 ERROR_AI_NOT_EXISTS (LP-ERR-15); nothing else was judged",
            red=True,
            bold=True,
        )
    lines = render_terminal(state.report)
    for line in lines[:-1]:
        terminalreporter.write_line(line)
    terminalreporter.write_line(lines[-1], **verdict_markup(state.report))
    settings = config.stash[settings_key]
    kept = "removed now; keep it with --artefacts DIR" if state.temporary_artefacts else "kept"
    terminalreporter.write_line(f"artefacts: {settings.artefacts_dir} ({kept})")
    for path in _write_reports(config, state.report):
        terminalreporter.write_line(f"report written: {path}")


def _write_reports(config: pytest.Config, report: RunReport) -> list[Path]:
    from conformance.reports import append_step_summary, write_reports

    settings = config.stash[settings_key]
    state = config.stash[state_key]
    written = write_reports(
        report,
        json=config.getoption("report_json"),
        html=config.getoption("report_html"),
        md=config.getoption("report_md"),
        badge=config.getoption("report_badge"),
        junit=state.junit_path,
        redactor=Redactor([settings.api_key]),
    )
    append_step_summary(report)
    return written


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Build the report; the exit code follows its verdict (0 COMPATIBLE, 1 NOT COMPATIBLE,
    6 INCOMPLETE). Runs before the terminal summary (pytest's terminal reporter wraps this hook).
    Usage errors, interruptions and internal errors keep their own exit code."""
    config = session.config
    report = _build_report(config, exitstatus)
    if report is None:
        return
    config.stash[state_key].report = report
    if exitstatus not in (
        pytest.ExitCode.OK,
        pytest.ExitCode.TESTS_FAILED,
        pytest.ExitCode.NO_TESTS_COLLECTED,
    ):
        return
    session.exitstatus = EXIT_CODES[report.outcome]
