"""The judging engine: which checks judge an exchange (``plan``) and the ``Recorder`` that runs them
and keeps their results. The suite, the proxy and the load profile are fronts over it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.engine.groups import Group
    from conformance.engine.plans import (
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
    "COMMON": "conformance.engine.plans",
    "CONSISTENCY_WINDOW": "conformance.engine.plans",
    "ERROR_COMMON": "conformance.engine.plans",
    "GROUP_PLANS": "conformance.engine.plans",
    "LABEL_CHECKS": "conformance.engine.plans",
    "LATENCY": "conformance.engine.plans",
    "REQUEST_ID_GROUP": "conformance.engine.plans",
    "SAME_REQUEST_PAIR": "conformance.engine.plans",
    "SUCCESS": "conformance.engine.plans",
    "VIDEO": "conformance.engine.plans",
    "WINDOW_SIZE": "conformance.engine.plans",
    "WRONG_METHOD": "conformance.engine.plans",
    "CheckFunc": "conformance.engine.plans",
    "Group": "conformance.engine.groups",
    "ObservedPlan": "conformance.engine.plans",
    "decisive_first": "conformance.engine.plans",
    "failure_checks": "conformance.engine.plans",
    "judges_video": "conformance.engine.plans",
    "latency_check": "conformance.engine.plans",
    "observed_plan": "conformance.engine.plans",
    "own_checks": "conformance.engine.plans",
    "plan": "conformance.engine.plans",
    "sampled_plan": "conformance.engine.plans",
    "shape_stand_in": "conformance.engine.plans",
    "unanswered_check": "conformance.engine.plans",
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
