"""The model of the mutant catalogue (issue 8): a ``Mutant`` is one named fault, the SPEC clause it
breaks and the hooks that plant it; a ``Ctx`` is what a hook may look at.

Each ``Mutant`` breaks exactly one SPEC clause (``clause``, at ``level``) — or, when ``benign``,
breaks nothing and must pass. ``selection`` is the suite options that exercise it (a family or a
few clauses, so a run takes seconds); ``also`` lists clauses it cannot help breaking besides its
own within that selection. The hooks are typed by the stage they alter (``conformance.mock.hooks``
names the stages); ``conformance.mutants.plant`` turns mutants into the server's ``ServerHooks``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from conformance.contract import Edition
from conformance.mock.hooks import AnimateHook, EncodeHook, LoadHook
from conformance.mock.upload import Upload
from conformance.protocol.envelope import Outcome
from conformance.protocol.request import MAX_IMAGE_BYTES
from conformance.spec import Level, catalogue

# A JSON object as the server sends it: the one true boundary here (a body hook may set any value).
JsonObject = dict[str, Any]


@dataclass
class Shared:
    """State shared by every request of one server: the faults that appear only across requests
    (a worker that died, an unlocked counter, a global "current image")."""

    dead: bool = False  # sec-dies-after-hostile: a hostile request killed the worker
    counter: int = 0  # ops-duplicate-request-ids: the unlocked request counter
    sequence: int = 0  # benign-request-id-format: a locked counter
    latest: tuple[bytes | None, str | None] = (None, None)  # ops-swapped-responses: the "current image"


@dataclass
class Notes:
    """What one request's hooks tell each other."""

    counter: int | None = None  # the counter value read on arrival (ops-duplicate-request-ids)


@dataclass
class Ctx:
    """What a hook may look at: the request, its parsed upload, the server's edition, the state
    shared by all requests of one server, and this request's notes."""

    request: Request
    edition: Edition
    shared: Shared
    upload: Upload | None = None
    notes: Notes = field(default_factory=Notes)


IntakeResult = Upload | Outcome
Case = Callable[[Outcome, Ctx], bool]  # which outcomes a decide hook alters
DecideHook = Callable[[Outcome, Ctx], Outcome]
BodyHook = Callable[[JsonObject, Outcome, Ctx], JsonObject]
ResponseHook = Callable[[Response, Outcome, Ctx], Response]
IntakeHook = Callable[[Upload, Ctx], IntakeResult | Awaitable[IntakeResult]]
RequestIdHook = Callable[[Ctx, Callable[[], str]], str]
VideoHook = AnimateHook


@dataclass(frozen=True)
class Mutant:
    """One named fault (or benign variant) and the hooks that plant it."""

    name: str
    clause: str
    level: Level
    family: str
    description: str
    benign: bool = False
    selection: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    exact: bool = True  # False: the fault breaks too much to expect only ``clause`` (+ ``also``)
    crashes: bool = False  # True: the fault is an unhandled exception in the server (a 500)
    decide: tuple[DecideHook, ...] = ()
    body: tuple[BodyHook, ...] = ()
    response: tuple[ResponseHook, ...] = ()
    intake: tuple[IntakeHook, ...] = ()
    load: LoadHook | None = None
    video: VideoHook | None = None
    encode: EncodeHook | None = None
    request_id: RequestIdHook | None = None
    auth_after_body: bool = False
    max_image_bytes: int = MAX_IMAGE_BYTES

    @property
    def declared_exact(self) -> bool:
        """Its kill must be exact: the failing clauses exactly ``clause`` (issue 17). A mutant that
        breaks more by nature (``exact=False``) or declares ``also`` is not."""
        return not self.benign and self.exact and not self.also

    def suite_args(self) -> list[str]:
        """The suite options of a run against this mutant (its selection, and the level it breaks)."""
        args = list(self.selection) or ["--family", catalogue()[self.clause].family]
        return args + self.level_args()

    def full_args(self) -> list[str]:
        """The options of a whole-suite run against this mutant, as a user runs it: no ``--family``
        or ``-k``, but the level it breaks and the edition its selection names (a mutant defined
        against one edition, e.g. ``ed-corrupt-2025-09-status``, is judged in that edition)."""
        pairs = zip(self.selection, self.selection[1:], strict=False)
        edition = [arg for option, value in pairs if option == "--edition" for arg in (option, value)]
        return edition + self.level_args()

    def level_args(self) -> list[str]:
        """The level option of a run against this mutant: SHOULD mutants and benign variants are
        judged at ``--level should``, MUST mutants at the default."""
        return ["--level", "should"] if self.benign or self.level is Level.SHOULD else []
