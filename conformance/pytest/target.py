"""The target's lifecycle: settings resolved once, the embedded server, the preflight, xdist.

``pytest --target URL`` judges the target; without ``--target`` the suite (``pytest --pyargs
conformance.suite``) runs against the embedded reference server, started here in its own process
and stopped at the end. In a project that merely has the package installed, none of this runs.
xdist workers get the controller's target and artefacts folder, never a server of their own.
"""

from __future__ import annotations

import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conformance import __version__
from conformance.client import ClientSettings, TargetClient, check_base_url
from conformance.contract import Edition
from conformance.preflight import Preflight, preflight
from conformance.pytest.options import apply_config_file, check_report_paths, key_source, resolve_settings
from conformance.pytest.profiles import register_hypothesis_profiles
from conformance.pytest.results import ResultCollector
from conformance.pytest.state import WORKER_CLAUSES, RunState, now, settings_key, state_key
from conformance.pytest.verdict import write_unjudged_report
from conformance.settings import Settings

SUITE_DIR = Path(__file__).resolve().parent.parent / "suite"


def suite_requested(config: pytest.Config) -> bool:
    """Whether this run is the suite (``--target``, or the suite's folder or package named)."""
    if config.getoption("target"):
        return True
    return any("conformance.suite" in arg or str(SUITE_DIR) in str(arg) for arg in config.args)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Resolve and check the settings once, before anything runs; start the embedded server when
    the suite runs without a target; check the key with one request (exit 4 when rejected)."""
    config.addinivalue_line("markers", "clause(*ids): the SPEC clauses a suite test exercises")
    config.addinivalue_line(
        "markers",
        "ordered(last=False): the test's requests go one after the other "
        "(last: the test runs last, its requests after every other request of the run)",
    )
    if not suite_requested(config):
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
    state = RunState(started_at=now())
    if workerinput is None:
        apply_config_file(config)  # report paths from the config file are checked up front too
        check_report_paths(config)
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
    if workerinput is None:  # the controller collects every process's results (workers forward)
        ResultCollector.register(config, state)
        _start_preflight(config, settings)


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


_preflight_key: pytest.StashKey[Future[Preflight]] = pytest.StashKey()


def _start_preflight(config: pytest.Config, settings: Settings) -> None:
    """Send the preflight (``conformance.preflight``) in the background while the suite is
    collected: against a slow target its round trip costs nothing. ``preflight_verdict`` waits for
    it before anything else is sent."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="livephoto-preflight")
    config.stash[_preflight_key] = pool.submit(preflight, client_settings(settings), key_source(config))
    pool.shutdown(wait=False)  # the verdict waits for the answer; configuring goes on


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    preflight_verdict(session.config)


def preflight_verdict(config: pytest.Config) -> None:
    """Wait for the preflight (once) and act on it: an unreachable target or a rejected key is a
    usage error (exit 4), with a report saying nothing was judged; a retired one is noted."""
    answer = config.stash.get(_preflight_key, None)
    if answer is None:
        return
    del config.stash[_preflight_key]
    found = answer.result()
    state = config.stash[state_key]
    state.preflight_requests, state.retired = found.requests, found.retired
    if found.problem is not None:
        write_unjudged_report(config, config.stash[settings_key], found.problem)
        raise pytest.UsageError(found.problem)


def client_settings(settings: Settings) -> ClientSettings:
    """The target as the run's settings describe it, for a client (the session's and the probe's)."""
    return ClientSettings(
        base_url=settings.target_url,
        api_key=settings.api_key,
        invalid_api_key=settings.invalid_api_key,
        timeout=settings.request_timeout,
        verify=not settings.insecure,
        sample_dir=settings.artefacts_dir / "samples",
    )


def target_client(settings: Settings) -> TargetClient:
    """A client for the target as the run's settings describe it."""
    return TargetClient(client_settings(settings))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist (optional): every worker shares the controller's target, embedded server and
    artefacts folder."""
    settings = node.config.stash.get(settings_key, None)
    if settings is not None:
        preflight_verdict(node.config)  # the workers need to know whether the target is retired
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
