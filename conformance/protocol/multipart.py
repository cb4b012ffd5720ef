"""The one multipart/form-data reader, used by the reference server (streaming, while the body
arrives) and by the proxy (on a body it already holds) (LP-REQ-2, LP-REQ-6, LP-ERR-8, LP-SEC-3).

One reader, so that the server and the proxy cannot read the same bytes differently: a body the
proxy describes as two parts is the body the server answers for. The framing is python-multipart's
(a well-kept streaming parser); this module adds the bounds a hostile body needs, the same for
both callers:

- the boundary is 1 to 70 characters (RFC 2046 §5.1.1);
- one part's headers are at most ``MAX_PART_HEADER_BYTES`` all together;
- a body has at most ``MAX_PARTS`` parts;
- every python-multipart error (bad framing, a bad part header) is one clear refusal.

What differs between the callers is what is kept, stated in ``FormLimits``: the server keeps only
the first ``image_target`` and the first ``type`` and refuses a body past ``MAX_BODY_BYTES`` or an
image past ``MAX_IMAGE_BYTES`` as soon as it grows past them, never buffering beyond; the proxy
(whose body is already bounded by its own cap) keeps every part whole, to describe and judge it.

Every refusal is an ``UploadRejected`` carrying the documented code the server answers with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from conformance.protocol.request import FORM_MEDIA_TYPE, IMAGE_FIELD, MAX_IMAGE_BYTES, TYPE_FIELD

MAX_BODY_BYTES = 6 * 1024 * 1024  # LP-ERR-8 / LP-SEC-3: the image plus generous multipart overhead
MAX_TEXT_FIELD_BYTES = 64 * 1024  # a text field longer than this is kept truncated (it is invalid anyway)
MAX_BOUNDARY = 70  # RFC 2046 §5.1.1: a boundary is 1 to 70 characters
MAX_PART_HEADER_BYTES = 16 * 1024  # one part's headers, all together (h11's bound for request headers)
# A request has two parts, six with every unknown field the suite sends (LP-REQ-7): a thousand
# leaves room for any real client and bounds the per-part bookkeeping of a body of empty parts.
MAX_PARTS = 1000


class UploadRejected(Exception):
    """The body cannot be accepted; ``code`` is the documented error code to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FormLimits:
    """What one reading bounds and keeps.

    ``max_body_bytes``: the whole body, refused past it (None: the caller has bounded it already).
    ``max_image_bytes``: the ``image_target`` file part, refused past it (None: no bound; a mutant
    moves it by one byte).
    ``max_text_bytes``: every other kept part is cut at this length and marked ``truncated``.
    ``keep``: the names whose content is kept (None: every part); ``first_only``: only the first
    part of each name is kept. The names of all parts are recorded, kept or not.
    """

    max_body_bytes: int | None = MAX_BODY_BYTES
    max_image_bytes: int | None = MAX_IMAGE_BYTES
    max_text_bytes: int | None = MAX_TEXT_FIELD_BYTES
    keep: frozenset[str] | None = frozenset({IMAGE_FIELD, TYPE_FIELD})
    first_only: bool = True
    max_parts: int = MAX_PARTS
    max_part_header_bytes: int = MAX_PART_HEADER_BYTES


SERVER_LIMITS = FormLimits()  # the reference server: the endpoint's two fields, within the limits
# The proxy: every part whole, to describe the request as sent (its body cap bounds the total).
OBSERVER_LIMITS = FormLimits(
    max_body_bytes=None, max_image_bytes=None, max_text_bytes=None, keep=None, first_only=False
)


@dataclass
class FormPart:
    """One part as read: its name, filename (None for a text field), declared Content-Type, all
    headers (lower-cased names) and content (cut to ``max_text_bytes`` when ``truncated``)."""

    name: str = ""
    filename: str | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
    truncated: bool = False

    @property
    def is_file(self) -> bool:
        return self.filename is not None


@dataclass
class Form:
    """The parts kept, in order, and the names of every part the body had, in order."""

    parts: list[FormPart] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def first(self, name: str) -> FormPart | None:
        """The first kept part called ``name``."""
        return next((part for part in self.parts if part.name == name), None)


def check_content_type(content_type: str) -> bytes:
    """The multipart boundary of a Content-Type header, or UploadRejected for a body that is not
    multipart/form-data, has no boundary or one longer than RFC 2046 allows (LP-REQ-2, LP-ERR-11)."""
    mime, options = parse_options_header(content_type)
    if mime != FORM_MEDIA_TYPE.encode():
        shown = mime.decode("latin-1") or "none"
        raise UploadRejected(
            "MISSING_PARAMETERS",
            f"The body must be {FORM_MEDIA_TYPE} with an {IMAGE_FIELD} file part (got {shown}).",
        )
    boundary = options.get(b"boundary")
    if not boundary:
        raise UploadRejected("MISSING_PARAMETERS", f"The {FORM_MEDIA_TYPE} body has no boundary.")
    if len(boundary) > MAX_BOUNDARY:
        raise UploadRejected(
            "MISSING_PARAMETERS",
            f"The multipart boundary has {len(boundary)} characters; RFC 2046 allows at most {MAX_BOUNDARY}.",
        )
    return boundary


