"""Meta-tests keeping the SPEC, the checks and the suite in step."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import conformance
import conformance.checks
from conformance.registry import CHECKS
from conformance.spec import catalogue

PACKAGE = Path(conformance.__file__).parent


def _import_all_checks() -> None:
    for module in pkgutil.iter_modules(conformance.checks.__path__):
        importlib.import_module(f"conformance.checks.{module.name}")


def test_every_clause_has_a_check() -> None:
    _import_all_checks()
    covered = {check.clause.id for check in CHECKS.values()}
    assert set(catalogue()) - covered == set()


def test_every_check_is_documented_and_tagged() -> None:
    _import_all_checks()
    for check in CHECKS.values():
        assert check.doc, check.name
        assert check.level in check.clause.levels
        assert check.clause.id in catalogue()


def test_every_clause_is_exercised_by_the_suite() -> None:
    """Each clause id appears in a ``@pytest.mark.clause`` of a suite module."""
    marked: set[str] = set()
    for path in (PACKAGE / "suite").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "clause":
                marked |= {a.value for a in node.args if isinstance(a, ast.Constant)}
            if isinstance(node, ast.Constant) and str(node.value).startswith("LP-"):
                marked.add(str(node.value))
    assert set(catalogue()) - marked == set()


def test_check_modules_stay_small() -> None:
    for path in (PACKAGE / "checks").glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path.name


def test_public_facade_is_sorted_and_complete() -> None:
    assert conformance.__all__ == sorted(conformance.__all__)
    for name in conformance.__all__:
        assert hasattr(conformance, name), name
