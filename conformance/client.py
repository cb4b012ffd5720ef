"""The one HTTP client the suite talks through: timeouts, a response cap, no redirects, rate limits
waited out (429 / ``Retry-After``) and traffic counted."""

from __future__ import annotations

import hashlib
import re
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from conformance.check_context import DEFAULT_INVALID_KEY
from conformance.exchange import ENDPOINT_PATH, ApiRequest, Exchange
from conformance.exchange import TargetGone as TargetGone  # re-exported: what a send raises
from conformance.exchange import TargetUnreachable as TargetUnreachable
from conformance.traffic import BusyClock, PauseClock, Traffic

DEFAULT_TIMEOUT = 60.0  # seconds; a success may take up to 30 s (LP-OPS-1)
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # a hostile target cannot exhaust memory
CONNECT_TIMEOUT = 5.0
BREAKER_THRESHOLD = 3  # consecutive unanswered requests after which the target counts as gone
ACCEPT_ENCODING = "gzip, deflate"  # only what the client decodes itself, under the cap
RATE_LIMIT_WAIT = 60.0  # s: the most one request waits out rate limits (or the timeout, if less)
RATE_LIMIT_RETRIES = 5  # retries of one request after 429 / 503 + Retry-After
FIRST_BACKOFF = 1.0  # s: the first wait after a 429 without a usable Retry-After, doubled each time
_DELTA_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?")  # RFC 9110 delta-seconds (decimals tolerated)


@dataclass(frozen=True)
class ClientSettings:
    """What the client needs to know about the target."""

    base_url: str
    api_key: str = field(repr=False)  # never in a traceback
    invalid_api_key: str = DEFAULT_INVALID_KEY
    timeout: float = DEFAULT_TIMEOUT
    max_response_bytes: int = MAX_RESPONSE_BYTES
    verify: bool = True
    sample_dir: Path | None = None
    rate_limit_wait: float = RATE_LIMIT_WAIT
    rate_limit_retries: int = RATE_LIMIT_RETRIES


_deadline = threading.local()  # .at: the monotonic time the current request must be done by


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose reads never wait past the current request's total deadline.

    The per-read timeout alone lets a target trickle a status line and headers a byte at a time
    for hours (h11 only stops at 16 KiB of headers); this bounds the whole answer.
    """

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        end: float | None = getattr(_deadline, "at", None)
        if end is not None:
            left = end - time.monotonic()
            if left <= 0:
                raise httpcore.ReadTimeout("the answer did not finish in time")
            timeout = left if timeout is None else min(timeout, left)
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's synchronous backend, its streams wrapped in ``_DeadlineStream``."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _deadline_transport(verify: bool) -> httpx.HTTPTransport:
    """httpx's transport with the deadline backend (no proxies: ``trust_env`` is off anyway)."""
    transport = httpx.HTTPTransport(verify=verify, trust_env=False)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_DeadlineBackend(),
    )
    return transport


