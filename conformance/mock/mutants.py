"""The mutant catalogue (issue 8): named faults that can be switched on in the reference server.

Each ``Mutant`` breaks exactly one SPEC clause (``clause``, at ``level``) — or, when ``benign``, breaks
nothing and must pass. ``selection`` is the suite options that exercise it (a family or a few
clauses, so a run takes seconds); ``also`` lists clauses it cannot help breaking besides its own
within that selection. Mutants are off unless named (``ServerConfig(mutants=(…,))`` or
``livephoto-conformance serve --mutant NAME``).
"""

from __future__ import annotations

import base64
import difflib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from conformance.contract import Edition
from conformance.mock import mutant_hooks as h
from conformance.mock.envelope import Outcome, envelope
from conformance.mock.upload import MAX_IMAGE_BYTES, Upload
from conformance.spec import Level, catalogue

SCOPE_KEY = "livephoto.mutant"  # the per-request Ctx lives in the ASGI scope


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
    decide: tuple[Callable[..., Any], ...] = ()
    body: tuple[Callable[..., Any], ...] = ()
    response: tuple[Callable[..., Any], ...] = ()
    intake: tuple[Callable[..., Any], ...] = ()
    load: Callable[..., Any] | None = None
    video: Callable[..., Any] | None = None
    encode: Callable[[bytes], str] | None = None
    request_id: Callable[..., str] | None = None
    auth_after_body: bool = False
    max_image_bytes: int = MAX_IMAGE_BYTES

    def suite_args(self) -> list[str]:
        """The suite options of a run against this mutant (its selection, and the level it breaks)."""
        args = list(self.selection) or ["--family", catalogue()[self.clause].family]
        if self.benign or self.level is Level.SHOULD:
            args += ["--level", "should"]
        return args


class MutantSet:
    """The mutants a server runs with, applied at the reference server's hook points."""

    def __init__(self, names: Iterable[str]) -> None:
        self.mutants = [get(name) for name in names]
        self.shared: dict[str, Any] = {}
        self.auth_after_body = any(m.auth_after_body for m in self.mutants)
        self.max_image_bytes = max((m.max_image_bytes for m in self.mutants), default=MAX_IMAGE_BYTES)

    def __bool__(self) -> bool:
        return bool(self.mutants)

    def ctx(self, request: Request) -> h.Ctx:
        """The request's hook context (created on first use, kept in the ASGI scope)."""
        found = request.scope.get(SCOPE_KEY)
        if found is None:
            config = getattr(request.app.state, "config", None)
            edition = config.edition if config is not None else Edition.E2026_01
            found = request.scope[SCOPE_KEY] = h.Ctx(request, edition, self.shared)
        assert isinstance(found, h.Ctx)
        return found

    async def intake(self, upload: Upload, request: Request) -> Upload | Outcome:
        """Alter or refuse the parsed upload."""
        if not self:
            return upload
        ctx = self.ctx(request)
        ctx.upload = upload
        result: Upload | Outcome = upload
        for hook in (hook for m in self.mutants for hook in m.intake):
            result = hook(result, ctx)
            if inspect.isawaitable(result):
                result = await result
            if isinstance(result, Outcome):
                return result
        return result

    def load(self, data: bytes, loader: Callable[[bytes], Any]) -> Any:
        """Decode the image (a mutant may decode more or less than the reference)."""
        for mutant in self.mutants:
            if mutant.load is not None:
                return mutant.load(data, loader)
        return loader(data)

    def animate(
        self, pixels: Any, face: Any, video_type: int, seed: int, default: Callable[..., bytes]
    ) -> bytes:
        """The video bytes."""
        for mutant in self.mutants:
            if mutant.video is not None:
                video: bytes = mutant.video(pixels, face, video_type, seed, default)
                return video
        return default(pixels, face, video_type, seed)

    def encode_video(self, video: bytes) -> str:
        """``data.video``: standard base64 unless a mutant says otherwise (LP-OK-2)."""
        for mutant in self.mutants:
            if mutant.encode is not None:
                return mutant.encode(video)
        return base64.b64encode(video).decode("ascii")

    def decide(self, outcome: Outcome, request: Request) -> Outcome:
        """Alter the outcome before it is rendered."""
        if not self:
            return outcome
        ctx = self.ctx(request)
        for hook in (hook for m in self.mutants for hook in m.decide):
            outcome = hook(outcome, ctx)
        return outcome

    def request_id(self, request: Request, default: Callable[[], str]) -> str:
        """The response's request id."""
        for mutant in self.mutants:
            if mutant.request_id is not None:
                return mutant.request_id(self.ctx(request), default)
        return default()

    def respond(
        self, outcome: Outcome, request_id: str, request: Request, render: Callable[[Outcome, str], Response]
    ) -> Response:
        """The HTTP response, with the mutants' body and response hooks applied."""
        ctx = self.ctx(request)
        body_hooks = [hook for m in self.mutants for hook in m.body]
        if body_hooks:
            obj = envelope(outcome, request_id)
            for hook in body_hooks:
                obj = hook(obj, outcome, ctx)
            status = ctx.notes.get("status", outcome.status)
            response: Response = JSONResponse(obj, status_code=status, headers=outcome.headers)
        else:
            response = render(outcome, request_id)
        for hook in (hook for m in self.mutants for hook in m.response):
            response = hook(response, outcome, ctx)
        return response


def mutants_of(request: Request) -> MutantSet:
    """The app's mutants (an empty set for an app built without them)."""
    found = getattr(request.app.state, "mutants", None)
    return found if isinstance(found, MutantSet) else _NONE


_NONE = MutantSet(())


def all_mutants() -> tuple[Mutant, ...]:
    """Every mutant and benign variant, in catalogue order."""
    from conformance.mock.mutant_catalogue import CATALOGUE

    return CATALOGUE


def get(name: str) -> Mutant:
    """The mutant called ``name``; a ValueError lists the known names."""
    for mutant in all_mutants():
        if mutant.name == name:
            return mutant
    names = [m.name for m in all_mutants()]
    close = difflib.get_close_matches(name, names, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else f"e.g. {names[0]}"
    raise ValueError(f"unknown mutant {name!r} ({hint} docs/mutants.md lists all {len(names)})")
