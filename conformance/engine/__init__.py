"""The judging engine: which checks judge an exchange (``plan``) and the ``Recorder`` that runs them
and keeps their results. The suite, the proxy and the load profile are fronts over it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.engine.groups import Group
    from conformance.engine.plan import (
        COMMON,
        CONSISTENCY_WINDOW,
        ERROR_COMMON,
        GROUP_PLANS,
        LABEL_CHECKS,
        LATENCY,
        REQUEST_ID_GROUP,
        SAME_REQUEST_PAIR,
        SUCCESS,
        VIDEO,
        WINDOW_SIZE,
        WRONG_METHOD,
        CheckFunc,
        ObservedPlan,
        decisive_first,
        failure_checks,
        judges_video,
        latency_check,
        observed_plan,
        own_checks,
        plan,
        sampled_plan,
        shape_stand_in,
        unanswered_check,
    )
    from conformance.engine.recorder import Recorder, foundation_checks, foundations

# Loaded on first use (PEP 562): the plans import every check and with them PyAV and OpenCV, which
# the pytest plugin must not load in a run that only has the package installed.
_HOME = {
    "COMMON": "conformance.engine.plan",
    "CONSISTENCY_WINDOW": "conformance.engine.plan",
    "ERROR_COMMON": "conformance.engine.plan",
    "GROUP_PLANS": "conformance.engine.plan",
    "LABEL_CHECKS": "conformance.engine.plan",
    "LATENCY": "conformance.engine.plan",
    "REQUEST_ID_GROUP": "conformance.engine.plan",
    "SAME_REQUEST_PAIR": "conformance.engine.plan",
    "SUCCESS": "conformance.engine.plan",
    "VIDEO": "conformance.engine.plan",
    "WINDOW_SIZE": "conformance.engine.plan",
    "WRONG_METHOD": "conformance.engine.plan",
    "CheckFunc": "conformance.engine.plan",
    "Group": "conformance.engine.groups",
    "ObservedPlan": "conformance.engine.plan",
    "decisive_first": "conformance.engine.plan",
    "failure_checks": "conformance.engine.plan",
    "judges_video": "conformance.engine.plan",
    "latency_check": "conformance.engine.plan",
    "observed_plan": "conformance.engine.plan",
    "own_checks": "conformance.engine.plan",
    "plan": "conformance.engine.plan",
    "sampled_plan": "conformance.engine.plan",
    "shape_stand_in": "conformance.engine.plan",
    "unanswered_check": "conformance.engine.plan",
    "Recorder": "conformance.engine.recorder",
    "foundation_checks": "conformance.engine.recorder",
    "foundations": "conformance.engine.recorder",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'conformance.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)


__all__ = [
    "COMMON",
    "CONSISTENCY_WINDOW",
    "ERROR_COMMON",
    "GROUP_PLANS",
    "LABEL_CHECKS",
    "LATENCY",
    "REQUEST_ID_GROUP",
    "SAME_REQUEST_PAIR",
    "SUCCESS",
    "VIDEO",
    "WINDOW_SIZE",
    "WRONG_METHOD",
    "CheckFunc",
    "Group",
    "ObservedPlan",
    "Recorder",
    "decisive_first",
    "failure_checks",
    "foundation_checks",
    "foundations",
    "judges_video",
    "latency_check",
    "observed_plan",
    "own_checks",
    "plan",
    "sampled_plan",
    "shape_stand_in",
    "unanswered_check",
]
