"""The load profile (issue 10): Locust users that send the suite's requests and judge every answer.

``livephoto-conformance load`` runs it headless (alone or distributed: one master, many workers);
the locustfile ships as ``conformance/load/locustfile.py``. See docs/load.md. Names are imported
lazily so the CLI's ``--help`` does not load Hypothesis, PyAV and the checks.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "LoadJudge": "conformance.load.judge",
    "MixError": "conformance.load.pool",
    "PoolEntry": "conformance.load.pool",
    "RequestPool": "conformance.load.pool",
    "build_pool": "conformance.load.pool",
    "build_report": "conformance.load.report",
    "metrics_of": "conformance.load.report",
    "parse_mix": "conformance.load.pool",
    "percentiles": "conformance.load.report",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'conformance.load' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
