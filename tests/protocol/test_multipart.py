"""The one multipart reader (``conformance.protocol.multipart``) on real bodies: what httpx, curl
and browsers send comes back part for part (LP-REQ-2), however the body is cut into chunks; every
bound refuses at exactly its limit; malformed bodies are one clear refusal; and the reference
server's view and the proxy's view of the same bytes agree, because they are the same reader."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from conformance.mock.upload import read_upload
from conformance.protocol import (
    ENDPOINT_PATH,
    IMAGE_FIELD,
    KEY_HEADER,
    MAX_BODY_BYTES,
    MAX_IMAGE_BYTES,
    OBSERVER_LIMITS,
    SERVER_LIMITS,
    TYPE_FIELD,
    Form,
    FormLimits,
    MultipartReader,
    UploadRejected,
    check_content_length,
    check_content_type,
    parse_form,
    read_form,
)
from conformance.protocol.multipart import (
    MAX_BOUNDARY,
    MAX_PART_HEADER_BYTES,
    MAX_PARTS,
    MAX_TEXT_FIELD_BYTES,
)
from conformance.proxy.observed import observe_request, parse_parts
from tests.mock import samples

KEY = "protocol-key"
CTYPE = "multipart/form-data; boundary=b0"


def _body(*parts: tuple[str, str | None, bytes], boundary: str = "b0", headers: str = "") -> bytes:
    """A multipart body written by hand (as curl writes it: no part Content-Type unless asked)."""
    out = b""
    for name, filename, payload in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        out += (
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{headers}\r\n".encode()
            + payload
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode()


def _httpx_body(
    fields: list[tuple[str, str]], files: list[tuple[str, tuple[str, bytes, str]]]
) -> tuple[bytes, str]:
    """A body as httpx encodes it, with its Content-Type header."""
    request = httpx.Request("POST", "http://127.0.0.1/", data=dict(fields), files=files)
    return request.read(), request.headers["content-type"]


def _read(body: bytes, boundary: bytes, limits: FormLimits, cuts: list[int] = []) -> Form:  # noqa: B006
    """Feed ``body`` in the pieces ``cuts`` makes."""
    reader = MultipartReader(boundary, limits)
    start = 0
    for cut in sorted(c for c in cuts if 0 < c < len(body)):
        reader.feed(body[start:cut])
        start = cut
    reader.feed(body[start:])
    return reader.finish()


def _feed(reader: MultipartReader, body: bytes, size: int) -> None:
    for start in range(0, len(body), size):
        reader.feed(body[start : start + size])


def _refusal(body: bytes, limits: FormLimits, boundary: bytes = b"b0") -> str:
    with pytest.raises(UploadRejected) as info:
        _read(body, boundary, limits)
    return info.value.code


# --- real bodies -----------------------------------------------------------------------------------

NAMES = st.sampled_from([IMAGE_FIELD, TYPE_FIELD, "comment", "x_extra", "ünï"])
# httpx percent-encodes '"', CR, LF and other control characters in a filename (HTML's rule): keep
# to characters it writes as they are, so the filename read back is the one given.
FILENAMES = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters='"\\'),
    min_size=1,
    max_size=12,
)
PAYLOADS = st.binary(max_size=300) | st.sampled_from([b"", b"\r\n--b0", b"--", b"\r\n\r\n", b"\x00\xff"])


@settings(max_examples=60, deadline=None)
@given(
    files=st.lists(st.tuples(NAMES, FILENAMES, PAYLOADS), min_size=1, max_size=4),
    type_value=st.sampled_from(["0", "1", " 1", "ü" * 3]),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=6),
)
def test_an_httpx_body_comes_back_part_for_part(
    files: list[tuple[str, str, bytes]], type_value: str, cuts: list[int]
) -> None:
    """Every part httpx wrote, with its filename, Content-Type and bytes, in order — however the
    body is cut into chunks (a part boundary inside a chunk, a chunk inside a boundary)."""
    body, content_type = _httpx_body(
        [(TYPE_FIELD, type_value)], [(name, (filename, data, "image/png")) for name, filename, data in files]
    )
    boundary = check_content_type(content_type)
    form = _read(body, boundary, OBSERVER_LIMITS, cuts)
    assert [(p.name, p.filename, p.content_type, bytes(p.data)) for p in form.parts] == [
        (TYPE_FIELD, None, None, type_value.encode()),
        *[(name, filename, "image/png", data) for name, filename, data in files],
    ]
    assert form == parse_form(body, content_type)
    # The server's view of the same bytes: the first image_target and the first type, nothing else.
    upload = asyncio.run(read_upload(_chunks(body, cuts), boundary))
    first_image = next(((f, d) for n, f, d in files if n == IMAGE_FIELD), None)
    assert upload.type_value == type_value
    assert (upload.image_filename, upload.image) == (first_image or (None, None))
    assert upload.fields == [p.name for p in form.parts]


async def _chunks(body: bytes, cuts: list[int]) -> AsyncIterator[bytes]:
    start = 0
    for cut in sorted(c for c in cuts if 0 < c < len(body)):
        yield body[start:cut]
        start = cut
    yield body[start:]


def test_curl_and_browser_bodies() -> None:
    """LP-REQ-2: any boundary, parts in any order, a filename without extension, no part
    Content-Type (curl's ``-F type=1``), a browser's boundary with its dashes."""
    png = samples.solid((40, 40), "PNG")
    curl = _body(
        (TYPE_FIELD, None, b"1"),
        (IMAGE_FIELD, "photo", png),
        boundary="------------------------d74496d66958873e",
    )
    form = parse_form(curl, "multipart/form-data; boundary=------------------------d74496d66958873e")
    assert [(p.name, p.filename, p.content_type, bytes(p.data)) for p in form.parts] == [
        (TYPE_FIELD, None, None, b"1"),
        (IMAGE_FIELD, "photo", None, png),
    ]
    browser = _body(
        (IMAGE_FIELD, "a.png", png),
        boundary="----WebKitFormBoundary7MA4YWxkTrZu0gW",
        headers="Content-Type: image/png\r\n",
    )
    form = parse_form(browser, 'multipart/form-data; boundary="----WebKitFormBoundary7MA4YWxkTrZu0gW"')
    assert [(p.name, p.content_type, bytes(p.data)) for p in form.parts] == [(IMAGE_FIELD, "image/png", png)]


# --- the bounds, each at exactly its limit ---------------------------------------------------------


def test_the_image_bound_is_exact_and_refuses_before_buffering_more() -> None:
    """LP-REQ-6: a file of exactly 5 × 1024 × 1024 bytes is read; one byte more is LP-ERR-8's
    FILE_SIZE_EXCEEDS_LIMIT, raised while the part arrives (the buffer never exceeds the bound by
    more than one chunk)."""
    ok = _read(_body((IMAGE_FIELD, "a", b"x" * MAX_IMAGE_BYTES)), b"b0", SERVER_LIMITS)
    assert len(ok.parts[0].data) == MAX_IMAGE_BYTES
    reader = MultipartReader(b"b0", SERVER_LIMITS)
    body = _body((IMAGE_FIELD, "a", b"x" * (MAX_IMAGE_BYTES + 1)))
    with pytest.raises(UploadRejected) as info:
        _feed(reader, body, 65536)
    assert info.value.code == "FILE_SIZE_EXCEEDS_LIMIT"
    assert len(reader._part.data) <= MAX_IMAGE_BYTES + 65536
    # The proxy keeps it whole: it must see the oversized image to say LP-ERR-8 is broken.
    assert len(parse_form(body, CTYPE).parts[0].data) == MAX_IMAGE_BYTES + 1


@pytest.mark.parametrize("reading", ["streamed", "whole"])
def test_a_refused_upload_frees_its_buffer_while_its_exception_lives(reading: str) -> None:
    """Regression: the reader behind a refused upload stayed reachable from the exception's
    traceback (a reference cycle) until the cyclic GC ran, so under a stream of 5 MiB + 1 uploads
    the reference server held 40 such buffers at once (329 MB RSS). The buffers go with the refusal."""
    body = _body((TYPE_FIELD, None, b"1"), (IMAGE_FIELD, "a", b"x" * (MAX_IMAGE_BYTES + 1)))

    def refuse() -> None:
        if reading == "streamed":
            asyncio.run(read_form(_chunks(body, list(range(0, len(body), 65536))), b"b0", SERVER_LIMITS))
        else:
            parse_form(body, CTYPE, replace(OBSERVER_LIMITS, max_image_bytes=MAX_IMAGE_BYTES))

    gc.disable()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with pytest.raises(UploadRejected) as info:
            refuse()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        gc.enable()
    assert info.value.code == "FILE_SIZE_EXCEEDS_LIMIT"
    assert info.value.__traceback__ is not None  # the exception, and its frames, are still alive
    assert held < 1024 * 1024, f"{held} bytes still held after the refusal"


def test_the_body_bound_refuses_before_parsing() -> None:
    """LP-SEC-3: a body past MAX_BODY_BYTES, declared or streamed, is ERROR_REQUEST_BODY_TOO_LARGE."""
    assert _refusal(b"x" * (MAX_BODY_BYTES + 1), SERVER_LIMITS) == "ERROR_REQUEST_BODY_TOO_LARGE"
    check_content_length(str(MAX_BODY_BYTES))
    with pytest.raises(UploadRejected) as info:
        check_content_length(str(MAX_BODY_BYTES + 1))
    assert info.value.code == "ERROR_REQUEST_BODY_TOO_LARGE"


def test_text_fields_are_kept_truncated_by_the_server_whole_by_the_proxy() -> None:
    long = b"1" * (MAX_TEXT_FIELD_BYTES + 10)
    body = _body((TYPE_FIELD, None, long), (IMAGE_FIELD, None, long))
    server = _read(body, b"b0", SERVER_LIMITS, [1000, 40_000])
    assert [(len(p.data), p.truncated) for p in server.parts] == [(MAX_TEXT_FIELD_BYTES, True)] * 2
    assert [bytes(p.data) for p in parse_form(body, CTYPE).parts] == [long, long]


def test_the_server_keeps_only_the_first_of_its_fields_but_names_all() -> None:
    body = _body(
        ("x", None, b"1"), (TYPE_FIELD, None, b"1"), (IMAGE_FIELD, "a", b"abc"), (TYPE_FIELD, None, b"9")
    )
    form = _read(body, b"b0", SERVER_LIMITS)
    assert [(p.name, bytes(p.data)) for p in form.parts] == [(TYPE_FIELD, b"1"), (IMAGE_FIELD, b"abc")]
    assert form.names == ["x", TYPE_FIELD, IMAGE_FIELD, TYPE_FIELD]
    assert len(parse_form(body, CTYPE).parts) == 4


@pytest.mark.parametrize("limits", [SERVER_LIMITS, OBSERVER_LIMITS], ids=["server", "proxy"])
def test_the_part_count_is_bounded(limits: FormLimits) -> None:
    """MAX_PARTS parts are read; one more is refused, for the server and the proxy alike."""
    assert len(_read(_body(*[("x", None, b"")] * MAX_PARTS), b"b0", limits).names) == MAX_PARTS
    assert _refusal(_body(*[("x", None, b"")] * (MAX_PARTS + 1)), limits) == "MISSING_PARAMETERS"


@pytest.mark.parametrize("limits", [SERVER_LIMITS, OBSERVER_LIMITS], ids=["server", "proxy"])
def test_part_headers_are_bounded(limits: FormLimits) -> None:
    """One part's headers together are at most MAX_PART_HEADER_BYTES (python-multipart itself
    bounds each line and their count; this bounds their sum, which those allow to reach 34 KB)."""
    line = "X-Pad: " + "a" * 4000 + "\r\n"
    assert _read(_body(("x", None, b"1"), headers=line * 3), b"b0", limits).names == ["x"]
    assert (len(line) - 2) * 5 > MAX_PART_HEADER_BYTES
    assert _refusal(_body(("x", None, b"1"), headers=line * 5), limits) == "MISSING_PARAMETERS"


def test_the_boundary_is_1_to_70_characters() -> None:
    """RFC 2046 §5.1.1: 70 characters are read, 71 and none are refused (in the header or direct)."""
    seventy = "b" * MAX_BOUNDARY
    assert parse_form(
        _body(("x", None, b"1"), boundary=seventy), f"multipart/form-data; boundary={seventy}"
    ).names == ["x"]
    for content_type in (
        f"multipart/form-data; boundary={seventy}b",
        "multipart/form-data",
        "multipart/form-data; boundary=",
    ):
        with pytest.raises(UploadRejected, match="boundary"):
            check_content_type(content_type)
    for boundary in (b"", b"y" * 71, b"z" * 300):
        with pytest.raises(UploadRejected):
            MultipartReader(boundary)


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/x-www-form-urlencoded", "", "text/plain; boundary=b0"]
)
def test_other_media_types_are_refused(content_type: str) -> None:
    """LP-REQ-2 / LP-ERR-11: the body must be multipart/form-data."""
    with pytest.raises(UploadRejected, match="must be multipart/form-data") as info:
        check_content_type(content_type)
    assert info.value.code == "MISSING_PARAMETERS"


# --- malformed bodies: one clear refusal, the same for both readers ----------------------------------

PART = b'Content-Disposition: form-data; name="image_target"; filename="a.png"\r\n\r\nxx\r\n'
MALFORMED = {
    "garbage part headers": b"--b0\r\n\x00\x01\x02 garbage\r\n\r\nxx\r\n--b0--\r\n",
    "a header line without a colon": b"--b0\r\nContent-Disposition form-data\r\n\r\nxx\r\n--b0--\r\n",
    "a header of 20000 bytes": b"--b0\r\nX-Big: " + b"a" * 20_000 + b"\r\n" + PART + b"--b0--\r\n",
    "4000 part headers": b"--b0\r\n" + b"X: a\r\n" * 4_000 + PART + b"--b0--\r\n",
    "garbage after the boundary": b"--b0junk\r\n" + PART + b"--b0--\r\n",
    "no boundary line at all": b"just some bytes",
    "nine part headers": b"--b0\r\n" + b"X: a\r\n" * 9 + PART + b"--b0--\r\n",
}
INCOMPLETE: dict[str, tuple[bytes, list[str]]] = {
    "no closing delimiter": (b"--b0\r\n" + PART, []),
    "cut inside a part": (b"--b0\r\n" + PART[:40], []),
    "cut inside the second part": (b"--b0\r\n" + PART + b"--b0\r\n" + PART[:40], [IMAGE_FIELD]),
    "only the closing delimiter": (b"--b0--\r\n", []),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_body_is_refused_alike(case: str) -> None:
    """Bad framing or a bad part header: MISSING_PARAMETERS from the server's reader, and the proxy
    (same reader) calls it no multipart at all, so it does not describe parts the server never saw."""
    body = MALFORMED[case]
    assert _refusal(body, SERVER_LIMITS) == "MISSING_PARAMETERS"
    assert _refusal(body, OBSERVER_LIMITS) == "MISSING_PARAMETERS"
    assert parse_parts(body, CTYPE) is None


@pytest.mark.parametrize("case", sorted(INCOMPLETE))
def test_an_incomplete_body_keeps_only_its_finished_parts(case: str) -> None:
    """A body that ends early is not an error of the framing: only finished parts count, for both
    readers (the server then answers that image_target is missing)."""
    body, names = INCOMPLETE[case]
    assert _read(body, b"b0", SERVER_LIMITS).names == names
    assert [part.name for part in parse_parts(body, CTYPE) or ()] == names


def test_the_proxy_describes_an_overlong_boundary_as_no_multipart() -> None:
    """Before the one reader, the proxy read a 71-character boundary the server refuses and judged
    parts the server never saw; now it describes no parts and keeps the Content-Type."""
    boundary = "y" * 71
    content_type = f"multipart/form-data; boundary={boundary}"
    body = _body((IMAGE_FIELD, "a.png", b"xx"), boundary=boundary)
    observed = observe_request(
        "POST", ENDPOINT_PATH, "", [(KEY_HEADER, KEY), ("content-type", content_type)], body
    )
    assert observed.request.parts == ()
    assert observed.request.content_type == content_type


# --- through the real server -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    thread = ServerThread(ServerConfig(api_keys=(KEY,)))
    with thread:
        yield thread


def test_the_server_answers_the_part_bound_with_an_envelope(server: ServerThread) -> None:
    """MAX_PARTS parts reach the image checks (a face-less image: ERROR_NO_FACE_IN_FILE); one more
    part is a 400 MISSING_PARAMETERS envelope naming the bound."""
    image = (IMAGE_FIELD, "a.png", samples.solid((64, 64), "PNG"))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for count, code in ((MAX_PARTS, "ERROR_NO_FACE_IN_FILE"), (MAX_PARTS + 1, "MISSING_PARAMETERS")):
            body = _body(image, *[("x", None, b"")] * (count - 1))
            answer = client.post(
                ENDPOINT_PATH, content=body, headers={KEY_HEADER: KEY, "content-type": CTYPE}
            )
            assert answer.json()["error_detail"]["code"] == code, answer.text
    assert str(MAX_PARTS) in answer.json()["error_msg"]
    assert answer.status_code == 400
