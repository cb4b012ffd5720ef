"""The suite's options, written once.

``pytest_addoption`` (the plugin), the config-file validator (``conformance.config_file``) and the
``livephoto-conformance run`` parser are all generated from ``OPTIONS``, so the three cannot drift:
an option added here appears on ``pytest --help``, on ``run --help`` and, when ``config`` says so,
as a key of ``[tool.livephoto-conformance]`` / ``livephoto.toml``.

Pure data and small validators: no pytest, no argparse, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from conformance.check_context import DEFAULT_INVALID_KEY
from conformance.contract import Edition
from conformance.settings import FAULT_STATES
from conformance.spec import FAMILIES, catalogue

Kind = Literal["text", "int", "float", "flag", "list", "headers"]
Owner = Literal["livephoto", "pytest", "hypothesis"]

ENV_KEY = "LIVEPHOTO_API_KEY"  # the environment variable the key is read from by default
CONFIG_FILE = "livephoto.toml"
PYPROJECT_TABLE = "livephoto-conformance"  # [tool.livephoto-conformance] in pyproject.toml
DEFAULT_MAX_EXAMPLES = 3  # generated beyond the covering set, which carries every named value
DEFAULT_REQUEST_TIMEOUT = 60.0  # s per request
DEFAULT_CONCURRENCY = 8  # requests in flight at once (issue 18)


@dataclass(frozen=True)
class Option:
    """One option of a suite run.

    ``kind`` fixes its type on the command line and in TOML: ``text`` (string), ``int``,
    ``float``, ``flag`` (``--x`` / ``--no-x``; a TOML boolean), ``list`` (repeatable; a TOML array
    of strings) and ``headers`` (repeatable ``STATE='Name: value'``; a TOML table of
    ``STATE = "Name: value"``). ``config`` is the key in the config file, or None when the option
    may only be given on the command line. ``owner`` says who defines the option inside pytest:
    the plugin adds only its own; ``run`` passes pytest's and Hypothesis' ones through.
    """

    name: str
    kind: Kind
    help: str
    default: Any = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    config: str | None = None
    owner: Owner = "livephoto"
    run: bool = True
    short: str | None = None
    dest_name: str | None = None
    check: Callable[[Any], str | None] | None = None  # a sentence saying what is allowed, or None
    echo: bool = True  # False: never repeat a bad value in a message (it may be a misplaced key)

    @property
    def flag(self) -> str:
        """The long option, e.g. ``--max-examples``."""
        return f"--{self.name}"

    @property
    def flags(self) -> tuple[str, ...]:
        """Every spelling on the command line (``-k`` has no long one in pytest)."""
        return (self.short,) if self.short else (self.flag,)

    @property
    def dest(self) -> str:
        """The attribute name in pytest's ``config.option`` and in the ``run`` namespace."""
        return self.dest_name or self.name.replace("-", "_")

    @property
    def repeatable(self) -> bool:
        """Given once per value on the command line."""
        return self.kind in ("list", "headers")

    @property
    def full_help(self) -> str:
        """The help text with the default and the config key, as both parsers show it."""
        parts = [self.help]
        if self.default not in (None, [], (), False):
            parts.append(f"default: {self.default}")
        if self.config:
            parts.append(f"config key: {self.config}")
        return "; ".join(parts)

    def shown(self, value: Any) -> str:
        """The value as a message may show it: ``*** (not shown)`` for options that may hold a key."""
        return str(value) if self.echo else "*** (not shown)"

    def validate(self, value: Any) -> str | None:
        """None when ``value`` (already of the right type) is allowed, else what is allowed."""
        values = value if isinstance(value, list) else [value]
        for item in values:
            if self.choices and item not in self.choices:
                return f"choose one of {', '.join(self.choices)}"
            problem = self.check(item) if self.check else None
            if problem:
                return problem
        return None


def _clause(value: Any) -> str | None:
    return None if value in catalogue() else "no such clause (ids look like LP-ERR-5)"


def _family(value: Any) -> str | None:
    return None if catalogue().family(str(value)) else f"choose one of {', '.join(FAMILIES)}"


def _at_least_one(value: Any) -> str | None:
    return None if value >= 1 else "must be at least 1"


def _positive_seconds(value: Any) -> str | None:
    return None if value > 0 and math.isfinite(value) else "must be a positive number of seconds"


def _env_name(value: Any) -> str | None:
    text = str(value)
    if text and (text[0].isalpha() or text[0] == "_") and all(c.isalnum() or c == "_" for c in text):
        return None
    return "must name an environment variable (letters, digits, _), not hold a key"


def fault_header_problem(state: str, header: str) -> str | None:
    """What is wrong with one fault header (``Name: value`` for a state), or None."""
    name, _, value = header.strip().strip("'\"").partition(":")
    if state not in FAULT_STATES:
        return f"the state must be one of {', '.join(FAULT_STATES)}"
    if not name.strip() or not value.strip():
        return "write the header as 'Header-Name: value'"
    return None


def _fault_header(value: Any) -> str | None:
    state, _, header = str(value).partition("=")
    return fault_header_problem(state, header)


