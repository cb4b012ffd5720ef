"""One table of options generates the pytest options, the config-file keys and the ``run`` parser:
these tests fail when the three drift apart."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from conformance.config_file import ConfigError, load_config
from conformance.option_table import (
    BY_CONFIG_KEY,
    OPTIONS,
    config_keys,
    plugin_options,
    run_options,
)
from conformance.standalone.cli import add_run_parser, pytest_args

# One valid TOML value per config key (a new config key without one here fails the test below).
SAMPLES: dict[str, Any] = {
    "target": "http://127.0.0.1:9",
    "api-key-env": "MY_KEY",
    "edition": "2026-01",
    "level": "should",
    "max-examples": 3,
    "concurrency": 4,
    "budget": 12,
    "request-timeout": 12.5,
    "clause": ["LP-ERR-5"],
    "family": ["errors", "envelope"],
    "fault-headers": {"rate-limit": "X-Fault: rate-limit"},
    "insecure": True,
    "artefacts": "art",
    "examples-db": "db",
    "thorough": True,
    "report-json": "r.json",
    "report-html": "r.html",
    "report-md": "r.md",
    "report-badge": "b.svg",
}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'{k} = "{v}"' for k, v in value.items()) + " }"
    return str(value)


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="livephoto-conformance")
    add_run_parser(parser.add_subparsers(dest="command"))
    return parser


def test_every_plugin_option_is_a_pytest_option(pytestconfig: pytest.Config) -> None:
    """The plugin is loaded in this very session: its options are the table's."""
    for option in plugin_options():
        assert hasattr(pytestconfig.option, option.dest), option.name


def test_every_run_option_is_in_the_run_parser_and_reaches_pytest() -> None:
    parser = _run_parser()
    args = parser.parse_args(["run"])
    assert {o.dest for o in run_options()} <= set(vars(args))
    assert not any(o.name == "api-key" for o in run_options()), "run never takes a key on argv"
    for spelling in (["--api-key", "sk-secret-1"], ["--api-key=sk-secret-1"], ["--api-k", "sk-secret-1"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["run", *spelling])


def test_the_config_keys_are_the_table_and_each_sample_loads(tmp_path: Path) -> None:
    assert set(SAMPLES) == set(config_keys())
    path = tmp_path / "livephoto.toml"
    lines = [f"{key} = {_toml(value)}" for key, value in SAMPLES.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = load_config(path)
    for key in SAMPLES:
        assert BY_CONFIG_KEY[key].dest in loaded.values, key
    assert loaded.get("fault_header") == ["rate-limit=X-Fault: rate-limit"]
    assert loaded.get("request_timeout") == 12.5
    assert loaded.get("insecure") is True


WRONG_BY_TYPE = {str: "3", int: '"3"', float: '"x"', bool: '"yes"', list: '"one"', dict: '"X: y"'}


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_a_value_of_the_wrong_type_names_the_file_and_the_key(key: str, tmp_path: Path) -> None:
    path = tmp_path / "livephoto.toml"
    path.write_text(f"{key} = {WRONG_BY_TYPE[type(SAMPLES[key])]}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}: key '{key}': expected "), message
    assert "\n" not in message


def test_options_given_to_run_are_passed_to_pytest_verbatim() -> None:
    parser = _run_parser()
    given = ["--target", "http://x", "--family", "errors", "--family", "video", "--no-insecure"]
    given += ["-k", "not slow", "--fault-header", "retired=X-F: retired", "--max-examples", "2"]
    args = parser.parse_args(["run", *given])
    argv = pytest_args(args)
    assert "--target=http://x" in argv
    assert argv.count("--family=errors") == 1 and "--family=video" in argv
    assert "--no-insecure" in argv
    assert argv[argv.index("-k") + 1] == "not slow"
    assert "--fault-header=retired=X-F: retired" in argv
    assert "--max-examples=2" in argv
    assert not any(a.startswith("--level") for a in argv), "options not given are left to the config file"


def test_table_names_are_unique_and_documented() -> None:
    names = [o.name for o in OPTIONS]
    assert len(names) == len(set(names))
    assert all(o.help for o in OPTIONS)
    for option in OPTIONS:
        if option.config:
            assert option.config in option.full_help
