"""Judging a 2 s 1280×720 H.264 video: time of probe + every video check, and memory.

Run: ``.venv/bin/python benchmarks/video_judging.py [--runs N]``. Target (issue 6): median ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conformance.checks import video
from conformance.media import decode_base64_strict, probe_video
from conformance.settings import Settings
from tests.video_factory import encode, exchange_for, zooming

WIDTH, HEIGHT, FPS, SECONDS = 1280, 720, 30, 2
TARGET_MS = 150.0
GRAIN_SIGMA = 6.0  # grey levels of noise: what keeps x264 from compressing the picture to nothing


def _rss_mib() -> float:
    """Peak resident memory of this process: VmHWM (reset by exec, unlike ru_maxrss), else getrusage."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def bare_decode(data: bytes) -> int:
    """PyAV decoding every frame and nothing else: the floor under probe_video on this machine."""
    with av.open(io.BytesIO(data)) as container:
        return sum(1 for _ in container.decode(video=0))


def judge(text: str, settings: Settings, *, type_value: str) -> list[str]:
    """Strict base64, probe and every single-exchange video check on a fresh exchange."""
    exchange = exchange_for(text, type_value=type_value, image=(WIDTH, HEIGHT))
    outcomes = []
    for check in (video.video_is_strict_base64, *video.VIDEO_CHECKS):
        try:
            outcomes.append(f"{check.__name__}: {check(exchange, settings)}")
        except video.NotApplicable as skipped:
            outcomes.append(f"{check.__name__}: not applicable ({skipped.reason})")
    return outcomes


def judge_only(path: Path) -> None:
    """In a fresh process: peak RSS after imports, then after judging the video once (the encoder's
    memory, which dominates the parent's peak, is not counted)."""
    text = base64.b64encode(path.read_bytes()).decode()
    settings = Settings(target_url="http://127.0.0.1:9", api_key="bench", artefacts_dir=path.parent)
    exchange_for("", type_value="0")  # imports done
    after_imports = _rss_mib()
    judge(text, settings, type_value="0")
    print(
        f"  fresh process: peak RSS {after_imports:.0f} MiB after imports, "
        f"{_rss_mib():.0f} MiB after judging once"
    )


def grainy(width: int, height: int) -> Callable[[int], NDArray[np.uint8]]:
    """The zooming portrait with film grain: a camera-like picture that costs real bits."""
    smooth = zooming(width, height)
    rng = np.random.default_rng(6)
    grain = [rng.normal(0, GRAIN_SIGMA, (height, width, 1)).astype(np.int16) for _ in range(4)]
    return lambda index: np.clip(smooth(index) + grain[index % 4], 0, 255).astype(np.uint8)


VIDEOS = {
    # name: (frames, x264 options)
    "smooth, CRF 23": (lambda: zooming(WIDTH, HEIGHT), {"preset": "veryfast", "crf": "23"}),
    "grainy, 4 Mbit/s (a phone's bitrate)": (
        lambda: grainy(WIDTH, HEIGHT),
        {"preset": "veryfast", "x264-params": "bitrate=4000:vbv-maxrate=5000:vbv-bufsize=8000"},
    ),
}


def bench(name: str, data: bytes, runs: int, settings: Settings) -> float:
    """Print the figures of one video; the median judging time in ms."""
    text = base64.b64encode(data).decode()
    print(f"\n{name}: {WIDTH}×{HEIGHT} H.264, {SECONDS} s at {FPS} fps, {len(data) / 1e6:.2f} MB")
    for line in judge(text, settings, type_value="0"):
        print("  " + line)  # also the warm-up: imports, cascade load, FFmpeg init
    totals, probes, decodes, bare = [], [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        bare_decode(data)
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        raw = decode_base64_strict(text)
        decodes.append(time.perf_counter() - started)
        started = time.perf_counter()
        probe_video(raw)
        probes.append(time.perf_counter() - started)
        started = time.perf_counter()
        judge(text, settings, type_value="0")
        totals.append(time.perf_counter() - started)
    tracemalloc.start()
    judge(text, settings, type_value="0")
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median = statistics.median(totals) * 1000
    print(f"  strict base64 decode: median {statistics.median(decodes) * 1000:.1f} ms")
    print(f"  bare PyAV decode, default options (the floor): median {statistics.median(bare) * 1000:.1f} ms")
    print(f"  probe_video (full decode): median {statistics.median(probes) * 1000:.1f} ms")
    print(
        f"  judging (base64 + probe + {len(video.VIDEO_CHECKS) + 1} checks): median {median:.1f} ms, "
        f"min {min(totals) * 1000:.1f} ms, max {max(totals) * 1000:.1f} ms over {runs} runs "
        f"— target ≤ {TARGET_MS:.0f} ms: {'met' if median <= TARGET_MS else 'NOT met'}"
    )
    print(f"  tracemalloc peak of one judging (Python and numpy allocations): {traced_peak / 2**20:.1f} MiB")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "video.mp4"
        path.write_bytes(data)
        subprocess.run([sys.executable, __file__, "--judge-only", str(path)], check=True)
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--judge-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.judge_only:
        judge_only(args.judge_only)
        return
    settings = Settings(target_url="http://127.0.0.1:9", api_key="bench", artefacts_dir=Path("/tmp/bench"))
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start (other work skews times)"
    )
    for name, (frames, options) in VIDEOS.items():
        count = FPS * SECONDS
        data = encode(frames(), count=count, fps=FPS, width=WIDTH, height=HEIGHT, options=options)
        bench(name, data, args.runs, settings)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
