"""``livephoto-conformance run``: the same suite, reports and exit codes as ``pytest --target``,
with progress per clause family — run as users run it, against the reference server and its
mutants."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from tests.run.harness import (
    CLI,
    ENVELOPE,
    ENVELOPE_MUST_MUTANT,
    KEY,
    clean_env,
    cli,
    one_line,
    pytest_run,
    reference,
)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with reference() as found:
        yield found


@pytest.fixture(scope="module")
def mutant_url() -> Iterator[str]:
    with reference([ENVELOPE_MUST_MUTANT]) as found:
        yield found


def _verdicts(path: Path) -> dict[str, str]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {c["id"]: c["verdict"] for c in data["clauses"]}


def test_version_and_help_say_both_ways_to_run(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance import __version__

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"livephoto-conformance {__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "livephoto-conformance run --target URL" in text
    assert "pytest --target URL" in text
    assert re.search(r"^\s+run\s+run the conformance suite", text, re.M)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["run", "--level", "may"], "invalid choice: 'may'"),
        (["run", "--api-key", "sk-live-SECRET"], "`run` takes no key on the command line"),
    ],
)
def test_usage_errors_exit_4_as_with_pytest(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == pytest.ExitCode.USAGE_ERROR
    err = capsys.readouterr().err
    assert message in err
    assert "sk-live-SECRET" not in err


def test_other_subcommands_keep_argparse_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["diff", "--bogus"])
    assert exited.value.code == 2


def test_an_unreachable_target_is_exit_4_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    done = cli("run", "--target", "http://127.0.0.1:9", cwd=tmp_path, env=clean_env(LIVEPHOTO_API_KEY=KEY))
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "cannot reach the target" in done.stderr
    assert time.monotonic() - started < 60


@pytest.mark.slow
def test_a_rejected_key_is_exit_4(url: str, tmp_path: Path) -> None:
    env = clean_env(OTHER_KEY="not-the-key")
    done = cli("run", "--target", url, "--api-key-env", "OTHER_KEY", *ENVELOPE, cwd=tmp_path, env=env)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "rejected the key" in done.stderr


def test_a_named_variable_that_is_unset_is_one_line(tmp_path: Path) -> None:
    done = cli("run", "--target", "http://127.0.0.1:9", "--api-key-env", "NOPE_KEY", cwd=tmp_path)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--api-key-env NOPE_KEY: $NOPE_KEY is not set" in one_line(done.stderr)


@pytest.mark.slow
def test_a_compatible_run_shows_family_progress_and_exits_0(url: str, tmp_path: Path) -> None:
    done = cli(
        "run", "--target", url, "--family", "envelope", "--family", "security",
        "--report-json", "r.json", "--report-html", "r.html", "--junitxml", "j.xml",
        cwd=tmp_path, env=clean_env(LIVEPHOTO_API_KEY=KEY),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "COMPATIBLE" in done.stdout
    assert "PytestAssertRewriteWarning" not in done.stdout  # the plugin's package is imported first
    # Not a terminal: one progress line per family as it finishes, with its counts.
    assert re.search(r"^progress: \d+ tests: envelope \d+, .*security \d+", done.stderr, re.M)
    security = re.search(
        r"^progress: security done, (\d+)/(\d+) tests: (\d+) passed, 0 failed", done.stderr, re.M
    )
    assert security and security.group(1) == security.group(2) == security.group(3)
    verdicts = _verdicts(tmp_path / "r.json")
    assert set(verdicts) >= {"LP-ENV-3", "LP-SEC-1"}
    assert set(verdicts.values()) <= {"pass", "info"}
    assert (tmp_path / "r.html").stat().st_size > 0 and (tmp_path / "j.xml").stat().st_size > 0
    files = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    everything = done.stdout + done.stderr + "".join(files)
    assert KEY not in everything


@pytest.mark.slow
def test_same_exit_code_and_verdicts_as_pytest_against_a_mutant(mutant_url: str, tmp_path: Path) -> None:
    env = clean_env(LIVEPHOTO_API_KEY=KEY)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ran = cli(
        "run", "--target", mutant_url, *ENVELOPE, "--report-json", "r.json", cwd=tmp_path / "a", env=env
    )
    plain = pytest_run(
        "--target", mutant_url, *ENVELOPE, "--report-json", "r.json", cwd=tmp_path / "b", env=env
    )
    assert ran.returncode == plain.returncode == pytest.ExitCode.TESTS_FAILED, ran.stdout[-2000:]
    assert _verdicts(tmp_path / "a" / "r.json") == _verdicts(tmp_path / "b" / "r.json")
    assert _verdicts(tmp_path / "a" / "r.json")["LP-ENV-3"] == "fail"
    assert "NOT COMPATIBLE" in ran.stdout
    assert re.search(r"^progress: envelope done, 1/1 tests: 0 passed, 1 failed", ran.stderr, re.M)


@pytest.mark.slow
def test_nothing_selected_is_incomplete_exit_6(url: str, tmp_path: Path) -> None:
    env = clean_env(LIVEPHOTO_API_KEY=KEY)
    done = cli("run", "--target", url, "-k", "no_such_test", "--report-json", "r.json", cwd=tmp_path, env=env)
    assert done.returncode == 6, done.stdout[-2000:]
    summary = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["summary"]
    assert summary["verdict"] == "INCOMPLETE"


def _read_pty(fd: int, process: subprocess.Popen[bytes], timeout: float) -> str:
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_on_a_terminal_the_progress_is_a_live_table(url: str, tmp_path: Path) -> None:
    primary, secondary = pty.openpty()
    env = clean_env(LIVEPHOTO_API_KEY=KEY, COLUMNS="140", LINES="40", TERM="xterm-256color")
    process = subprocess.Popen(
        [CLI, "run", "--target", url, *ENVELOPE],
        cwd=tmp_path,
        env=env,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        close_fds=True,
    )
    os.close(secondary)
    try:
        screen = ANSI.sub("", _read_pty(primary, process, 180))
        code = process.wait(timeout=30)
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()
    assert code == 0, screen[-3000:]
    table = re.findall(r"^\s*envelope\s.*?(\d+)/(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", screen, re.M)
    assert table, screen[-3000:]
    assert table[-1] == ("1", "1", "1", "0", "0", "0")  # the last frame: 1/1 done, 1 passed
    assert "all tests" in screen and "passed" in screen and "below gate" in screen
    # pytest's own output comes after the table, whole: the clause table and the verdict line
    assert screen.rindex("all tests") < screen.index("Live Photos API conformance")
    assert re.search(r"COMPATIBLE for 7 of \d+ clauses", screen)
