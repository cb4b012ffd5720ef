"""A zoo of hostile targets: real TCP servers on 127.0.0.1 that misbehave on purpose.

Each server is a context manager: ``with serve(behaviour) as server: server.url``. A behaviour is a
function ``behaviour(conn)`` run in its own thread per connection; it reads the request with
``conn.read_request()`` and misbehaves with ``conn.send(...)``. Every server stops when the
``with`` block ends: the listener closes, open connections are shut down, loops see ``conn.stopped``.
Nothing here allocates a large body: big and endless bodies are streamed in small chunks.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import socket
import ssl
import struct
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import httpx

CHUNK = 64 * 1024
ONE_GIB = 1024 * 1024 * 1024
BIG_JSON_BYTES = 100 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024
MAX_REQUEST_BODY = 64 * 1024 * 1024  # the suite sends 50 MiB (LP-SEC-3): drained, not kept
KEY_HEADERS = ("ailabapi-api-key", "x-api-key", "authorization")


@dataclass
class Request:
    """What a hostile server saw of one request."""

    method: str
    path: str
    headers: dict[str, str]
    body_bytes: int
    body: bytes = b""  # kept only when asked (``read_request(keep_body=True)``)

    @property
    def key(self) -> str:
        """The API key the client sent (empty when none)."""
        for name in KEY_HEADERS:
            if name in self.headers:
                return self.headers[name].removeprefix("Bearer ").strip()
        return ""


class Connection:
    """One accepted connection, with helpers that give up when the server stops."""

    def __init__(self, sock: socket.socket, stopped: threading.Event) -> None:
        self.sock = sock
        self.stopped = stopped
        sock.settimeout(0.25)

    def _recv(self, size: int = CHUNK) -> bytes:
        while not self.stopped.is_set():
            try:
                return self.sock.recv(size)
            except TimeoutError:
                continue
        return b""

    def read_request(self, drain_up_to: int = MAX_REQUEST_BODY, *, keep_body: bool = False) -> Request | None:
        """Read one HTTP/1.1 request, its body drained (not kept unless ``keep_body``) when it is
        at most ``drain_up_to`` bytes; None when the client left."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self._recv()
            if not chunk or len(data) > MAX_HEADER_BYTES:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, *_ = [*lines[0].split(" "), "", ""]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        received = len(rest)
        kept = [rest] if keep_body else []
        while received < length <= drain_up_to:
            chunk = self._recv()
            if not chunk:
                return None
            received += len(chunk)
            if keep_body:
                kept.append(chunk)
        return Request(method, path, headers, length, b"".join(kept))

    def send(self, data: bytes) -> bool:
        """Send bytes; False when the client has gone (or the server stopped)."""
        if self.stopped.is_set():
            return False
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def wait(self, seconds: float) -> bool:
        """Sleep unless the server stops; False when it stopped."""
        return not self.stopped.wait(seconds)

    def reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0) instead of an orderly FIN."""
        with suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


Behaviour = Callable[[Connection], None]


@dataclass
class HostileServer:
    """A listening socket on 127.0.0.1 whose connections are handled by a behaviour."""

    behaviour: Behaviour
    tls: ssl.SSLContext | None = None
    connections: int = 0
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    _stopped: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _socks: list[socket.socket] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The base URL to give the suite."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Bind to a free port and start accepting."""
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.settimeout(0.25)
        self.port = self._listener.getsockname()[1]
        thread = threading.Thread(target=self._accept, name=f"hostile-{self.port}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._socks.append(sock)
            thread = threading.Thread(target=self._handle, args=(sock,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _handle(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                sock.settimeout(2.0)
                sock = self.tls.wrap_socket(sock, server_side=True)
                self._socks.append(sock)
            conn = Connection(sock, self._stopped)
            original = conn.read_request
            conn.read_request = lambda *a, **k: self._seen(original(*a, **k))  # type: ignore[method-assign]
            self.behaviour(conn)
        except (OSError, ValueError):
            pass  # the client went away or refused the handshake: both expected here
        finally:
            with suppress(OSError):
                sock.close()

    def _seen(self, request: Request | None) -> Request | None:
        if request is not None:
            self.requests.append(request)
        return request

    def stop(self) -> None:
        """Stop accepting, wake every connection loop, wait for the threads."""
        self._stopped.set()
        with suppress(OSError):
            self._listener.close()
        for sock in self._socks:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=2.0)


@contextmanager
def serve(behaviour: Behaviour, tls: ssl.SSLContext | None = None) -> Iterator[HostileServer]:
    """Run a hostile server for the duration of the ``with`` block."""
    server = HostileServer(behaviour, tls=tls)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- building answers


def head(status: str = "200 OK", content_type: str = "application/json", **extra: str | int) -> bytes:
    """A status line and headers (``Connection: close``), ending with the blank line."""
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(
    body: bytes, status: str = "200 OK", content_type: str = "application/json", **extra: str
) -> bytes:
    """A complete response with the right Content-Length."""
    return head(status, content_type, Content_Length=len(body), **extra) + body


def error_envelope(status: int, code: str, message: str) -> bytes:
    """A conforming-looking error envelope (so only the hostile part is wrong)."""
    return json.dumps(
        {
            "request_id": "hostile-1",
            "log_id": "hostile-1",
            "error_code": status,
            "error_msg": message,
            "error_detail": {
                "status_code": status,
                "code": code,
                "code_message": message,
                "message": message,
            },
        }
    ).encode()


def respond_once(data: bytes) -> Behaviour:
    """Answer every request with the same bytes, then close."""

    def behaviour(conn: Connection) -> None:
        if conn.read_request() is not None:
            conn.send(data)

    return behaviour


# ---------------------------------------------------------------- the zoo


def silent(conn: Connection) -> None:
    """Accepts, reads the request and never answers."""
    conn.read_request()
    while conn.wait(0.25):
        pass


def slowloris(conn: Connection) -> None:
    """Complete headers, then one body byte every 0.2 s: never trips a per-read timeout."""
    if conn.read_request() is None:
        return
    conn.send(head(Content_Length=10**6))
    while conn.wait(0.2) and conn.send(b" "):
        pass


def header_trickle(conn: Connection) -> None:
    """A status line, then header bytes one every 0.2 s: the headers never end."""
    if conn.read_request() is None:
        return
    conn.send(b"HTTP/1.1 200 OK\r\n")
    while conn.wait(0.2) and conn.send(b"X"):
        pass


def endless_body(conn: Connection) -> None:
    """A chunked body that never ends (until the client disconnects)."""
    if conn.read_request() is None:
        return
    conn.send(head(Transfer_Encoding="chunked"))
    piece = b"%x\r\n%s\r\n" % (CHUNK, b"[" * CHUNK)
    while conn.send(piece):
        pass


def gigabyte_body(conn: Connection) -> None:
    """Announces and streams 1 GiB (in 64 KiB pieces; never allocated)."""
    if conn.read_request() is None:
        return
    conn.send(head(content_type="application/octet-stream", Content_Length=ONE_GIB))
    zeros = bytes(CHUNK)
    for _ in range(ONE_GIB // CHUNK):
        if not conn.send(zeros):
            return


def huge_json(conn: Connection) -> None:
    """A well-formed 100 MiB JSON object (a giant ``error_msg``), streamed."""
    if conn.read_request() is None:
        return
    prefix = b'{"request_id": "r", "log_id": "l", "error_code": 0, "error_msg": "'
    suffix = b'", "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""}}'
    filler = BIG_JSON_BYTES - len(prefix) - len(suffix)
    conn.send(head(Content_Length=BIG_JSON_BYTES) + prefix)
    piece = b"x" * CHUNK
    while filler > 0:
        if not conn.send(piece[: min(CHUNK, filler)]):
            return
        filler -= CHUNK
    conn.send(suffix)


@functools.lru_cache(maxsize=8)
def bomb_payload(encoding: str, decoded: int = ONE_GIB) -> bytes:
    """``decoded`` zero bytes compressed with gzip, deflate, or gzip twice ("gzip, gzip").

    Built fast: after a full flush every MiB of zeros compresses to the same block, which is
    repeated. The trailing checksum is that of the first two MiB only: a client that honours its
    cap stops long before it reaches the trailer.
    """
    wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    zeros = bytes(1024 * 1024)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    packed = first + block * (decoded // len(zeros) - 1) + compressor.flush()
    return gzip.compress(packed, 9) if encoding == "gzip, gzip" else packed


def compression_bomb(encoding: str, decoded: int = ONE_GIB) -> Behaviour:
    """A ~1 MiB compressed body (~1 KiB stacked twice) that inflates to 1 GiB."""
    payload = bomb_payload(encoding, decoded)
    return respond_once(head(Content_Encoding=encoding, Content_Length=len(payload)) + payload)


INVALID_UTF8 = answer(b'{"request_id": "\xff\xfe\xc3\x28", "log_id": "l"}')
INVALID_JSON = answer(b'{"request_id": "r", "log_id": ')
HTML_ERROR = answer(
    b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
    b"<hr><center>nginx</center></body></html>",
    status="502 Bad Gateway",
    content_type="text/html",
)
HTTP09_GARBAGE = b"\x00\x17garbage from a server that speaks no HTTP\r\n\r\n\xff\xfe"
TLS_ALERT = b"\x15\x03\x01\x00\x02\x02\x46"  # a TLS fatal alert: what a TLS port says to plain HTTP


def redirect(location: str, status: str = "302 Found") -> Behaviour:
    """Answers every request with a redirect to ``location``."""
    return respond_once(answer(b"", status=status, Location=location))


def reset_mid_body(conn: Connection) -> None:
    """Announces 1 MiB, sends half of a JSON object, then resets the connection (RST)."""
    if conn.read_request() is None:
        return
    conn.send(
        head(Content_Length=1024 * 1024) + b'{"request_id": "r", "log_id": "l", "error_msg": "' + b"x" * 4096
    )
    conn.reset()


def short_body(conn: Connection) -> None:
    """Content-Length says 1000, the body is 20 bytes and the connection closes."""
    if conn.read_request() is not None:
        conn.send(head(Content_Length=1000) + b'{"request_id": "r",')


def long_body(conn: Connection) -> None:
    """Content-Length says 10, the body goes on (a truncated object, trailing garbage)."""
    if conn.read_request() is not None:
        conn.send(head(Content_Length=10) + b'{"request_id": "r", "log_id": "l"}GARBAGE')


def tls_alert(conn: Connection) -> None:
    """Plain HTTP on a TLS port: the answer is a TLS alert record."""
    if conn.read_request() is not None:
        conn.send(TLS_ALERT)


def plain_http_error(conn: Connection) -> None:
    """TLS on a plain port: the ClientHello is not HTTP, the server answers 400 in clear text."""
    conn._recv()
    conn.send(answer(b"Bad Request", status="400 Bad Request", content_type="text/plain"))


def key_echo(conn: Connection) -> None:
    """Echoes the key base64-encoded in a header and URL-encoded in the body (LP-SEC-1), in a 400
    parameter error: a 401 to the valid key would stop the run at the preflight (key rejected)."""
    request = conn.read_request()
    if request is None:
        return
    key = request.key
    quoted = urllib.parse.quote(key, safe="")
    body = error_envelope(400, "MISSING_PARAMETERS", f"bad request for key {quoted}")
    echoed = base64.b64encode(f"key={key}".encode()).decode()  # the key inside a longer text
    conn.send(answer(body, status="400 Bad Request", X_Debug_Key=echoed))


TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/livephoto/app/handlers.py", line 88, in live_photo\n'
    "    video = render(image)\n"
    "KeyError: 'image_target'"
)


def internals_leak(conn: Connection) -> None:
    """A 500 whose message is a Python traceback with server paths (LP-SEC-2)."""
    if conn.read_request() is not None:
        conn.send(
            answer(
                error_envelope(500, "SERVICE_INTERNAL_ERROR", TRACEBACK), status="500 Internal Server Error"
            )
        )


def dies_after(answers: int) -> Behaviour:
    """Answers the first ``answers`` requests with a plausible error, then never again."""
    lock = threading.Lock()
    count = [0]

    def behaviour(conn: Connection) -> None:
        if conn.read_request() is None:
            return
        with lock:
            count[0] += 1
            alive = count[0] <= answers
        if alive:
            conn.send(
                answer(error_envelope(400, "ERROR_PARAMETERS", "bad request"), status="400 Bad Request")
            )
            return
        while conn.wait(0.25):
            pass

    return behaviour


def dies_on_oversized(limit: int = 6 * 1024 * 1024) -> Behaviour:
    """Answers small requests with an error envelope; a body over ``limit`` kills it for good
    (the connection closes and nothing is answered again): what LP-SEC-3/4 exist to catch."""
    dead = threading.Event()

    def behaviour(conn: Connection) -> None:
        request = conn.read_request(drain_up_to=limit)
        if request is None:
            return
        if dead.is_set() or request.body_bytes > limit:
            dead.set()
            return
        conn.send(answer(error_envelope(400, "ERROR_PARAMETERS", "bad request"), status="400 Bad Request"))

    return behaviour


def closes_on_refusals(upstream: str, limit: int = 6 * 1024 * 1024) -> Behaviour:
    """A front of a compatible server (``upstream``) that answers its successes and requests without
    a body (the preflight probe), and closes the connection unanswered on every other request the
    server refuses and on bodies over ``limit``: allowed for hostile requests (LP-SEC-3), and the
    target lives on (LP-SEC-4 passes)."""

    def behaviour(conn: Connection) -> None:
        request = conn.read_request(drain_up_to=limit, keep_body=True)
        if request is None or request.body_bytes > limit:
            return
        hop = ("host", "content-length", "connection")
        headers = {k: v for k, v in request.headers.items() if k not in hop}
        answer_ = httpx.request(
            request.method, upstream + request.path, headers=headers, content=request.body, timeout=30
        )
        if answer_.status_code == 200 or not request.body_bytes:
            status = f"{answer_.status_code} {answer_.reason_phrase}"
            conn.send(answer(answer_.content, status, answer_.headers.get("content-type", "")))

    return behaviour


def well_behaved_json(conn: Connection) -> None:
    """A small conforming-looking error for every request (the control for the client tests)."""
    if conn.read_request() is not None:
        conn.send(answer(error_envelope(400, "ERROR_PARAMETERS", "bad request"), status="400 Bad Request"))


def self_signed_context(cert: str, key: str) -> ssl.SSLContext:
    """A server TLS context from a certificate and key file."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def wait_for(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    """Poll until ``condition()`` or the time is up."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
