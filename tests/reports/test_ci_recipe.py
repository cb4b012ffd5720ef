"""The CI recipes of docs/reports.md gate on the exit code first (INCOMPLETE fails the job), then
on the diff. The recipe text is run as it stands, with `pytest` and `livephoto-conformance`
stood in for by scripts that exit with a chosen code and log that they ran."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "reports.md"


def _github_script() -> str:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"GitHub Actions \(one step\):\n```yaml\n- run: \|\n(.*?)```", text, re.S)
    assert block, "docs/reports.md lost its GitHub Actions recipe"
    return "\n".join(line[4:] for line in block.group(1).splitlines())


def _gitlab_script() -> str:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"GitLab CI \(`script:` of a job\):\n```yaml\n(.*?)```", text, re.S)
    assert block, "docs/reports.md lost its GitLab CI recipe"
    return "\n".join(line[2:] for line in block.group(1).splitlines())


def _run(script: str, tmp_path: Path, suite_exit: int, diff_exit: int) -> tuple[int, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "log"
    for name, code in (("pytest", suite_exit), ("livephoto-conformance", diff_exit)):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "{name}" >> "{log}"\nexit {code}\n')
        stub.chmod(0o755)
    summary = tmp_path / "summary"
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "TARGET": "http://127.0.0.1:1",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    ran = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return done.returncode, " ".join(ran)


@pytest.mark.parametrize("recipe", [_github_script, _gitlab_script], ids=["github", "gitlab"])
@pytest.mark.parametrize(
    ("suite_exit", "diff_exit", "job_exit", "ran"),
    [
        (0, 0, 0, "pytest livephoto-conformance"),
        (1, 0, 0, "pytest livephoto-conformance"),  # already failing in the baseline: the diff decides
        (1, 1, 1, "pytest livephoto-conformance"),  # a regression
        (6, 0, 6, "pytest"),  # INCOMPLETE fails the job; the diff is not asked
        (4, 0, 4, "pytest"),  # bad option / unreachable target / rejected key
    ],
)
def test_recipe_gates_on_the_exit_code_then_on_the_diff(
    recipe: object, suite_exit: int, diff_exit: int, job_exit: int, ran: str, tmp_path: Path
) -> None:
    script = recipe()  # type: ignore[operator]
    assert _run(script, tmp_path, suite_exit, diff_exit) == (job_exit, ran)
