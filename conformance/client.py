"""The one HTTP client the suite talks through: timeouts, a response cap, no redirects."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from conformance.exchange import ApiRequest, Exchange

DEFAULT_TIMEOUT = 60.0  # seconds; a success may take up to 30 s (LP-OPS-1)
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # a hostile target cannot exhaust memory
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class ClientSettings:
    """What the client needs to know about the target."""

    base_url: str
    api_key: str
    invalid_api_key: str = "invalid-key-for-conformance"
    timeout: float = DEFAULT_TIMEOUT
    max_response_bytes: int = MAX_RESPONSE_BYTES
    verify: bool = True
    sample_dir: Path | None = None


class TargetUnreachable(Exception):
    """The target could not be reached or did not answer in time; the message says which."""


def check_base_url(url: str) -> str:
    """The base URL without a trailing slash; ValueError with a corrective sentence if unusable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"--target {url!r} is not an http(s) URL; give the base URL, "
            "e.g. --target https://api.example.com or --target http://127.0.0.1:8080"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError(f"--target {url!r} has an invalid port") from None
    return url.rstrip("/")


class TargetClient:
    """Sends ApiRequests to one target and returns Exchanges; thread-safe."""

    def __init__(self, settings: ClientSettings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.base_url = check_base_url(settings.base_url)
        timeout = httpx.Timeout(settings.timeout, connect=min(CONNECT_TIMEOUT, settings.timeout))
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            verify=settings.verify,
            transport=transport,
            trust_env=False,
        )

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
        if request.boundary:
            headers.append(("Content-Type", f"multipart/form-data; boundary={request.boundary}"))
        files = [(part.name, (part.filename, part.content, part.content_type)) for part in request.parts]
        return self._http.build_request(request.method, url, headers=headers, files=files)

    def send(self, request: ApiRequest) -> Exchange:
        """Send and read the answer up to the cap; TargetUnreachable when there is none."""
        http_request = self.build(request)
        url = str(http_request.url)
        started = time.perf_counter()
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
        return Exchange(
            request=request,
            url=url,
            status=response.status_code,
            headers=list(response.headers.multi_items()),
            body=body,
            elapsed=time.perf_counter() - started,
            truncated=truncated,
            sample_dir=self.settings.sample_dir,
        )

    def _read_capped(self, response: httpx.Response, started: float) -> tuple[bytes, bool]:
        cap = self.settings.max_response_bytes
        deadline = started + self.settings.timeout
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            if time.perf_counter() > deadline:
                # A body that trickles in never trips the per-read timeout: bound the total.
                raise httpx.ReadTimeout("the response body did not finish in time")
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                return b"".join(chunks)[:cap], True
        return b"".join(chunks), False
