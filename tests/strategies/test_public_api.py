"""The public façade: ``__all__`` complete, sorted and importable."""

from __future__ import annotations

import inspect

import pytest

import conformance.strategies as strategies
from conformance.strategies import fields, images, requests


@pytest.mark.parametrize("module", [strategies, images, fields, requests])
def test_all_is_sorted_and_names_exist(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    # isort style (ruff RUF022): CONSTANTS, then Classes, then functions, each alphabetical.
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    for name in names:
        assert hasattr(module, name), name


def test_package_all_is_complete() -> None:
    public = set()
    for module in (images, fields, requests):
        public |= set(module.__all__)
    assert set(strategies.__all__) == public


@pytest.mark.parametrize("module", [images, fields, requests])
def test_every_public_name_is_documented(module: object) -> None:
    for name in module.__all__:  # type: ignore[attr-defined]
        obj = getattr(module, name)
        if callable(obj):
            assert inspect.getdoc(obj), name


def test_strategy_arguments_are_keyword_only() -> None:
    for name in ("valid_images", "valid_requests"):
        params = inspect.signature(getattr(strategies, name)).parameters.values()
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), name
