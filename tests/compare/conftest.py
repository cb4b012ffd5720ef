"""Reports for the compare and history tests: real suite runs (``livephoto-conformance run``)
against one target over time — a MUST mutant, then a SHOULD mutant, then the clean reference
server, all on the same port — and small reports built from check results."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from conformance.reports.json_report import write_json
from conformance.reports.model import RunReport
from tests.reports.conftest import all_passing, build, failing
from tests.run.harness import (
    ENVELOPE,
    ENVELOPE_MUST_MUTANT,
    ENVELOPE_SHOULD_MUTANT,
    KEY,
    clean_env,
    cli,
    reference,
)

RUNS = (
    ("1-must-mutant", (ENVELOPE_MUST_MUTANT,)),
    ("2-should-mutant", (ENVELOPE_SHOULD_MUTANT,)),
    ("3-clean", ()),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three JSON reports of one target, oldest first: MUST mutant, SHOULD mutant, clean."""
    folder = tmp_path_factory.mktemp("runs")
    port = _free_port()
    paths = []
    for name, mutants in RUNS:
        with reference(mutants, port=port) as url:
            done = cli(
                "run", "--target", url, *ENVELOPE, "--report-json", f"{name}.json", "--progress", "off",
                cwd=folder, env=clean_env(LIVEPHOTO_API_KEY=KEY),
            )  # fmt: skip
        assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
        paths.append(folder / f"{name}.json")
    return paths


def built(tmp_path: Path, name: str, *, broken: tuple[str, ...] = (), **meta: Any) -> Path:
    """A whole-catalogue report with ``broken`` clauses failing, written as JSON."""
    results = [r for r in all_passing() if r.clause not in broken] + [failing(c) for c in broken]
    report: RunReport = build(results, **meta)
    return write_json(report, tmp_path / f"{name}.json")
