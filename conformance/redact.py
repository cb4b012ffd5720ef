"""Keep the API key out of every output: terminal, reports, logs, cassettes, curl commands.

A server or a framework may write the key back in many forms, and each one must be found (LP-SEC-1)
and masked (every output): as sent; base64 or base64url, alone or at any alignment inside a longer
encoded text; hex; and any of these escaped: JSON (``\\/``, any ``\\uXXXX``, escaped again inside
an embedded JSON string), ``\\xXX``, percent-encoding (either case, mixed, partial, twice, ``+``
for a space) and HTML character references.

Finding decodes rather than enumerates the escaped forms: the text is searched (``str.find``, fast
on a 10 MB success body) for each literal form (the key, its base64 and hex forms) as it is and in
its unescaped views, one per round of decoding (a round removes one layer: ``%252D`` → ``%2D`` →
``-``). Views decode every kind of escape at once, or JSON escapes only, or HTML references only:
a JSON encoder leaves a key's own ``%41`` raw, which decoding everything would turn into ``A``.
Masking decodes the same views keeping, for each decoded piece, where it came from: a form found in
a view maps back to whole escapes of the original text, which become ``***``. When a secret is
still found after masking, the whole string is replaced by ``***``: nothing leaks, at the cost of
that one string. The views are bounded (rounds, views per round, escapes decoded in all), so a
hostile body costs at most about a second.
"""

from __future__ import annotations

import base64
import html
import json
import re
import urllib.parse
import zlib
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import Any

MASK = "***"
MIN_EMBEDDED_CHARS = 8  # shorter base64 fragments would match ordinary text (LP-SEC-1)
MAX_UNESCAPE_ROUNDS = 4  # ``%25252D`` or a key JSON-escaped four times: each round removes one layer
MAX_VIEWS_PER_ROUND = 8  # new views each round (kinds × earlier views × "+" readings): bounded
MAX_VIEWS_PER_ROUND_LARGE = 1  # the same for a text over LARGE_TEXT characters (decoding all kinds)
LARGE_TEXT = 1024 * 1024
ESCAPE_BUDGET = 1_000_000  # escapes decoded per text in all views (~1 s): a hostile body is bounded
MAX_SNIFFED_BYTES = 64 * 1024 * 1024  # an undeclared gzip/zlib body is inflated up to this much

