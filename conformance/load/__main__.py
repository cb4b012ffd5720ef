"""``python -m conformance.load …``: the ``load`` subcommand without the rest of the CLI."""

from __future__ import annotations

import sys

from conformance.load.cli import main

sys.exit(main())
