"""The config file: where it is found, what it may hold, and the one-line errors it gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.config_file import ConfigError, discover, find_config, load_config


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_nearest_file_wins_and_livephoto_toml_beats_pyproject(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    outer = _write(tmp_path / "livephoto.toml", 'level = "should"\n')
    assert find_config(deep) == outer
    pyproject = _write(tmp_path / "a" / "pyproject.toml", '[tool.livephoto-conformance]\nlevel = "must"\n')
    assert find_config(deep) == pyproject
    own = _write(tmp_path / "a" / "livephoto.toml", 'edition = "2025-09"\n')
    assert find_config(deep) == own


def test_a_pyproject_without_the_table_or_broken_is_not_ours(tmp_path: Path) -> None:
    outer = _write(tmp_path / "livephoto.toml", 'level = "should"\n')
    _write(tmp_path / "x" / "pyproject.toml", "[tool.black]\nline-length = 100\n")
    _write(tmp_path / "x" / "y" / "pyproject.toml", "this is [not toml\n")
    assert find_config(tmp_path / "x" / "y") == outer


def test_pyproject_table_is_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.livephoto-conformance]\ntarget = "http://127.0.0.1:9"\n'
        'family = ["errors"]\n\n[tool.livephoto-conformance.fault-headers]\n'
        'retired = "X-Fault: retired"\n',
    )
    config = discover(tmp_path)
    assert config.path == path
    assert config.values == {
        "target": "http://127.0.0.1:9",
        "family": ["errors"],
        "fault_header": ["retired=X-Fault: retired"],
    }


def test_no_file_is_an_empty_config(tmp_path: Path) -> None:
    assert discover(tmp_path).values == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('levl = "must"', "unknown key 'levl'; allowed: api-key-env, artefacts, budget, clause,"),
        ('level = "may"', "key 'level' = 'may': choose one of must, should"),
        ('edition = "2024"', "key 'edition' = '2024': choose one of any, 2025-09, 2026-01"),
        ("max-examples = 0", "key 'max-examples' = 0: must be at least 1"),
        ("concurrency = 0", "key 'concurrency' = 0: must be at least 1"),
        ("budget = 0", "key 'budget' = 0: must be at least 1"),
        ("request-timeout = -1", "key 'request-timeout' = -1.0: must be a positive number of seconds"),
        ('clause = ["LP-NOPE-1"]', "key 'clause' = 'LP-NOPE-1': no such clause"),
        ('family = ["errors", "videos"]', "key 'family' = 'videos': choose one of request,"),
        ('fault-headers = { slow = "X: y" }', "key 'fault-headers.slow' = 'X: y': the state must be one of"),
        ('fault-headers = { retired = "nocolon" }', "write the header as 'Header-Name: value'"),
        ('api-key = "sk-live-123"', "key 'api-key': keys are never read from a file; write api-key-env"),
        ('token = "sk-live-123"', "keys are never read from a file"),
        ('api-key-env = "sk-live-123"', "key 'api-key-env' = *** (not shown): must name an environment"),
        ("target = ", "not valid TOML"),
    ],
)
def test_bad_keys_and_values_are_one_line_naming_file_and_key(
    text: str, expected: str, tmp_path: Path
) -> None:
    path = _write(tmp_path / "livephoto.toml", text + "\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}: "), message
    assert expected in message, message
    assert "\n" not in message
    assert "sk-live-123" not in message


def test_an_explicit_file_that_is_missing_or_not_a_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        discover(tmp_path, tmp_path / "nope.toml")
    path = _write(tmp_path / "pyproject.toml", 'tool = { livephoto-conformance = "x" }\n')
    with pytest.raises(ConfigError, match="must be a table"):
        load_config(path)
