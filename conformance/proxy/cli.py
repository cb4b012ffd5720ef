"""``livephoto-conformance proxy`` and ``replay``: argparse registration and runners (issue 9)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.argtypes import checked, positive_seconds
from conformance.proxy.config import DEFAULT_LISTEN, MAX_REQUEST_BODY, MAX_RESPONSE_BODY

EDITIONS = ("any", "2025-09", "2026-01")  # SPEC §0: which (status, code) pairs are judged valid
SWITCH_INTERVAL = 0.0005  # seconds: how long a thread may hold the GIL before the loop gets it


def _listen(text: str) -> tuple[str, int]:
    from conformance.proxy.config import parse_listen

    return parse_listen(text)


def _keep_header(text: str) -> str:
    from conformance.proxy.cassette import credential_header

    return credential_header(text)


def _add_listen(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        type=checked(_listen),
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"(default {DEFAULT_LISTEN})",
    )


def add_proxy_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``proxy``: the validating recording proxy."""
    parser = subparsers.add_parser(
        "proxy", help="forward traffic to an implementation unchanged and judge every exchange"
    )
    parser.add_argument("--upstream", required=True, metavar="URL", help="base URL of the implementation")
    _add_listen(parser)
    parser.add_argument(
        "--mode",
        choices=("observe", "enforce"),
        default="observe",
        help="observe never changes traffic; enforce replaces MUST violations by 502 ERROR_GATEWAY",
    )
    parser.add_argument("--record", type=Path, metavar="DIR", help="write every exchange as a cassette")
    parser.add_argument(
        "--keep-header",
        type=checked(_keep_header),
        action="append",
        default=[],
        metavar="NAME",
        help="record this credential header (Authorization, Cookie, Set-Cookie…) as received "
        "instead of *** (repeatable; the API key is always redacted)",
    )
    parser.add_argument(
        "--edition", choices=EDITIONS, default="any", help="status table judged (default any)"
    )
    parser.add_argument("--report-json", type=Path, metavar="PATH", help="write the final report on shutdown")
    parser.add_argument(
        "--upstream-timeout",
        type=positive_seconds,
        default=60.0,
        metavar="S",
        help="total time for the upstream's answer: status line, headers and body (default 60)",
    )
    parser.add_argument(
        "--max-response-bytes",
        type=int,
        default=MAX_RESPONSE_BODY,
        metavar="N",
        help=f"response cap (default {MAX_RESPONSE_BODY}); the request cap is {MAX_REQUEST_BODY}",
    )
    parser.add_argument(
        "--artefacts-dir", type=Path, default=Path("livephoto-artefacts"), help="videos of failing checks"
    )
    parser.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), default="info", help="(default info)"
    )
    parser.add_argument(
        "--report-open",
        action="store_true",
        help="serve /_livephoto/report without the token printed at start-up (trusted networks only)",
    )
    parser.set_defaults(run=run_proxy)


def _serve(
    app: Any,
    host: str,
    port: int,
    log_level: str,
    what: str,
    *,
    started: Callable[[str], None] | None = None,
    configured: Callable[[], None] | None = None,
) -> None:
    """Serve ``app``; print the listening line, then call ``started(url)``. ``configured`` runs
    once uvicorn has set up its loggers (to filter their handlers too)."""
    import uvicorn

    from conformance.proxy.runner import uvicorn_config
    from conformance.serving import harden

    class Server(uvicorn.Server):
        async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
            await super().startup(sockets)
            if self.servers and not self.should_exit:
                bound = self.servers[0].sockets[0].getsockname()[1]
                url = f"http://{host}:{bound}"
                print(f"{what} listening on {url}", flush=True)
                if started is not None:
                    started(url)

    uv_config = harden(uvicorn_config(app, host, port, log_level))  # the limits of every shipped server
    if configured is not None:
        configured()
    Server(uv_config).run()


def run_proxy(args: argparse.Namespace) -> int:
    """Serve until interrupted; on shutdown print the verdict line and write ``--report-json``."""
    from conformance.contract import Edition
    from conformance.proxy.app import REPORT_PATH, create_proxy_app
    from conformance.proxy.config import Mode, ProxyConfig
    from conformance.proxy.logs import install
    from conformance.reports import write_json

    token = None if args.report_open else secrets.token_urlsafe(24)
    try:
        config = ProxyConfig(
            upstream=args.upstream,
            mode=Mode(args.mode),
            edition=Edition(args.edition),
            record_dir=args.record,
            artefacts_dir=args.artefacts_dir,
            upstream_timeout=args.upstream_timeout,
            max_response_body=args.max_response_bytes,
            report_token=token,
            keep_headers=tuple(args.keep_header),
        )
    except ValueError as exc:
        print(f"livephoto-conformance proxy: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(message)s", stream=sys.stderr)
    # Judging runs in worker threads; with the default 5 ms switch interval a judging thread can
    # hold the GIL for 5 ms while a forwarded answer waits. A shorter interval keeps the event
    # loop's share of the overhead small (benchmarks/proxy_overhead.py).
    sys.setswitchinterval(SWITCH_INTERVAL)
    app = create_proxy_app(config)
    host, port = args.listen

    def started(url: str) -> None:
        # The one place the token is shown: whoever can read the proxy's output may read the report.
        shown = f"{url}{REPORT_PATH}" + ("" if token is None else f"?token={token}")
        print(f"report on {shown}", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        _serve(
            app,
            host,
            port,
            args.log_level,
            f"proxy ({config.mode.value}) to {config.upstream_shown}",
            started=started,
            configured=lambda: install(app.state.proxy.redacting),  # every line, every library
        )
    report = app.state.proxy.observer.report()
    print(report.verdict_line, file=sys.stderr)
    if args.report_json:
        print(f"report written to {write_json(report, args.report_json)}", file=sys.stderr)
    return 0


def add_replay_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``replay``: serve recorded cassettes as a mock."""
    parser = subparsers.add_parser("replay", help="serve cassettes recorded by `proxy --record` as a mock")
    parser.add_argument("directory", type=Path, metavar="DIR", help="a directory written by `proxy --record`")
    _add_listen(parser)
    parser.add_argument(
        "--edition", choices=EDITIONS, default="any", help="status of the replay's own errors"
    )
    parser.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), default="info", help="(default info)"
    )
    parser.set_defaults(run=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    """Serve the cassettes until interrupted."""
    from conformance.contract import Edition
    from conformance.proxy.replay import create_replay_app

    try:
        app = create_replay_app(args.directory, edition=Edition(args.edition))
    except (ValueError, OSError) as exc:
        print(f"livephoto-conformance replay: {exc}", file=sys.stderr)
        return 2
    host, port = args.listen
    entries = len(app.state.cassettes.entries)
    with contextlib.suppress(KeyboardInterrupt):
        _serve(app, host, port, args.log_level, f"replay of {entries} cassettes")
    return 0
