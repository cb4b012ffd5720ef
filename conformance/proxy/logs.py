"""Every log line of the proxy passes through the redactor, whoever writes it.

The proxy's own lines are redacted where they are made, but libraries log too: httpx writes
``HTTP Request: POST <url>`` with the upstream's credentials and whatever key a client put in the
path or query, httpcore and uvicorn write their own lines. A ``logging.Filter`` on the handlers
catches them all (a filter on a logger would miss records propagated from its children). The
secrets of the exchange being handled are known through a context variable, set while the
request is forwarded, so a line written on its behalf, by any library, is redacted with them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from urllib.parse import parse_qsl

from conformance.exchange import KEY_HEADER
from conformance.redact import MASK, Redactor

# Query parameters whose value is a credential by its name (a key sent as ?api_key=… is a key).
SECRET_NAME = re.compile(r"key|token|secret|passw|auth|signature|credential|session", re.IGNORECASE)
SECRET_HEADERS = frozenset({KEY_HEADER.encode(), b"authorization", b"proxy-authorization", b"x-api-key"})
USERINFO = re.compile(r"(?<=://)[^/?#@\s\"'<>]*@")  # user[:password]@ in any URL of a line
# Libraries whose records the proxy's own filter covers when it runs without the command line.
LIBRARY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "uvicorn.error",
    "livephoto.proxy",
)

_exchange_secrets: ContextVar[tuple[str, ...]] = ContextVar("livephoto_exchange_secrets", default=())


def request_secrets(headers: Iterable[tuple[bytes, bytes]], query: bytes) -> tuple[str, ...]:
    """What one request carries that must never be logged: the key header, Authorization
    credentials (with and without their scheme) and the values of query parameters named like a
    credential."""
    found: list[str] = []
    for name, value in headers:
        if name.lower() in SECRET_HEADERS:
            text = value.decode("latin-1").strip()
            found += [text, text.split(" ", 1)[-1].strip()]
    for field, content in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if SECRET_NAME.search(field) and content:
            found.append(content)
    return tuple(dict.fromkeys(s for s in found if s))


@contextmanager
def exchange_secrets(secrets: tuple[str, ...]) -> Iterator[None]:
    """Make ``secrets`` known to the filter for every line logged in this context."""
    token = _exchange_secrets.set(secrets)
    try:
        yield
    finally:
        _exchange_secrets.reset(token)


@lru_cache(maxsize=256)
def _redactor(secrets: tuple[str, ...]) -> Redactor:
    return Redactor(secrets)


class RedactingFilter(logging.Filter):
    """Rewrites each record (message, exception text, stack) with every secret masked: the
    static ones (the upstream's credentials, the report token), the current exchange's, and any
    ``user:password@`` in a URL. It never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._static = tuple(dict.fromkeys(s for s in secrets if s))

    def redact(self, text: str) -> str:
        """``text`` with every known secret and URL credential masked."""
        redactor = _redactor(self._static + _exchange_secrets.get())
        return USERINFO.sub(MASK + "@", redactor.text(text))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line, nor leak its arguments
            message = f"{record.msg} (arguments not formatted)"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install(redacting: RedactingFilter) -> None:
    """Put the filter on every handler configured so far: the root logger's and those of named
    loggers (uvicorn keeps its own). Call it after logging and uvicorn are configured."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if redacting not in handler.filters:
                handler.addFilter(redacting)


@contextmanager
def on_library_loggers(redacting: RedactingFilter) -> Iterator[None]:
    """The filter on the loggers the proxy drives (httpx, httpcore, uvicorn, its own) while the
    proxy runs: for a proxy started as a library, where no handler of its own is configured."""
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    for logger in loggers:
        logger.addFilter(redacting)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(redacting)
