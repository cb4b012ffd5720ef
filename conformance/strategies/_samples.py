"""The image sample types and the limits they are judged against (LP-REQ-6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.exchange import ImageInfo

# LP-REQ-6, from the protocol: a file of exactly MAX_IMAGE_BYTES is valid; width and height ≤
# MAX_SIDE (one more is LP-ERR-9); images ≥ MIN_SIDE² with a face must be accepted [decided].
from conformance.protocol.request import FORMAT_MEDIA_TYPES
from conformance.protocol.request import FORMATS as FORMATS
from conformance.protocol.request import MAX_IMAGE_BYTES as MAX_IMAGE_BYTES
from conformance.protocol.request import MAX_SIDE as MAX_SIDE
from conformance.protocol.request import MIN_SIDE as MIN_SIDE

MIME = FORMAT_MEDIA_TYPES  # the media type a part of each format declares


def kib(size: int) -> str:
    """A byte size for descriptions."""
    return f"{size / 1024:.0f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.2f} MiB"


@dataclass(frozen=True)
class ImageSample:
    """An image file ready to upload: bytes, the name and part type to send, facts and a description."""

    data: bytes = field(repr=False)  # reprs (Hypothesis falsifying examples) stay short
    filename: str | None
    content_type: str | None
    info: ImageInfo
    description: str

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis pretty-prints dataclasses field by field, bytes included: keep reports short.
        printer.text(f"{type(self).__name__}({self.description!r}, {len(self.data)} bytes)")


@dataclass(frozen=True)
class InvalidImage(ImageSample):
    """An image upload the target must reject, with the clause it exercises and the error family."""

    clause: str
    family: str
