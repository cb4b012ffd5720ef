"""Reference server under adversarial uploads: CPU per hostile request, peak RSS and the latency of
a legitimate request while ten hostile uploads arrive at once (review items 9 and 10).

Run on demand: ``.venv/bin/python benchmarks/server_adversarial.py``. It starts ``serve`` as a
subprocess (``start_server_process``), then:

1. sends each hostile upload alone and reports the server's CPU time for it (target ≤ 2 s);
2. sends ten hostile uploads at once (16-bit 4095² PNGs, progressive 4095² JPEGs whose
   coefficients alone take 100 MB, scan bombs) plus, 0.2 s later, one legitimate face photo, and
   reports the server's peak RSS (VmHWM; target ≤ 300 MB) and the legitimate request's latency.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conformance.mock.config import ServerConfig
from conformance.mock.runner import start_server_process
from tests.mock import samples
from tests.security import server_attacks

KEY = "bench-key"
ENDPOINT = "/api/portrait/effects/live-photo"
HOSTILE = {
    "jpeg scan bomb (1,500 scans)": server_attacks.scan_bomb,
    "16-bit RGBA PNG 4095²": lambda: server_attacks.png16(color_type=6),
    "16-bit RGB PNG 4095²": server_attacks.png16,
    "progressive JPEG 4095² 4:4:4": server_attacks.progressive_jpeg,
    "progressive CMYK JPEG 4095²": lambda: server_attacks.progressive_jpeg(mode="CMYK"),
    "RLE4 BMP 4095² (255-px runs)": server_attacks.bmp_rle4_runs,
    "RLE8 BMP 4095² (line ends)": server_attacks.bmp_rle8_line_ends,
    "JPEG, 1 M comment segments": server_attacks.jpeg_marker_flood,
    "PNG, 400 k chunks": server_attacks.png_chunk_flood,
}
CONCURRENT = [
    *[server_attacks.png16(color_type=6)] * 4,
    *[server_attacks.progressive_jpeg(mode="CMYK")] * 3,
    *[server_attacks.scan_bomb()] * 3,
]
REPEATS = 3  # sequential requests per hostile kind (the median is reported)


def status_kb(pid: int, field: str) -> int:
    """A ``/proc/PID/status`` figure in kB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def post(url: str, image: bytes) -> tuple[int, str, float]:
    """Status, error code and latency (s) of one upload."""
    started = time.perf_counter()
    response = httpx.post(
        url + ENDPOINT,
        headers={"ailabapi-api-key": KEY},
        files={"image_target": ("upload", image)},
        timeout=120,
    )
    return response.status_code, response.json().get("error_code_str", ""), time.perf_counter() - started


def cpu_per_request(url: str, pid: int) -> None:
    """Each hostile kind alone: the server's CPU seconds per request."""
    for name, make in HOSTILE.items():
        data = make()
        used = []
        for _ in range(REPEATS):
            before = cpu_seconds(pid)
            status, code, _ = post(url, data)
            used.append(cpu_seconds(pid) - before)
        print(
            f"CPU per request, {name} ({len(data) // 1024} KB): {statistics.median(used):.2f} s "
            f"(max {max(used):.2f} s; target ≤ 2 s) → {status} {code}"
        )


def under_attack(url: str, pid: int) -> None:
    """Ten hostile uploads at once plus a legitimate one: peak RSS and the legitimate latency."""
    legit = samples.face_small()
    post(url, legit)  # warm: classifier and encoder loaded before the baseline
    baseline = status_kb(pid, "VmRSS")
    before = cpu_seconds(pid)
    done = threading.Event()
    peak_rss = [baseline]

    def sample() -> None:
        while not done.is_set():
            peak_rss[0] = max(peak_rss[0], status_kb(pid, "VmRSS"))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(len(CONCURRENT) + 1) as pool:
        hostile = [pool.submit(post, url, data) for data in CONCURRENT]
        time.sleep(0.2)
        legit_status, _, legit_latency = pool.submit(post, url, legit).result()
        outcomes = [future.result() for future in hostile]
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    used = cpu_seconds(pid) - before
    codes = sorted({f"{status} {code}" for status, code, _ in outcomes})
    print(
        f"under attack: legitimate request answered {legit_status} in {legit_latency:.2f} s "
        f"while {len(CONCURRENT)} hostile uploads were in flight"
    )
    print(
        f"under attack: peak RSS (VmHWM) {status_kb(pid, 'VmHWM') / 1024:.0f} MB, sampled peak "
        f"{peak_rss[0] / 1024:.0f} MB, baseline {baseline / 1024:.0f} MB (target ≤ 300 MB)"
    )
    print(
        f"under attack: {used:.2f} s of server CPU for {len(CONCURRENT) + 1} requests in {wall:.2f} s; "
        f"hostile answers {codes}"
    )


def main() -> None:
    """Start a server process, measure, print the figures."""
    with start_server_process(ServerConfig(api_keys=(KEY,))) as server:
        under_attack(server.url, server.pid)  # first, so VmHWM is this phase's peak
        cpu_per_request(server.url, server.pid)


if __name__ == "__main__":
    main()
