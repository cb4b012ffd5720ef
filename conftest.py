"""Project-root conftest: the project's own tests share these fixtures (the suite's live in the plugin)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Hypothesis profiles for the project's own tests; the suite has its own (conformance.plugin).
settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
