"""``python -m conformance.proxy proxy|replay …``: the two subcommands without the full CLI."""

from __future__ import annotations

import argparse
import sys

from conformance.proxy.cli import add_proxy_parser, add_replay_parser


def main(argv: list[str] | None = None) -> int:
    """Parse and run ``proxy`` or ``replay``."""
    parser = argparse.ArgumentParser(prog="python -m conformance.proxy")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_proxy_parser(subparsers)
    add_replay_parser(subparsers)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
