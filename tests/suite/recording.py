"""A recording reference server: every request's raw bytes are kept (issue 14, same seed, same
requests), the reference server answers. Used by the determinism tests and tools/request_census.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.mock import ServerConfig, create_app
from conformance.mock.faults import FAULT_HEADER
from conformance.mock.runner import ServerThread

KEY = "recording-run-key"  # the one key the recording server accepts (never a real secret)
FAULT_STATES = ("rate-limit", "credits", "server-error", "retired")
RUN_TIMEOUT = 600  # seconds: a hang guard far above a normal suite run


@dataclass(frozen=True)
class Recorded:
    """One request as it arrived: method, path, headers in order, the body's digest and size."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body_sha256: str
    body_bytes: int
    status: int

    @property
    def wire(self) -> tuple[str, str, tuple[tuple[str, str], ...], str]:
        """Everything the client chose to send (the status is the server's)."""
        return (self.method, self.path, self.headers, self.body_sha256)


class RecordingApp:
    """ASGI middleware: reads the whole body, records it, hands it on unchanged."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before the body was complete: nothing to record
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        status: list[int] = []
        delivered = False

        async def replay() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, replay, capture)
        finally:
            headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
            recorded = Recorded(
                method=scope["method"],
                path=scope["path"],
                headers=headers,
                body_sha256=hashlib.sha256(body).hexdigest(),
                body_bytes=len(body),
                status=status[0] if status else 0,
            )
            with self._lock:
                self.requests.append(recorded)

    def take(self) -> list[Recorded]:
        """The requests recorded so far, and forget them."""
        with self._lock:
            taken, self.requests = self.requests, []
        return taken


@dataclass
class RecordingServer:
    """The reference server (fault header allowed) behind a ``RecordingApp``, on 127.0.0.1."""

    recorder: RecordingApp = field(
        default_factory=lambda: RecordingApp(
            create_app(ServerConfig(api_keys=(KEY,), allow_fault_header=True))
        )
    )
    thread: ServerThread | None = None

    def __enter__(self) -> RecordingServer:
        self.thread = ServerThread(app=self.recorder).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.thread is not None:
            self.thread.stop()

    @property
    def url(self) -> str:
        """The server's base URL."""
        assert self.thread is not None, "start the server first (with RecordingServer() as server)"
        return str(self.thread.url)


def suite_command(url: str, *args: str) -> list[str]:
    """A suite run against ``url`` as a user would type it, fault headers preset as for the reference."""
    command = [sys.executable, "-m", "pytest", "--target", url, "--api-key", KEY]
    command += ["-p", "no:cacheprovider", "-p", "no:randomly", "-q"]
    for state in FAULT_STATES:
        command += ["--fault-header", f"{state}={FAULT_HEADER}: {state}"]
    return command + list(args)


def run_suite(url: str, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the suite in a subprocess from ``workdir`` (not the project: no project conftest)."""
    return subprocess.run(
        suite_command(url, *args),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def census(requests: list[Recorded]) -> dict[str, int]:
    """Counts for the run-time budget: requests, successes (200) and bytes uploaded."""
    statuses = Counter(r.status for r in requests)
    return {
        "requests": len(requests),
        "successes": statuses.get(200, 0),
        "errors": len(requests) - statuses.get(200, 0),
        "bytes_sent": sum(r.body_bytes for r in requests),
    }


CLI = Path(sys.executable).with_name("livephoto-conformance")  # the console script users run
LISTENING = re.compile(r"listening on (http://\S+)")
START_TIMEOUT = 60.0  # seconds for a command to print where it listens


@contextmanager
def cli_server(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``livephoto-conformance ARGS`` (serve, proxy or replay on a free port) as a user starts it;
    yields its URL, stops it with Ctrl-C (SIGINT) as a user would."""
    process = subprocess.Popen(
        [str(CLI), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    found: list[str] = []
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:  # drained to the end so the process never blocks on the pipe
            output.append(line)
            match = LISTENING.search(line)
            if match and not found:
                found.append(match.group(1))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not found and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        if not found:
            raise RuntimeError(
                f"livephoto-conformance {' '.join(args)} did not start:\n{''.join(output)[-2000:]}"
            )
        yield found[0]
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
