"""How fast the strategies generate examples (bar: 100 valid images in ≤ 5 s).

Run: .venv/bin/python benchmarks/strategies_speed.py
Prints wall time and this process's CPU time: on a machine shared with other jobs the wall time
grows with the load, the CPU time much less; the bar is judged on both and both are shown.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conformance.strategies import invalid_images, invalid_requests, valid_images, valid_requests

EXAMPLES = 100
BAR_SECONDS = 5.0


def timed(strategy: st.SearchStrategy[object], examples: int = EXAMPLES) -> tuple[float, float, list[int]]:
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

    started, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - started, time.process_time() - cpu, sizes


def report(name: str, make: Callable[[], st.SearchStrategy[object]]) -> tuple[float, float]:
    seconds, cpu, sizes = timed(make())
    mean_kib = sum(sizes) / max(1, len(sizes)) / 1024
    max_kib = max(sizes) / 1024
    print(
        f"{name:<34} {len(sizes):>4} ex. {seconds:6.2f} s wall {cpu:6.2f} s CPU  "
        f"mean {mean_kib:5.0f} KiB  max {max_kib:5.0f} KiB"
    )
    return seconds, cpu


def main() -> None:
    print(f"{'strategy':<34} {'n':>4}  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    first = report("valid_images() (cold caches)", valid_images)
    second = report("valid_images() (warm)", valid_images)
    report("valid_images(max_side=1024)", lambda: valid_images(max_side=1024))
    report("valid_requests()", valid_requests)
    report("invalid_images() (cold caches)", invalid_images)
    report("invalid_requests()", invalid_requests)
    for what, index in (("wall", 0), ("CPU", 1)):
        verdict = "PASS" if max(first[index], second[index]) <= BAR_SECONDS else "FAIL"
        print(f"bar: {EXAMPLES} valid images in ≤ {BAR_SECONDS:g} s ({what} time) → {verdict}")


if __name__ == "__main__":
    main()
