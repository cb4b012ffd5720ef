"""livephoto-conformance: the conformance suite for the Live Photos API.

Public façade: the clause catalogue, the contract's error codes and editions, the schema checks.
"""

from __future__ import annotations

from conformance.contract import Edition, documented_message, error_codes, is_valid_pair
from conformance.spec import Clause, Level, catalogue

__version__ = "0.1.0"

__all__ = [
    "Clause",
    "Edition",
    "Level",
    "__version__",
    "catalogue",
    "documented_message",
    "error_codes",
    "is_valid_pair",
]
