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

from conformance.contract import Edition
from conformance.settings import FAULT_STATES, REFERENCE_API_KEY, Settings
from conformance.spec import FAMILIES, Level, catalogue

ENV_KEY = "LIVEPHOTO_API_KEY"
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


def resolve_settings(config: pytest.Config, target: str | None) -> Settings:
    embedded = target is None
    api_key = config.getoption("api_key") or os.environ.get(ENV_KEY) or ""
    if embedded:
        api_key = api_key or REFERENCE_API_KEY
    elif not api_key:
        raise pytest.UsageError(f"--target needs a valid API key: pass --api-key KEY or set ${ENV_KEY}")
    clauses = tuple(config.getoption("clause"))
    unknown = [c for c in clauses if c not in catalogue()]
    if unknown:
        raise pytest.UsageError(f"--clause {unknown[0]}: no such clause (ids look like LP-ERR-5)")
    families = tuple(config.getoption("family"))
    for family in families:
        if not catalogue().family(family):
            raise pytest.UsageError(f"--family {family}: choose one of {', '.join(FAMILIES)}")
    if config.getoption("max_examples") < 1:
        raise pytest.UsageError("--max-examples must be at least 1")
    if config.getoption("request_timeout") <= 0:
        raise pytest.UsageError("--request-timeout must be a positive number of seconds")
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
