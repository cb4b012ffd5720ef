"""The config file: ``[tool.livephoto-conformance]`` in pyproject.toml, or a ``livephoto.toml``.

Both the pytest plugin and ``livephoto-conformance run`` read it; the command line and the
environment override it (command line > environment > config file > default). Its keys are the
``config`` names of ``conformance.option_table``; anything else, or a value of the wrong type, is
a ``ConfigError`` whose message is one line naming the file, the key and what is allowed.

API keys are never read from the file: ``api-key-env = "VAR"`` names the variable that holds one.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.option_table import BY_CONFIG_KEY, CONFIG_FILE, PYPROJECT_TABLE, Option, config_keys

PYPROJECT = "pyproject.toml"
SECRET_KEYS = frozenset({"api-key", "api_key", "key", "apikey", "token"})  # refused with a pointer


class ConfigError(ValueError):
    """A config file that cannot be read, or holds an unknown key or a bad value (one line)."""


@dataclass(frozen=True)
class FileConfig:
    """The validated settings of one config file, by option ``dest``."""

    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, dest: str, default: Any = None) -> Any:
        """The file's value for an option, or ``default``."""
        return self.values.get(dest, default)

    def describe(self, dest: str) -> str:
        """Where a value came from, for messages: ``livephoto.toml: key 'level'``."""
        for option in BY_CONFIG_KEY.values():
            if option.dest == dest:
                return f"{self.path}: key '{option.config}'"
        return f"{self.path}"


def _has_table(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # someone else's pyproject.toml that does not parse is not ours to judge
    return isinstance(data.get("tool"), dict) and PYPROJECT_TABLE in data["tool"]


def find_config(start: Path) -> Path | None:
    """The nearest config file from ``start`` upwards: a ``livephoto.toml``, or a pyproject.toml
    with a ``[tool.livephoto-conformance]`` table (the first folder holding either wins)."""
    for folder in (start.resolve(), *start.resolve().parents):
        own = folder / CONFIG_FILE
        if own.is_file():
            return own
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _has_table(pyproject):
            return pyproject
    return None


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


EXPECTED = {
    "text": "a string",
    "int": "an integer",
    "float": "a number",
    "flag": "true or false",
    "list": "an array of strings",
    "headers": 'a table of STATE = "Name: value"',
}


def convert(option: Option, value: Any) -> Any:
    """A TOML value as the option's command-line value; ValueError says what is allowed."""
    kind = option.kind
    if kind == "text" and isinstance(value, str):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "flag" and isinstance(value, bool):
        return value
    if kind == "list" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if kind == "headers" and isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return [f"{state}={header}" for state, header in value.items()]
    raise ValueError(f"expected {EXPECTED[kind]}, got {_type_name(value)}")


def parse_config(data: dict[str, Any], path: Path) -> FileConfig:
    """Validate the table of settings read from ``path``; raise ConfigError on the first problem."""
    values: dict[str, Any] = {}
    for key, raw in data.items():
        option = BY_CONFIG_KEY.get(key)
        if option is None:
            if key.lower() in SECRET_KEYS:
                raise ConfigError(
                    f"{path}: key '{key}': keys are never read from a file; write "
                    f'api-key-env = "VAR" and export the key in $VAR'
                )
            raise ConfigError(f"{path}: unknown key '{key}'; allowed: {', '.join(config_keys())}")
        try:
            value = convert(option, raw)
        except ValueError as exc:
            raise ConfigError(f"{path}: key '{key}': {exc}") from None
        if option.kind == "headers":  # name the entry: key 'fault-headers.rate-limit'
            for state, header in raw.items():
                problem = option.validate(f"{state}={header}")
                if problem:
                    raise ConfigError(f"{path}: key '{key}.{state}' = {header!r}: {problem}")
        else:
            for item in value if isinstance(value, list) else [value]:
                problem = option.validate(item)
                if problem:
                    shown = repr(item) if option.echo else option.shown(item)
                    raise ConfigError(f"{path}: key '{key}' = {shown}: {problem}")
        values[option.dest] = value
    return FileConfig(path, values)


def load_config(path: Path) -> FileConfig:
    """Read and validate one config file (a pyproject.toml: its ``[tool.livephoto-conformance]``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{path}: cannot read the config file: {reason}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if path.name == PYPROJECT:
        tool = data.get("tool", {})
        table = tool.get(PYPROJECT_TABLE, {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.{PYPROJECT_TABLE}] must be a table")
        data = table
    return parse_config(data, path)


def discover(start: Path, explicit: str | Path | None = None) -> FileConfig:
    """The config in effect: ``explicit`` when given, else the nearest file, else an empty one."""
    if explicit:
        return load_config(Path(explicit))
    found = find_config(start)
    return load_config(found) if found is not None else FileConfig()
