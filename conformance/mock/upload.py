"""The reference server's view of an upload: the protocol's multipart reader, streaming with the
server's bounds (LP-REQ-2, LP-REQ-6, LP-ERR-8, LP-SEC-3), reduced to the fields the endpoint reads.

The reading itself and every bound live in ``conformance.protocol.multipart``, shared with the
proxy; this module only turns the form into an ``Upload`` and a client that went away into a refusal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

from starlette.requests import ClientDisconnect

from conformance.protocol.multipart import (
    MAX_BODY_BYTES,
    SERVER_LIMITS,
    Form,
    UploadRejected,
    check_content_length,
    check_content_type,
    read_form,
)
from conformance.protocol.request import IMAGE_FIELD, MAX_IMAGE_BYTES, TYPE_FIELD

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_IMAGE_BYTES",
    "Upload",
    "UploadRejected",
    "check_content_length",
    "check_content_type",
    "read_upload",
]


@dataclass
class Upload:
    """The parts the endpoint cares about: the first ``image_target`` and the first ``type``.

    ``image`` is None when no part named ``image_target`` arrived; ``image_is_file`` says whether it
    had a filename (a file part) or was a plain text field.
    """

    image: bytes | None = None
    image_is_file: bool = False
    type_value: str | None = None
    image_filename: str | None = None
    fields: list[str] = field(default_factory=list)  # every part's name, in order (for mutants)

    @classmethod
    def of(cls, form: Form) -> Upload:
        """The endpoint's fields of a form read with the server's limits."""
        image, type_part = form.first(IMAGE_FIELD), form.first(TYPE_FIELD)
        return cls(
            # The reader's buffer itself, not a copy: one copy of the image per request (memory
            # bound); load_image reads it through a view.
            image=None if image is None else image.data,  # type: ignore[arg-type]
            image_is_file=image is not None and image.is_file,
            type_value=None if type_part is None else type_part.data.decode("utf-8", "replace"),
            image_filename=None if image is None else image.filename,
            fields=form.names,
        )


async def read_upload(
    chunks: AsyncIterator[bytes], boundary: bytes, *, max_image_bytes: int = MAX_IMAGE_BYTES
) -> Upload:
    """Read a multipart body from its chunks with the server's bounds (raises UploadRejected);
    ``max_image_bytes`` differs from the LP-REQ-6 limit only for a mutant (issue 8)."""
    limits = SERVER_LIMITS
    if max_image_bytes != MAX_IMAGE_BYTES:
        limits = replace(SERVER_LIMITS, max_image_bytes=max_image_bytes)
    try:
        form = await read_form(chunks, boundary, limits)
    except ClientDisconnect:  # the client went away mid-body: nothing to answer, nothing to log as a crash
        raise UploadRejected("MISSING_PARAMETERS", "The request body ended before it was complete.") from None
    return Upload.of(form)
