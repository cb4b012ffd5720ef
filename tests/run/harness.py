"""Shared by the runner, CI, config and compare tests: the console script in a subprocess, a clean
environment, and a small suite selection that runs in seconds."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from conformance.mutants import server_hooks

KEY = "sk-run-SECRET-key-4242"
CLI = str(Path(sys.executable).with_name("livephoto-conformance"))
RUN_TIMEOUT = 240  # s: a hang guard far above a normal run
# The envelope family, narrowed to the one test that exercises all its clauses (as the mutant
# catalogue does): a full judgement of 7 clauses in a few seconds.
ENVELOPE = ("--family", "envelope", "-k", "every_kind_of_answer")
ENVELOPE_MUST_MUTANT = "env-error-code-string"  # breaks LP-ENV-3 (MUST)
ENVELOPE_SHOULD_MUTANT = "env-error-msg-missing"  # breaks LP-ENV-5 (SHOULD)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any key the developer may have set, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEPHOTO_", "GITHUB_"))}
    env.update(extra)
    return env


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = RUN_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """``livephoto-conformance ARGS`` as a user runs it (the console script), from ``cwd``."""
    return subprocess.run(
        [CLI, *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def pytest_run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` from a folder outside the project (no project conftest)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


@contextmanager
def reference(mutants: Sequence[str] = (), *, port: int = 0) -> Iterator[str]:
    """The reference server (with ``mutants`` switched on) on a real socket; yields its URL."""
    config = ServerConfig(api_keys=(KEY,), hooks=server_hooks(mutants), allow_fault_header=True)
    with ServerThread(config, port=port) as server:
        yield server.url


def one_line(stderr: str) -> str:
    """The single non-empty line of an error output (asserts there is exactly one)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]
