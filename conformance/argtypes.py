"""argparse types shared by the ``livephoto-conformance`` subcommands: a bad value is a one-line
usage error naming what was expected, never a traceback."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def checked(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from a parser that raises ValueError with a corrective message."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


def _number(text: str, cast: Callable[[str], T], what: str) -> T:
    try:
        return cast(text)
    except ValueError:
        raise ValueError(f"expected {what}, got {text!r}") from None


@checked
def positive_int(text: str) -> int:
    """A whole number ≥ 1."""
    value = _number(text, int, "a whole number")
    if value < 1:
        raise ValueError(f"must be ≥ 1, got {value}")
    return value


@checked
def positive_seconds(text: str) -> float:
    """A number of seconds > 0."""
    value = _number(text, float, "a number of seconds")
    if value <= 0:
        raise ValueError(f"must be > 0, got {text}")
    return value


@checked
def non_negative_seconds(text: str) -> float:
    """A finite number of seconds ≥ 0 (not nan or inf: a delay of either would hang every answer)."""
    value = _number(text, float, "a number of seconds")
    if not 0 <= value < float("inf"):
        raise ValueError(f"must be a finite number ≥ 0, got {text}")
    return value
