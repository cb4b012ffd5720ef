"""``python -m conformance.mock [serve options]``: the reference server (same options as ``serve``)."""

from __future__ import annotations

import sys

from conformance.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