class _CappedDecoder:
    """Undoes gzip/deflate content codings without ever producing more than the cap.

    httpx decodes a whole network chunk at once (a 64 KiB gzip-bomb chunk inflates to ~64 MiB,
    a stacked ``gzip, gzip`` one to gigabytes); here every inflate step is bounded by
    ``max_length``. Other codings are left as they are (the body then is not JSON: LP-ENV-1).
    """

    def __init__(self, content_encoding: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        self._stages = [
            zlib.decompressobj(16 + zlib.MAX_WBITS if c in ("gzip", "x-gzip") else zlib.MAX_WBITS)
            for c in reversed(codings)
            if c in ("gzip", "x-gzip", "deflate")
        ]
        self._deflate = [c == "deflate" for c in reversed(codings) if c in ("gzip", "x-gzip", "deflate")]
        self._tails = [b""] * len(self._stages)
        self._started = [False] * len(self._stages)

    def feed(self, data: bytes, limit: int) -> bytes:
        """At most ``limit`` decoded bytes from ``data`` plus what earlier calls left pending."""
        for i, stage in enumerate(self._stages):
            data = self._tails[i] + data
            try:
                out = stage.decompress(data, limit)
            except zlib.error:
                if not (self._deflate[i] and not self._started[i]):
                    raise httpx.DecodingError("the compressed response body is corrupt") from None
                # "deflate" sent as a raw stream (no zlib header): what browsers and httpx accept.
                stage = self._stages[i] = zlib.decompressobj(-zlib.MAX_WBITS)
                out = stage.decompress(data, limit)
            self._started[i] = True
            self._tails[i] = stage.unconsumed_tail
            data = out
        return data

    @property
    def pending(self) -> bool:
        """Input is waiting for output room (call ``feed(b"", …)`` again)."""
        return any(self._tails)


def check_base_url(url: str) -> str:
    """The base URL without a trailing slash; ValueError with a corrective sentence if unusable.

    Requests go to ``base + ENDPOINT_PATH`` (LP-REQ-1), so a query, a fragment or credentials in the
    base would end up in the wrong place (or in logs): they are refused, not silently mangled.
    """
    example = "e.g. --target https://api.example.com or --target http://127.0.0.1:8080"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--target {url!r} is not an http(s) URL; give the base URL, {example}")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError(f"--target {url!r} has an invalid port") from None
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "--target must not carry credentials (user:password@); the API key goes in "
            f"--api-key or $LIVEPHOTO_API_KEY, {example}"
        )
    if parts.query or url.rstrip().endswith("?"):
        raise ValueError(f"--target {url!r} has a query (?…); give the base URL only, {example}")
    if parts.fragment or "#" in url:
        raise ValueError(f"--target {url!r} has a fragment (#…); give the base URL only, {example}")
    if parts.path.rstrip("/").endswith(ENDPOINT_PATH.rstrip("/")):
        base = url[: url.rstrip("/").rfind(ENDPOINT_PATH.rstrip("/"))]
        raise ValueError(
            f"--target {url!r} already ends with the endpoint path {ENDPOINT_PATH}; the suite appends it "
            f"(LP-REQ-1): give the base URL, --target {base or 'https://api.example.com'}"
        )
    return url.rstrip("/")


