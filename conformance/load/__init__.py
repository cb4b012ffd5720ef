"""The load profile (issue 10): Locust users that send the suite's requests and judge every answer.

``livephoto-conformance load`` runs it headless (alone or distributed: one master, many workers);
the locustfile ships as ``conformance/load/locustfile.py``. See docs/load.md.
"""

from __future__ import annotations

from conformance.load.judge import LoadJudge
from conformance.load.pool import MixError, PoolEntry, RequestPool, build_pool, parse_mix
from conformance.load.report import build_report, metrics_of, percentiles

__all__ = [
    "LoadJudge",
    "MixError",
    "PoolEntry",
    "RequestPool",
    "build_pool",
    "build_report",
    "metrics_of",
    "parse_mix",
    "percentiles",
]