def check_content_length(value: str | None, limit: int = MAX_BODY_BYTES) -> None:
    """Refuse a declared body larger than ``limit`` before reading it (LP-SEC-3)."""
    if value is not None and value.strip().isdigit() and int(value) > limit:
        raise UploadRejected(
            "ERROR_REQUEST_BODY_TOO_LARGE",
            f"The request body is {int(value)} bytes; at most {limit} bytes are accepted.",
        )


class MultipartReader:
    """Feed a body chunk by chunk (``feed``), then ``finish`` for the ``Form``; any call may raise
    ``UploadRejected``. Nothing is buffered beyond the kept parts, each within its bound."""

    def __init__(self, boundary: bytes, limits: FormLimits = SERVER_LIMITS) -> None:
        if not boundary or len(boundary) > MAX_BOUNDARY:
            raise UploadRejected(
                "MISSING_PARAMETERS", f"The multipart boundary must have 1 to {MAX_BOUNDARY} characters."
            )
        self.limits = limits
        self.form = Form()
        self._part = FormPart()
        self._kept = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._header_bytes = 0
        self._total = 0
        callbacks = {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
        }
        try:
            self._parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        except FormParserError:
            raise UploadRejected("MISSING_PARAMETERS", "The multipart boundary is not usable.") from None

    def feed(self, chunk: bytes) -> None:
        """Read the next piece of the body."""
        self._total += len(chunk)
        limit = self.limits.max_body_bytes
        if limit is not None and self._total > limit:
            raise UploadRejected("ERROR_REQUEST_BODY_TOO_LARGE", f"The request body exceeds {limit} bytes.")
        try:
            self._parser.write(chunk)
        except FormParserError:  # every python-multipart error: bad framing or a bad part header
            raise UploadRejected("MISSING_PARAMETERS", "The multipart/form-data body is malformed.") from None

    def finish(self) -> Form:
        """The form, once the whole body has been fed."""
        try:
            self._parser.finalize()
        except FormParserError:
            raise UploadRejected("MISSING_PARAMETERS", "The multipart/form-data body is malformed.") from None
        return self.form

    def release(self) -> None:
        """Drop every buffered byte: a refused body's buffers go at once, not when the cyclic GC
        frees the traceback that still holds this reader (up to 5 MiB each; under a stream of
        refused uploads, hundreds of MB held for seconds)."""
        for part in (*self.form.parts, self._part):
            part.data = bytearray()
        self.form.parts.clear()

    # --- python-multipart callbacks ----------------------------------------------------------------

    def _on_part_begin(self) -> None:
        if len(self.form.names) >= self.limits.max_parts:
            raise UploadRejected(
                "MISSING_PARAMETERS", f"The multipart body has more than {self.limits.max_parts} parts."
            )
        self._part = FormPart()
        self._kept = False
        self._header_bytes = 0

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.limits.max_part_header_bytes:
            raise UploadRejected(
                "MISSING_PARAMETERS",
                f"A multipart part has more than {self.limits.max_part_header_bytes} bytes of headers.",
            )

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        name = self._header_field.decode("latin-1").strip().lower()
        self._part.headers[name] = self._header_value.decode("latin-1").strip()
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        part = self._part
        _, options = parse_options_header(part.headers.get("content-disposition", ""))
        part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        part.filename = None if filename is None else filename.decode("utf-8", "replace")
        part.content_type = part.headers.get("content-type")
        keep = self.limits.keep
        self._kept = (keep is None or part.name in keep) and not (
            self.limits.first_only and self.form.first(part.name) is not None
        )

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._kept:
            return
        part = self._part
        if part.name == IMAGE_FIELD and part.is_file:
            part.data += data[start:end]
            limit = self.limits.max_image_bytes
            if limit is not None and len(part.data) > limit:
                raise UploadRejected(
                    "FILE_SIZE_EXCEEDS_LIMIT",
                    f"{IMAGE_FIELD} exceeds {MAX_IMAGE_BYTES} bytes (5 MB), the documented limit.",
                )
            return
        text_limit = self.limits.max_text_bytes
        if text_limit is None:
            part.data += data[start:end]
            return
        room = max(0, min(text_limit - len(part.data), end - start))
        part.data += data[start : start + room]
        part.truncated = part.truncated or room < end - start

    def _on_part_end(self) -> None:
        self.form.names.append(self._part.name)
        if self._kept:
            self.form.parts.append(self._part)  # the buffer itself, never a copy (memory bound)
        self._part = FormPart()
        self._kept = False


def parse_form(body: bytes, content_type: str, limits: FormLimits = OBSERVER_LIMITS) -> Form:
    """The form of a whole body and its Content-Type header; raises ``UploadRejected``."""
    reader = MultipartReader(check_content_type(content_type), limits)
    try:
        reader.feed(body)
        return reader.finish()
    except BaseException:
        reader.release()
        raise


async def read_form(
    chunks: AsyncIterator[bytes], boundary: bytes, limits: FormLimits = SERVER_LIMITS
) -> Form:
    """The form of a body arriving in ``chunks``, refused as soon as it breaks a bound; raises
    ``UploadRejected`` (and whatever the chunk source raises, such as a client disconnect)."""
    reader = MultipartReader(boundary, limits)
    try:
        async for chunk in chunks:
            reader.feed(chunk)
        return reader.finish()
    except BaseException:  # refused, or the client left: its buffers go now
        reader.release()
        raise
