"""The machine-readable report: JSON that validates against ``schemas/report.schema.json``."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from conformance.redact import Redactor
from conformance.reports.model import SCHEMA_VERSION, RunReport
from conformance.resources import load_json

SCHEMA_FILE = "report.schema.json"


class ReportError(ValueError):
    """A report file that cannot be read, is not JSON or does not match the report schema."""


@cache
def report_validator() -> Draft202012Validator:
    """A validator for ``schemas/report.schema.json``."""
    return Draft202012Validator(load_json(SCHEMA_FILE))


def report_data(report: RunReport, redactor: Redactor | None = None) -> dict[str, Any]:
    """The report as JSON-ready data, every string passed through ``redactor`` when given."""
    data = report.to_dict()
    return redactor(data) if redactor is not None else data


def render_json(report: RunReport, redactor: Redactor | None = None) -> str:
    """The report as indented JSON text."""
    return json.dumps(report_data(report, redactor), indent=2, ensure_ascii=False) + "\n"


def write_json(report: RunReport, path: str | Path, redactor: Redactor | None = None) -> Path:
    """Write the JSON report to ``path`` (parent folders created); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_json(report, redactor), encoding="utf-8")
    return target


def validate_report_data(data: Any, source: str = "report") -> None:
    """Raise ReportError (one line naming the first problem) unless ``data`` is a valid report."""
    if not isinstance(data, dict):
        raise ReportError(f"{source} is not a livephoto-conformance report (not a JSON object)")
    version = data.get("schema_version")
    if isinstance(version, str) and version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise ReportError(
            f"{source} uses report schema {version}; this suite reads {SCHEMA_VERSION} — "
            f"upgrade livephoto-conformance to compare it"
        )
    error = best_match(report_validator().iter_errors(data))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        raise ReportError(f"{source} is not a valid livephoto-conformance report: at {where}: {message}")


def load_report(path: str | Path) -> RunReport:
    """Read and validate a JSON report; raise ReportError with a one-line message otherwise."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"report {source} does not exist") from None
    except IsADirectoryError:
        raise ReportError(f"report {source} is a directory, not a JSON file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ReportError(f"cannot read report {source}: {reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"report {source} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    validate_report_data(data, f"report {source}")
    return RunReport.from_dict(data)
