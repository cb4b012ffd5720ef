"""Checks of SPEC §7, security (LP-SEC-*)."""

from __future__ import annotations

import re

from conformance.check_context import CheckContext
from conformance.exchange import Exchange, Key
from conformance.redact import Redactor
from conformance.registry import fail, requirement

# Signs of internals in an error body (LP-SEC-2): stack traces, file paths, SQL, debug pages.
INTERNALS = (
    ("a Python traceback", re.compile(r"Traceback \(most recent call last\)")),
    ("a Python stack frame", re.compile(r'File "[^"]+", line \d+')),
    ("a Java stack trace", re.compile(r"\bat [a-z][\w$]*(?:\.[\w$]+)+\([\w$]+\.java:\d+\)")),
    ("a .NET stack trace", re.compile(r"\bat [\w.<>`]+\(.*\) in .+:line \d+")),
    ("a Node.js stack trace", re.compile(r"\bat .+ \(/[^)]+\.[cm]?js:\d+:\d+\)")),
    ("a Go panic", re.compile(r"goroutine \d+ \[running\]")),
    ("a server file path", re.compile(r"(?:/(?:usr|home|var|srv|opt|app)/[\w.-]+/|[A-Z]:\\\\?\w)")),
    ("an SQL error", re.compile(r"(?i)\b(?:SQLSTATE|syntax error at or near|ORA-\d{5}|sqlite3?\.)")),
    ("a framework debug page", re.compile(r"(?i)(?:Werkzeug Debugger|DEBUG = True|Whitelabel Error)")),
    ("an exception class name", re.compile(r"\b\w+(?:Exception|Error): .+ at line \d+")),
)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@requirement("LP-SEC-1")
def api_key_is_not_echoed(exchange: Exchange, ctx: CheckContext) -> None:
    """The API key MUST NOT be echoed in any response body or header."""
    # "Echoed" covers every form a server or framework writes the key in: as sent, base64 (also
    # inside a longer encoded text), hex, JSON/percent/HTML-escaped in any case or mix, and inside
    # a gzip or zlib body sent without a Content-Encoding (conformance.redact).
    keys = {Key.VALID: ctx.api_key, Key.INVALID: ctx.invalid_api_key}
    sent = keys.get(exchange.request.key)
    if not sent:
        return
    finder = Redactor([sent])
    headers = "\n".join(f"{name}: {value}" for name, value in exchange.headers)
    for where, how in (("body", finder.find_bytes(exchange.body)), ("headers", finder.find(headers))):
        if how is not None:
            shown = f"the {exchange.request.key.value} API key"
            shown += (
                f" in the response {where}"
                if how == "plain"
                else f" (encoded) in the response {where}: {how}"
            )
            fail(shown, "the key never echoed")


@requirement("LP-SEC-2")
def errors_reveal_no_internals(exchange: Exchange, ctx: CheckContext) -> None:
    """Error messages SHOULD NOT reveal internals (stack traces, file paths, SQL, framework debug
    pages)."""
    if exchange.status == 200:
        return
    text = exchange.body.decode("utf-8", "replace")
    if exchange.envelope is not None:  # also the decoded strings: JSON escapes hide "\tat …"
        text += "\n" + "\n".join(_strings(exchange.envelope))
    for what, pattern in INTERNALS:
        if match := pattern.search(text):
            fail(f"{what} in the error body: {match.group(0)[:80]!r}", "no internals revealed")


@requirement("LP-SEC-3")
def oversized_body_is_refused(exchange: Exchange, ctx: CheckContext) -> None:
    """Oversized bodies (e.g. 50 MB) MUST be refused with 413 (or the connection closed) without
    the target failing for later requests."""
    if exchange.status != 413:
        fail(f"HTTP {exchange.status} for a {exchange.request.description}", "HTTP 413")


@requirement("LP-SEC-4")
def target_survives(exchange: Exchange, ctx: CheckContext) -> None:
    """After any hostile request of this spec, the next valid request MUST still succeed (the
    target survives)."""
    if exchange.status != 200:
        fail(
            f"HTTP {exchange.status} code {exchange.code or '(none)'} for a valid request sent "
            "after the hostile ones",
            "HTTP 200",
        )
