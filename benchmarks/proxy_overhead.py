"""Proxy overhead, measured side by side: the same requests direct to the reference server and
through the proxy (observe mode, then enforce mode), interleaved one by one in one run.

Run: ``.venv/bin/python benchmarks/proxy_overhead.py [--success N] [--errors N]``.
Targets (issue 9): success-path overhead ≤ 5 % of end-to-end latency; error-path overhead ≤ 5 ms p50.
The reference server and the proxy each run in their own process (as in deployment), the client here.
The ``before`` column is the figure of the same row measured before enforce mode answered on the MUST
checks' verdict alone (benchmarks/RESULTS.md, 2026-11-26; issue 18: "the enforce-mode proxy adds
22.7 % on the success path").
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conformance.mock.config import ServerConfig
from conformance.mock.runner import start_server_process

KEY = "bench-key-0123"
ENDPOINT = "/api/portrait/effects/live-photo"
DATA = Path(__file__).resolve().parent.parent / "conformance" / "data"
SUCCESS_TARGET = 0.05  # overhead ≤ 5 % of end-to-end latency
ERROR_TARGET_MS = 5.0  # overhead ≤ 5 ms p50
# The same rows before enforce mode answered on the MUST verdict alone: share (success) or ms (errors).
BEFORE = {
    ("success", "observe"): "-2.4%",
    ("missing key", "observe"): "3.6ms",
    ("success", "enforce"): "22.7%",
    ("missing key", "enforce"): "4.7ms",
}


def face_photo() -> bytes:
    """The astronaut at 512×512 JPEG: a face photo of a realistic size."""
    with Image.open(DATA / "astronaut.png") as image:
        buffer = io.BytesIO()
        image.convert("RGB").resize((512, 512)).save(buffer, format="JPEG", quality=90)
        return buffer.getvalue()


def start_proxy(upstream: str, mode: str) -> tuple[subprocess.Popen[str], str]:
    """``python -m conformance.proxy proxy`` on a free port; returns the process and its URL."""
    command = [
        sys.executable, "-m", "conformance.proxy", "proxy", "--upstream", upstream,
        "--listen", "127.0.0.1:0", "--mode", mode, "--log-level", "warning",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "listening on " in line:
            threading.Thread(target=process.stdout.read, daemon=True).start()  # keep the pipe drained
            return process, line.rsplit("listening on ", 1)[1].strip()
    process.kill()
    raise RuntimeError("the proxy did not start")


def timed(http: httpx.Client, url: str, kind: str, image: bytes) -> float:
    """One request's end-to-end latency in ms (status checked)."""
    started = time.perf_counter()
    if kind == "success":
        files = {"image_target": ("face.jpg", image, "image/jpeg")}
        response = http.post(url + ENDPOINT, files=files, headers={"ailabapi-api-key": KEY})
        expected = 200
    else:
        response = http.post(url + ENDPOINT, files={"image_target": ("face.jpg", image, "image/jpeg")})
        expected = 401
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != expected:
        raise RuntimeError(f"{kind}: HTTP {response.status_code}, expected {expected}: {response.text[:200]}")
    return elapsed


def side_by_side(
    direct: str, proxy: str, kind: str, count: int, image: bytes, gap: float = 0.0
) -> tuple[list[float], list[float]]:
    """Alternate direct and proxied requests (order flipped every round) so drift hits both equally.

    ``gap`` seconds pass after each request: the proxy judges after it answers (observe mode all of
    it, enforce mode the SHOULD and MAY checks), and back to back that work would run during the
    next, direct request and count against the direct side."""
    plain: list[float] = []
    through: list[float] = []
    with httpx.Client(timeout=120) as http:
        for url in (direct, proxy):  # warm-up: connections, caches
            for _ in range(3):
                timed(http, url, kind, image)
        for round_ in range(count):
            order = (
                ((direct, plain), (proxy, through))
                if round_ % 2 == 0
                else ((proxy, through), (direct, plain))
            )
            for url, sink in order:
                sink.append(timed(http, url, kind, image))
                time.sleep(gap)
    return plain, through


def row(
    label: str, plain: list[float], through: list[float]
) -> tuple[str, float, float, float, float, float]:
    """Label, p50 direct, p50 proxied, overhead (difference of the p50s), its share of the proxied
    p50, and the median of the paired differences (each proxied request minus the direct one of
    its round: robust to the load drifting on a shared machine)."""
    p_direct, p_proxy = statistics.median(plain), statistics.median(through)
    paired = statistics.median(t - p for t, p in zip(through, plain, strict=True))
    return label, p_direct, p_proxy, p_proxy - p_direct, (p_proxy - p_direct) / p_proxy, paired


def main() -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--success", type=int, default=20, help="success requests per side (default 20)")
    parser.add_argument("--errors", type=int, default=300, help="error requests per side (default 300)")
    parser.add_argument(
        "--gap",
        type=float,
        default=0.1,
        help="seconds between success requests, so judging after an answer does not slow the next "
        "request (default 0.1; 0: back to back, as the 'before' figures were measured)",
    )
    args = parser.parse_args()
    image = face_photo()
    rows = []
    with start_server_process(ServerConfig(api_keys=(KEY,))) as server:
        for mode in ("observe", "enforce"):
            process, proxy = start_proxy(server.url, mode)
            try:
                plain, through = side_by_side(server.url, proxy, "success", args.success, image, args.gap)
                rows.append(row(f"success ({mode}, n={args.success})", plain, through))
                plain, through = side_by_side(server.url, proxy, "error", args.errors, image)
                rows.append(row(f"missing key ({mode}, n={args.errors})", plain, through))
            finally:
                process.terminate()
                process.wait(timeout=10)
    print(
        f"{'path':34} {'direct p50':>11} {'proxy p50':>10} {'overhead':>9} {'share':>7} {'paired':>8} "
        f"{'before':>7}  target"
    )
    for label, p_direct, p_proxy, over, share, paired in rows:
        success = label.startswith("success")
        target = f"≤ {SUCCESS_TARGET:.0%}" if success else f"≤ {ERROR_TARGET_MS:g} ms"
        ok = share <= SUCCESS_TARGET if success else over <= ERROR_TARGET_MS
        path, mode = label.split(" (", 1)[0], label.split("(", 1)[1].split(",", 1)[0]
        print(
            f"{label:34} {p_direct:9.1f}ms {p_proxy:8.1f}ms {over:7.1f}ms {share:7.1%} {paired:6.1f}ms "
            f"{BEFORE.get((path, mode), '—'):>7}  {target} {'ok' if ok else 'MISSED'}"
        )
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
