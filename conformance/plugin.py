"""The pytest plugin's ``pytest11`` entry point: it names the hooks and fixtures, nothing more.

Each job lives in its own module of ``conformance.pytest`` (options, run state, target
lifecycle, collection, fixtures, result transport, verdict). pytest registers this module, and a
plugin module's hooks and fixtures are the names it holds, so re-exporting them here is all the
registration needed; a hook or fixture not listed in ``__all__`` is not part of the plugin.
"""

from __future__ import annotations

from conformance.pytest.collection import pytest_collection_modifyitems
from conformance.pytest.fixtures import client, judge, livephoto_settings, recorder, target_url, verify
from conformance.pytest.options import pytest_addoption
from conformance.pytest.planning import pytest_runtest_setup, pytest_runtestloop
from conformance.pytest.results import pytest_runtest_makereport
from conformance.pytest.target import (
    pytest_collection_finish,
    pytest_configure,
    pytest_configure_node,
    pytest_report_header,
    pytest_testnodedown,
)
from conformance.pytest.verdict import pytest_sessionfinish, pytest_terminal_summary

__all__ = [
    "client",
    "judge",
    "livephoto_settings",
    "pytest_addoption",
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_configure_node",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_runtestloop",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
    "recorder",
    "target_url",
    "verify",
]
