"""The load profile's request pool and mix: drawn once from the suite's strategies."""

from __future__ import annotations

import random

import pytest

from conformance.load.pool import (
    KINDS,
    MixError,
    build_pool,
    draw,
    error_entries,
    format_mix,
    parse_mix,
    valid_entries,
)
from conformance.strategies import invalid_type_requests


def test_mix_parses_weights_and_defaults_missing_kinds_to_zero() -> None:
    assert parse_mix("success=3,errors=1") == {"success": 3, "errors": 1}
    assert parse_mix("errors=2") == {"success": 0, "errors": 2}
    assert parse_mix(None) == {"success": 1, "errors": 1}
    assert parse_mix(format_mix({"success": 5, "errors": 0})) == {"success": 5, "errors": 0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("success", "must be success=N or errors=N"),
        ("failures=2", "must be success=N or errors=N"),
        ("success=many", "must be a whole number"),
        ("success=-1", "must be ≥ 0"),
        ("success=0,errors=0", "nothing to send"),
    ],
)
def test_a_bad_mix_says_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(MixError, match=message):
        parse_mix(text)


def test_valid_entries_expect_success_and_vary_type_and_aspect() -> None:
    entries = valid_entries()
    assert {e.expect for e in entries} == {"success"}
    assert all(e.request.image is not None and e.request.image.has_face for e in entries)
    ratios = {
        e.request.image.width / e.request.image.height  # type: ignore[union-attr]
        for e in entries
        if any(p.name == "type" and p.content == b"1" for p in e.request.parts)
    }
    assert len(ratios) >= 2  # a swapped type 1 video shows in its ratio


def test_error_entries_cover_every_failure_clause() -> None:
    clauses = {e.expect for e in error_entries(run_seed=0, per_strategy=1)}
    assert clauses == {f"LP-ERR-{n}" for n in range(1, 12)}


def test_drawing_is_reproducible_under_a_seed() -> None:
    first = [r.description for r in draw(invalid_type_requests(), 4, run_seed=7)]
    again = [r.description for r in draw(invalid_type_requests(), 4, run_seed=7)]
    assert first == again
    assert len(first) == 4


def test_pick_follows_the_mix() -> None:
    pool = build_pool({}, kinds=KINDS)
    rng = random.Random(1)
    only_errors = {pool.pick(rng, {"success": 0, "errors": 1}).kind for _ in range(50)}
    assert only_errors == {"errors"}
    picks = [pool.pick(rng, {"success": 3, "errors": 1}).kind for _ in range(400)]
    assert 0.65 < picks.count("success") / len(picks) < 0.85


def test_a_pool_holds_only_the_kinds_the_mix_weighs() -> None:
    pool = build_pool({"success": 1, "errors": 0})
    assert pool.success
    assert not pool.errors
    with pytest.raises(MixError, match="selects no kind"):
        pool.pick(random.Random(0), {"success": 0, "errors": 1})
