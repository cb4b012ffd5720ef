"""Run the reference server on a real socket: in a background thread or in a subprocess."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import replace
from types import TracebackType
from typing import Any

import uvicorn

from conformance.mock.app import create_app
from conformance.mock.config import ServerConfig
from conformance.serving import HOST, START_TIMEOUT, Limits, UvicornThread

READY_PREFIX = "listening on "
KEYS_VARIABLE = "LIVEPHOTO_SERVE_API_KEYS"  # start_server_process hands the keys over here, not in argv


MMAP_THRESHOLD = 256 * 1024  # bytes: larger buffers (uploads) are mmap'd and returned to the OS on free
MALLOC_ARENAS = 2
_M_MMAP_THRESHOLD = -3  # glibc mallopt parameters (malloc.h)
_M_ARENA_MAX = -8


def tune_allocator() -> bool:
    """Make glibc return upload-sized buffers to the OS (LP-SEC-3: memory stays bounded under many
    concurrent 5 MB uploads). A fixed mmap threshold stops glibc from raising it after the first
    large free and then keeping every 5 MB buffer in its heap. No-op (False) without glibc."""
    name = ctypes.util.find_library("c")
    if not sys.platform.startswith("linux") or name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(
            libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
        )
    except (OSError, AttributeError):
        return False


def quiet_image_warnings() -> None:
    """Silence Pillow's per-tag UserWarnings ("Tag data larger than file. Skipping tag N", "Possibly
    corrupt EXIF data") and OpenCV's decoder log lines (RLE BMPs): a hostile upload could otherwise
    write thousands of lines to the server log. The upload is judged by the decode itself; the
    server process calls this once at start."""
    import cv2

    warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


class ServerThread(UvicornThread):
    """The reference server (or another ASGI app) in a background thread on 127.0.0.1."""

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        host: str = HOST,
        port: int = 0,
        app: Any = None,
        limits: Limits | None = None,
    ) -> None:
        """``app`` serves another ASGI app (a broken server in a test) instead of the reference one;
        ``limits`` overrides the connection limits (``conformance.serving.Limits``)."""
        uv_config = uvicorn.Config(
            app if app is not None else create_app(config or ServerConfig()),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        super().__init__(uv_config, name="the reference server", limits=limits)


def config_to_args(config: ServerConfig) -> list[str]:
    """The ``serve`` command-line options that reproduce a configuration."""
    args = ["--edition", config.edition.value, "--seed", str(config.seed), "--latency", str(config.latency)]
    if config.success_latency:
        args += ["--success-latency", str(config.success_latency)]
    for key in config.api_keys:
        args += ["--api-key", key]
    for fault in config.faults:
        args += ["--fault", fault]
    args += config.hooks.serve_args  # e.g. --mutant NAME: the planter of the hooks knows them
    if config.allow_fault_header:
        args.append("--faults")
    return args


class RunningServer:
    """A reference server in a subprocess (``python -m conformance serve``); a context manager."""

    def __init__(
        self,
        process: subprocess.Popen[str],
        url: str,
        log: tempfile._TemporaryFileWrapper[str],
        reader: threading.Thread | None = None,
    ) -> None:
        self.process = process
        self.url = url
        self._log = log
        self._reader = reader

    @property
    def pid(self) -> int:
        """The server process id."""
        return self.process.pid

    def stop(self) -> None:
        """Terminate the process (kill it if it does not exit within 5 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()
        self._log.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_server_process(
    config: ServerConfig | None = None, *, timeout: float = START_TIMEOUT
) -> RunningServer:
    """Start ``python -m conformance serve`` on a free port and wait until it prints its URL.

    The process is the ``serve`` command, not an import of it: the hooks cross the process boundary
    as their ``serve_args`` (ValueError for hooks that exist in this process only)."""
    config = config or ServerConfig()
    if config.hooks.in_process_only:
        raise ValueError(
            "these server hooks have no serve_args to rebuild them in a process: use ServerThread"
        )
    log = tempfile.NamedTemporaryFile("w+", prefix="livephoto-server-", suffix=".log")  # noqa: SIM115
    # The keys go through the environment, never argv: argv is readable by every user (`ps`).
    command = [
        sys.executable,
        "-m",
        "conformance",
        "serve",
        "--host",
        HOST,
        "--port",
        "0",
        *config_to_args(replace(config, api_keys=())),
        *(["--api-key-env", KEYS_VARIABLE] if config.api_keys else []),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", KEYS_VARIABLE: "\n".join(config.api_keys)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    found: list[str] = []

    def wait_for_url() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(READY_PREFIX) and not found:
                found.append(line[len(READY_PREFIX) :].strip())
        # keep draining stdout until the process ends so it never blocks on a full pipe

    reader = threading.Thread(target=wait_for_url, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while not found and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if not found:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        if process.stdout:
            process.stdout.close()
        log.seek(0)
        tail = log.read()[-2000:]
        log.close()
        why = (
            f"exited with {process.returncode}"
            if process.returncode is not None
            else f"no URL within {timeout:g} s"
        )
        raise RuntimeError(f"the reference server process did not come up ({why}):\n{tail}")
    return RunningServer(process, found[0], log, reader)
