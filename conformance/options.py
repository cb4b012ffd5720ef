"""Command-line options → the run's frozen Settings (and the Hypothesis profiles they imply).

Configuration flows one way: option / environment → ``Settings`` → fixtures. A bad value is a
``pytest.UsageError`` with a sentence that says how to correct it.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest

from conformance.client import check_base_url
from conformance.config_file import ConfigError, FileConfig, discover
from conformance.contract import Edition
from conformance.option_table import ENV_KEY as ENV_KEY  # re-exported: the plugin names it
from conformance.option_table import plugin_options
from conformance.settings import FAULT_STATES, REFERENCE_API_KEY, Settings
from conformance.spec import Level, catalogue

FAULT_HEADER = "x-livephoto-fault"  # the reference server's fault injection header


def _fault_headers(values: list[str], embedded: bool) -> dict[str, tuple[str, str]]:
    headers = {state: (FAULT_HEADER, state) for state in FAULT_STATES} if embedded else {}
    for value in values:
        state, _, header = value.partition("=")
        name, _, header_value = header.strip().strip("'\"").partition(":")
        if state not in FAULT_STATES or not name.strip() or not header_value.strip():
            raise pytest.UsageError(
                f"--fault-header {value!r}: write STATE='Header-Name: value' with STATE one of "
                f"{', '.join(FAULT_STATES)}, e.g. --fault-header rate-limit='X-Fault: rate-limit'"
            )
        headers[state] = (name.strip(), header_value.strip())
    return headers


config_file_key = pytest.StashKey[FileConfig]()
key_source_key = pytest.StashKey[str]()  # where the valid key came from, for messages


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
    return Settings(
        target_url=target or "",
        api_key=api_key,
        invalid_api_key=config.getoption("invalid_api_key"),
        edition=Edition(config.getoption("edition")),
        level=Level(config.getoption("level").upper()),
        max_examples=config.getoption("max_examples"),
        request_timeout=config.getoption("request_timeout"),
        insecure=config.getoption("insecure"),
        embedded=embedded,
        fault_headers=_fault_headers(config.getoption("fault_header"), embedded),
        artefacts_dir=Path(artefacts),
        clauses=clauses,
        families=families,
    )


def selected_clauses(settings: Settings) -> frozenset[str] | None:
    if not settings.clauses and not settings.families:
        return None
    chosen = set(settings.clauses)
    for family in settings.families:
        chosen |= {clause.id for clause in catalogue().family(family)}
    return frozenset(chosen)


def register_hypothesis_profiles(config: pytest.Config, settings: Settings) -> int:
    from hypothesis import HealthCheck, Phase, core
    from hypothesis import settings as hsettings
    from hypothesis.database import DirectoryBasedExampleDatabase

    db_dir = config.getoption("examples_db")
    database = DirectoryBasedExampleDatabase(db_dir) if db_dir else None
    phases = list(Phase) if config.getoption("thorough") else [p for p in Phase if p != Phase.shrink]
    common: dict[str, Any] = {
        "deadline": None,
        "database": database,
        "phases": phases,
        "suppress_health_check": list(HealthCheck),
        "print_blob": True,
    }
    # Success paths are slow and costly: few examples. Error paths are cheap: more.
    hsettings.register_profile("livephoto-errors", max_examples=settings.max_examples, **common)
    hsettings.register_profile("livephoto-success", max_examples=max(1, settings.max_examples // 3), **common)
    seed = config.getoption("hypothesis_seed", default=None)
    if seed is None:
        seed = random.randrange(2**32)
        core.global_force_seed = seed  # type: ignore[assignment]
    return int(seed)
