"""The suite's options: added to pytest, filled from the config file, resolved into ``Settings``.

Configuration flows one way: command line > environment > config file > default → the frozen
``Settings`` → fixtures. The options themselves are written once, in ``conformance.option_table``;
this module only turns them into pytest's. A bad value is a ``pytest.UsageError`` with a sentence
that says how to correct it (exit 4), raised before anything runs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from conformance.client import check_base_url
from conformance.config_file import ConfigError, FileConfig, discover
from conformance.contract import Edition
from conformance.option_table import ENV_KEY, argparse_kwargs, plugin_options
from conformance.pytest.state import config_file_key, key_source_key
from conformance.reports.paths import folder_problem, writable_problem
from conformance.settings import REFERENCE_API_KEY, Settings, parse_fault_headers
from conformance.spec import Level

REPORT_FORMATS = ("json", "html", "md", "badge")


def pytest_addoption(parser: pytest.Parser) -> None:
    """The suite's options, generated from ``conformance.option_table`` (which also generates the
    config-file keys and ``livephoto-conformance run``); one group so ``pytest --help`` shows them
    together. Options the config file may set default to None here: ``apply_config_file``
    fills them in (command line > environment > config file > default)."""
    group = parser.getgroup("livephoto", "Live Photos API conformance suite")
    for option in plugin_options():
        group.addoption(*option.flags, **argparse_kwargs(option, for_pytest=True))


def apply_config_file(config: pytest.Config) -> FileConfig:
    """Fill every option the command line left unset from the config file (then the default),
    so that every later ``config.getoption`` sees the effective value. Idempotent.

    Precedence: command line > environment > config file > default. Fault headers merge per
    state (the command line's header for a state wins). A bad file or value: ``pytest.UsageError``.
    """
    found = config.stash.get(config_file_key, None)
    if found is not None:
        return found
    for option in plugin_options():  # command-line values, checked by the same rules as the file's
        given = getattr(config.option, option.dest, None)
        for item in given if isinstance(given, list) else [given]:
            problem = option.validate(item) if item is not None else None
            if problem:
                raise pytest.UsageError(f"{option.flag} {option.shown(item)}: {problem}")
    try:
        file_config = discover(config.invocation_params.dir, config.getoption("livephoto_config"))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    for option in plugin_options():
        if option.config is None or option.name == "api-key-env":  # the key is resolved on its own
            continue
        given = getattr(config.option, option.dest, None)
        default = [] if option.repeatable else option.default
        if option.kind == "headers":
            value = [*file_config.get(option.dest, []), *(given or [])]
        else:
            value = given if given is not None else file_config.get(option.dest, default)
        setattr(config.option, option.dest, value)
    config.stash[config_file_key] = file_config
    return file_config


def check_report_paths(config: pytest.Config) -> None:
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


def _api_key(config: pytest.Config, file_config: FileConfig) -> tuple[str, str]:
    """The valid key and where it came from: --api-key > --api-key-env VAR > $LIVEPHOTO_API_KEY >
    the config file's api-key-env VAR. Never read from a file in clear."""
    if config.getoption("api_key"):
        return config.getoption("api_key"), "--api-key"
    named = config.getoption("api_key_env")
    if named:
        return _from_variable(named, f"--api-key-env {named}"), f"${named} (--api-key-env)"
    if os.environ.get(ENV_KEY):
        return os.environ[ENV_KEY], f"${ENV_KEY}"
    named = file_config.get("api_key_env")
    if named:
        where = f"{file_config.describe('api_key_env')} = {named!r}"
        return _from_variable(named, where), f"${named} ({file_config.path})"
    return "", ""


def _from_variable(name: str, where: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise pytest.UsageError(f"{where}: ${name} is not set or empty; export the target's key in it")
    return value


def _file_target(file_config: FileConfig) -> str | None:
    text = file_config.get("target")
    if not text:
        return None
    try:
        return check_base_url(text)
    except ValueError as exc:
        raise pytest.UsageError(f"{file_config.describe('target')}: {exc}") from None


def resolve_settings(config: pytest.Config, target: str | None) -> Settings:
    """The run's Settings from the command line, the environment and the config file."""
    file_config = apply_config_file(config)
    if target is None:
        target = _file_target(file_config)
        config.option.target = target
    embedded = target is None
    api_key, source = _api_key(config, file_config)
    if embedded and not api_key:
        api_key, source = REFERENCE_API_KEY, "the embedded reference server's configuration"
    elif not api_key:
        raise pytest.UsageError(
            f"--target needs a valid API key: set ${ENV_KEY}, or name the variable holding it with "
            "--api-key-env VAR (or pass --api-key KEY)"
        )
    config.stash[key_source_key] = source
    clauses = tuple(config.getoption("clause"))
    families = tuple(config.getoption("family"))
    artefacts = config.getoption("artefacts") or tempfile.mkdtemp(prefix="livephoto-")
    try:
        fault_headers = parse_fault_headers(config.getoption("fault_header"), embedded)
    except ValueError as exc:
        raise pytest.UsageError(f"--fault-header {exc}") from None
    return Settings(
        target_url=target or "",
        api_key=api_key,
        invalid_api_key=config.getoption("invalid_api_key"),
        edition=Edition(config.getoption("edition")),
        level=Level(config.getoption("level").upper()),
        max_examples=config.getoption("max_examples"),
        concurrency=config.getoption("concurrency"),
        budget=config.getoption("budget"),
        request_timeout=config.getoption("request_timeout"),
        insecure=config.getoption("insecure"),
        embedded=embedded,
        fault_headers=fault_headers,
        artefacts_dir=Path(artefacts),
        clauses=clauses,
        families=families,
    )


def key_source(config: pytest.Config) -> str:
    """Where the valid key came from, as ``resolve_settings`` found it (--api-key, an environment
    variable, the config file's api-key-env), for messages."""
    return config.stash.get(key_source_key, f"${ENV_KEY}")
