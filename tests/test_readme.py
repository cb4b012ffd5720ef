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
    assert commands[1].endswith(".venv/bin/pytest -n auto")  # the fast tier on every core
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    # .ci/run runs both verbatim, each in its own fresh venv, the base install (no extras) first
    assert commands[0] in ci and commands[1] in ci
    assert "pip install -e . " in commands[0] and "[" not in commands[0]
    first, second = ci.index(commands[0]), ci.index(commands[1])
    assert first < second
    for line in (first, second):
        assert "rm -rf .venv" in ci[line - 1]


# A measured figure: a number with a unit of time, rate or memory (targets, "≤ 150 ms", are not).
# An input size ("5 MiB photos", "5 MiB + 1") is not a measured figure either.
MEASURED = re.compile(
    r"(?<![≤≥] )(?<![≤≥])\b\d+(?:\.\d+)?(?:[–-]\d+(?:\.\d+)?)? ?(?:ms|requests/s|req/s|MB|MiB)\b"
    r"(?! (?:\+|photo|upload|bod))"
)
BENCHMARK = re.compile(r"benchmarks/(?!RESULTS\.md)\w+\.py")


def _paragraphs(path: Path) -> list[tuple[str, str]]:
    """Paragraphs and list items: the text a figure would be typed into beside its script."""
    text = path.read_text(encoding="utf-8")
    return [(path.name, part) for part in re.split(r"\n\s*\n|\n(?=- |#)", text) if part.strip()]


def test_benchmark_figures_are_kept_once_in_results_md() -> None:
    """Regression (issue 16): the README and the docs typed benchmark figures of their own, which
    contradicted benchmarks/RESULTS.md and each other. A paragraph that names a benchmark script
    links to RESULTS.md and states no measured figure of its own."""
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    problems = []
    for path in docs:
        for section in re.split(r"\n(?=#{2,3} )", path.read_text(encoding="utf-8")):
            if BENCHMARK.search(section) and "RESULTS.md" not in section:
                problems.append(f"{path.name} {section.splitlines()[0]!r}: names a benchmark, no RESULTS.md")
    for name, paragraph in (p for path in docs for p in _paragraphs(path)):
        if BENCHMARK.search(paragraph):
            start = paragraph.strip().splitlines()[0][:60]
            problems += [f"{name} {start!r}: types {m.group()!r}" for m in MEASURED.finditer(paragraph)]
    assert not problems, "\n".join(problems)
    assert (ROOT / "benchmarks" / "RESULTS.md").is_file()
