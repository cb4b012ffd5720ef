"""The reference server's hook points: where a caller may alter what the server does (issue 16).

The server knows nothing of who plants the hooks (the mutant catalogue, ``conformance.mutants``,
builds them from mutant names; a test may build its own): ``ServerConfig.hooks`` carries one
``ServerHooks``, whose default changes nothing. Each stage of a request asks its hook, if one is
set, and otherwise does what the reference does:

``intake`` (alter or refuse the parsed upload) → ``load`` (decode the image) → ``animate`` (make
the video bytes) → ``encode`` (``data.video``) → ``decide`` (alter the outcome) → ``request_id`` →
``respond`` (the HTTP response), plus two switches: ``auth_after_body`` and ``max_image_bytes``.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray
from starlette.requests import Request
from starlette.responses import Response

from conformance.faces import Face
from conformance.mock.upload import Upload
from conformance.protocol.envelope import Outcome
from conformance.protocol.request import MAX_IMAGE_BYTES

Pixels = NDArray[np.uint8]
Loader = Callable[[bytes], Pixels]  # the reference decoder (``images.load_image``)
Animator = Callable[[Pixels, Face, int, int], bytes]  # the reference animation (``animate.animate``)
Renderer = Callable[[Outcome, str], Response]  # the reference rendering (``app.render``)

IntakeHook = Callable[[Upload, Request], Awaitable[Upload | Outcome]]
LoadHook = Callable[[bytes, Loader], Pixels]
AnimateHook = Callable[[Pixels, Face, int, int, Animator], bytes]
EncodeHook = Callable[[bytes], str]
DecideHook = Callable[[Outcome, Request], Outcome]
RequestIdHook = Callable[[Request, Callable[[], str]], str]
RespondHook = Callable[[Outcome, str, Request, Renderer], Response]


@dataclass(frozen=True)
class ServerHooks:
    """Optional replacements for the server's stages; ``None`` (the default) is the reference.

    ``serve_args`` are the ``serve`` options that rebuild these hooks in a server process (the
    planter knows them, e.g. ``--mutant NAME``); ``start_server_process`` passes them on and refuses
    hooks that exist in this process only.
    """

    intake: IntakeHook | None = None
    load: LoadHook | None = None
    animate: AnimateHook | None = None
    encode: EncodeHook | None = None
    decide: DecideHook | None = None
    request_id: RequestIdHook | None = None
    respond: RespondHook | None = None
    auth_after_body: bool = False  # check the key only after the body and the image (LP-ERR-1 says first)
    max_image_bytes: int = MAX_IMAGE_BYTES  # the multipart reader's image limit
    serve_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.serve_args, str):
            raise ValueError("serve_args must be a tuple of options, not a single string")

    @property
    def active(self) -> bool:
        """Whether any hook or switch differs from the reference."""
        return any(
            getattr(self, f.name) != getattr(REFERENCE, f.name)
            for f in fields(self)
            if f.name != "serve_args"
        )

    @property
    def in_process_only(self) -> bool:
        """Active hooks that no ``serve`` option can rebuild in another process."""
        return self.active and not self.serve_args

    async def take(self, upload: Upload, request: Request) -> Upload | Outcome:
        """The parsed upload, altered, or an outcome that refuses it."""
        return upload if self.intake is None else await self.intake(upload, request)

    def decode(self, data: bytes, loader: Loader) -> Pixels:
        """The image's pixels (``ImageRejected`` refuses it)."""
        return loader(data) if self.load is None else self.load(data, loader)

    def video(self, pixels: Pixels, face: Face, video_type: int, seed: int, default: Animator) -> bytes:
        """The video bytes."""
        if self.animate is None:
            return default(pixels, face, video_type, seed)
        return self.animate(pixels, face, video_type, seed, default)

    def video_text(self, video: bytes) -> str:
        """``data.video``: standard base64 unless a hook says otherwise (LP-OK-2)."""
        return base64.b64encode(video).decode("ascii") if self.encode is None else self.encode(video)

    def outcome(self, outcome: Outcome, request: Request) -> Outcome:
        """The outcome to render."""
        return outcome if self.decide is None else self.decide(outcome, request)

    def new_request_id(self, request: Request, default: Callable[[], str]) -> str:
        """The response's request id."""
        return default() if self.request_id is None else self.request_id(request, default)

    def response(self, outcome: Outcome, request_id: str, request: Request, render: Renderer) -> Response:
        """The HTTP response."""
        if self.respond is None:
            return render(outcome, request_id)
        return self.respond(outcome, request_id, request, render)


REFERENCE = ServerHooks()  # the hooks of the reference server: none
