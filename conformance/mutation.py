"""Self-verification (issue 8): run the suite against one mutant of the reference server and judge
whether it was killed — the run fails and its failing clauses include the mutant's clause — or,
for a benign variant, whether the run passes.

Used by ``tests/mock/test_mutants.py`` (one slow test per mutant) and ``tools/mutation_score.py``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from conformance.mock.config import ServerConfig
from conformance.mock.faults import FAULT_HEADER
from conformance.mock.runner import start_server_process
from conformance.mutants import Mutant, get, server_hooks
from conformance.reports import load_report
from conformance.reports.json_report import ReportError
from conformance.spec import Level
from conformance.verdicts import Verdict

MUTANT_KEY = "mutant-run-key"  # the one key the mutant server accepts (never a real secret)
RUN_TIMEOUT = 240.0  # seconds for one suite run; a normal one takes 3–20 s
FAULT_STATES = ("rate-limit", "credits", "server-error", "retired")
FAILED = (Verdict.FAIL, Verdict.ERROR)


@dataclass(frozen=True)
class MutantRun:
    """What one suite run against a mutant showed."""

    name: str
    exit_code: int
    failing: tuple[str, ...]  # clause ids whose verdict is fail or error
    seconds: float
    output: str = field(repr=False, default="")
    server_crashes: int = 0  # unexpected exceptions the server logged (a mutant that is itself broken)
    blocked: tuple[str, ...] = ()  # clause ids reported blocked (they could not judge; never a failure)

    @property
    def mutant(self) -> Mutant:
        """The catalogue entry (looked up by name, so a run pickles without the hooks)."""
        return get(self.name)

    @property
    def suite_failed(self) -> bool:
        """The run's verdict was "not compatible" at its gating level."""
        return self.exit_code != 0

    @property
    def killed(self) -> bool:
        """For a mutant: the run failed and its clause is among the failing ones."""
        return self.suite_failed and self.mutant.clause in self.failing

    @property
    def precise(self) -> bool:
        """The failing clauses are only the mutant's own (and those it declares in ``also``)."""
        return set(self.failing) <= {self.mutant.clause, *self.mutant.also}

    @property
    def exact(self) -> bool:
        """Killed, and the failing clauses are exactly the mutant's own (issue 17: one defect, one
        red clause; clauses reported ``blocked`` do not fail, so they do not count against it)."""
        return self.killed and set(self.failing) == {self.mutant.clause}

    @property
    def passed(self) -> bool:
        """For a benign variant: the run passed with no failing clause."""
        return self.exit_code == 0 and not self.failing

    @property
    def sound(self) -> bool:
        """The mutant ran as designed: the server logged no unexpected exception unless the
        mutant's fault is a crash (a kill by a broken hook would prove nothing)."""
        return self.server_crashes == 0 or self.mutant.crashes

    @property
    def ok(self) -> bool:
        """The outcome the catalogue asks for: killed (precisely, when ``exact``) or passed, by a
        mutant that ran as designed."""
        if self.mutant.benign:
            return self.passed and self.sound
        return self.killed and (self.precise or not self.mutant.exact) and self.sound

    def explain(self) -> str:
        """One paragraph for a failing test: what was expected, what happened, the output's tail."""
        m = self.mutant
        wanted = "a passing run" if m.benign else f"a failing run whose failing clauses include {m.clause}"
        if not m.benign and m.exact:
            wanted += f" and no clause outside {sorted({m.clause, *m.also})}"
        tail = "\n".join(self.output.splitlines()[-25:])
        return (
            f"mutant {m.name} ({m.description}): expected {wanted}; got exit code {self.exit_code}, "
            f"failing clauses {list(self.failing) or 'none'}, {self.server_crashes} unexpected server "
            f"exception(s)\n--- suite output (tail) ---\n{tail}"
        )


def suite_command(
    mutant: Mutant,
    url: str,
    report: Path,
    *,
    max_examples: int = 3,
    seed: int | None = None,
    full: bool = False,
) -> list[str]:
    """The pytest command line of a suite run against a server with the mutant (``seed``: the
    Hypothesis seed, random when None; ``full``: the whole suite at the mutant's level, as a user
    runs it, instead of the mutant's selection)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--target",
        url,
        "--api-key",
        MUTANT_KEY,
        "--report-json",
        str(report),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-q",
        "--max-examples",
        str(max_examples),
        "--request-timeout",
        "20",
    ]
    for state in FAULT_STATES:
        command += ["--fault-header", f"{state}={FAULT_HEADER}: {state}"]
    if seed is not None:
        command += [f"--hypothesis-seed={seed}"]
    # a later --max-examples in the selection wins (argparse keeps the last value)
    return command + (mutant.full_args() if full else mutant.suite_args())


def run_mutant(
    mutant: Mutant,
    workdir: Path,
    *,
    timeout: float = RUN_TIMEOUT,
    max_examples: int = 3,
    seed: int | None = None,
    full: bool = False,
) -> MutantRun:
    """Start the reference server with the mutant, run the suite against it (its selection, or the
    whole suite when ``full``), read the JSON report."""
    workdir.mkdir(parents=True, exist_ok=True)
    report = workdir / f"{mutant.name}.json"
    config = ServerConfig(api_keys=(MUTANT_KEY,), hooks=server_hooks([mutant.name]), allow_fault_header=True)
    started = time.perf_counter()
    try:
        server = start_server_process(config)
    except RuntimeError as exc:  # a broken server is this run's result, not the end of the score run
        return MutantRun(mutant.name, -3, (), time.perf_counter() - started, str(exc))
    with server:
        try:
            done = subprocess.run(
                suite_command(mutant, server.url, report, max_examples=max_examples, seed=seed, full=full),
                cwd=workdir,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            code, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as exc:
            partial = exc.stdout.decode("utf-8", "replace") if isinstance(exc.stdout, bytes) else exc.stdout
            code, output = -1, f"the suite run exceeded {timeout:g} s\n{partial or ''}"
        crashes = _crashes(Path(server._log.name))  # the server's stderr log (RunningServer keeps it)
    seconds = time.perf_counter() - started
    try:
        clauses = load_report(report).clauses
        failing = tuple(c.id for c in clauses if c.verdict in FAILED)
        blocked = tuple(c.id for c in clauses if c.verdict is Verdict.BLOCKED)
    except ReportError as exc:
        failing, blocked, output = (), (), f"{output}\nno JSON report: {exc}"
        code = code or -2
    return MutantRun(mutant.name, code, failing, seconds, output, crashes, blocked)


CRASH_MARKERS = ("unexpected failure", "Exception in ASGI application")  # mock/app.py, uvicorn


def _crashes(log: Path) -> int:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 0
    return sum(1 for line in text.splitlines() if any(marker in line for marker in CRASH_MARKERS))


def gating_level(mutant: Mutant) -> Level:
    """The level a run against the mutant gates at (SHOULD mutants and benign variants: should)."""
    return Level.SHOULD if (mutant.benign or mutant.level is Level.SHOULD) else Level.MUST
