"""Strategies for the form field ``type`` (LP-REQ-5) and the API key header (LP-REQ-3, LP-ERR-1/2)."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.exchange import Key
from conformance.protocol.request import KEY_HEADER
from conformance.protocol.request import VALID_TYPES as VALID_TYPES  # LP-REQ-5 [decided]: exactly these

# LP-REQ-5 [decided]: whitespace, signs, leading zeros, decimals, booleans and others are invalid.
# Every one is sent in every run (conformance.strategies.covering). Most are what a lenient parser
# turns into 0 or 1: int() strips whitespace and takes signs, leading zeros, "_" and Unicode digits
# ("+0", " 0", "00", "0_1", "١"); float() also takes decimals and exponents ("0.0", "1e0", "1.").
NAMED_INVALID_TYPES = (
    "2",
    "-1",
    "01",
    " 1",
    "1 ",
    "1.0",
    "true",
    "",
    "+1",
    "0x1",
    "１",
    "one",
    "null",
    "+0",
    "-0",
    " 0",
    "0 ",
    "\t1",
    "1\n",
    "00",
    "0_1",
    "0.0",
    "1.",
    "1e0",
    "١",
    "False",
)
LONG_TYPE = 1000  # characters of the longest generated invalid value
# The generated kinds beyond the named values, at their longest (LP-REQ-5: any other value).
LONG_INVALID_TYPES = ("1" * LONG_TYPE, "ü" * LONG_TYPE)
# Spellings of the key header sent in every run (LP-REQ-3: any casing); more are generated.
NAMED_KEY_CASINGS = (
    KEY_HEADER,
    KEY_HEADER.upper(),
    "Ailabapi-Api-Key",
    "ailabapi-API-key",
    "aIlAbApI-aPi-KeY",
)

__all__ = ["invalid_type_values", "key_header_casings", "key_variants", "valid_type_values"]


def valid_type_values() -> st.SearchStrategy[str | None]:
    """Values of ``type`` the target must accept: ``"0"``, ``"1"`` or None for absent (LP-REQ-5)."""
    return st.sampled_from((*VALID_TYPES, None))


def _is_invalid_type(value: str) -> bool:
    return value not in VALID_TYPES


def invalid_type_values() -> st.SearchStrategy[str]:
    """Values of ``type`` the target must reject with LP-ERR-5: named edge cases, then any text.

    Generated text includes long strings and non-ASCII; it never equals ``"0"`` or ``"1"``.
    """
    arbitrary = st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"),
        max_size=LONG_TYPE,
    ).filter(_is_invalid_type)
    long_digits = st.integers(2, LONG_TYPE).map(lambda n: "1" * n)
    return st.one_of(st.sampled_from(NAMED_INVALID_TYPES), long_digits, arbitrary)


def key_header_casings() -> st.SearchStrategy[str]:
    """Spellings of ``ailabapi-api-key`` differing only in case (LP-REQ-3: any casing is accepted)."""
    return st.lists(st.booleans(), min_size=len(KEY_HEADER), max_size=len(KEY_HEADER)).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip(KEY_HEADER, upper, strict=True))
    )


def key_variants() -> st.SearchStrategy[Key]:
    """The invalid key situations: missing or empty header (LP-ERR-1), unknown key (LP-ERR-2)."""
    return st.sampled_from((Key.MISSING, Key.EMPTY, Key.INVALID))
