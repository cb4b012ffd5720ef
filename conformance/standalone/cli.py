"""``livephoto-conformance run``: the suite without knowing pytest.

The same suite, options, reports and exit codes as ``pytest --target URL`` — because it *is* that
run: the options (generated from ``conformance.option_table``) are handed to ``pytest.main`` in
this process, with a progress plugin added. Exit codes are pytest's, as the plugin sets them:
0 COMPATIBLE, 1 NOT COMPATIBLE, 2 interrupted, 4 usage error / unreachable target / rejected key,
6 INCOMPLETE.

The project's own pytest configuration (``pytest.ini``, ``[tool.pytest.ini_options]``, conftest
files) does not apply: the run is isolated from the folder it starts in, except for the suite's
own config file (``livephoto.toml`` / ``[tool.livephoto-conformance]``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import conformance
from conformance.option_table import ENV_KEY, Option, argparse_kwargs, run_options

if TYPE_CHECKING:
    from rich.console import Console

SUITE_DIR = Path(conformance.__file__).resolve().parent / "suite"
USAGE_ERROR = 4  # pytest.ExitCode.USAGE_ERROR: a bad option of a suite run, as with pytest
COMMAND = "run"


def add_run_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``run [--target URL] [--api-key-env VAR] …`` (the options of ``pytest --target``)."""
    parser = subparsers.add_parser(
        COMMAND,
        help="run the conformance suite against a target (the same run as `pytest --target URL`)",
        description=(
            "Run the conformance suite against TARGET and print the clause table and the verdict. "
            "The same options, reports and exit codes as `pytest --target URL`; settings may also "
            "come from livephoto.toml or [tool.livephoto-conformance] in pyproject.toml (the "
            "command line wins). The valid API key is read from the environment: "
            f"${ENV_KEY}, or the variable named by --api-key-env. Without a target the suite runs "
            "against the embedded reference server."
        ),
        allow_abbrev=False,  # `--api-key KEY` must not pass for `--api-key-env`: a key never rides on argv
        epilog=(
            "exit codes: 0 COMPATIBLE, 1 NOT COMPATIBLE, 2 interrupted, 4 usage error, unreachable "
            "target or rejected key, 6 INCOMPLETE (not every selected clause was judged)"
        ),
    )
    for option in run_options():
        parser.add_argument(*option.flags, **argparse_kwargs(option, for_pytest=False))
    parser.add_argument("--api-key", nargs="?", action=RefuseKey, help=argparse.SUPPRESS)
    parser.add_argument(
        "--progress",
        choices=("auto", "live", "lines", "off"),
        default="auto",
        help="live table on a terminal, a line per finished family elsewhere (default auto)",
    )
    parser.set_defaults(run=run_suite)


class RefuseKey(argparse.Action):
    """``run --api-key …``: refused with a pointer to the environment, the value never repeated
    (an unknown option would be echoed by argparse, key and all, into a CI log)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        parser.error(
            f"--api-key: `run` takes no key on the command line; export it in ${ENV_KEY} or name "
            "the variable holding it with --api-key-env VAR"
        )


def usage_exit_code(argv: Sequence[str] | None, code: Any) -> Any:
    """argparse exits 2 on a usage error; for ``run`` that is 4, as pytest says (2 means
    interrupted there). Other subcommands keep argparse's code."""
    words = list(sys.argv[1:] if argv is None else argv)
    command = next((w for w in words if not w.startswith("-")), None)
    return USAGE_ERROR if command == COMMAND and code == 2 else code


def pytest_args(args: argparse.Namespace) -> list[str]:
    """The pytest command line of this run: the suite folder, isolation, then every option given."""
    argv = [
        str(SUITE_DIR),
        "-c",
        os.devnull,  # no ini file: the user's pytest configuration stays out of the suite's run
        f"--rootdir={SUITE_DIR}",
        f"--confcutdir={SUITE_DIR}",  # and so do conftest.py files above the suite
        "-p",
        "no:cacheprovider",
        # The plugin's package is already imported (this command lives in it), so pytest cannot
        # assert-rewrite it; the suite's test modules are imported later and are rewritten.
        "-W",
        "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning",
    ]
    for option in run_options():
        argv += _option_args(option, getattr(args, option.dest, None))
    return argv


def _option_args(option: Option, value: Any) -> list[str]:
    if value is None:
        return []
    if option.kind == "flag":
        return [option.flag if value else f"--no-{option.name}"]
    values = value if option.repeatable else [value]
    if option.short:
        return [part for item in values for part in (option.short, str(item))]
    return [f"{option.flag}={item}" for item in values]


def _console() -> Console:
    from rich.console import Console

    try:  # a duplicate of stderr: pytest's fd capture during tests does not swallow the display
        stream: IO[str] = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1, encoding="utf-8")
    except (AttributeError, OSError, io.UnsupportedOperation):
        stream = sys.stderr
    return Console(file=stream, stderr=True, highlight=False)


def run_suite(args: argparse.Namespace) -> int:
    """Run the suite in this process with a progress display; pytest's exit code."""
    import pytest

    from conformance.standalone.progress import FamilyProgress

    argv = pytest_args(args)
    console = _console()
    mode = args.progress
    if mode == "auto":
        mode = "live" if console.is_terminal else "lines"
    # On one terminal the live table and pytest's own output would tear each other: pytest's
    # output is held back and printed when the table is final.
    hold = mode == "live" and sys.stdout.isatty()
    if hold:
        argv.append("--color=yes")
    title = f"livephoto-conformance: {args.target or 'embedded reference server'}"
    plugins: list[Any] = []
    progress = FamilyProgress(console, live=mode == "live", title=title)
    if mode != "off":
        plugins.append(progress)
    buffer = io.StringIO()
    code: int | pytest.ExitCode
    try:
        with (
            progress if mode != "off" else contextlib.nullcontext(),
            contextlib.redirect_stdout(buffer) if hold else contextlib.nullcontext(),
        ):
            code = pytest.main(argv, plugins=plugins)
    finally:
        if hold:
            sys.stdout.write(buffer.getvalue())
            sys.stdout.flush()
        if console.file is not sys.stderr:
            console.file.close()
    return int(code)