OPTIONS: tuple[Option, ...] = (
    Option("target", "text", "base URL of the implementation under test (none: the embedded "
           "reference server)", metavar="URL", config="target"),
    Option("api-key", "text", f"a valid API key for the target (default: ${ENV_KEY}); pytest only: "
           "`run` takes keys from the environment", metavar="KEY", run=False),
    Option("api-key-env", "text", f"the environment variable holding the valid key (default {ENV_KEY})",
           metavar="VAR", config="api-key-env", check=_env_name, echo=False),
    Option("invalid-api-key", "text", "a key the target does not know", default=DEFAULT_INVALID_KEY,
           metavar="KEY"),
    Option("edition", "text", "which statuses the target may answer (SPEC §0)",
           default=Edition.ANY.value, choices=tuple(e.value for e in Edition), config="edition"),
    Option("level", "text", "gate on MUST failures only, or on SHOULD failures too", default="must",
           choices=("must", "should"), config="level"),
    Option("max-examples", "int", "Hypothesis examples per error-path test (success paths get N/3)",
           default=DEFAULT_MAX_EXAMPLES, metavar="N", config="max-examples", check=_at_least_one),
    Option("request-timeout", "float", "seconds per request", default=DEFAULT_REQUEST_TIMEOUT,
           metavar="S", config="request-timeout", check=_positive_seconds),
    Option("concurrency", "int", "requests in flight at once (1: one after the other); LP-OPS-2's "
           "burst is always 8 at once", default=DEFAULT_CONCURRENCY, metavar="N",
           config="concurrency", check=_at_least_one),
    Option("budget", "int", "at most N success requests (each one a billed generation on a paid "
           "target); clauses judged on fewer samples are named, a MUST clause left unjudged makes "
           "the run INCOMPLETE", metavar="N", config="budget", check=_at_least_one),
    Option("clause", "list", "run only this clause (repeatable)", metavar="ID", config="clause",
           check=_clause),
    Option("family", "list", f"run only this family (repeatable): one of {', '.join(FAMILIES)}",
           metavar="NAME", config="family", check=_family),
    Option("fault-header", "headers", f"the header that puts the target into a state "
           f"({', '.join(FAULT_STATES)}); repeatable", metavar="STATE='Name: value'",
           config="fault-headers", check=_fault_header),
    Option("insecure", "flag", "do not verify TLS certificates", default=False, config="insecure"),
    Option("artefacts", "text", "where samples and videos go (default: a temporary folder)",
           metavar="DIR", config="artefacts"),
    Option("examples-db", "text", "Hypothesis example database", metavar="DIR", config="examples-db"),
    Option("thorough", "flag", "shrink failing examples (slower)", default=False, config="thorough"),
    Option("report-json", "text", "write the JSON report here", metavar="PATH", config="report-json"),
    Option("report-html", "text", "write the HTML report here", metavar="PATH", config="report-html"),
    Option("report-md", "text", "write the Markdown summary here", metavar="PATH", config="report-md"),
    Option("report-badge", "text", "write the SVG badge here", metavar="PATH", config="report-badge"),
    Option("livephoto-config", "text", f"the config file (default: the nearest {CONFIG_FILE}, or "
           f"pyproject.toml with [tool.{PYPROJECT_TABLE}])", metavar="PATH"),
    Option("junitxml", "text", "write a JUnit XML report here", metavar="PATH", owner="pytest",
           dest_name="xmlpath"),
    Option("keyword", "text", "run only the tests whose names match this pytest -k expression",
           metavar="EXPR", owner="pytest", short="-k"),
    Option("hypothesis-seed", "text", "reproduce a run: the seed its header printed", metavar="N",
           owner="hypothesis"),
)  # fmt: skip

BY_NAME = {option.name: option for option in OPTIONS}
BY_CONFIG_KEY = {option.config: option for option in OPTIONS if option.config}


def plugin_options() -> tuple[Option, ...]:
    """The options the pytest plugin adds (pytest and Hypothesis define the others)."""
    return tuple(option for option in OPTIONS if option.owner == "livephoto")


def run_options() -> tuple[Option, ...]:
    """The options of ``livephoto-conformance run``."""
    return tuple(option for option in OPTIONS if option.run)


def config_keys() -> tuple[str, ...]:
    """Every key the config file may hold, sorted."""
    return tuple(sorted(BY_CONFIG_KEY))


def argparse_kwargs(option: Option, *, for_pytest: bool) -> dict[str, Any]:
    """Keyword arguments of ``add_argument`` / ``addoption`` for one option.

    Options that the config file may set default to None, so that "not given on the command line"
    can be told apart from "given the default value"; the default is applied when the settings
    are resolved (command line > environment > config file > default).
    """
    import argparse  # stdlib, light: kept local so the table stays pure data at import

    kwargs: dict[str, Any] = {"dest": option.dest, "help": option.full_help}
    if option.metavar and option.kind != "flag":
        kwargs["metavar"] = option.metavar
    if option.choices:
        kwargs["choices"] = list(option.choices)
    if option.kind == "int":
        kwargs["type"] = int
    elif option.kind == "float":
        kwargs["type"] = float
    if option.kind == "flag":
        kwargs["action"] = argparse.BooleanOptionalAction
    elif option.repeatable:
        kwargs["action"] = "append"
    late_default = option.config is not None or not for_pytest
    if late_default:
        kwargs["default"] = None
    elif option.repeatable:
        kwargs["default"] = []
    else:
        kwargs["default"] = option.default
    return kwargs
