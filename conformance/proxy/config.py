"""The proxy's configuration: one frozen object, validated eagerly (issue 9)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from conformance.contract import Edition

MAX_REQUEST_BODY = 6 * 1024 * 1024  # LP-REQ-6 / LP-ERR-8: a 5 MiB image plus multipart framing
MAX_RESPONSE_BODY = 64 * 1024 * 1024  # a response must be buffered to be judged: bound it
DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds to open a connection to the upstream
DEFAULT_UPSTREAM_TIMEOUT = 60.0  # seconds between bytes of the upstream's answer (a video takes time)
DEFAULT_MAX_PENDING = 16  # exchanges waiting to be judged before new ones wait for a slot
DEFAULT_MAX_PENDING_BYTES = 128 * 1024 * 1024  # bytes (requests + answers) waiting to be judged
DEFAULT_LISTEN = "127.0.0.1:8081"


class Mode(StrEnum):
    """``observe`` never changes traffic; ``enforce`` replaces MUST violations by a 502 envelope."""

    OBSERVE = "observe"
    ENFORCE = "enforce"


@dataclass(frozen=True)
class ProxyConfig:
    """Everything the proxy needs to know.

    ``upstream`` is the base URL of the implementation (a path prefix is kept); ``record_dir``
    enables recording; ``artefacts_dir`` receives the videos of failing video checks.
    """

    upstream: str
    mode: Mode = Mode.OBSERVE
    edition: Edition = Edition.ANY
    record_dir: Path | None = None
    artefacts_dir: Path = Path("livephoto-artefacts")
    max_request_body: int = MAX_REQUEST_BODY
    max_response_body: int = MAX_RESPONSE_BODY
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    upstream_timeout: float = DEFAULT_UPSTREAM_TIMEOUT
    max_pending: int = DEFAULT_MAX_PENDING
    max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"--upstream must be an http(s) URL such as http://127.0.0.1:8080, got {self.upstream!r}"
            )
        object.__setattr__(self, "upstream", self.upstream.rstrip("/"))
        object.__setattr__(self, "mode", Mode(self.mode))
        object.__setattr__(self, "edition", Edition(self.edition))
        if self.record_dir is not None:
            object.__setattr__(self, "record_dir", Path(self.record_dir))
        for name in ("max_request_body", "max_response_body", "max_pending", "max_pending_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be ≥ 1, got {getattr(self, name)}")
        for name in ("connect_timeout", "upstream_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0 seconds, got {getattr(self, name)}")


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``127.0.0.1:8081``) as a pair; ValueError with a corrective message."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--listen must be HOST:PORT such as {DEFAULT_LISTEN}, got {text!r}")
    return host.strip("[]"), int(port)
