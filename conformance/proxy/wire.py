"""The proxy's wire helpers: which headers cross a hop, the envelopes the proxy answers with
itself, and how upstream failures map onto documented codes (SPEC §5, LP-ERR-13)."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from urllib.parse import unquote, unquote_to_bytes

import brotli
import httpx
from starlette.responses import JSONResponse, Response

from conformance.contract import DEFAULT_SERVER_EDITION, Edition
from conformance.protocol.envelope import envelope, error, new_request_id
from conformance.proxy.config import ProxyConfig

PROXY_HEADER = "x-livephoto-proxy"  # only on answers the proxy made itself
# RFC 9110 §7.6.1: meaningful for one connection only. ``expect`` is negotiated per hop as well
# (the proxy's server answers 100-continue itself); ``host`` is the upstream's, set by httpx.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
REQUEST_ONLY_DROPPED = frozenset({"host", "expect"})


class ResponseTooLarge(Exception):
    """The upstream's answer grew past the response cap."""


class UpstreamDeadline(Exception):
    """The upstream's answer (status line, headers and body) took longer than the deadline."""


class BadTarget(ValueError):
    """A request target that could address anything but the upstream's base path; says why."""


# RFC 9112 §3.2: a request target is visible ASCII; '#' (a fragment) is never part of it.
VISIBLE = re.compile(rb"[\x21-\x22\x24-\x7e]*")
CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Target:
    """Where a request goes: ``url`` on the upstream, and ``path``, the normalised path relative
    to the upstream's base path, decoded (what is judged: the path the upstream will see)."""

    url: httpx.URL
    path: str


def upstream_target(base: httpx.URL, raw_path: bytes, query: bytes) -> Target:
    """The upstream URL for a request target: scheme, credentials, host and port from ``base``
    (``--upstream``) only, the path under ``base``'s path, the query as received.

    The URL is built from parts, never by pasting the target after the base: pasted, a target
    such as ``%2F@evil:80/x`` turns the upstream's host into user information and sends the
    request, with the client's key, to ``evil``. Only an origin-form target (RFC 9112 §3.2.1,
    starting with a single ``/``) is accepted; its dot segments, also percent-encoded, are
    resolved (RFC 3986 §5.2.4) and may not climb above ``base``'s path; encoded ``/`` and ``\\``,
    backslashes and control characters are refused, because servers differ on what they mean.
    Raises ``BadTarget`` with the reason.
    """
    if not raw_path.startswith(b"/"):
        shown = raw_path[:60].decode("latin-1")
        raise BadTarget(f"the request target must be a path starting with '/', got {shown!r}")
    if raw_path.startswith(b"//"):
        raise BadTarget("the request target starts with '//' (a host, not a path)")
    for part in (raw_path, query):
        if not VISIBLE.fullmatch(part):
            raise BadTarget("the request target holds a space, a control character, '#' or non-ASCII bytes")
    segments: list[bytes] = []
    names = raw_path[1:].split(b"/")
    for position, segment in enumerate(names):
        decoded = unquote_to_bytes(segment)
        if b"/" in decoded or b"\\" in decoded:
            raise BadTarget("the path holds a backslash or an encoded '/' or '\\'")
        if CONTROL.search(decoded):
            raise BadTarget("the path holds an encoded control character (CR, LF, NUL …)")
        last = position == len(names) - 1
        if decoded == b"..":
            if not segments:
                raise BadTarget("the path climbs above the upstream's base path with '..'")
            segments.pop()
        elif decoded != b".":
            segments.append(segment)
            continue
        if last:
            segments.append(b"")  # "/a/." and "/a/b/.." both name the directory "/a/"
    relative = b"/" + b"/".join(segments)
    path = base.raw_path.split(b"?", 1)[0].rstrip(b"/") + relative
    url = base.copy_with(raw_path=path + (b"?" + query if query else b""))
    return Target(url, unquote(relative.decode("ascii"), errors="replace"))


