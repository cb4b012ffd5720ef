"""Strict base64 of ``data.video`` (LP-OK-2): RFC 4648 §4 alphabet, padded, no whitespace, no
``data:`` prefix — checked in linear time and without per-character memory.

One implementation for the schema's ``contentEncoding: base64`` assertion (``conformance.schemas``)
and the video checks (``conformance.media``). A regular expression cannot do this cheaply in
Python: the exact pattern ``^(?:[A-Za-z0-9+/]{4})*…$`` keeps backtracking state for every group of
four characters, about 30 bytes of memory per video byte (1.8 GB for a 60 MiB video).
"""

from __future__ import annotations

import binascii
import re

_ALPHABET_ERROR = re.compile(r"[^A-Za-z0-9+/=]")  # RFC 4648 §4 alphabet and its pad character
_DATA_URI = re.compile(r"data:", re.IGNORECASE)
_WHITESPACE = {" ": "space", "\t": "tab", "\n": "line break", "\r": "line break"}
# Of the last data character before padding, the bits that RFC 4648 §3.5 wants zero.
_PAD_BITS = {1: 0b11, 2: 0b1111}
_B64_VALUES = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
CHUNK = 1 << 20  # characters checked at a time by base64_defect: a multiple of 4


class Base64Defect(ValueError):
    """``data.video`` is not strict RFC 4648 §4 base64; ``position`` is the offending character."""

    def __init__(self, position: int, reason: str) -> None:
        self.position = position
        self.reason = reason
        super().__init__(f"{reason} at character {position}")


def decode_base64_strict(text: str) -> bytes:
    """The bytes of standard base64 with padding, no whitespace and no ``data:`` prefix (LP-OK-2).

    Raises ``Base64Defect`` naming the first defect and its position.
    """
    data = _fast_decode(text)
    if data is not None:
        return data
    raise _diagnose(text)


def base64_defect(text: str) -> Base64Defect | None:
    """The first defect of ``text`` as strict base64, or None (the empty string has none: it is
    the encoding of no bytes; LP-OK-2's "not empty" is the video check's and the schema's minLength).

    Checked a chunk at a time, so the memory used stays about ``CHUNK`` whatever the video's size.
    """
    if not text:
        return None
    if len(text) % 4 == 0 and all(_chunk_is_strict(text, start) for start in range(0, len(text), CHUNK)):
        return None
    return _diagnose(text)


def _chunk_is_strict(text: str, start: int) -> bool:
    chunk = text[start : start + CHUNK]
    if start + CHUNK >= len(text):  # the last chunk: padding and pad bits are checked here
        return _fast_decode(chunk) is not None
    try:
        data = binascii.a2b_base64(chunk, strict_mode=True)
    except ValueError:
        return False
    return len(data) * 4 == len(chunk) * 3  # shorter: padding before the end of the string


def _fast_decode(text: str) -> bytes | None:
    """The bytes when ``text`` is strict base64, else None: binascii's strict mode in C (one pass,
    the output the only allocation), with the two rules it leaves out — a length that is a multiple
    of four and zero pad bits. A fuzz test keeps it equal to ``_diagnose``."""
    if not text or len(text) % 4:
        return None
    try:
        data = binascii.a2b_base64(text, strict_mode=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        return None
    pads = 2 if text.endswith("==") else 1 if text.endswith("=") else 0
    if pads and _B64_VALUES[text[-pads - 1]] & _PAD_BITS[pads]:
        return None
    return data


def _diagnose(text: str) -> Base64Defect:
    """The first defect of a string that is not strict base64, named for a person, with its position.

    Slower than ``_fast_decode`` (a regular-expression scan): it runs only on defective strings.
    """
    if not text:
        return Base64Defect(0, "empty")
    if _DATA_URI.match(text):
        return Base64Defect(0, "data: URI prefix")
    bad = _ALPHABET_ERROR.search(text)
    if bad is not None:
        char = bad.group()
        if char in _WHITESPACE:
            reason = _WHITESPACE[char]
        elif char in "-_":
            reason = f"character {char!r} outside the RFC 4648 §4 alphabet (URL-safe base64?)"
        else:
            reason = f"character {char!r} outside the RFC 4648 §4 alphabet"
        return Base64Defect(bad.start(), reason)
    pad = text.find("=")
    data_end = len(text) if pad < 0 else pad
    if pad >= 0 and text.count("=", pad) != len(text) - pad:
        return Base64Defect(pad, "padding '=' before the end of the data")
    if len(text) - data_end > 2:
        return Base64Defect(data_end, "more than two padding characters")
    if len(text) % 4:
        reason = "missing padding" if pad < 0 else "wrong length (not a multiple of 4 characters)"
        return Base64Defect(len(text), reason)
    pads = len(text) - data_end
    if pads and _B64_VALUES[text[data_end - 1]] & _PAD_BITS[pads]:
        return Base64Defect(data_end - 1, "non-zero pad bits (RFC 4648 §3.5)")
    # Unreachable: _fast_decode rejected the string, so a rule above applies (a fuzz test proves it).
    return Base64Defect(0, "not strict base64")  # pragma: no cover
