"""The validating recording proxy: forwards every request byte for byte, judges every exchange.

Request path: the body is streamed to the upstream while a copy (bounded by ``max_request_body``)
is kept for judging; a body declared over the cap is answered 413 without contacting the upstream.
Response path: the upstream's answer is read in full (bounded by ``max_response_body``, it must be
judged, and by a total deadline) and passed on unchanged: status, headers but hop-by-hop ones,
body. Observe mode judges in the background; enforce mode runs the MUST checks first and replaces a
MUST violation, or an answer it cannot judge, by a 502 envelope — the SHOULD and MAY checks cannot
change that decision, so they run while the answer travels. In both modes the answers held at once
are bounded in count and bytes (``budget``).

The upstream is addressed only by ``--upstream``: the request target is checked and joined to it
part by part (``wire.upstream_target``); a target that could leave it gets a 400 envelope.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import itertools
import json
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from conformance.exchange import KEY_HEADER, Exchange
from conformance.proxy.budget import Budget
from conformance.proxy.cassette import CassetteWriter, Timings, now_iso
from conformance.proxy.config import Mode, ProxyConfig
from conformance.proxy.logs import (
    USERINFO,
    RedactingFilter,
    exchange_secrets,
    on_library_loggers,
    request_secrets,
)
from conformance.proxy.observe import (
    Judgement,
    Observer,
    checks_for,
    elapsed_ms,
    enforcement_message,
    hide_paths,
    withheld_message,
)
from conformance.proxy.observed import Observed, observe_request
from conformance.proxy.wire import (
    BadTarget,
    ResponseTooLarge,
    Undecodable,
    UpstreamDeadline,
    classify_failure,
    decode_content,
    forwardable,
    proxy_answer,
    upstream_target,
)
from conformance.redact import MASK, Redactor

CONTROL_PREFIX = "/_livephoto/"  # the proxy's own paths: never forwarded
REPORT_PATH = "/_livephoto/report"
DRAIN_LIMIT = 64 * 1024 * 1024  # an over-cap body up to this size is read and discarded so the
# client gets its 413 cleanly; beyond it the connection is closed after the answer

JUDGE_THREADS = 1  # observe mode judges here, in answer order (cassettes too)
ANSWER_WAIT = 1.0  # s: enforce mode's SHOULD and MAY checks wait this long at most for the answer to
# leave first (the face detection of LP-VID-6 takes every core: it would slow the answer's sending)
ENFORCE_JUDGE_THREADS = 1  # enforce mode judges before answering: at most this many at once, so the
# memory judging takes (the decoded body, the parsed JSON, the decoded video) stays bounded too
T = TypeVar("T")

log = logging.getLogger("livephoto.proxy")


class BodyTooLarge(Exception):
    """The request body grew past the cap while it was being forwarded."""


@dataclass
class _Seen:
    """The request as received (the key is in ``headers``: never written as is)."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]] = field(repr=False)  # the key is in them
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
        self.writer = (
            CassetteWriter(
                config.record_dir, keep_headers=config.keep_headers, max_body=config.max_response_body
            )
            if config.record_dir is not None
            else None
        )
        self._client: httpx.AsyncClient | None = None
        self._numbers = itertools.count(1)
        self._pending: set[asyncio.Task[None]] = set()
        self._judges: ThreadPoolExecutor | None = None  # judging threads (observe: in answer order)
        self.budget = Budget(config.max_pending, config.max_pending_bytes)
        self._parties: dict[int, int] = {}  # exchange → parties (judging, sending) still holding it
        self.base = httpx.URL(config.upstream)  # the only scheme, host and port requests go to
        self.redacting = RedactingFilter([*config.upstream_secrets, config.report_token or ""])

    @property
    def _waiting(self) -> int:
        """Answers held now (being read or awaiting judging)."""
        return self.budget.count

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

    def report_allowed(self, request: Request) -> bool:
        """Whether the request may read the report: always when no token is set, else with the
        token as ``?token=`` or ``Authorization: Bearer`` (compared in constant time)."""
        token = self.config.report_token
        if token is None:
            return True
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        offered = bearer.strip() if scheme.lower() == "bearer" else request.query_params.get("token", "")
        return hmac.compare_digest(offered.encode(), token.encode())

    async def handle(self, request: Request) -> Response:
        """Forward one request and answer; never raises (failures become 502/504 envelopes)."""
        started, started_at = time.perf_counter(), now_iso()
        number = next(self._numbers)
        secrets = request_secrets(request.scope["headers"], request.scope.get("query_string", b""))
        with exchange_secrets(secrets):  # every line logged for this exchange is redacted with them
            return await self._guarded(request, number, started, started_at)

    async def _guarded(self, request: Request, number: int, started: float, started_at: str) -> Response:
        try:
            return await self._handle(request, number, started, started_at)
        except Exception as exc:  # the proxy never crashes: the client gets a gateway error
            self._forget(number)
            log.exception("proxy failure on exchange %d", number)
            self.observer.upstream_failed("ERROR_GATEWAY", f"proxy failure: {type(exc).__name__}")
            return proxy_answer(
                "ERROR_GATEWAY", "The proxy failed to forward the request.", self.config.edition, "error"
            )

    async def _handle(self, request: Request, number: int, started: float, started_at: str) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"")
        try:
            target = upstream_target(self.base, raw_path, query)
        except BadTarget as exc:
            return self._bad_target(request, number, str(exc), started)
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
            upstream = await self._send(request.method, target.url, headers, content, number, kept)
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
            target.path,  # as forwarded: '/x/../api/…' is judged as the endpoint it reaches
            query.decode("latin-1"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
            bytes(kept),
            USERINFO.sub(MASK + "@", str(target.url)),  # what evidence shows: never the credentials
        )
        del kept[:]
        timings = Timings(started_at, round(upstream.elapsed * 1000, 1), elapsed_ms(started))
        if self.config.mode is Mode.ENFORCE:
            judgement, answered = await self._judge_first(seen, upstream, number, timings)
            if judgement.must or judgement.undecodable:
                self._release(number)  # the answer is dropped (its judging may still hold it)
                answered.set()
                self.observer.count_enforced()
                message = (
                    withheld_message(judgement) if judgement.undecodable else enforcement_message(judgement)
                )
                return proxy_answer("ERROR_GATEWAY", message, self.config.edition, "enforced")
            return self._response(upstream, number, answered.set)
        self._parties[number] = 2  # held until judged and sent
        task = asyncio.create_task(self._judge_later(seen, upstream, number, timings))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return self._response(upstream, number)

    def _release(self, number: int) -> None:
        """One party (judging, sending) is done with the answer; the last one frees its budget."""
        left = self._parties.get(number)
        if left is None:
            return
        if left > 1:
            self._parties[number] = left - 1
            return
        del self._parties[number]
        self.budget.leave(number)

    def _forget(self, number: int) -> None:
        """Free whatever the exchange holds, whoever still holds it (the exchange failed)."""
        self._parties.pop(number, None)
        self.budget.leave(number)

    async def _in_judge_thread(self, judge: Callable[..., T], *args: Any) -> T:
        """Run ``judge`` in the judging threads, with this exchange's context (its secrets)."""
        if self._judges is None:
            threads = ENFORCE_JUDGE_THREADS if self.config.mode is Mode.ENFORCE else JUDGE_THREADS
            self._judges = ThreadPoolExecutor(threads, thread_name_prefix="livephoto-judge")
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._judges, context.run, judge, *args)

    async def _judge_first(
        self, seen: _Seen, upstream: _Upstream, number: int, timings: Timings
    ) -> tuple[Judgement, threading.Event]:
        """Enforce mode: judge an answer before passing it on, waiting for the verdict of the MUST
        checks only — the one that decides (``Observer.judge``'s ``decided``). The SHOULD and MAY
        checks (the face detection of LP-VID-6 alone took 22 of the 35 ms enforce mode added), the
        cassette and the log line follow in the same judging call once the answer has left (the
        caller sets the event; ``ANSWER_WAIT`` at most); the report waits for them (``drain``). As
        in observe mode the answer is held by two parties, judging and sending, and judging stays
        one call at a time (``ENFORCE_JUDGE_THREADS``)."""
        loop = asyncio.get_running_loop()
        decided: asyncio.Future[Judgement] = loop.create_future()
        answered = threading.Event()

        def settle(judgement: Judgement) -> None:
            if not decided.done():  # heard once; and nobody may be waiting any more
                decided.set_result(judgement)

        def hear(judgement: Judgement) -> None:  # called in the judging thread
            loop.call_soon_threadsafe(settle, judgement)
            answered.wait(ANSWER_WAIT)

        async def judging() -> None:
            try:
                await self._in_judge_thread(self._judge, seen, upstream, number, timings, hear)
            except Exception as exc:
                if decided.done():
                    log.exception("judging exchange %d failed", number)
                else:
                    decided.set_exception(exc)  # nothing decided: the caller answers 502
            finally:
                if not decided.done():  # ended without a verdict (cancelled): fail closed too
                    decided.set_exception(RuntimeError("judging ended without a verdict"))
                self._release(number)

        self._parties[number] = 2  # held until judged and sent
        task = asyncio.create_task(judging())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        try:
            return await decided, answered
        except BaseException:
            self._release(number)  # nothing will be sent
            answered.set()
            raise

    async def _judge_later(self, seen: _Seen, upstream: _Upstream, number: int, timings: Timings) -> None:
        try:
            await self._in_judge_thread(self._judge, seen, upstream, number, timings)
        except Exception:
            log.exception("judging exchange %d failed", number)
        finally:
            self._release(number)  # backpressure: a new answer waits until this one is judged

    def _judge(
        self,
        seen: _Seen,
        upstream: _Upstream,
        number: int,
        timings: Timings,
        decided: Callable[[Judgement], None] | None = None,
    ) -> Judgement:
        """Describe, judge, record and log one exchange (in a worker thread: parsing the multipart
        body and decoding the video are CPU work that must not hold the event loop). ``decided``
        hears the deciding verdict as soon as it is known (maybe twice: the first one counts)."""
        observed = observe_request(seen.method, seen.path, seen.query, seen.headers, seen.body)
        exchange = Exchange(
            request=observed.request,
            url=seen.url,
            status=upstream.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in upstream.raw_headers],
            body=upstream.body,
            elapsed=upstream.elapsed,
        )
        encoding = ", ".join(value for name, value in exchange.headers if name.lower() == "content-encoding")
        try:
            decoded = decode_content(exchange.body, encoding, self.config.max_response_body)
        except Undecodable as exc:
            if checks_for(observed, exchange) is None:  # outside the contract: nothing to judge anyway
                judgement = self.observer.judge(observed, exchange, number, decided)
            else:  # enforce mode withholds what it cannot judge
                judgement = self.observer.unjudged(exchange.status, str(exc), undecodable=True)
        else:
            judged = exchange if decoded is exchange.body else replace(exchange, body=decoded)
            judgement = self.observer.judge(observed, judged, number, decided)
            del decoded, judged
        if decided is not None:
            decided(judgement)  # the cassette and the log line need not delay the answer
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
        if (judgement.must or judgement.undecodable) and self.config.mode is Mode.ENFORCE:
            line["action"] = "replaced by 502 ERROR_GATEWAY"
        if judgement.reason:
            line["reason"] = judgement.reason
        log.info(Redactor([observed.key or ""]).text(json.dumps(line, ensure_ascii=False)))

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        headers: list[tuple[bytes, bytes]],
        content: AsyncIterator[bytes] | None,
        ticket: int,
        request_body: bytearray,
    ) -> _Upstream:
        """Send the request and read the whole answer. The answer's bytes are reserved in the
        budget as they arrive (released by the caller once judged, here on failure). From the
        moment the proxy waits for the status line, the upstream has ``upstream_timeout`` seconds
        for status line, headers and body together (``UpstreamDeadline``): a per-read timeout
        alone lets an upstream trickling a byte a second hold the exchange forever. Time spent
        waiting for the budget is the proxy's, not the upstream's: the deadline pauses meanwhile."""
        client = self.client()
        loop = asyncio.get_running_loop()
        timeout = self.config.upstream_timeout
        deadline = asyncio.timeout(None)

        async def trace(event: str, info: dict[str, Any]) -> None:
            if event == "http11.receive_response_headers.started" and deadline.when() is None:
                deadline.reschedule(loop.time() + timeout)

        sent = time.perf_counter()
        upstream_request = client.build_request(
            method, url, headers=headers, content=content, extensions={"trace": trace}
        )
        try:
            async with deadline:
                response = await client.send(upstream_request, stream=True)
                try:
                    if deadline.when() is None:  # no trace (another transport): start it now
                        deadline.reschedule(loop.time() + timeout)
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > self.config.max_response_body:
                        raise ResponseTooLarge
                    if not self.budget.try_enter(ticket, len(request_body)):
                        with _paused(deadline, loop):
                            await self.budget.enter(ticket, len(request_body))
                    body = bytearray()
                    async for chunk in response.aiter_raw():
                        if not self.budget.try_grow(ticket, len(chunk)):
                            with _paused(deadline, loop):
                                await self.budget.grow(ticket, len(chunk))
                        body.extend(chunk)
                        if len(body) > self.config.max_response_body:
                            raise ResponseTooLarge
                finally:
                    await response.aclose()
        except BaseException as exc:
            self.budget.leave(ticket)
            if isinstance(exc, TimeoutError) and deadline.expired():
                raise UpstreamDeadline from None
            raise
        return _Upstream(
            response.status_code, list(response.headers.raw), bytes(body), time.perf_counter() - sent
        )

    def _response(
        self, upstream: _Upstream, number: int, gone: Callable[[], None] = lambda: None
    ) -> Response:
        """The upstream's answer as the client gets it; it frees its budget once sent (or, should
        it never be sent, once dropped), and then calls ``gone``."""
        response = _Forwarded(content=upstream.body, status_code=upstream.status)
        loop = asyncio.get_running_loop()

        def released() -> None:
            self._release(number)
            gone()

        dropped = weakref.finalize(response, loop.call_soon_threadsafe, released)

        def sent() -> None:
            dropped.detach()
            released()

        response.release = sent
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

    def _bad_target(self, request: Request, number: int, reason: str, started: float) -> Response:
        """400 for a request target that could address anything but the upstream (not forwarded)."""
        self.observer.answered_itself("ERROR_INVALID_URL")
        log.info(
            json.dumps(
                {
                    "exchange": number,
                    "method": request.method,
                    "target": Redactor([request.headers.get(KEY_HEADER, "")]).text(
                        (request.scope.get("raw_path") or b"").decode("latin-1")[:200]
                    ),
                    "status": 400,
                    "verdict": "refused",
                    "reason": reason,
                    "total_ms": elapsed_ms(started),
                }
            )
        )
        message = (
            f"The request target was refused: {reason}. The proxy forwards paths under its upstream only."
        )
        return proxy_answer("ERROR_INVALID_URL", message, self.config.edition, "bad-target")

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


