"""Command line > environment > config file > default, through real runs: ``pytest`` with the plugin
and ``livephoto-conformance run``, from a folder holding the config file, against the reference
server. ``--collect-only`` keeps them short: the settings are resolved and reported, no test runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.run.harness import KEY, clean_env, cli, one_line, pytest_run, reference


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with reference() as found:
        yield found


def _config(folder: Path, text: str, name: str = "livephoto.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _report(folder: Path, name: str = "co.json") -> dict[str, Any]:
    return json.loads((folder / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.slow
def test_the_plugin_takes_the_file_and_the_command_line_wins(url: str, tmp_path: Path) -> None:
    _config(
        tmp_path,
        f'target = "{url}"\napi-key-env = "CFG_KEY"\nlevel = "should"\nmax-examples = 4\n'
        'edition = "2026-01"\nreport-json = "co.json"\n\n[fault-headers]\n'
        'retired = "x-livephoto-fault: retired"\n',
    )
    done = pytest_run(
        "--pyargs", "conformance.suite", "--collect-only", "-q", "--max-examples", "2",
        "--fault-header", "rate-limit=X-RL: 1",
        cwd=tmp_path, env=clean_env(CFG_KEY=KEY),
    )  # fmt: skip
    assert "Traceback" not in done.stdout + done.stderr
    config = _report(tmp_path)["config"]
    assert config["target_url"] == url  # from the file: no --target given
    assert (config["edition"], config["level"]) == ("2026-01", "SHOULD")  # file
    assert config["max_examples"] == 2  # command line over file
    assert config["request_timeout"] == 60.0  # default
    assert config["fault_headers"] == {  # merged per state
        "retired": "x-livephoto-fault: retired",
        "rate-limit": "X-RL: 1",
    }


@pytest.mark.slow
def test_the_environment_beats_the_files_key_variable(url: str, tmp_path: Path) -> None:
    _config(tmp_path, f'target = "{url}"\napi-key-env = "CFG_KEY"\n')
    env = clean_env(CFG_KEY=KEY, LIVEPHOTO_API_KEY="not-the-key")
    done = pytest_run("--pyargs", "conformance.suite", "--collect-only", "-q", cwd=tmp_path, env=env)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "rejected the key" in done.stderr and "$LIVEPHOTO_API_KEY" in done.stderr
    # ... and the command line's --api-key-env beats the environment
    done = pytest_run(
        "--pyargs", "conformance.suite", "--collect-only", "-q", "--api-key-env", "CFG_KEY",
        "--report-json", "co.json", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode != pytest.ExitCode.USAGE_ERROR, done.stderr
    assert _report(tmp_path)["config"]["target_url"] == url


@pytest.mark.slow
def test_a_variable_named_but_unset_is_one_line(url: str, tmp_path: Path) -> None:
    path = _config(tmp_path, f'target = "{url}"\napi-key-env = "NOT_SET_ANYWHERE"\n')
    done = pytest_run("--pyargs", "conformance.suite", "--collect-only", "-q", cwd=tmp_path)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    line = one_line(done.stderr)
    assert f"{path}: key 'api-key-env'" in line and "$NOT_SET_ANYWHERE is not set" in line


@pytest.mark.slow
def test_run_reads_the_pyproject_table(url: str, tmp_path: Path) -> None:
    _config(
        tmp_path,
        f'[project]\nname = "my-replacement"\n\n[tool.livephoto-conformance]\ntarget = "{url}"\n'
        'api-key-env = "CFG_KEY"\nfamily = ["envelope"]\nreport-json = "run.json"\n',
        name="pyproject.toml",
    )
    done = cli("run", "-k", "every_kind_of_answer", cwd=tmp_path, env=clean_env(CFG_KEY=KEY))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = _report(tmp_path, "run.json")
    assert report["target_url"] == url
    assert report["summary"]["verdict"] == "COMPATIBLE"
    assert {c["id"] for c in report["clauses"]} == {f"LP-ENV-{n}" for n in range(1, 8)}
    assert KEY not in done.stdout + done.stderr + (tmp_path / "run.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("runner", ["pytest", "run"])
def test_a_bad_config_file_is_one_line_and_exit_4(runner: str, tmp_path: Path) -> None:
    path = _config(tmp_path, 'target = "http://127.0.0.1:9"\nlevel = "may"\n')
    if runner == "pytest":
        done = pytest_run("--pyargs", "conformance.suite", "-q", cwd=tmp_path)
    else:
        done = cli("run", cwd=tmp_path)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    line = one_line(done.stderr)
    assert f"{path}: key 'level' = 'may': choose one of must, should" in line
