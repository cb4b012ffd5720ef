"""Checks registered under clause ids: the public handle of every rule the suite enforces."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from conformance.exchange import Exchange
from conformance.spec import Clause, Level, catalogue
from conformance.verdicts import Evidence, Violation

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Check:
    """A registered check: its function, clause and level."""

    name: str
    clause: Clause
    level: Level
    func: Callable[..., Any]
    # Clauses whose failure on the same exchange leaves this check nothing to judge (it is then
    # recorded as blocked by them instead of failing as their consequence).
    needs: tuple[str, ...] = ()

    @property
    def doc(self) -> str:
        """The clause sentence the check enforces (its docstring)."""
        return inspect.getdoc(self.func) or ""

    def fail(self, *, received: str, expected: str, evidence: Evidence | None = None) -> Violation:
        """A Violation of this check's clause, at this check's level."""
        return Violation(
            self.clause.id,
            self.clause.title,
            received=received,
            expected=expected,
            evidence=evidence,
            level=self.level,
            text=self.clause.text,
        )


CHECKS: dict[str, Check] = {}
RUNNABLE: dict[str, Callable[..., Any]] = {}  # name → the registered (wrapped) check function


class Failure(Exception):
    """Raised inside a check (through ``fail``); the registry turns it into a Violation."""

    def __init__(
        self,
        received: str,
        expected: str,
        notes: Sequence[str] = (),
        artefacts: Sequence[str] = (),
        exchange: Exchange | None = None,
    ) -> None:
        self.received = received
        self.expected = expected
        self.notes = list(notes)
        self.artefacts = list(artefacts)
        self.exchange = exchange
        super().__init__(received)


def fail(
    received: str,
    expected: str,
    *,
    notes: Sequence[str] = (),
    artefacts: Sequence[str] = (),
    exchange: Exchange | None = None,
) -> NoReturn:
    """End a check with a violation of its clause: what the target did, what the clause wants.

    ``exchange`` names the exchange at fault when the check was given several.
    """
    raise Failure(received, expected, notes, artefacts, exchange)


def evidence_of(exchange: Exchange | None) -> Evidence:
    """Request summary, response summary and curl reproduction of an exchange."""
    if exchange is None:
        return Evidence()
    return Evidence(
        request=exchange.request.summary(),
        response=exchange.summary(),
        curl=exchange.curl(),
        image=exchange.input_image(),
    )


def _first_exchange(args: Sequence[Any]) -> Exchange | None:
    for arg in args:
        if isinstance(arg, Exchange):
            return arg
        if isinstance(arg, list | tuple) and arg and isinstance(arg[0], Exchange):
            return arg[0]
    return None


def requirement(clause_id: str, *, level: str | None = None, needs: Sequence[str] = ()) -> Callable[[F], F]:
    """Register a check under a clause id.

    The level defaults to the clause's level in the catalogue; a check may enforce one of the
    clause's weaker obligations (``level="SHOULD"`` on LP-ENV-2) only when the clause states it.
    ``needs`` names the clauses this check builds on: when one of them failed on the same
    exchange, the check is recorded as blocked by it, not run (one defect, one failing clause).
    """
    unknown = [c for c in needs if c not in catalogue()]
    if unknown:
        raise ValueError(f"{clause_id} needs unknown clauses {unknown}")
    clause = catalogue()[clause_id]
    chosen = Level(level) if level else clause.level
    if chosen not in clause.levels:
        raise ValueError(
            f"{clause_id} states {', '.join(clause.levels)}; a check cannot enforce it at {chosen}"
        )

    def register(func: F) -> F:
        if not inspect.getdoc(func):
            raise ValueError(f"check {func.__name__} needs a docstring quoting {clause_id}")
        if func.__name__ in CHECKS:
            raise ValueError(f"two checks are named {func.__name__}")
        check = Check(name=func.__name__, clause=clause, level=chosen, func=func, needs=tuple(needs))

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except Failure as failure:
                evidence = evidence_of(failure.exchange or _first_exchange(args))
                evidence.notes.extend(failure.notes)
                evidence.artefacts.extend(failure.artefacts)
                raise check.fail(
                    received=failure.received, expected=failure.expected, evidence=evidence
                ) from None

        CHECKS[func.__name__] = check
        RUNNABLE[func.__name__] = run
        run.check = check  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return register


def check_of(func: Callable[..., Any]) -> Check:
    """The registration of a decorated check function."""
    return func.check  # type: ignore[attr-defined, no-any-return]
