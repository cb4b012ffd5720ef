"""What a check may know about the run: the narrow, typed context every check receives.

A check judges an exchange against the SPEC; beyond the exchange it needs only the edition of the
error table, the gating level, the two key forms (to find an echoed key) and where to keep
artefacts. ``Settings`` (the run's whole configuration) builds one with ``check_context()``; the
proxy and the load profile build theirs the same way, so no front hands a check more than this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conformance.contract import Edition
from conformance.spec import Level

DEFAULT_INVALID_KEY = "invalid-key-for-conformance"  # LP-ERR-2


@dataclass(frozen=True)
class CheckContext:
    """The run facts a check reads: edition, level, key forms, artefacts folder."""

    edition: Edition = Edition.ANY
    level: Level = Level.MUST
    api_key: str = field(default="", repr=False)  # reprs reach tracebacks: never the key
    invalid_api_key: str = DEFAULT_INVALID_KEY
    artefacts_dir: Path = Path("livephoto-artefacts")
