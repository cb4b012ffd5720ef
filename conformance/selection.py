"""Which clauses a run judges: the ``--clause`` / ``--family`` selection, in catalogue order.

Pure domain logic, no pytest: the plugin's collection filter, its recorder and its report all ask
here, so they cannot disagree about what a selection means.
"""

from __future__ import annotations

from conformance.settings import Settings
from conformance.spec import catalogue

# Judged on every exchange of every test that sends (``Recorder.judge_latency``), so a test that
# sends anything exercises it whatever its marks say.
ALWAYS_JUDGED = frozenset({"LP-OPS-1"})


def selected_clauses(settings: Settings) -> frozenset[str] | None:
    """The clauses named by ``--clause`` and the families of ``--family``; None: no selection
    (every clause)."""
    if not settings.clauses and not settings.families:
        return None
    chosen = set(settings.clauses)
    for family in settings.families:
        chosen |= {clause.id for clause in catalogue().family(family)}
    return frozenset(chosen)


def clause_order(clause_id: str) -> int:
    """The clause's position in the catalogue (SPEC order); unknown ids sort last."""
    order = list(catalogue())
    return order.index(clause_id) if clause_id in order else len(order)
