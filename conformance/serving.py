"""An ASGI app served by uvicorn on a real socket, hardened against hostile clients: the reference
server, the proxy, the replay mock and the test servers all start this way.

uvicorn alone never closes a connection that is still sending its request line and headers, nor
one whose body stalls, and its ``limit_concurrency`` counts idle connections and answers in plain
text. Here every server gets (``Limits``):

- a header deadline (from the connection, or the previous answer, to the end of the headers), a
  body idle timeout and a whole-body deadline, a send timeout for a client that stops reading;
- a connection cap below the process's file-descriptor limit: at the cap, the connection that has
  kept the server waiting longest is closed to make room (a slowloris client, never a request the
  server is working on), so a fresh legitimate request always gets in;
- a cap on requests in progress; beyond it the answer is 503 ``AI_SERVICE_FLOW_RESTRICTION`` in the
  API's JSON envelope with ``Retry-After`` (LP-ERR-12), and a malformed HTTP request (bad chunked
  framing included) is a 400 envelope rather than uvicorn's plain text or a traceback.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, cast

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HOST = "127.0.0.1"
START_TIMEOUT = 30.0  # seconds to wait for the socket to listen

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FDS_PER_CONNECTION = 2  # a proxied request also holds an upstream socket
RESERVED_FDS = 64  # log files, the upstream pool's spares, cassettes, the listening socket
MIN_CONNECTIONS = 16
MAX_CONNECTIONS = 1024


def _fd_limit() -> int | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows has no RLIMIT_NOFILE
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


@dataclass(frozen=True)
class Limits:
    """What a client may hold of a server. Timeouts are in seconds.

    ``max_connections`` None derives the cap (and the listen backlog) from the file-descriptor
    limit, at most 1024, so the server never runs out of descriptors: asyncio would then log a
    traceback per refused ``accept`` and pause accepting.
    """

    header_timeout: float = 10.0  # request line + headers must be complete within this
    body_idle_timeout: float = 15.0  # longest silence while a body is still arriving
    body_timeout: float = 120.0  # a whole body (6 MiB at 50 kB/s) must arrive within this
    send_timeout: float = 30.0  # longest a client may leave an answer unread
    keep_alive: int = 5  # uvicorn's idle timeout between requests on one connection
    max_connections: int | None = None
    max_in_flight: int = 64  # requests the app works on at once; beyond: 503 envelope
    overload_retry_after: int = 1  # seconds, the 503's Retry-After

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_idle_timeout", "body_timeout", "send_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0 seconds, got {getattr(self, name)}")
        if self.max_in_flight < 1:
            raise ValueError(f"max_in_flight must be ≥ 1, got {self.max_in_flight}")
        if self.max_connections is not None and self.max_connections < 2:
            raise ValueError(f"max_connections must be ≥ 2, got {self.max_connections}")

    def backlog(self) -> int:
        """The listen backlog, which is also how many sockets asyncio accepts in one go before any
        of them reaches the protocol (and so before the cap can close one): an eighth of the fd
        limit, 16 to 2048 (uvicorn's default)."""
        fds = _fd_limit()
        return 2048 if fds is None else max(16, min(2048, fds // 8))

    def connection_cap(self) -> int:
        """The connection cap in force: the explicit one, or what the fd limit leaves room for
        once reserved descriptors and three accept batches in flight (measured) are set aside."""
        if self.max_connections is not None:
            return self.max_connections
        fds = _fd_limit()
        if fds is None:
            return MAX_CONNECTIONS
        derived = (fds - RESERVED_FDS - 3 * self.backlog()) // FDS_PER_CONNECTION
        return max(MIN_CONNECTIONS, min(MAX_CONNECTIONS, derived))


DEFAULT_LIMITS = Limits()


def envelope_bytes(status: int, code: str, message: str) -> bytes:
    """An error in the API's JSON envelope (SPEC §2), for answers given below the app."""
    from conformance.contract import documented_message

    request_id = uuid.uuid4().hex
    body = {
        "request_id": request_id,
        "log_id": uuid.uuid5(uuid.NAMESPACE_OID, request_id).hex[:16].upper(),
        "error_code": status,
        "error_code_str": code,
        "error_msg": message,
        "error_detail": {
            "status_code": status,
            "code": code,
            "code_message": documented_message(code) or "",
            "message": message,
        },
    }
    return json.dumps(body).encode()


OVERLOAD_CODE = "AI_SERVICE_FLOW_RESTRICTION"  # 503 in both editions (LP-ERR-12)
MALFORMED_CODE = "ERROR_PARAMETERS"  # 400 in both editions: the request cannot be parsed as HTTP


class _Guard:
    """The state one server's connections share: who is connected, how many requests run."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.cap = limits.connection_cap()
        self.connections: set[GuardedH11Protocol] = set()
        self.in_flight = 0
        self.evicted = 0
        self.refused = 0

    def evict(self, phases: tuple[str, ...], *, exclude: object = None, min_wait: float = 0.0) -> bool:
        """Close the connection that has kept the server waiting longest in one of ``phases``."""
        now = time.monotonic()
        victim: GuardedH11Protocol | None = None
        oldest = now - min_wait
        for connection in self.connections:
            if connection is exclude or connection.transport.is_closing():
                continue
            waiting = connection.waiting()
            if waiting is not None and waiting[0] in phases and waiting[1] <= oldest:
                victim, oldest = connection, waiting[1]
        if victim is None:
            return False
        self.evicted += 1
        victim.drop()
        return True


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the deadlines, the connection cap and a 400 envelope.

    A subclass bound to one server's ``_Guard`` is made by ``harden``.
    """

    guard: ClassVar[_Guard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        now = time.monotonic()
        self._idle_since = now  # waiting for a request's headers since
        self._last_received = now
        self._request_started = now
        self._write_paused_since: float | None = None
        self._seen_cycle: object = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        guard = self.guard
        guard.connections.add(self)
        if len(guard.connections) > guard.cap and not guard.evict(("headers", "body", "send"), exclude=self):
            guard.refused += 1
            self.drop()
            return
        self._check()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.connections.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._last_received = time.monotonic()
        super().data_received(data)
        self._note_cycle()

    def on_response_complete(self) -> None:
        self._idle_since = time.monotonic()
        super().on_response_complete()
        self._note_cycle()
        self._check()

    def pause_writing(self) -> None:
        self._write_paused_since = time.monotonic()
        super().pause_writing()
        self._check()

    def resume_writing(self) -> None:
        self._write_paused_since = None
        super().resume_writing()

    def _note_cycle(self) -> None:
        if self.cycle is not None and self.cycle is not self._seen_cycle:
            self._seen_cycle = self.cycle
            self._request_started = time.monotonic()
            self._check()  # a new phase: its own deadline

    def waiting(self) -> tuple[str, float] | None:
        """What this connection waits for from its client, and since when; None while the
        server itself is the one working (the app computing, or reading paused by flow control)."""
        cycle = self.cycle
        if self._write_paused_since is not None:
            return "send", self._write_paused_since
        if cycle is None or cycle.response_complete:
            return "headers", self._idle_since
        if (
            cycle.more_body
            and not cycle.disconnected
            and not cycle.waiting_for_100_continue
            and not self.flow.read_paused
        ):
            return "body", self._last_received
        return None

    def _arm(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_later(max(delay, 0.05), self._check)

    def _check(self) -> None:
        """Close the connection if its current wait is past its deadline, else check again then
        (at least every second: data arriving moves a body's deadline without a timer)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is None or self.transport.is_closing():
            return
        limits = self.guard.limits
        now = time.monotonic()
        waiting = self.waiting()
        if waiting is None:
            self._arm(1.0)
            return
        phase, since = waiting
        if phase == "headers":
            deadline = since + limits.header_timeout
        elif phase == "body":
            deadline = min(since + limits.body_idle_timeout, self._request_started + limits.body_timeout)
        else:
            deadline = since + limits.send_timeout
        if now >= deadline:
            self.drop()
        else:
            self._arm(min(deadline - now, 1.0))

    def drop(self) -> None:
        """Close at once; an app still handling a request on it sees a disconnect."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.abort()

    def send_400_response(self, msg: str) -> None:
        """A malformed request (bad request line, headers or chunked framing): a 400 envelope and
        close. If the app is already handling the request, its own answer is dropped (it sees a
        disconnect) so nothing is sent twice and nothing is logged as a crash."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            started = cycle.response_started
            cycle.disconnected = True
            cycle.message_event.set()
            if started:
                self.transport.abort()
                return
        body = envelope_bytes(400, MALFORMED_CODE, "The HTTP request is malformed.")
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        try:
            output = self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request"))
            output = (output or b"") + (self.conn.send(h11.Data(data=body)) or b"")
            output += self.conn.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError:
            self.transport.abort()
            return
        self.transport.write(output)
        self.transport.close()


class _InFlightLimit:
    """ASGI middleware: at most ``max_in_flight`` requests in the app. At the cap, a request whose
    client has stalled (body or answer) for a second is dropped to make room; otherwise the
    newcomer gets 503 ``AI_SERVICE_FLOW_RESTRICTION`` with ``Retry-After``."""

    def __init__(self, app: ASGIApp, guard: _Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guard = self.guard
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if guard.in_flight >= guard.limits.max_in_flight and not guard.evict(("body", "send"), min_wait=1.0):
            guard.refused += 1
            await _overloaded(send, guard.limits)
            return
        guard.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            guard.in_flight -= 1


async def _overloaded(send: Send, limits: Limits) -> None:
    message = f"The server is handling {limits.max_in_flight} requests, its limit; retry shortly."
    body = envelope_bytes(503, OVERLOAD_CODE, message)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(limits.overload_retry_after).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def harden(uv_config: uvicorn.Config, limits: Limits | None = None) -> uvicorn.Config:
    """Apply ``limits`` to a not-yet-loaded uvicorn config (in place; returned for chaining):
    the guarded h11 protocol, the in-flight cap around the app, uvicorn's keep-alive timeout.
    Idempotent: a config hardened once keeps its first limits."""
    if getattr(uv_config, "_livephoto_guard", None) is not None:
        return uv_config
    limits = limits or DEFAULT_LIMITS
    guard = _Guard(limits)
    protocol = type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": guard})
    uv_config.http = protocol
    app = uv_config.app
    if isinstance(app, str):  # "module:attribute", as uvicorn's command line takes it
        from uvicorn.importer import import_from_string

        app = import_from_string(app)
    uv_config.app = _InFlightLimit(cast(ASGIApp, app), guard)
    uv_config.timeout_keep_alive = limits.keep_alive
    uv_config.backlog = limits.backlog()
    uv_config.limit_concurrency = None  # uvicorn's counts idle connections and answers plain text
    uv_config._livephoto_guard = guard  # type: ignore[attr-defined]
    return uv_config


def guard_of(uv_config: uvicorn.Config) -> _Guard | None:
    """The shared state of a hardened config (for tests and figures), or None."""
    guard: _Guard | None = getattr(uv_config, "_livephoto_guard", None)
    return guard


def serve_forever(uv_config: uvicorn.Config, what: str = "", *, limits: Limits | None = None) -> None:
    """Run a hardened server in the foreground until interrupted; once the socket listens, print
    ``[what ]listening on URL`` on stdout (the line scripts and ``start_server_process`` wait for)."""
    harden(uv_config, limits)
    prefix = f"{what} " if what else ""
    host = uv_config.host

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[Any] | None = None) -> None:
            await super().startup(sockets)
            if self.servers and not self.should_exit:
                port = self.servers[0].sockets[0].getsockname()[1]
                print(f"{prefix}listening on http://{host}:{port}", flush=True)

    Server(uv_config).run()


class UvicornThread:
    """uvicorn in a daemon thread, hardened with ``limits`` (``Limits()`` unless given); a context
    manager. An exception in the server thread is re-raised by ``start`` (``__enter__``) or ``stop``.
    """

    def __init__(self, uv_config: uvicorn.Config, *, name: str, limits: Limits | None = None) -> None:
        self.uv_config = harden(uv_config, limits)
        self._server = uvicorn.Server(uv_config)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._error: BaseException | None = None
        self._host = uv_config.host
        self._name = name

    def _run(self) -> None:
        try:
            self._server.run()
        except BaseException as exc:  # surfaced to the caller by start()/stop()
            self._error = exc

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        sockets = self._server.servers[0].sockets if self._server.servers else []
        if not sockets:
            raise RuntimeError(f"{self._name} is not running")
        return f"http://{self._host}:{sockets[0].getsockname()[1]}"

    def start(self) -> UvicornThread:
        """Start and wait until the socket listens."""
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self._name} did not start: {self._error or 'timeout'}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop the server (a lifespan's shutdown runs, if enabled) and join the thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=START_TIMEOUT)
        error, self._error = self._error, None
        if error is not None and not isinstance(error, SystemExit):
            raise RuntimeError(f"{self._name} thread failed: {error!r}") from error

    def __enter__(self) -> UvicornThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


__all__ = [
    "DEFAULT_LIMITS",
    "HOST",
    "START_TIMEOUT",
    "Limits",
    "UvicornThread",
    "envelope_bytes",
    "guard_of",
    "harden",
    "serve_forever",
]
