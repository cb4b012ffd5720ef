"""The suite's Hypothesis profiles, derived from the run's ``Settings``, and the run's seed.

The suite's test modules load ``livephoto-errors`` / ``livephoto-success``; registering them here,
once per run, keeps the example counts, the database and the shrinking choice on the command line.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from conformance.settings import Settings


def register_hypothesis_profiles(config: pytest.Config, settings: Settings) -> int:
    """Register the two profiles and return the run's seed (``--hypothesis-seed``, or one drawn
    now and forced on Hypothesis so the report header can print it for a reproduction)."""
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
        # No `@reproduce_failure` hint: it does not reproduce a run against a live target (the
        # answers differ); the seed printed in the header reproduces the requests.
        "print_blob": False,
        # Hypothesis's own CI profile (loaded when $CI is set) derandomizes: every CI run would then
        # send the same draws whatever --hypothesis-seed says. The seed in the header decides.
        "derandomize": False,
    }
    # Success paths are slow and costly: few examples. Error paths are cheap: more.
    hsettings.register_profile("livephoto-errors", max_examples=settings.max_examples, **common)
    hsettings.register_profile("livephoto-success", max_examples=max(1, settings.max_examples // 3), **common)
    seed = config.getoption("hypothesis_seed", default=None)
    if seed is None:
        seed = random.randrange(2**32)
        core.global_force_seed = seed  # type: ignore[assignment]
    return int(seed)
