"""One CI definition: tox.ini's environments and ``.ci/run`` call the same scripts of ``.ci/``, so a
step changed in one place changes for both; the two steps ``.ci/run`` takes verbatim from the README
run exactly what ``.ci/suite`` and ``.ci/tests`` run."""

from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / ".ci"
CALL = re.compile(r"^(?:PATH=\S+ )?bash \.ci/([a-z_]+)(?: \{posargs\})?$")
# The scripts .ci/run stands in for with the README's set-up commands (tests/test_readme.py).
README_STEPS = {"suite": 0, "tests": 1}


def _scripts() -> set[str]:
    return {path.name for path in CI.iterdir() if path.is_file() and path.name != "run"}


def _tox_commands() -> dict[str, list[str]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tox.ini", encoding="utf-8")
    default = parser["testenv"]["commands"]
    envs = {"py311": default}
    for section in parser.sections():
        if section.startswith("testenv:"):
            envs[section.removeprefix("testenv:")] = parser[section].get("commands", default)
    return {env: [line.strip() for line in text.strip().splitlines()] for env, text in envs.items()}


def _run_lines() -> list[str]:
    text = (CI / "run").read_text(encoding="utf-8")
    # heredoc bodies and continuation lines are not commands of their own
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, re.S)


def _script_command(name: str) -> str:
    """The one command a single-command script runs, without ``exec`` and the forwarded ``"$@"``."""
    (line,) = [
        line for line in (CI / name).read_text(encoding="utf-8").splitlines() if line.startswith("exec ")
    ]
    return line.removeprefix("exec ").removesuffix(' "$@"')


def test_every_tox_environment_runs_one_ci_script() -> None:
    for env, commands in _tox_commands().items():
        assert len(commands) == 1, f"tox -e {env}: write its commands once, in a .ci/ script"
        match = CALL.match(commands[0])
        assert match, f"tox -e {env} runs {commands[0]!r}, not `bash .ci/<script>`"
        assert match[1] in _scripts(), f"tox -e {env} calls .ci/{match[1]}, which does not exist"


def test_tox_and_ci_run_call_the_same_scripts() -> None:
    by_tox = {m[1] for commands in _tox_commands().values() if (m := CALL.match(commands[0]))}
    by_run = {m[1] for line in _run_lines() if (m := CALL.match(line))}
    readme = _readme_commands()
    run_lines = _run_lines()
    for script, index in README_STEPS.items():
        assert readme[index] in run_lines
        by_run.add(script)
    assert by_tox == by_run == _scripts(), (
        f"tox calls {sorted(by_tox)}, .ci/run {sorted(by_run)}, .ci/ holds {sorted(_scripts())}"
    )


@pytest.mark.parametrize(("script", "index"), sorted(README_STEPS.items()))
def test_readme_steps_run_what_their_scripts_run(script: str, index: int) -> None:
    last = _readme_commands()[index].split(" && ")[-1]
    assert last == ".venv/bin/" + _script_command(script)


def test_ci_run_writes_no_tool_command_of_its_own() -> None:
    """pytest, ruff and mypy appear in .ci/run only inside the README's verbatim commands."""
    readme = set(_readme_commands())
    for line in _run_lines():
        if line not in readme and not CALL.match(line):
            assert not re.search(r"\b(pytest|ruff|mypy)\b", line), line


@pytest.mark.parametrize("script", sorted([*_scripts(), "run"]))
def test_ci_scripts_parse_and_stop_on_the_first_error(script: str) -> None:
    path = CI / script
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "set -euo pipefail" in path.read_text(encoding="utf-8")
