"""The request pool of a load run: bodies drawn once, up front, from the suite's own strategies.

Hypothesis never runs inside the load loop: valid requests come from the deterministic builders
(``face_photo`` + ``request_for`` with a few parameter variations), invalid ones from a small
``@given`` harness that collects a few examples of each invalid-request strategy under a fixed seed.
The loop then only picks entries by weight.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as hst

from conformance import strategies as st
from conformance.exchange import ApiRequest

KINDS = ("success", "errors")
DEFAULT_MIX = {"success": 1, "errors": 1}
ERROR_EXAMPLES = 3  # examples drawn from each invalid-request strategy
# (format, long side, framing, type): small images keep the load on the target, not on uploads.
# Type 1 (full body) requests come in two aspect ratios (square portraits, 1:2 full-body shots) so a
# video handed to the wrong request shows in its ratio (LP-OPS-2, LP-VID-6).
SUCCESS_SHAPES = (
    ("JPEG", 256, "portrait", "0"),
    ("PNG", 320, "portrait", "1"),
    ("BMP", 256, "portrait", None),
    ("JPEG", 384, "full-body", "1"),
    ("PNG", 256, "full-body", "1"),
    ("JPEG", 448, "portrait", "1"),
)
PART_VARIANTS = ("exact", "absent", "generic")  # LP-REQ-2: part Content-Type
ERROR_STRATEGIES: tuple[Callable[[], hst.SearchStrategy[ApiRequest]], ...] = (
    st.missing_key_requests,
    st.unknown_key_requests,
    st.missing_image_requests,
    st.text_field_image_requests,
    st.invalid_type_requests,
    st.unsupported_format_requests,
    st.corrupt_image_requests,
    st.oversized_requests,
    st.huge_resolution_requests,
    st.faceless_requests,
    st.wrong_content_type_requests,
)


class MixError(ValueError):
    """A ``--mix`` value that cannot be used; the message says how to write it."""


def parse_mix(text: str | None) -> dict[str, int]:
    """``"success=3,errors=1"`` → ``{"success": 3, "errors": 1}``; missing kinds weigh 0."""
    if not text:
        return dict(DEFAULT_MIX)
    mix = dict.fromkeys(KINDS, 0)
    for item in text.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep or name not in KINDS:
            raise MixError(
                f"--mix item {item.strip()!r} must be success=N or errors=N, e.g. success=3,errors=1"
            )
        try:
            weight = int(value)
        except ValueError:
            raise MixError(f"--mix weight {value!r} for {name} must be a whole number ≥ 0") from None
        if weight < 0:
            raise MixError(f"--mix weight for {name} must be ≥ 0, got {weight}")
        mix[name] = weight
    if not any(mix.values()):
        raise MixError("--mix gives every kind weight 0: nothing to send")
    return mix


def format_mix(mix: dict[str, int]) -> str:
    """The inverse of ``parse_mix``."""
    return ",".join(f"{kind}={mix.get(kind, 0)}" for kind in KINDS)


@dataclass(frozen=True)
class PoolEntry:
    """One prepared request and what the target should do with it."""

    request: ApiRequest
    expect: str  # "success" or the §5 clause the request breaks (Recorder.judge's ``expect``)

    @property
    def kind(self) -> str:
        """``success`` or ``errors``: the mix bucket and the name requests are timed under."""
        return "success" if self.expect == "success" else "errors"


@dataclass(frozen=True)
class RequestPool:
    """Prepared requests by kind; ``pick`` chooses one by the mix weights."""

    success: tuple[PoolEntry, ...]
    errors: tuple[PoolEntry, ...]

    def __len__(self) -> int:
        return len(self.success) + len(self.errors)

    def pick(self, rng: random.Random, mix: dict[str, int]) -> PoolEntry:
        """One entry: a kind by weight, then an entry of that kind uniformly."""
        kinds = [k for k in KINDS if mix.get(k, 0) > 0 and getattr(self, k)]
        if not kinds:
            raise MixError("the mix selects no kind this pool holds")
        kind = rng.choices(kinds, weights=[mix[k] for k in kinds])[0]
        entries: tuple[PoolEntry, ...] = getattr(self, kind)
        return entries[rng.randrange(len(entries))]


def valid_entries() -> list[PoolEntry]:
    """Valid requests from the deterministic builders (LP-OK-1), varied in format, size, type and
    the part Content-Type."""
    entries = []
    for index, (fmt, side, framing, type_value) in enumerate(SUCCESS_SHAPES):
        image = st.face_photo(format=fmt, side=side, framing=framing)
        request = st.request_for(
            image,
            type_value=type_value,
            part_content_type=PART_VARIANTS[index % len(PART_VARIANTS)],
            image_first=index % 2 == 0,
        )
        entries.append(PoolEntry(request, "success"))
    return entries


def draw(strategy: hst.SearchStrategy[ApiRequest], count: int, run_seed: int) -> list[ApiRequest]:
    """``count`` examples of a strategy under a fixed seed, collected by a small ``@given`` run."""
    found: list[ApiRequest] = []

    @seed(run_seed)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(request: ApiRequest) -> None:
        found.append(request)

    collect()
    return found[:count]


def error_entries(run_seed: int = 0, per_strategy: int = ERROR_EXAMPLES) -> list[PoolEntry]:
    """Invalid requests (LP-ERR-1 … 11), ``per_strategy`` from each of the suite's strategies."""
    entries = []
    for make in ERROR_STRATEGIES:
        for request in draw(make(), per_strategy, run_seed):
            entries.append(PoolEntry(request, request.expect_clause or "LP-ERR-1"))
    return entries


def build_pool(mix: dict[str, int], run_seed: int = 0, kinds: Sequence[str] | None = None) -> RequestPool:
    """The pool for a run: only the kinds the mix weighs (or ``kinds``) are built."""
    wanted = set(kinds if kinds is not None else [k for k in KINDS if mix.get(k, 0) > 0])
    return RequestPool(
        success=tuple(valid_entries()) if "success" in wanted else (),
        errors=tuple(error_entries(run_seed)) if "errors" in wanted else (),
    )
