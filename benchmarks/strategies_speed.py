"""How fast the strategies generate examples (bar: 100 valid images in ≤ 5 s).

Run: .venv/bin/python benchmarks/strategies_speed.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conformance.strategies import invalid_images, invalid_requests, valid_images, valid_requests

EXAMPLES = 100
BAR_SECONDS = 5.0


def timed(strategy: st.SearchStrategy[object], examples: int = EXAMPLES) -> tuple[float, list[int]]:
    sizes: list[int] = []

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value: object) -> None:
        info = getattr(value, "info", None) or getattr(value, "image", None)
        sizes.append(getattr(info, "size", 0))

    started = time.perf_counter()
    run()
    return time.perf_counter() - started, sizes


def report(name: str, make: Callable[[], st.SearchStrategy[object]]) -> float:
    seconds, sizes = timed(make())
    mean_kib = sum(sizes) / max(1, len(sizes)) / 1024
    max_kib = max(sizes) / 1024
    print(
        f"{name:<42} {len(sizes):>4} ex. {seconds:6.2f} s  mean {mean_kib:5.0f} KiB  max {max_kib:5.0f} KiB"
    )
    return seconds


def main() -> None:
    print(f"{'strategy':<42} {'n':>4}")
    first = report("valid_images() (cold caches)", valid_images)
    second = report("valid_images() (warm)", valid_images)
    report("valid_images(max_side=1024)", lambda: valid_images(max_side=1024))
    report("valid_requests()", valid_requests)
    report("invalid_images() (cold caches)", invalid_images)
    report("invalid_requests()", invalid_requests)
    verdict = "PASS" if max(first, second) <= BAR_SECONDS else "FAIL"
    print(f"bar: {EXAMPLES} valid images in ≤ {BAR_SECONDS:g} s → {verdict}")


if __name__ == "__main__":
    main()
