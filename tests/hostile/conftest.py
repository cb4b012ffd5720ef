"""The hostile zoo: the test certificate, and its figures (time, peak RSS of each run) in the summary."""

from __future__ import annotations

import resource
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    where: Path = tmp_path_factory.mktemp("tls")
    cert, key = str(where / "cert.pem"), str(where / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per zoo run: server, exit code, seconds, peak RSS of the suite's pytest process."""
    rows = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            props = dict(getattr(report, "user_properties", []) or [])
            if getattr(report, "when", None) == "call" and "hostile_peak_rss_mib" in props:
                rows.append((report.nodeid.rsplit("::", 1)[-1], props))
    if not rows:
        return
    terminalreporter.section("hostile zoo: suite runs")
    for name, props in sorted(rows):
        terminalreporter.write_line(
            f"{name:<55} exit {props['hostile_exit_code']}  {props['hostile_seconds']:6.1f} s  "
            f"peak RSS {props['hostile_peak_rss_mib']:6.0f} MiB"
        )
    peak = max(props["hostile_peak_rss_mib"] for _, props in rows)
    slowest = max(props["hostile_seconds"] for _, props in rows)
    terminalreporter.write_line(f"{len(rows)} runs; highest peak RSS {peak:.0f} MiB; slowest {slowest:.1f} s")
    runner = max(props.get("hostile_runner_peak_rss_mib", 0) for _, props in rows)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    terminalreporter.write_line(
        f"peak RSS of the pytest processes running the zoo: {max(runner, own):.0f} MiB "
        "(servers and harness; the suite runs above are separate processes)"
    )
