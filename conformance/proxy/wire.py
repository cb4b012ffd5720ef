"""The proxy's wire helpers: which headers cross a hop, the envelopes the proxy answers with
itself, and how upstream failures map onto documented codes (SPEC §5, LP-ERR-13)."""

from __future__ import annotations

import zlib

import httpx
from starlette.responses import JSONResponse, Response

from conformance.contract import DEFAULT_SERVER_EDITION, Edition
from conformance.mock.envelope import envelope, error, new_request_id
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


def decode_body(body: bytes, encoding: str, limit: int) -> bytes | None:
    """The body without its content coding (gzip, deflate), at most ``limit`` bytes; the body itself
    when it has none; None for a coding the proxy does not decode or a body that does not decode."""
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return None
    attempts = (16 + zlib.MAX_WBITS,) if encoding != "deflate" else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
    for wbits in attempts:
        try:
            inflater = zlib.decompressobj(wbits)
            out = inflater.decompress(body, limit)
            if inflater.unconsumed_tail:
                return None  # larger than the cap once decoded
            return out
        except zlib.error:
            continue
    return None


def classify_failure(exc: Exception, config: ProxyConfig) -> tuple[str, str]:
    """The documented code and a message for an upstream failure: 504 for a timeout, else 502."""
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
