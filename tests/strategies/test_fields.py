"""``type`` values (LP-REQ-5, LP-ERR-5) and key header variants (LP-REQ-3, LP-ERR-1/2)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.exchange import KEY_HEADER, Key
from conformance.strategies import invalid_type_values, key_header_casings, key_variants, valid_type_values
from conformance.strategies.fields import (
    LONG_INVALID_TYPES,
    LONG_TYPE,
    NAMED_INVALID_TYPES,
    NAMED_KEY_CASINGS,
    VALID_TYPES,
)

SEEN = settings(max_examples=300, database=None, deadline=None)


def collect(strategy: st.SearchStrategy[object], n: int = 300) -> list[object]:
    found: list[object] = []

    @settings(max_examples=n, database=None, deadline=None)
    @given(strategy)
    def run(value: object) -> None:
        found.append(value)

    run()
    return found


def test_valid_type_values_are_exactly_0_1_and_absent() -> None:
    assert set(collect(valid_type_values(), 60)) == {"0", "1", None}


@SEEN
@given(invalid_type_values())
def test_invalid_type_values_are_never_valid(value: str) -> None:
    assert isinstance(value, str)
    assert value not in ("0", "1")


def test_invalid_type_values_cover_the_named_edge_cases() -> None:
    seen = set(collect(invalid_type_values(), 500))
    assert {"2", "-1", "01", " 1", "1.0", "true", ""} <= seen
    assert any(len(v) >= 100 for v in seen)  # long strings
    assert any(not v.isascii() for v in seen)  # non-ASCII


@SEEN
@given(key_header_casings())
def test_key_header_casings_differ_only_in_case(header: str) -> None:
    assert header.lower() == KEY_HEADER


def test_key_header_casings_include_mixed_case() -> None:
    seen = set(collect(key_header_casings(), 100))
    assert KEY_HEADER in seen
    assert len(seen) > 10


def test_key_variants_are_the_invalid_ones() -> None:
    assert set(collect(key_variants(), 50)) == {Key.MISSING, Key.EMPTY, Key.INVALID}


def test_named_values_are_what_they_claim() -> None:
    assert not set(NAMED_INVALID_TYPES + LONG_INVALID_TYPES) & set(VALID_TYPES)
    assert len(set(NAMED_INVALID_TYPES)) == len(NAMED_INVALID_TYPES)
    assert all(len(value) == LONG_TYPE for value in LONG_INVALID_TYPES)
    assert {casing.lower() for casing in NAMED_KEY_CASINGS} == {KEY_HEADER}
    assert len(set(NAMED_KEY_CASINGS)) == len(NAMED_KEY_CASINGS)


def _lenient(value: str) -> float | None:
    for parse in (int, float):
        try:
            return parse(value)
        except ValueError:
            continue
    return None


def test_named_invalid_types_include_what_lenient_parsers_take_for_0_and_1() -> None:
    """Issue 14: a target parsing ``type`` with int() or float() must meet these in every run."""
    lenient = {value for value in NAMED_INVALID_TYPES if _lenient(value) in (0, 1)}
    assert {
        "+0",
        "-0",
        " 0",
        "0 ",
        "\t1",
        "1\n",
        "00",
        "01",
        "0_1",
        "0.0",
        "1.",
        "1e0",
        "1.0",
        "١",
    } <= lenient
    assert lenient.isdisjoint(VALID_TYPES)
