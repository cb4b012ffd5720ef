"""The proxy's configuration: one frozen object, validated eagerly (issue 9)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from conformance.contract import Edition

MAX_REQUEST_BODY = 6 * 1024 * 1024  # LP-REQ-6 / LP-ERR-8: a 5 MiB image plus multipart framing
MAX_RESPONSE_BODY = 64 * 1024 * 1024  # a response must be buffered to be judged: bound it
DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds to open a connection to the upstream
DEFAULT_UPSTREAM_TIMEOUT = 60.0  # seconds for the upstream's whole answer (a video takes time)
DEFAULT_MAX_PENDING = 16  # answers held at once (being read or awaiting judging) before new ones wait
DEFAULT_MAX_PENDING_BYTES = 128 * 1024 * 1024  # bytes (requests + answers) held at once
DEFAULT_LISTEN = "127.0.0.1:8081"


class Mode(StrEnum):
    """``observe`` never changes traffic; ``enforce`` replaces MUST violations by a 502 envelope."""

    OBSERVE = "observe"
    ENFORCE = "enforce"


@dataclass(frozen=True)
class ProxyConfig:
    """Everything the proxy needs to know.

    ``upstream`` is the base URL of the implementation (a path prefix is kept; ``user:password@``
    is sent as Basic credentials and shown everywhere as ``upstream_shown``); ``record_dir``
    enables recording; ``artefacts_dir`` receives the videos of failing video checks.
    ``upstream_timeout`` bounds the upstream's whole answer (status line, headers, body).
    ``max_pending`` and ``max_pending_bytes`` bound the answers held at once in either mode.
    ``report_token`` guards ``/_livephoto/report``; None leaves it open (the command line always
    sets one unless ``--report-open`` is given).
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
    report_token: str | None = None
    keep_headers: tuple[str, ...] = ()  # credential headers recorded as received (--keep-header)

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        shown = _masked(self.upstream)
        if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
            raise ValueError(
                f"--upstream must be an http(s) URL such as http://127.0.0.1:8080, got {shown!r}"
            )
        if parts.query or parts.fragment or "?" in self.upstream or "#" in self.upstream:
            raise ValueError(f"--upstream must have no query or fragment, got {shown!r}")
        try:
            parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        except ValueError:
            raise ValueError(f"--upstream has an invalid port, got {shown!r}") from None
        if self.report_token is not None and len(self.report_token) < 16:
            raise ValueError("report_token must be at least 16 characters")
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

    def __repr__(self) -> str:
        """The fields with the upstream's credentials masked and the report token left out."""
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "report_token"}
        shown["upstream"] = self.upstream_shown
        return "ProxyConfig(" + ", ".join(f"{name}={value!r}" for name, value in shown.items()) + ")"

    @property
    def upstream_shown(self) -> str:
        """``upstream`` with its credentials masked (``http://***@host:port/base``): what reports,
        logs and the start-up banner show."""
        return _masked(self.upstream)

    @property
    def upstream_secrets(self) -> tuple[str, ...]:
        """The credentials of ``upstream`` as the redactor must know them: the password and
        ``user:password`` (whose base64 form is the Basic header), decoded as httpx sends them."""
        parts = urlsplit(self.upstream)
        if parts.password is None:
            return ()
        user, password = unquote(parts.username or ""), unquote(parts.password)
        return (password, f"{user}:{password}", parts.password)


def _masked(url: str) -> str:
    """The URL with any ``user[:password]@`` replaced by ``***@``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``127.0.0.1:8081``) as a pair; ValueError with a corrective message."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--listen must be HOST:PORT such as {DEFAULT_LISTEN}, got {text!r}")
    return host.strip("[]"), int(port)
