"""Keep the API key out of every output: terminal, reports, logs, cassettes, curl commands."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterable
from typing import Any

MASK = "***"
MIN_EMBEDDED_CHARS = 8  # shorter base64 fragments would match ordinary text (LP-SEC-1)


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
    forms.update(_embedded_base64(raw))
    return sorted(forms, key=len, reverse=True)


def _embedded_base64(raw: bytes) -> set[str]:
    """The key's base64 characters when it sits inside a longer base64-encoded text.

    Encoded inside e.g. ``"Bearer KEY"`` or a JSON document, the key starts 0, 1 or 2 bytes into
    a 3-byte group; for each alignment, the characters that depend on the key's bits alone.
    """
    forms = set()
    for offset in (0, 1, 2):
        first, last = -(-8 * offset // 6), 8 * (offset + len(raw)) // 6
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            middle = encode(bytes(offset) + raw + bytes(2)).decode()[first:last]
            if len(middle) >= MIN_EMBEDDED_CHARS:
                forms.add(middle)
    return forms


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
