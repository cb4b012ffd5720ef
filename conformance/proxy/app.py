"""The validating recording proxy: forwards every request byte for byte, judges every exchange.

Request path: the body is streamed to the upstream while a copy (bounded by ``max_request_body``)
is kept for judging; a body declared over the cap is answered 413 without contacting the upstream.
Response path: the upstream's answer is read in full (bounded by ``max_response_body``, it must be
judged) and passed on unchanged: status, headers but hop-by-hop ones, body. Observe mode judges in
the background; enforce mode judges first and replaces a MUST violation by a 502 envelope.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.exchange import KEY_HEADER, Exchange
from conformance.proxy.cassette import CassetteWriter, Timings, now_iso
from conformance.proxy.config import Mode, ProxyConfig
from conformance.proxy.observe import Judgement, Observer, elapsed_ms, enforcement_message
from conformance.proxy.observed import Observed, observe_request
from conformance.proxy.wire import ResponseTooLarge, classify_failure, decode_body, forwardable, proxy_answer
from conformance.redact import Redactor

CONTROL_PREFIX = "/_livephoto/"  # the proxy's own paths: never forwarded
REPORT_PATH = "/_livephoto/report"
DRAIN_LIMIT = 64 * 1024 * 1024  # an over-cap body up to this size is read and discarded so the
# client gets its 413 cleanly; beyond it the connection is closed after the answer

JUDGE_THREADS = 1  # observe mode judges here, in answer order (cassettes too)

log = logging.getLogger("livephoto.proxy")


class BodyTooLarge(Exception):
    """The request body grew past the cap while it was being forwarded."""


@dataclass
class _Seen:
    """The request as received (the key is in ``headers``: never written as is)."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    url: str


@dataclass
class _Upstream:
    status: int
    raw_headers: list[tuple[bytes, bytes]]
    body: bytes
    elapsed: float