# One backslash per escape, as JSON reads it: the text \\u002d (two backslashes) is a backslash
# and "u002d" after one round, and "-" after the next: a key escaped twice is found that way.
_JSON = (
    r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # a UTF-16 surrogate pair
    r"|\\u[0-9a-fA-F]{4}"  # JSON / JavaScript
    r"|\\x[0-9a-fA-F]{2}"  # JavaScript / Python repr
    r"|\\[/\"'\\bfnrt]"  # JSON short escapes
)
_PERCENT = r"%[0-9a-fA-F]{2}(?:%[0-9a-fA-F]{2})*"  # percent-encoding, any case; a run is UTF-8
_HTML = r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?"  # HTML references
# The kinds of view: which escapes a round decodes, and the characters they start with. Every
# branch starts with a literal, so ``re`` scans for those characters only.
_KINDS = (
    (re.compile(f"{_JSON}|{_PERCENT}|{_HTML}"), "\\%&"),
    (re.compile(_JSON), "\\"),
    (re.compile(_HTML), "&"),
)
_SHORT = {"/": "/", '"': '"', "'": "'", "\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape_one(match: re.Match[str]) -> str:
    found = match.group()
    if found[0] == "%":
        return bytes.fromhex(found.replace("%", "")).decode("utf-8", "replace")
    if found[0] == "&":
        return html.unescape(found)
    units = [part for part in found.split("\\") if part]
    if not units:  # "\\\\": an escaped backslash
        return "\\"
    if units[0][0] == "u":
        utf16 = "".join(chr(int(unit[1:5], 16)) for unit in units)
        return utf16.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if units[0][0] == "x":
        return chr(int(units[0][1:3], 16))
    return _SHORT[units[0]]


def unescape(text: str) -> str:
    """``text`` with every JSON, ``\\x``, percent and HTML escape decoded, layer after layer."""
    pattern, starts = _KINDS[0]
    for _ in range(MAX_UNESCAPE_ROUNDS):
        if not any(char in text for char in starts):
            break
        decoded = pattern.sub(_unescape_one, text)
        if decoded == text:
            break
        text = decoded
    return text


@dataclass(frozen=True)
class _Layer:
    """Where each piece of a decoded text came from: piece ``i`` starts at ``decoded[i]`` in the
    decoded text and at ``source[i]`` in the text it was decoded from; ``escape[i]`` says whether
    it is an escape (which maps back whole) or raw text (character for character)."""

    decoded: list[int]
    source: list[int]
    escape: list[bool]

    def back(self, start: int, end: int) -> tuple[int, int]:
        """The span of the source text that ``decoded[start:end]`` came from."""
        first = bisect_right(self.decoded, start) - 1
        last = bisect_right(self.decoded, end - 1) - 1
        begin = self.source[first] + (0 if self.escape[first] else start - self.decoded[first])
        if self.escape[last]:
            return begin, self.source[last + 1]
        return begin, self.source[last] + end - self.decoded[last]


def _decode_mapped(text: str, pattern: re.Pattern[str]) -> tuple[str, _Layer]:
    """One round of decoding, with the map back to ``text``."""
    pieces: list[str] = []
    decoded: list[int] = []
    source: list[int] = []
    escape: list[bool] = []
    position = length = 0
    for match in pattern.finditer(text):
        if match.start() > position:
            decoded.append(length)
            source.append(position)
            escape.append(False)
            pieces.append(text[position : match.start()])
            length += match.start() - position
        piece = _unescape_one(match)
        decoded.append(length)
        source.append(match.start())
        escape.append(True)
        pieces.append(piece)
        length += len(piece)
        position = match.end()
    if position < len(text):
        decoded.append(length)
        source.append(position)
        escape.append(False)
        pieces.append(text[position:])
        length += len(text) - position
    decoded.append(length)
    source.append(len(text))
    escape.append(False)
    return "".join(pieces), _Layer(decoded, source, escape)


def _literal_forms(secret: str) -> dict[str, str]:
    """The key's unescaped forms, each with a word for messages: as sent, base64, hex."""
    raw = secret.encode()
    forms = {
        base64.urlsafe_b64encode(raw).decode(): "base64url",
        base64.urlsafe_b64encode(raw).decode().rstrip("="): "base64url",
        base64.b64encode(raw).decode(): "base64",
        base64.b64encode(raw).decode().rstrip("="): "base64",
        raw.hex(): "hex",
        raw.hex().upper(): "hex",
    }
    forms.update(dict.fromkeys(_embedded_base64(raw), "base64"))
    forms[raw.decode("latin-1")] = "plain"  # UTF-8 bytes seen one byte per character
    forms[secret] = "plain"
    return forms


def key_forms(secret: str) -> list[str]:
    """Literal forms of the key, longest first: as sent, base64 (standard and URL-safe, padded or
    not, embedded at any alignment), hex, and a sample of escaped forms (URL-encoded in both
    cases, JSON ``\\uXXXX``). Tests search files for these; the Redactor finds every escape."""
    if len(secret) < 4:
        return []  # too short to redact without mangling ordinary text
    raw = secret.encode()
    forms = set(_literal_forms(secret))
    forms |= {urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    forms |= {"".join(f"%{b:02x}" for b in raw), "".join(f"%{b:02X}" for b in raw)}
    forms |= {"".join(f"\\u{ord(c):04x}" for c in secret), json.dumps(secret)[1:-1].replace("/", "\\/")}
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


@lru_cache(maxsize=256)
def _literal(secrets: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The literal forms of ``secrets``, longest first, each with its word for messages."""
    forms: dict[str, str] = {}
    for secret in secrets:
        if len(secret) >= 4:  # shorter keys cannot be redacted without mangling ordinary text
            for form, word in _literal_forms(secret).items():
                forms.setdefault(form, word)
    return tuple(sorted(forms.items(), key=lambda item: len(item[0]), reverse=True))


def _inflated(data: bytes, limit: int) -> bytes | None:
    """The content of a gzip or zlib stream at the start of ``data`` (at most ``limit`` bytes),
    or None when ``data`` does not start with one."""
    if data[:2] == b"\x1f\x8b":
        wbits = 16 + zlib.MAX_WBITS
    elif len(data) > 1 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0:
        wbits = zlib.MAX_WBITS
    else:
        return None
    try:
        return zlib.decompressobj(wbits).decompress(data, limit)
    except zlib.error:
        return None


class Redactor:
    """Finds and masks every form of the given secrets in strings, bytes and nested data."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._forms = _literal(tuple(sorted({s for s in secrets if s})))
        self._spaced = any(" " in form for form, _ in self._forms)

    def _views(self, value: str, *, mapped: bool) -> Iterator[tuple[str, list[_Layer]]]:
        """``value`` and its unescaped views: every sequence of rounds, each round of any kind
        (layers of different encoders), with ``+`` also read as a space before each round when a
        form holds one; with the layers that map a view back to ``value`` when ``mapped`` (newest
        first). Duplicates are skipped, each round makes a bounded number of views, and the
        views stop when ``ESCAPE_BUDGET`` escapes have been decoded: a hostile text costs a
        bounded time (its deeper layers are then not searched)."""
        seen: set[str] = {value}
        yield value, []
        frontier: list[tuple[str, list[_Layer]]] = [(value, [])]
        width = MAX_VIEWS_PER_ROUND if len(value) <= LARGE_TEXT else MAX_VIEWS_PER_ROUND_LARGE
        budget = ESCAPE_BUDGET
        for _ in range(MAX_UNESCAPE_ROUNDS):
            following: list[tuple[str, list[_Layer]]] = []
            candidates = []
            for text, layers in frontier:
                candidates.append((text, layers))
                if self._spaced and "+" in text:  # form-encoding's space (same length: no layer)
                    spaced = text.replace("+", " ")
                    candidates.append((spaced, layers))
                    if spaced not in seen:
                        seen.add(spaced)
                        yield spaced, layers
            for (variant, layers), (pattern, triggers) in product(candidates, _KINDS):
                if len(following) >= width:
                    break
                cost = sum(variant.count(char) for char in triggers)  # at most this many escapes
                if not cost:
                    continue
                if cost > budget:
                    return
                budget -= cost
                if mapped:
                    decoded, layer = _decode_mapped(variant, pattern)
                    decoded_layers = [layer, *layers]
                else:
                    decoded, decoded_layers = pattern.sub(_unescape_one, variant), layers
                if decoded not in seen:
                    seen.add(decoded)
                    following.append((decoded, decoded_layers))
                    yield decoded, decoded_layers
            frontier = following
            if not frontier:
                return

    def find(self, value: str) -> str | None:
        """How a secret appears in ``value`` (``plain``, ``escaped``, ``base64``, ``hex, escaped``…),
        or None."""
        if not self._forms:
            return None
        for view, _ in self._views(value, mapped=False):
            for form, word in self._forms:
                if form in view:
                    if view is value:
                        return word
                    return "escaped" if word == "plain" else f"{word}, escaped"
        return None

    def find_bytes(self, data: bytes, limit: int = MAX_SNIFFED_BYTES) -> str | None:
        """``find`` on a body: its bytes (one character per byte: the forms include the key's
        UTF-8 bytes so) and, for a gzip or zlib body sent without a Content-Encoding, its
        inflated content (at most ``limit`` bytes)."""
        found = self.find(data.decode("latin-1"))
        if found is None and (inflated := _inflated(data, limit)) is not None:
            found = self.find(inflated.decode("latin-1"))
            return None if found is None else found + ", compressed"
        return found

    def _spans(self, value: str) -> list[tuple[int, int]]:
        """Every place of ``value`` a form of a secret was written, merged, in order."""
        spans = []
        for view, layers in self._views(value, mapped=True):
            for form, _ in self._forms:
                start = view.find(form)
                while start >= 0:
                    begin, end = start, start + len(form)
                    for layer in layers:
                        begin, end = layer.back(begin, end)
                    spans.append((begin, end))
                    start = view.find(form, start + 1)
        merged: list[tuple[int, int]] = []
        for begin, end in sorted(spans):
            if merged and begin <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((begin, end))
        return merged

    def text(self, value: str) -> str:
        """A string with the secrets masked (the whole string when a form resists masking)."""
        if self.find(value) is None:
            return value
        pieces, position = [], 0
        for begin, end in self._spans(value):
            pieces += [value[position:begin], MASK]
            position = end
        masked = "".join([*pieces, value[position:]])
        return masked if self.find(masked) is None else MASK

    def data(self, content: bytes) -> bytes:
        """Bytes with the secrets masked, byte for byte elsewhere (``***`` alone when a form
        resists masking, e.g. inside a compressed stream)."""
        if self.find_bytes(content) is None:
            return content
        masked = self.text(content.decode("latin-1")).encode("latin-1")
        return masked if self.find_bytes(masked) is None else MASK.encode()

    def __call__(self, value: Any) -> Any:
        """Any JSON-like value with every string masked."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        return value
