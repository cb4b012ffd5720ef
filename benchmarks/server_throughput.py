"""Reference-server figures: success latency, error-path throughput and memory under large uploads.

Run on demand: ``.venv/bin/python benchmarks/server_throughput.py``. Targets (issue 3): success p50
≤ 300 ms for a 512×512 face photo; error paths ≥ 300 requests/s; RSS ≤ 300 MB while 20 clients
upload 5 MiB files at once.
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from conformance.mock.config import ServerConfig
from conformance.mock.runner import start_server_process
from tests.mock import samples

KEY = "bench-key"
ENDPOINT = "/api/portrait/effects/live-photo"
SUCCESS_REQUESTS = 30
ERROR_SECONDS = 3.0  # per error path: a bounded loop
ERROR_THREADS = 4
UPLOAD_CLIENTS = 20


def rss_kb(pid: int) -> int:
    """VmRSS of a process in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def success_latency(url: str) -> tuple[float, float]:
    """p50 and p90 latency (ms) of a 512×512 face photo, sequential requests."""
    photo = samples.data_file("astronaut.png")
    times = []
    with httpx.Client(base_url=url, timeout=60) as http:
        for _ in range(SUCCESS_REQUESTS):
            started = time.perf_counter()
            response = http.post(
                ENDPOINT, headers={"ailabapi-api-key": KEY}, files={"image_target": ("a.png", photo)}
            )
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)]


def error_rate(url: str, name: str, status: int, request: dict[str, object]) -> float:
    """Requests per second sustained for one error path over ERROR_SECONDS."""
    stop = time.monotonic() + ERROR_SECONDS
    counts = [0] * ERROR_THREADS

    def worker(index: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while time.monotonic() < stop:
                response = http.post(ENDPOINT, **request)  # type: ignore[arg-type]
                assert response.status_code == status, (name, response.status_code)
                counts[index] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(ERROR_THREADS) as pool:
        list(pool.map(worker, range(ERROR_THREADS)))
    return sum(counts) / (time.monotonic() - started)


def upload_rss(url: str, pid: int) -> tuple[int, int, list[int]]:
    """Baseline and peak RSS (kB) while UPLOAD_CLIENTS clients upload exactly-5 MiB face photos."""
    image = samples.padded_png(samples.face_small(), samples.FIVE_MIB)
    baseline = rss_kb(pid)
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kb(pid))
            time.sleep(0.01)

    def upload(_: int) -> int:
        with httpx.Client(base_url=url, timeout=120) as http:
            return http.post(
                ENDPOINT, headers={"ailabapi-api-key": KEY}, files={"image_target": ("a.png", image)}
            ).status_code

    sampler = threading.Thread(target=sample)
    sampler.start()
    with ThreadPoolExecutor(UPLOAD_CLIENTS) as pool:
        statuses = list(pool.map(upload, range(UPLOAD_CLIENTS)))
    done.set()
    sampler.join()
    return baseline, peak, statuses


def main() -> None:
    """Start a server process, measure, print the figures."""
    gif = samples.solid((64, 64), "GIF")
    over = samples.padded_png(samples.face_small(), samples.FIVE_MIB + 1)
    auth = {"ailabapi-api-key": KEY}
    with start_server_process(ServerConfig(api_keys=(KEY,))) as server:
        p50, p90 = success_latency(server.url)
        print(f"success 512x512 face photo: p50 {p50:.0f} ms, p90 {p90:.0f} ms (target p50 ≤ 300 ms)")
        paths = {
            "401 no key": (401, {"files": {"image_target": ("a.gif", gif)}}),
            "400 missing image_target": (400, {"headers": auth, "files": {"other": ("a.gif", gif)}}),
            "415 GIF": (415, {"headers": auth, "files": {"image_target": ("a.gif", gif)}}),
            "413 5 MiB + 1": (413, {"headers": auth, "files": {"image_target": ("a.png", over)}}),
        }
        for name, (status, request) in paths.items():
            rate = error_rate(server.url, name, status, request)
            print(f"error path {name}: {rate:.0f} requests/s ({ERROR_THREADS} clients, target ≥ 300/s)")
        baseline, peak, statuses = upload_rss(server.url, server.pid)
        print(
            f"RSS with {UPLOAD_CLIENTS} concurrent 5 MiB uploads: baseline {baseline / 1024:.0f} MB, "
            f"peak {peak / 1024:.0f} MB (target ≤ 300 MB); statuses {sorted(set(statuses))}"
        )


if __name__ == "__main__":
    main()