def forwardable(raw: list[tuple[bytes, bytes]], *, request: bool) -> list[tuple[bytes, bytes]]:
    """Headers minus hop-by-hop ones (and those the Connection header names), order and case kept."""
    named = {
        token.strip().lower()
        for name, value in raw
        if name.lower() == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    dropped = HOP_BY_HOP | named | (REQUEST_ONLY_DROPPED if request else frozenset())
    return [(name, value) for name, value in raw if name.decode("latin-1").lower() not in dropped]


def proxy_answer(status_code: str, message: str, edition: Edition, reason: str) -> Response:
    """An error envelope the proxy makes itself (SPEC §2 shape, a documented code)."""
    concrete = DEFAULT_SERVER_EDITION if edition is Edition.ANY else edition
    outcome = error(status_code, message, concrete)
    return JSONResponse(
        envelope(outcome, new_request_id()), status_code=outcome.status, headers={PROXY_HEADER: reason}
    )


class Undecodable(ValueError):
    """An answer whose content coding the proxy cannot undo within the cap; the message says why."""


DECODE_STEP = 1024 * 1024  # bytes produced per decoding step: a bomb is stopped within a step or two
CODINGS = ("gzip", "x-gzip", "deflate", "br")


def decode_content(body: bytes, content_encoding: str, limit: int) -> bytes:
    """The body without its content codings (RFC 9110 §8.4: listed in the order applied, so undone
    in reverse), never more than ``limit`` bytes at any step; the body itself when it has none.

    Raises ``Undecodable`` naming the reason: a coding the proxy does not know, a body that does
    not decode (corrupt, truncated, trailing bytes), or one that grows past ``limit`` (a bomb).
    Every step is bounded by ``limit``, however small the input, so a bomb costs at most ``limit``
    bytes and a few steps of CPU.
    """
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    unknown = [c for c in codings if c not in CODINGS]
    if unknown:
        raise Undecodable(
            f"content-encoding {unknown[0]!r} is not one the proxy decodes ({', '.join(CODINGS)})"
        )
    for coding in reversed(codings):
        body = _brotli(body, limit) if coding == "br" else _inflate(body, coding, limit)
    return body


def _inflate(body: bytes, coding: str, limit: int) -> bytes:
    """gzip (every member of a multi-member body) or deflate (zlib-wrapped, or raw as some servers
    send it), at most ``limit`` bytes."""
    if coding == "deflate":
        # RFC 1950 header: compression method 8 and a check value that makes the pair a multiple of 31
        wrapped = len(body) >= 2 and body[0] & 0x0F == 8 and int.from_bytes(body[:2], "big") % 31 == 0
        wbits = zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS
    else:
        wbits = 16 + zlib.MAX_WBITS
    out = bytearray()
    data = body
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise Undecodable(f"the {coding} body does not decode ({exc})") from None
        if len(out) > limit or inflater.unconsumed_tail:
            raise Undecodable(f"the {coding} body decodes to more than {limit} bytes")
        if not inflater.eof:
            raise Undecodable(f"the {coding} body is truncated")
        data = inflater.unused_data
        if not data:
            return bytes(out)
        if coding == "deflate" or not data.startswith(b"\x1f\x8b"):
            raise Undecodable(f"the {coding} body has {len(data)} bytes after its end")


def _brotli(body: bytes, limit: int) -> bytes:
    """br (RFC 7932) with ``brotli``'s bounded output buffer, at most ``limit`` bytes."""
    decompressor = brotli.Decompressor()
    out = bytearray()
    try:
        out += decompressor.process(body, output_buffer_limit=DECODE_STEP)
        while not decompressor.is_finished() and not decompressor.can_accept_more_data():
            if len(out) > limit:
                break
            out += decompressor.process(b"", output_buffer_limit=DECODE_STEP)
    except brotli.error as exc:
        raise Undecodable(f"the br body does not decode ({exc})") from None
    if len(out) > limit:
        raise Undecodable(f"the br body decodes to more than {limit} bytes")
    if not decompressor.is_finished():
        raise Undecodable("the br body is truncated")
    return bytes(out)


def decode_body(body: bytes, encoding: str, limit: int) -> bytes | None:
    """``decode_content`` with None instead of the reason (the body itself when it has no coding)."""
    try:
        return decode_content(body, encoding, limit)
    except Undecodable:
        return None


def classify_failure(exc: Exception, config: ProxyConfig) -> tuple[str, str]:
    """The documented code and a message for an upstream failure: 504 for a timeout, else 502."""
    if isinstance(exc, UpstreamDeadline):
        return (
            "AI_SERVICE_TIMEOUT",
            f"The upstream did not finish its answer within {config.upstream_timeout:g} s.",
        )
    if isinstance(exc, httpx.TimeoutException):
        return "AI_SERVICE_TIMEOUT", f"The upstream did not answer within {config.upstream_timeout:g} s."
    if isinstance(exc, httpx.ConnectError):
        return "ERROR_GATEWAY", "The upstream refused the connection."
    if isinstance(exc, httpx.RemoteProtocolError):
        return "ERROR_GATEWAY", "The upstream closed the connection or sent an invalid HTTP response."
    if isinstance(exc, httpx.NetworkError):
        return "ERROR_GATEWAY", "The connection to the upstream was reset."
    if isinstance(exc, ResponseTooLarge):
        return "ERROR_GATEWAY", f"The upstream's response exceeds {config.max_response_body} bytes."
    return "ERROR_GATEWAY", f"The upstream could not be reached ({type(exc).__name__})."
