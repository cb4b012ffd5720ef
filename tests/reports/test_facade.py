"""The reports façade: a sorted, complete ``__all__``; the package never imports pytest."""

from __future__ import annotations

import subprocess
import sys

import conformance.reports as reports


def test_all_is_sorted_and_complete() -> None:
    assert reports.__all__ == sorted(reports.__all__)
    public = {
        name
        for name, value in vars(reports).items()
        if not name.startswith("_")
        and callable(value)
        and getattr(value, "__module__", "").startswith("conformance.reports")
    }
    assert public == set(reports.__all__)


def test_reports_import_without_pytest() -> None:
    code = (
        "import sys, conformance.reports, conformance.reports.cli, conformance.reports.terminal; "
        "sys.exit('pytest' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
