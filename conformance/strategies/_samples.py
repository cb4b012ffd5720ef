"""The image sample types and the limits they are judged against (LP-REQ-6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.exchange import ImageInfo

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # LP-REQ-6: a file of exactly this size is valid
MAX_SIDE = 4095  # LP-REQ-6: width and height ≤ 4095; 4096 is LP-ERR-9
MIN_SIDE = 32  # LP-REQ-6 [decided]: images ≥ 32×32 with a face must be accepted
FORMATS = ("JPEG", "PNG", "BMP")  # LP-REQ-6
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "BMP": "image/bmp"}


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
