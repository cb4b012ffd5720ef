"""Bounded streaming multipart parsing (LP-REQ-2, LP-REQ-6, LP-ERR-8, LP-SEC-3).

The body is read chunk by chunk and never buffered beyond a hard bound: the image part is refused
as soon as it exceeds ``MAX_IMAGE_BYTES`` and the whole body as soon as it exceeds ``MAX_BODY_BYTES``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # LP-REQ-6: 5 MB = 5 × 1024 × 1024 bytes, exactly that is valid
MAX_BODY_BYTES = 6 * 1024 * 1024  # LP-ERR-8 / LP-SEC-3: the image plus generous multipart overhead
MAX_TEXT_FIELD_BYTES = 64 * 1024  # a text field longer than this is kept truncated (it is invalid anyway)
MAX_BOUNDARY = 70  # RFC 2046 §5.1.1: a boundary is 1 to 70 characters
MAX_PART_HEADER_BYTES = 16 * 1024  # one part's headers, all together (h11's bound for request headers)
IMAGE_FIELD = "image_target"  # LP-REQ-4
TYPE_FIELD = "type"  # LP-REQ-5


class UploadRejected(Exception):
    """The body cannot be accepted; ``code`` is the documented error code to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)
    truncated: bool = False


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


def check_content_type(content_type: str) -> bytes:
    """The multipart boundary, or UploadRejected for a body that is not multipart (LP-ERR-11)."""
    mime, options = parse_options_header(content_type)
    if mime != b"multipart/form-data":
        shown = mime.decode("latin-1") or "none"
        raise UploadRejected(
            "MISSING_PARAMETERS",
            f"The body must be multipart/form-data with an image_target file part (got {shown}).",
        )
    boundary = options.get(b"boundary")
    if not boundary:
        raise UploadRejected("MISSING_PARAMETERS", "The multipart/form-data body has no boundary.")
    if len(boundary) > MAX_BOUNDARY:
        raise UploadRejected(
            "MISSING_PARAMETERS",
            f"The multipart boundary has {len(boundary)} characters; RFC 2046 allows at most {MAX_BOUNDARY}.",
        )
    return boundary


def check_content_length(value: str | None) -> None:
    """Refuse a declared body larger than the bound before reading it (LP-SEC-3)."""
    if value is not None and value.strip().isdigit() and int(value) > MAX_BODY_BYTES:
        raise UploadRejected(
            "ERROR_REQUEST_BODY_TOO_LARGE",
            f"The request body is {int(value)} bytes; at most {MAX_BODY_BYTES} bytes are accepted.",
        )


class _Collector:
    """python-multipart callbacks that keep only the fields the endpoint reads, within bounds."""

    def __init__(self, max_image_bytes: int = MAX_IMAGE_BYTES) -> None:
        self.max_image_bytes = max_image_bytes
        self.upload = Upload()
        self.part = _Part()
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.header_bytes = 0

    def on_part_begin(self) -> None:
        self.part = _Part()
        self.header_bytes = 0

    def _count_header(self, size: int) -> None:
        self.header_bytes += size
        if self.header_bytes > MAX_PART_HEADER_BYTES:
            raise UploadRejected(
                "MISSING_PARAMETERS",
                f"A multipart part has more than {MAX_PART_HEADER_BYTES} bytes of headers.",
            )

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self.header_field.decode("latin-1").strip().lower()
        self.part.headers[name] = self.header_value.decode("latin-1")
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get("content-disposition", ""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self.part.filename = None if filename is None else filename.decode("utf-8", "replace")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        if part.name == IMAGE_FIELD and self.upload.image is None:
            part.data += data[start:end]
            if part.filename is not None and len(part.data) > self.max_image_bytes:
                raise UploadRejected(
                    "FILE_SIZE_EXCEEDS_LIMIT",
                    f"image_target exceeds {MAX_IMAGE_BYTES} bytes (5 MB), the documented limit.",
                )
            if part.filename is None and len(part.data) > MAX_TEXT_FIELD_BYTES:
                del part.data[MAX_TEXT_FIELD_BYTES:]
        elif part.name == TYPE_FIELD and self.upload.type_value is None:
            room = MAX_TEXT_FIELD_BYTES - len(part.data)
            part.data += data[start : start + max(0, min(room, end - start))]

    def on_part_end(self) -> None:
        part = self.part
        self.upload.fields.append(part.name)
        if part.name == IMAGE_FIELD and self.upload.image is None:
            # The buffer itself, not a copy: one copy of the image per request (memory bound);
            # load_image reads it through a view.
            self.upload.image = part.data  # type: ignore[assignment]
            self.upload.image_is_file = part.filename is not None
            self.upload.image_filename = part.filename
            part.data = bytearray()
        elif part.name == TYPE_FIELD and self.upload.type_value is None:
            self.upload.type_value = part.data.decode("utf-8", "replace")


async def read_upload(
    chunks: AsyncIterator[bytes], boundary: bytes, *, max_image_bytes: int = MAX_IMAGE_BYTES
) -> Upload:
    """Parse a multipart body from its chunks with the bounds above (raises UploadRejected);
    ``max_image_bytes`` differs from the LP-REQ-6 limit only for a mutant (issue 8)."""
    collector = _Collector(max_image_bytes)
    callbacks = {
        name: getattr(collector, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
    }
    total = 0
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        async for chunk in chunks:
            total += len(chunk)
            if total > MAX_BODY_BYTES:
                raise UploadRejected(
                    "ERROR_REQUEST_BODY_TOO_LARGE",
                    f"The request body exceeds {MAX_BODY_BYTES} bytes.",
                )
            parser.write(chunk)
        parser.finalize()
    except FormParserError:  # every python-multipart error: a bad boundary, framing or part header
        raise UploadRejected("MISSING_PARAMETERS", "The multipart/form-data body is malformed.") from None
    except ClientDisconnect:  # the client went away mid-body: nothing to answer, nothing to log as a crash
        raise UploadRejected("MISSING_PARAMETERS", "The request body ended before it was complete.") from None
    return collector.upload
