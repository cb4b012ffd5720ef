"""Count what a suite run sends: requests, successes (200) and bytes, and how long it takes.

    .venv/bin/python tools/request_census.py                       # the default run
    .venv/bin/python tools/request_census.py --max-examples 1 --family errors

The suite runs in a subprocess against the reference server behind a recorder on 127.0.0.1
(``tests/suite/recording.py``); extra arguments go to pytest. The budget this watches: success
requests are costly for real targets (issue 14 keeps the covering set frugal on that path).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.suite.recording import RecordingServer, census, run_suite  # noqa: E402


def main(argv: list[str]) -> int:
    """Run the suite once (extra arguments passed on), print the counts; the suite's exit status."""
    with RecordingServer() as server, tempfile.TemporaryDirectory(prefix="livephoto-census-") as workdir:
        started, cpu = time.perf_counter(), _cpu()
        result = run_suite(server.url, Path(workdir), *argv)
        seconds, cpu = time.perf_counter() - started, _cpu() - cpu
        counts = census(server.recorder.take())
    print(result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "(no output)")
    # CPU time (the suite process and the server thread) is the fairer figure on a busy machine.
    print(
        ", ".join(f"{name} {value}" for name, value in counts.items()) + f", {seconds:.1f} s, CPU {cpu:.1f} s"
    )
    return result.returncode


def _cpu() -> float:
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
