"""The judging engine: which checks judge an exchange (``plan``) and the ``Recorder`` that runs them
and keeps their results. The suite, the proxy and the load profile are fronts over it."""

from conformance.engine.plan import (
    COMMON,
    ERROR_COMMON,
    LABEL_CHECKS,
    LATENCY,
    SUCCESS,
    CheckFunc,
    failure_checks,
    plan,
)
from conformance.engine.recorder import Recorder, foundation_checks, foundations

__all__ = [
    "COMMON",
    "ERROR_COMMON",
    "LABEL_CHECKS",
    "LATENCY",
    "SUCCESS",
    "CheckFunc",
    "Recorder",
    "failure_checks",
    "foundation_checks",
    "foundations",
    "plan",
]
