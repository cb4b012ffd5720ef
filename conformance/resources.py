"""Where the contract's data files live, installed or in a checkout."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def schemas_dir() -> Path:
    """The ``schemas/`` folder: inside the wheel (``conformance/schemas``) or at the checkout's top."""
    installed = Path(str(resources.files("conformance"))) / "schemas"
    if installed.is_dir():
        return installed
    checkout = _PACKAGE_DIR.parent / "schemas"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        "livephoto-conformance cannot find its schemas/ folder; reinstall the package "
        "(pip install livephoto-conformance) or run from a full checkout."
    )


def data_dir() -> Path:
    """``conformance/data``: sample images and their licences."""
    return _PACKAGE_DIR / "data"


@cache
def load_json(name: str) -> Any:
    """A JSON document of ``schemas/`` by file name, parsed once."""
    return json.loads((schemas_dir() / name).read_text(encoding="utf-8"))
