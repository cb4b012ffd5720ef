"""``livephoto-conformance``: a thin command-line front. Each subcommand registers itself with
``add_<name>_parser(subparsers)`` and runs with ``run_<name>(args) -> int``; heavy modules are
imported lazily so ``--help`` stays fast."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from conformance.argtypes import checked, non_negative_seconds

Runner = Callable[[argparse.Namespace], int]

EDITIONS = ("2025-09", "2026-01")  # the dated editions of SPEC §0 a server can implement
DEFAULT_PORT = 8080


def _fault(text: str) -> str:
    from conformance.mock.faults import parse_fault

    parse_fault(text)
    return text


def _mutant(text: str) -> str:
    from conformance.mutants import get

    get(text)
    return text


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port 0..65535, got {text!r}")
    return int(text)


def add_serve_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``serve``: run the reference server."""
    parser = subparsers.add_parser("serve", help="run the reference server (a faithful Live Photos API)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="0 picks a free port (default 8080)")
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="an accepted key (repeatable; visible in `ps`: prefer --api-key-env or --api-key-file)",
    )
    parser.add_argument(
        "--api-key-env",
        action="append",
        default=[],
        metavar="VAR",
        help="accept the key(s) in environment variable VAR, one per line (repeatable)",
    )
    parser.add_argument(
        "--api-key-file",
        action="append",
        default=[],
        metavar="PATH",
        help="accept the key(s) in file PATH, one per line (repeatable)",
    )
    parser.add_argument(
        "--edition", choices=EDITIONS, default="2026-01", help="status table (default 2026-01)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the animation (default 0)")
    parser.add_argument("--faults", action="store_true", help="honour the x-livephoto-fault request header")
    parser.add_argument(
        "--fault",
        action="append",
        type=checked(_fault),
        default=[],
        metavar="STATE",
        help="server-wide fault: rate-limit, credits, server-error[:502|503|504], latency:S, retired",
    )
    parser.add_argument(
        "--latency", type=non_negative_seconds, default=0.0, metavar="S", help="delay every answer"
    )
    parser.add_argument(
        "--success-latency",
        type=non_negative_seconds,
        default=0.0,
        metavar="S",
        help="delay only the successes (as a replacement that generates video for seconds)",
    )
    parser.add_argument(
        "--mutant",
        action="append",
        type=checked(_mutant),
        default=[],
        metavar="NAME",
        help="switch on a fault of the mutant catalogue (repeatable; docs/mutants.md lists them)",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="server log level; the JSON access log is at info (default info)",
    )
    parser.set_defaults(run=run_serve)


def _keys(args: argparse.Namespace) -> tuple[str, ...]:
    """The accepted keys from --api-key, --api-key-env and --api-key-file (ValueError naming the
    variable or file that gives none). Lines are stripped; blank lines are skipped."""
    import os
    from pathlib import Path

    keys = list(args.api_key)
    for name in args.api_key_env:
        found = [line.strip() for line in os.environ.get(name, "").splitlines() if line.strip()]
        if not found:
            raise ValueError(f"--api-key-env {name}: the environment variable is unset or empty")
        keys += found
    for path in args.api_key_file:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"--api-key-file {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ValueError(f"--api-key-file {path}: not UTF-8 text") from None
        found = [line.strip() for line in text.splitlines() if line.strip()]
        if not found:
            raise ValueError(f"--api-key-file {path}: the file holds no key")
        keys += found
    return tuple(keys)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted; print ``listening on URL`` once the socket listens."""
    import uvicorn

    from conformance.contract import Edition
    from conformance.mock.app import create_app
    from conformance.mock.config import ServerConfig
    from conformance.mock.runner import quiet_image_warnings, tune_allocator
    from conformance.mutants import server_hooks
    from conformance.serving import serve_forever
    from conformance.settings import REFERENCE_API_KEY

    try:
        keys = _keys(args)
    except ValueError as exc:
        print(f"livephoto-conformance serve: {exc}", file=sys.stderr)
        return 2
    tune_allocator()
    quiet_image_warnings()
    config = ServerConfig(
        api_keys=keys or (REFERENCE_API_KEY,),
        edition=Edition(args.edition),
        seed=args.seed,
        faults=tuple(args.fault),
        allow_fault_header=args.faults,
        latency=args.latency,
        success_latency=args.success_latency,
        hooks=server_hooks(args.mutant),  # the names were checked while parsing
    )
    logging.basicConfig(level=args.log_level.upper(), format="%(message)s", stream=sys.stderr)
    uv_config = uvicorn.Config(
        create_app(config),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        lifespan="off",
    )
    try:
        serve_forever(uv_config)
    except KeyboardInterrupt:
        return 0
    return 0


from conformance.load.cli import add_load_parser  # noqa: E402 - argparse only; the profile loads lazily
from conformance.proxy.cli import add_proxy_parser, add_replay_parser  # noqa: E402 - argparse only
from conformance.reports.cli import add_badge_parser, add_diff_parser  # noqa: E402 - argparse only
from conformance.reports.matrix_cli import add_compare_parser, add_history_parser  # noqa: E402
from conformance.standalone.cli import add_run_parser, usage_exit_code  # noqa: E402 - argparse only

SUBCOMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    add_run_parser,
    add_serve_parser,
    add_load_parser,
    add_proxy_parser,
    add_replay_parser,
    add_diff_parser,
    add_badge_parser,
    add_compare_parser,
    add_history_parser,
]
HOW_TO_RUN = """\
Run the conformance suite either way (same options, reports and exit codes):
  livephoto-conformance run --target URL      standalone, with progress (key from $LIVEPHOTO_API_KEY)
  pytest --target URL                          the pytest plugin (pytest --help lists its options)
Settings may also live in livephoto.toml or [tool.livephoto-conformance] in pyproject.toml."""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    from conformance import __version__

    parser = argparse.ArgumentParser(
        prog="livephoto-conformance",
        description="Conformance tools for the Live Photos API.",
        epilog=HOW_TO_RUN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"livephoto-conformance {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``livephoto-conformance`` console script."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        raise SystemExit(usage_exit_code(argv, exc.code)) from None
    run: Runner = args.run
    return run(args)
