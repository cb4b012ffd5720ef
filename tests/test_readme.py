"""The README's examples work as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_respx_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "respx_router" in b]
    shutil.copy(ROOT / "conformance" / "data" / "astronaut.png", tmp_path / "photo.jpg")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})


def test_two_setup_commands() -> None:
    section = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", section, re.S)
    assert len(commands) == 2
    assert commands[0].endswith("pytest --pyargs conformance.suite")
    assert commands[1].endswith(".venv/bin/pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    # .ci/run runs both verbatim, each in its own fresh venv, the base install (no extras) first
    assert commands[0] in ci and commands[1] in ci
    assert "pip install -e . " in commands[0] and "[" not in commands[0]
    first, second = ci.index(commands[0]), ci.index(commands[1])
    assert first < second
    for line in (first, second):
        assert "rm -rf .venv" in ci[line - 1]