class _Forwarded(Response):
    """A forwarded answer: it holds its place in the budget until it has been sent."""

    release: Callable[[], None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            release, self.release = self.release, None
            if release is not None:
                release()


@contextmanager
def _paused(deadline: asyncio.Timeout, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Stop the deadline's clock for the duration of the block (a wait of the proxy's own)."""
    when = deadline.when()
    left = None if when is None else when - loop.time()
    deadline.reschedule(None)
    try:
        yield
    finally:
        if left is not None:
            deadline.reschedule(loop.time() + left)


async def _replayed(body: bytes) -> AsyncIterator[bytes]:
    """A buffered body sent chunked again, as the client sent it."""
    yield body


def create_proxy_app(config: ProxyConfig) -> Starlette:
    """The proxy as an ASGI app; ``app.state.proxy`` is its ``Proxy`` (totals, client)."""
    proxy = Proxy(config)

    async def report(request: Request) -> Response:
        if not proxy.report_allowed(request):
            answer = proxy_answer(
                "ERROR_APPLICATIONS_NOT_EXISTS",
                "The report needs the token the proxy printed at start-up, as ?token=… or "
                "Authorization: Bearer … (or start the proxy with --report-open).",
                config.edition,
                "control",
            )
            answer.headers["www-authenticate"] = "Bearer"
            return answer
        await proxy.drain()  # the report covers every exchange answered before it was asked
        return JSONResponse(hide_paths(proxy.observer.report().to_dict(), config))

    async def control_not_found(request: Request) -> Response:
        return proxy_answer(
            "ERROR_RESOURCE_NOT_FOUND",
            f"The proxy has no {request.url.path}; see {REPORT_PATH}.",
            config.edition,
            "control",
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with on_library_loggers(proxy.redacting):
            try:
                yield
            finally:
                await proxy.aclose()

    async def unrouted(scope: Scope, receive: Receive, send: Send) -> None:
        """A target no route matches (``http://host/``, ``*``, ``@host``): the proxy refuses it."""
        if scope["type"] != "http":
            return
        response = await proxy.handle(Request(scope, receive))
        await response(scope, receive, send)

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    routes = [
        Route(REPORT_PATH, report, methods=["GET"]),
        Route(CONTROL_PREFIX + "{rest:path}", control_not_found, methods=methods),
        Route("/{path:path}", proxy.handle, methods=methods),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.router.redirect_slashes = False  # every path is the upstream's business
    app.router.default = unrouted
    app.state.proxy = proxy
    return app