class Proxy:
    """The state of one proxy: the shared client, the observer, the recorder, pending judgements."""

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self.observer = Observer(config)
        self.writer = CassetteWriter(config.record_dir) if config.record_dir is not None else None
        self._client: httpx.AsyncClient | None = None
        self._numbers = itertools.count(1)
        self._pending: set[asyncio.Task[None]] = set()
        self._judges: ThreadPoolExecutor | None = None  # observe mode's background judging
        self._budget: asyncio.Condition | None = None  # guards _waiting and _waiting_bytes
        self._waiting = 0
        self._waiting_bytes = 0

    def client(self) -> httpx.AsyncClient:
        """The one upstream client (created in the serving loop on first use)."""
        if self._client is None:
            timeout = httpx.Timeout(self.config.upstream_timeout, connect=self.config.connect_timeout)
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
            # The client is shared by every client of the proxy: it must keep no cookies, or one
            # client's Set-Cookie would be sent upstream with another client's requests.
            no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
            client = httpx.AsyncClient(
                timeout=timeout, limits=limits, trust_env=False, follow_redirects=False, cookies=no_cookies
            )
            client.headers.clear()  # no Accept/User-Agent/Accept-Encoding of httpx's own: bytes as sent
            self._client = client
        return self._client

    async def aclose(self) -> None:
        """Finish pending judgements and close the upstream client."""
        await self.drain(until_idle=True)
        if self._judges is not None:
            self._judges.shutdown(wait=True)
            self._judges = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def drain(self, *, until_idle: bool = False) -> None:
        """Wait until every exchange answered so far has been judged (and recorded); with
        ``until_idle``, also those answered meanwhile (at shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
            if not until_idle:
                return

    async def handle(self, request: Request) -> Response:
        """Forward one request and answer; never raises (failures become 502/504 envelopes)."""
        started, started_at = time.perf_counter(), now_iso()
        number = next(self._numbers)
        try:
            return await self._handle(request, number, started, started_at)
        except Exception as exc:  # the proxy never crashes: the client gets a gateway error
            log.exception("proxy failure on exchange %d", number)
            self.observer.upstream_failed("ERROR_GATEWAY", f"proxy failure: {type(exc).__name__}")
            return proxy_answer(
                "ERROR_GATEWAY", "The proxy failed to forward the request.", self.config.edition, "error"
            )

    async def _handle(self, request: Request, number: int, started: float, started_at: str) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self.config.max_request_body:
            return await self._too_large(request, number, int(declared), started, drain=True)
        kept = bytearray()
        too_large = False

        async def tee() -> AsyncIterator[bytes]:
            nonlocal too_large
            drained = 0
            async for chunk in request.stream():
                if too_large:  # read on (up to DRAIN_LIMIT) so the client can receive its 413
                    drained += len(chunk)
                    if drained > DRAIN_LIMIT:
                        break
                    continue
                kept.extend(chunk)
                if len(kept) > self.config.max_request_body:
                    too_large = True
                    del kept[:]
                    continue
                if chunk:
                    yield chunk
            if too_large:
                raise BodyTooLarge

        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"")
        url = (
            self.config.upstream
            + raw_path.decode("latin-1")
            + ("?" + query.decode("latin-1") if query else "")
        )
        headers = forwardable(list(request.scope["headers"]), request=True)
        chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
        try:
            content: AsyncIterator[bytes] | None = None
            if declared.strip():
                content = tee()  # a declared length within the cap: streamed
            elif chunked:  # unknown length: read (bounded) first, so an over-cap body is never forwarded
                async for _ in tee():
                    pass
                content = _replayed(bytes(kept))
            upstream = await self._send(request.method, url, headers, content)
        except BodyTooLarge:
            return await self._too_large(request, number, self.config.max_request_body + 1, started)
        except ClientDisconnect:
            log.info(
                json.dumps({"exchange": number, "verdict": "client-gone", "total_ms": elapsed_ms(started)})
            )
            return Response(status_code=400)  # nobody reads it
        except Exception as exc:
            if too_large:
                return await self._too_large(request, number, self.config.max_request_body + 1, started)
            return self._upstream_failure(exc, request, number, started)
        seen = _Seen(
            request.method,
            request.url.path,
            query.decode("latin-1"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
            bytes(kept),
            url,
        )
        forwarded = self._response(upstream)
        timings = Timings(started_at, round(upstream.elapsed * 1000, 1), elapsed_ms(started))
        if self.config.mode is Mode.ENFORCE:
            judgement = await asyncio.to_thread(self._judge, seen, upstream, number, timings)
            if judgement.must:
                self.observer.count_enforced()
                return proxy_answer(
                    "ERROR_GATEWAY", enforcement_message(judgement), self.config.edition, "enforced"
                )
            return forwarded
        size = len(seen.body) + len(upstream.body)
        await self._reserve(size)  # backpressure: what awaits judging stays bounded
        task = asyncio.create_task(self._judge_later(seen, upstream, number, timings, size))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return forwarded

    async def _reserve(self, size: int) -> None:
        """Wait until the exchange fits: at most ``max_pending`` exchanges and
        ``max_pending_bytes`` bytes await judging (one exchange always fits when none waits)."""
        if self._budget is None:
            self._budget = asyncio.Condition()
        async with self._budget:
            await self._budget.wait_for(
                lambda: (
                    self._waiting == 0
                    or (
                        self._waiting < self.config.max_pending
                        and self._waiting_bytes + size <= self.config.max_pending_bytes
                    )
                )
            )
            self._waiting += 1
            self._waiting_bytes += size

    async def _judge_later(
        self, seen: _Seen, upstream: _Upstream, number: int, timings: Timings, size: int
    ) -> None:
        if self._judges is None:
            self._judges = ThreadPoolExecutor(JUDGE_THREADS, thread_name_prefix="livephoto-judge")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._judges, self._judge, seen, upstream, number, timings)
        except Exception:
            log.exception("judging exchange %d failed", number)
        finally:
            assert self._budget is not None
            async with self._budget:
                self._waiting -= 1
                self._waiting_bytes -= size
                self._budget.notify_all()

    def _judge(self, seen: _Seen, upstream: _Upstream, number: int, timings: Timings) -> Judgement:
        """Describe, judge, record and log one exchange (in a worker thread: parsing the multipart
        body and decoding the video are CPU work that must not hold the event loop)."""
        observed = observe_request(seen.method, seen.path, seen.query, seen.headers, seen.body)
        exchange = Exchange(
            request=observed.request,
            url=seen.url,
            status=upstream.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in upstream.raw_headers],
            body=upstream.body,
            elapsed=upstream.elapsed,
        )
        encoding = (exchange.header("content-encoding") or "").strip().lower()
        decoded = decode_body(exchange.body, encoding, self.config.max_response_body)
        if decoded is None:
            judgement = self.observer.unjudged(
                exchange.status, f"content-encoding {encoding!r} is not decoded"
            )
        else:
            judged = exchange if decoded is exchange.body else replace(exchange, body=decoded, cache={})
            judgement = self.observer.judge(observed, judged, number)
        if self.writer is not None:
            try:
                self.writer.record(observed, exchange, timings)  # the upstream's bytes, as received
            except OSError as exc:  # a full disk must not stop the traffic
                log.error("recording exchange %d failed: %s", number, exc)
        self._log(number, observed, exchange.status, judgement, timings)
        return judgement

    def _log(
        self, number: int, observed: Observed, status: int, judgement: Judgement, timings: Timings
    ) -> None:
        line = {
            "exchange": number,
            "method": observed.request.method,
            "path": observed.request.path,
            "status": status,
            "verdict": judgement.verdict,
            "violations": judgement.labels(),
            "expect": judgement.expect,
            "upstream_ms": timings.upstream_ms,
        }
        if judgement.must and self.config.mode is Mode.ENFORCE:
            line["action"] = "replaced by 502 ERROR_GATEWAY"
        if judgement.reason:
            line["reason"] = judgement.reason
        log.info(Redactor([observed.key or ""]).text(json.dumps(line, ensure_ascii=False)))

    async def _send(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], content: AsyncIterator[bytes] | None
    ) -> _Upstream:
        client = self.client()
        sent = time.perf_counter()
        upstream_request = client.build_request(method, url, headers=headers, content=content)
        response = await client.send(upstream_request, stream=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_raw():
                body.extend(chunk)
                if len(body) > self.config.max_response_body:
                    raise ResponseTooLarge
        finally:
            await response.aclose()
        return _Upstream(
            response.status_code, list(response.headers.raw), bytes(body), time.perf_counter() - sent
        )

    def _response(self, upstream: _Upstream) -> Response:
        response = Response(content=upstream.body, status_code=upstream.status)
        headers = forwardable(upstream.raw_headers, request=False)
        bodiless = upstream.status < 200 or upstream.status in (204, 304)
        if not bodiless and not any(name.lower() == b"content-length" for name, _ in headers):
            headers.append((b"content-length", str(len(upstream.body)).encode()))  # was chunked
        response.raw_headers = headers
        return response

    async def _too_large(
        self, request: Request, number: int, size: int, started: float, *, drain: bool = False
    ) -> Response:
        if drain and size <= DRAIN_LIMIT:  # the body is untouched: read and discard it
            drained = 0
            async for chunk in request.stream():
                drained += len(chunk)
                if drained > DRAIN_LIMIT:
                    break
        self.observer.answered_itself("ERROR_REQUEST_BODY_TOO_LARGE")
        message = f"The request body exceeds {self.config.max_request_body} bytes; it was not forwarded."
        log.info(
            json.dumps(
                {
                    "exchange": number,
                    "method": request.method,
                    "path": Redactor([request.headers.get(KEY_HEADER, "")]).text(request.url.path),
                    "status": 413,
                    "verdict": "refused",
                    "reason": "request body over the cap",
                    "bytes": size,
                    "total_ms": elapsed_ms(started),
                }
            )
        )
        return proxy_answer("ERROR_REQUEST_BODY_TOO_LARGE", message, self.config.edition, "request-too-large")

    def _upstream_failure(self, exc: Exception, request: Request, number: int, started: float) -> Response:
        code, message = classify_failure(exc, self.config)
        self.observer.upstream_failed(code, message)
        log.info(
            json.dumps(
                {
                    "exchange": number,
                    "method": request.method,
                    "path": Redactor([request.headers.get(KEY_HEADER, "")]).text(request.url.path),
                    "verdict": "upstream-error",
                    "code": code,
                    "reason": message,
                    "total_ms": elapsed_ms(started),
                }
            )
        )
        return proxy_answer(code, message, self.config.edition, "upstream-error")


async def _replayed(body: bytes) -> AsyncIterator[bytes]:
    """A buffered body sent chunked again, as the client sent it."""
    yield body


def create_proxy_app(config: ProxyConfig) -> Starlette:
    """The proxy as an ASGI app; ``app.state.proxy`` is its ``Proxy`` (totals, client)."""
    proxy = Proxy(config)

    async def report(request: Request) -> Response:
        await proxy.drain()  # the report covers every exchange answered before it was asked
        return JSONResponse(proxy.observer.report().to_dict())

    async def control_not_found(request: Request) -> Response:
        return proxy_answer(
            "ERROR_RESOURCE_NOT_FOUND",
            f"The proxy has no {request.url.path}; see {REPORT_PATH}.",
            config.edition,
            "control",
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await proxy.aclose()

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    routes = [
        Route(REPORT_PATH, report, methods=["GET"]),
        Route(CONTROL_PREFIX + "{rest:path}", control_not_found, methods=methods),
        Route("/{path:path}", proxy.handle, methods=methods),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.router.redirect_slashes = False  # every path is the upstream's business
    app.state.proxy = proxy
    return app
