"""``python -m conformance …``: the ``livephoto-conformance`` command without its console script
(``start_server_process`` runs ``python -m conformance serve`` with the interpreter it runs in)."""

from __future__ import annotations

import sys

from conformance.cli import main

if __name__ == "__main__":
    sys.exit(main())