def derived_boundary(request: ApiRequest) -> str:
    """A multipart boundary derived from the parts, in httpx's format (32 hex digits).

    httpx picks a random boundary when none is given; deriving it makes the same request the same
    bytes in every run, so two runs with one seed send byte-identical requests (issue 14) and a
    recording can be replayed by exact match.
    """
    digest = hashlib.sha256()
    for part in request.parts:
        for text in (part.name, part.filename, part.content_type):
            digest.update(b"\x00" if text is None else text.encode("utf-8", "surrogatepass") + b"\x01")
        digest.update(hashlib.sha256(part.content).digest())
    while True:
        boundary = digest.hexdigest()[:32]
        if not any(f"--{boundary}".encode() in part.content for part in request.parts):
            return boundary
        digest.update(b"again")  # the boundary occurs in a part: derive another one


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait (RFC 9110 §10.2.3); None when absent or unusable.

    Delta-seconds or an HTTP-date (one in the past means "now": 0). A hostile value cannot hurt:
    a negative number or garbage is None (the caller then backs off on its own), a huge number
    or a far date is returned as it is and the caller refuses to wait that long.
    """
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        return float(text)
    if text.isdigit():  # more digits than any sane wait: wait forever, i.e. not at all
        return float("inf")
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" in an HTTP-date: UTC all the same
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _rate_limited(exchange: Exchange) -> bool:
    """A 429, or a 503 that says when to come back: the target asks to be left alone a while."""
    return exchange.status == 429 or (exchange.status == 503 and exchange.header("retry-after") is not None)


class TargetClient:
    """Sends ApiRequests to one target and returns Exchanges; thread-safe.

    Concurrent sends share one rate-limit pause: when the target answers 429 (or 503 with
    ``Retry-After``) to any of them, no new request leaves the client before the time it asked for,
    so a concurrent run backs off as one instead of hammering a target that asked for a break.
    """

    def __init__(self, settings: ClientSettings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.base_url = check_base_url(settings.base_url)
        timeout = httpx.Timeout(settings.timeout, connect=min(CONNECT_TIMEOUT, settings.timeout))
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            verify=settings.verify,
            transport=transport or _deadline_transport(settings.verify),
            trust_env=False,
            headers={"Accept-Encoding": ACCEPT_ENCODING},
        )
        self._lock = threading.Lock()
        self._gate = threading.Condition(self._lock)  # waited on while a rate-limit pause runs
        # Called with every exchange returned by send (the plugin judges LP-OPS-1 on each of them);
        # a rate-limit answer that was waited out and retried is not one of them.
        self.observers: list[Callable[[Exchange], None]] = []
        self._failures = 0
        self._last_failure = ""
        self._requests = 0
        self._successes = 0
        self._retried = 0
        self._returned = 0
        self._busy = BusyClock()
        self._pause = PauseClock()

    @property
    def consecutive_failures(self) -> int:
        """Requests in a row that went unanswered (0 after any answer)."""
        return self._failures

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __enter__(self) -> TargetClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url_for(self, request: ApiRequest) -> str:
        """Base URL plus the request's path (LP-REQ-1)."""
        return self.base_url + request.path

    def build(self, request: ApiRequest) -> httpx.Request:
        """The httpx request for an ApiRequest, with the configured key."""
        headers: list[tuple[str, str]] = []
        key = request.key_value(self.settings.api_key, self.settings.invalid_api_key)
        if key is not None:
            headers.append((request.key_header, key))
        headers.extend(request.headers)
        url = self.url_for(request)
        if request.raw_body is not None:
            if request.content_type:
                headers.append(("Content-Type", request.content_type))
            return self._http.build_request(request.method, url, headers=headers, content=request.raw_body)
        if not request.parts:
            return self._http.build_request(request.method, url, headers=headers)
        boundary = request.boundary or derived_boundary(request)
        headers.append(("Content-Type", f"multipart/form-data; boundary={boundary}"))
        files = [(part.name, (part.filename, part.content, part.content_type)) for part in request.parts]
        return self._http.build_request(request.method, url, headers=headers, files=files)

    def traffic(self) -> Traffic:
        """The requests, successes, rate-limit retries, back-off and waiting time so far."""
        with self._lock:
            now = time.monotonic()
            return Traffic(
                requests=self._requests,
                successes=self._successes,
                rate_limits_retried=self._retried,
                rate_limits_returned=self._returned,
                backoff_s=self._pause.total(now),
                waited_s=self._busy.total(now),
            )

    def send(
        self, request: ApiRequest, *, retry_rate_limits: bool = True, may_close: bool = False
    ) -> Exchange:
        """Send and read the answer up to the cap; TargetUnreachable when there is none.

        A rate-limit answer (429, or 503 with ``Retry-After``) is waited out and the request sent
        again — ``Retry-After`` seconds or its date, else 1 s doubled each time — as long as this
        request's waiting stays within ``rate_limit_wait`` (and the timeout) and its retries within
        ``rate_limit_retries``; past that the rate-limit answer is returned. Meanwhile the whole
        client holds new sends back. ``retry_rate_limits=False`` returns a rate-limit answer at
        once and starts no pause: for a request that provokes one on purpose (LP-ERR-12).

        After ``BREAKER_THRESHOLD`` unanswered requests in a row the breaker opens: ``TargetGone``
        at once, without waiting for another timeout, so a dead target ends the run quickly.
        ``may_close``: a hostile request the target may answer by closing the connection (LP-SEC-3
        allows it); going unanswered does not count toward the breaker, so the valid request
        after it is still sent and judges whether the target lives on (LP-SEC-4).
        """
        budget = min(self.settings.rate_limit_wait, self.settings.timeout)
        waited, retries = 0.0, 0
        while True:
            exchange = self._attempt(request, may_close=may_close)
            if not (retry_rate_limits and _rate_limited(exchange)):
                break
            delay = retry_after_seconds(exchange.header("retry-after"))
            if delay is None:
                delay = FIRST_BACKOFF * 2**retries
            if retries >= self.settings.rate_limit_retries or waited + delay > budget:
                with self._lock:
                    self._returned += 1
                break
            retries += 1
            waited += delay
            with self._lock:
                self._retried += 1
                now = time.monotonic()
                self._pause.pause(now, now + delay)
        with self._lock:
            observers = list(self.observers)
        for observe in observers:
            observe(exchange)
        return exchange

    def _wait_for_pause(self) -> None:
        """Block while a rate-limit pause runs (the caller holds ``self._lock``)."""
        while (left := self._pause.until - time.monotonic()) > 0:
            self._gate.wait(left)

    def _attempt(self, request: ApiRequest, *, may_close: bool = False) -> Exchange:
        """One request on the wire, after any running pause; the breaker and the counters."""
        with self._lock:
            self._wait_for_pause()
            if self._failures >= BREAKER_THRESHOLD:
                raise TargetGone(
                    f"target stopped answering: {self._failures} requests in a row failed, "
                    f"the last with: {self._last_failure}"
                )
            self._requests += 1
            self._busy.enter(time.monotonic())
        try:
            exchange = self._send(request)
        except TargetUnreachable as exc:
            if not may_close:
                with self._lock:
                    self._failures += 1
                    self._last_failure = str(exc)
            raise
        finally:
            with self._lock:
                self._busy.leave(time.monotonic())
        with self._lock:
            self._failures = 0
            self._successes += exchange.status == 200
        return exchange

    def _send(self, request: ApiRequest) -> Exchange:
        http_request = self.build(request)
        url = str(http_request.url)
        started = time.perf_counter()
        _deadline.at = time.monotonic() + self.settings.timeout
        try:
            response = self._http.send(http_request, stream=True)
            try:
                body, truncated = self._read_capped(response, started)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise TargetUnreachable(
                f"{request.method} {url} timed out after {self.settings.timeout:g} s "
                f"({type(exc).__name__}); raise --request-timeout if the target is just slow"
            ) from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            reason = str(exc) or type(exc).__name__
            raise TargetUnreachable(f"{request.method} {url} failed: {reason}") from None
        finally:
            _deadline.at = None
        return Exchange(
            request=request,
            url=url,
            status=response.status_code,
            headers=list(response.headers.multi_items()),
            body=body,
            elapsed=time.perf_counter() - started,
            truncated=truncated,
            sample_dir=self.settings.sample_dir,
            invalid_api_key=self.settings.invalid_api_key,
        )

    def _read_capped(self, response: httpx.Response, started: float) -> tuple[bytes, bool]:
        """The decoded body, at most ``cap`` bytes (counted after decompression), and whether
        more was there; the whole body must arrive within the timeout."""
        cap = self.settings.max_response_bytes
        deadline = started + self.settings.timeout
        decoder = _CappedDecoder(response.headers.get("content-encoding", ""))
        body = bytearray()
        for chunk in response.iter_raw():
            if time.perf_counter() > deadline:
                # A body that trickles in never trips the per-read timeout: bound the total.
                raise httpx.ReadTimeout("the response body did not finish in time")
            body += decoder.feed(chunk, cap + 1 - len(body))
            while decoder.pending and len(body) <= cap:
                body += decoder.feed(b"", cap + 1 - len(body))
            if len(body) > cap:
                del body[cap:]
                return bytes(body), True
        return bytes(body), False
