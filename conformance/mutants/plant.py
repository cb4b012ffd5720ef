"""How mutants reach the reference server: a ``MutantSet`` applies the hooks of its mutants at the
server's hook points, and ``server_hooks`` turns mutant names into the server's ``ServerHooks``.

The server imports nothing from here: it calls whatever ``ServerConfig.hooks`` holds. A hook
point is set only when a mutant uses it, except ``intake``, which every non-empty set takes: it
records the parsed upload that the decide hooks' cases look at (``Ctx.upload``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from conformance.contract import Edition
from conformance.faces import Face
from conformance.mock.hooks import REFERENCE, Animator, Loader, Pixels, Renderer, ServerHooks
from conformance.mock.upload import Upload
from conformance.mutants.catalogue import get
from conformance.mutants.model import Ctx, IntakeResult, Mutant, Shared
from conformance.protocol.envelope import Outcome, envelope
from conformance.protocol.request import METHOD

SCOPE_KEY = "livephoto.mutant"  # the per-request Ctx lives in the ASGI scope


class MutantSet:
    """The mutants one server runs with, and the state they share across its requests."""

    def __init__(self, mutants: Iterable[Mutant]) -> None:
        self.mutants = tuple(mutants)
        self.shared = Shared()

    def ctx(self, request: Request) -> Ctx:
        """The request's hook context (created on first use, kept in the ASGI scope)."""
        found = request.scope.get(SCOPE_KEY)
        if found is None:
            config = getattr(request.app.state, "config", None)
            edition = config.edition if config is not None else Edition.E2026_01
            found = request.scope[SCOPE_KEY] = Ctx(request, edition, self.shared)
        assert isinstance(found, Ctx)
        return found

    async def intake(self, upload: Upload, request: Request) -> IntakeResult:
        """Alter or refuse the parsed upload."""
        ctx = self.ctx(request)
        ctx.upload = upload
        result: IntakeResult = upload
        for hook in (hook for m in self.mutants for hook in m.intake):
            assert isinstance(result, Upload)
            step = hook(result, ctx)
            result = await step if inspect.isawaitable(step) else step
            if isinstance(result, Outcome):
                return result
        return result

    def load(self, data: bytes, loader: Loader) -> Pixels:
        """Decode the image (a mutant may decode more or less than the reference)."""
        for mutant in self.mutants:
            if mutant.load is not None:
                return mutant.load(data, loader)
        return loader(data)

    def animate(self, pixels: Pixels, face: Face, video_type: int, seed: int, default: Animator) -> bytes:
        """The video bytes."""
        for mutant in self.mutants:
            if mutant.video is not None:
                return mutant.video(pixels, face, video_type, seed, default)
        return default(pixels, face, video_type, seed)

    def encode_video(self, video: bytes) -> str:
        """``data.video`` as the first mutant with an encode hook writes it."""
        encode = next(m.encode for m in self.mutants if m.encode is not None)
        return encode(video)

    def decide(self, outcome: Outcome, request: Request) -> Outcome:
        """Alter the outcome before it is rendered."""
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

    def respond(self, outcome: Outcome, request_id: str, request: Request, render: Renderer) -> Response:
        """The HTTP response, with the mutants' body and response hooks applied.

        They alter the endpoint's own answers only: an answer to a wrong method (the framework's
        405) is left as the reference makes it, since its envelope is LP-ERR-11's to judge (D-4)
        and a fault there would be a second fault (docs/DECISIONS.md D-10)."""
        if request.method != METHOD:
            return render(outcome, request_id)
        ctx = self.ctx(request)
        body_hooks = [hook for m in self.mutants for hook in m.body]
        if body_hooks:
            obj = envelope(outcome, request_id)
            for hook in body_hooks:
                obj = hook(obj, outcome, ctx)
            response: Response = JSONResponse(obj, status_code=outcome.status, headers=outcome.headers)
        else:
            response = render(outcome, request_id)
        for alter in (alter for m in self.mutants for alter in m.response):
            response = alter(response, outcome, ctx)
        return response

    def server_hooks(self) -> ServerHooks:
        """The reference server's hooks for this set (the reference's own for an empty set)."""
        ms = self.mutants
        if not ms:
            return REFERENCE
        return ServerHooks(
            intake=self.intake,
            load=self.load if any(m.load is not None for m in ms) else None,
            animate=self.animate if any(m.video is not None for m in ms) else None,
            encode=self.encode_video if any(m.encode is not None for m in ms) else None,
            decide=self.decide if any(m.decide for m in ms) else None,
            request_id=self.request_id if any(m.request_id is not None for m in ms) else None,
            respond=self.respond if any(m.body or m.response for m in ms) else None,
            auth_after_body=any(m.auth_after_body for m in ms),
            max_image_bytes=max(m.max_image_bytes for m in ms),
            serve_args=tuple(arg for m in ms for arg in ("--mutant", m.name)),
        )


def server_hooks(names: Iterable[str]) -> ServerHooks:
    """The reference server's hooks for the mutants called ``names`` (ValueError for an unknown
    name, naming the closest known ones): ``ServerConfig(hooks=server_hooks(["vid-still"]))``."""
    if isinstance(names, str):
        raise ValueError("mutant names must be a list of names, not a single string")
    return MutantSet(get(name) for name in names).server_hooks()
