"""Checking an output path before a run, so a bad one costs one line, not the whole run."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def writable_problem(path: Path) -> str | None:
    """Why ``path`` cannot be written as a report file, or None when it can.

    The check is real, not a permission guess (root passes every ``os.access`` test): the parent
    folders are created and a scratch file is created and removed beside the report. A folder
    this creates stays, empty, as the report's future home.
    """
    if path.is_dir():
        return "is a folder; give a file path"
    problem = _write_probe(path.parent)
    if problem:
        return problem
    if path.exists() and not os.access(path, os.W_OK):
        return "exists and is not writable"
    return None


def folder_problem(path: Path) -> str | None:
    """Why ``path`` cannot hold a run's artefacts, or None once it exists and takes a file."""
    if path.exists() and not path.is_dir():
        return "is a file; give a folder"
    return _write_probe(path)


def _write_probe(folder: Path) -> str | None:
    """Create ``folder`` (and its parents) and a scratch file in it, then remove the file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".livephoto-check-", delete=True):
            pass
    except OSError as exc:
        return f"cannot be written ({exc.strerror or exc})"
    return None
