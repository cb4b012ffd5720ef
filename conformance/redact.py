"""Keep the API key out of every output: terminal, reports, logs, cassettes, curl commands."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterable
from typing import Any

MASK = "***"


def key_forms(secret: str) -> list[str]:
    """The key as it may appear: plain, URL-encoded, base64 (standard and URL-safe, padded or not)."""
    if len(secret) < 4:
        return []  # too short to redact without mangling ordinary text
    raw = secret.encode()
    forms = {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    return sorted(forms, key=len, reverse=True)


class Redactor:
    """Replaces every form of the given secrets with ``***`` in strings and nested data."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._forms = sorted(
            {form for secret in secrets if secret for form in key_forms(secret)},
            key=len,
            reverse=True,
        )

    def text(self, value: str) -> str:
        """A string with the secrets masked."""
        for form in self._forms:
            if form in value:
                value = value.replace(form, MASK)
        return value

    def __call__(self, value: Any) -> Any:
        """Any JSON-like value with every string masked."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        return value
