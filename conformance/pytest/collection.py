"""Clause selection at collection: ``--clause`` / ``--family`` keep the suite tests they name.

The clauses of the tests left are remembered in the run state (and, on an xdist worker, sent to
the controller), because the recorder judges only those and the report covers only those.
"""

from __future__ import annotations

import pytest

from conformance.pytest.state import WORKER_CLAUSES, settings_key, state_key
from conformance.selection import ALWAYS_JUDGED, selected_clauses


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--clause`` / ``--family``: keep the suite tests whose clauses intersect the selection.

    Runs after ``-k`` / ``-m`` have deselected theirs; the clauses of the tests left are the run's
    selection (a report "for n of 46 clauses").
    """
    settings = config.stash.get(settings_key, None)
    if settings is None:
        return
    selected = selected_clauses(settings)
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        clauses = item_clauses(item)
        (keep if selected is None or not clauses or clauses & selected else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    # Tests whose requests go after every other of the run (hostile ones, LP-SEC-4) run last too:
    # the other tests judge their answers meanwhile instead of waiting behind them.
    items[:] = sorted(keep, key=_runs_last)
    kept = set().union(*(item_clauses(item) for item in keep)) if keep else set()
    if selected is not None:
        kept &= selected
    state = config.stash[state_key]
    state.collected_clauses = kept
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[WORKER_CLAUSES] = sorted(kept)


def _runs_last(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("ordered")
    return marker is not None and bool(marker.kwargs.get("last", False))


def item_clauses(item: pytest.Item) -> set[str]:
    """The clauses a suite test exercises: its marks, and LP-OPS-1 for every test that sends
    (the recorder judges the latency of each exchange)."""
    marked = {c for mark in item.iter_markers("clause") for c in mark.args}
    return marked | (ALWAYS_JUDGED if "recorder" in getattr(item, "fixturenames", ()) else set())
