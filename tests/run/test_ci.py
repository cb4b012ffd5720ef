"""The CI integrations: the GitHub Action's steps (``ci/action.sh``) and the GitLab template's
script, run here as CI would run them, against the reference server and a mutant; the action and
the examples are checked for consistency."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.run.harness import ENVELOPE, ENVELOPE_MUST_MUTANT, KEY, RUN_TIMEOUT, clean_env, reference

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
SCRIPT = ROOT / "ci" / "action.sh"
GITLAB = ROOT / "ci" / "gitlab" / "livephoto-conformance.gitlab-ci.yml"
EXAMPLES = ROOT / "ci" / "examples"
SELECTION = " ".join(ENVELOPE)


def _yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _ci_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A job's environment: the package's bin first on PATH, GitHub's files, the secret."""
    bin_dir = str(Path(sys.executable).parent)
    return clean_env(
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        GITHUB_OUTPUT=str(tmp_path / "github_output"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "step_summary.md"),
        LIVEPHOTO_API_KEY=KEY,
        **extra,
    )


def _step(phase: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), phase], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=RUN_TIMEOUT, check=False,
    )  # fmt: skip


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)


def _action_job(tmp_path: Path, target: str, **extra: str) -> tuple[dict[str, str], str, int]:
    """The action's run step then its gate step; the step outputs, the summary, the gate's exit."""
    inputs = {"LP_TARGET": target, "LP_LEVEL": "must", "LP_EDITION": "any", "LP_ARGS": SELECTION, **extra}
    env = _ci_env(tmp_path, **inputs)
    ran = _step("run", tmp_path, env)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]  # the upload step must still run
    outputs = _outputs(tmp_path / "github_output")
    gate_env = {**env, "LP_EXIT_CODE": outputs["exit-code"], "LP_VERDICT": outputs["verdict"]}
    gate = _step("gate", tmp_path, gate_env)
    summary = (tmp_path / "step_summary.md").read_text(encoding="utf-8")
    everything = ran.stdout + ran.stderr + summary + gate.stdout + gate.stderr
    for path in (tmp_path / "livephoto-reports").glob("*"):
        everything += path.read_text(errors="replace")
    assert KEY not in everything
    return outputs, summary, gate.returncode


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with reference() as found:
        yield found


@pytest.fixture(scope="module")
def mutant_url() -> Iterator[str]:
    with reference([ENVELOPE_MUST_MUTANT]) as found:
        yield found


# ---------------------------------------------------------------- the action's definition


def test_action_inputs_outputs_and_steps() -> None:
    action = _yaml(ACTION)
    assert {"target", "api-key", "level", "edition"} <= set(action["inputs"])
    assert action["inputs"]["target"]["required"] and action["inputs"]["api-key"]["required"]
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    suite = next(s for s in steps if s.get("id") == "suite")
    assert suite["env"]["LIVEPHOTO_API_KEY"] == "${{ inputs.api-key }}"
    assert suite["run"] == 'bash "$GITHUB_ACTION_PATH/ci/action.sh" run'
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "${{ inputs.reports-dir }}"
    assert steps[-1]["run"] == 'bash "$GITHUB_ACTION_PATH/ci/action.sh" gate'
    assert set(action["outputs"]) == {"verdict", "exit-code", "reports-dir"}


def test_no_input_is_pasted_into_a_shell_script() -> None:
    """Inputs reach the scripts through env only: a hostile input cannot inject shell code."""
    for step in _yaml(ACTION)["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step


def test_examples_use_only_inputs_that_exist() -> None:
    inputs = set(_yaml(ACTION)["inputs"])
    workflow = _yaml(EXAMPLES / "github-workflow.yml")
    uses = [
        s
        for job in workflow["jobs"].values()
        for s in job["steps"]
        if "livephoto-conformance@" in s.get("uses", "")
    ]
    assert uses and all(set(step["with"]) <= inputs for step in uses)
    assert all(step["with"]["api-key"].startswith("${{ secrets.") for step in uses)
    gitlab = _yaml(EXAMPLES / "gitlab-ci.yml")
    template = _yaml(GITLAB)[".livephoto-conformance"]
    job = gitlab["conformance"]
    assert job["extends"] == ".livephoto-conformance"
    assert set(job["variables"]) <= set(template["variables"])
    assert template["artifacts"]["when"] == "always"


def test_gate_without_a_recorded_verdict_fails(tmp_path: Path) -> None:
    done = _step("gate", tmp_path, clean_env())
    assert done.returncode == 4
    assert "no verdict recorded" in done.stderr


# ---------------------------------------------------------------- the action's steps, run


@pytest.mark.slow
def test_action_on_a_compatible_target_passes_and_summarises(url: str, tmp_path: Path) -> None:
    outputs, summary, gate = _action_job(tmp_path, url)
    assert outputs == {"exit-code": "0", "verdict": "COMPATIBLE", "reports-dir": "livephoto-reports"}
    assert gate == 0
    assert "COMPATIBLE for 7 of" in summary  # the suite's own summary
    assert "`livephoto-reports` artefact" in summary
    reports = {p.name for p in (tmp_path / "livephoto-reports").iterdir()}
    assert {"report.json", "report.html", "summary.md", "badge.svg", "junit.xml"} <= reports


@pytest.mark.slow
def test_action_on_a_mutant_fails_the_job(mutant_url: str, tmp_path: Path) -> None:
    outputs, summary, gate = _action_job(tmp_path, mutant_url)
    assert (outputs["exit-code"], outputs["verdict"]) == ("1", "NOT COMPATIBLE")
    assert gate == 1
    assert "LP-ENV-3" in summary


@pytest.mark.slow
def test_action_on_an_incomplete_run_fails_the_job(url: str, tmp_path: Path) -> None:
    outputs, _, gate = _action_job(tmp_path, url, LP_ARGS="--family envelope -k no_such_test")
    assert (outputs["exit-code"], outputs["verdict"]) == ("6", "INCOMPLETE")
    assert gate == 6


def test_action_on_an_unreachable_target_fails_with_a_summary(tmp_path: Path) -> None:
    outputs, summary, gate = _action_job(tmp_path, "http://127.0.0.1:9")
    assert (outputs["exit-code"], outputs["verdict"]) == ("4", "USAGE ERROR")
    assert gate == 4
    assert "cannot reach the target" in summary or "USAGE ERROR" in summary


def test_action_without_a_target_says_so(tmp_path: Path) -> None:
    outputs, summary, gate = _action_job(tmp_path, "")
    assert outputs["verdict"] == "USAGE ERROR" and gate == 4
    assert "'target' input is empty" in summary


# ---------------------------------------------------------------- the GitLab template, run


def _gitlab_script(template: dict[str, Any]) -> str:
    """The job's script lines as GitLab's shell runs them; the install line is skipped (the
    package is installed here already) and checked to install the package variable."""
    lines = list(template["script"])
    install = lines.pop(0)
    assert install.startswith("python -m pip install") and '"$LIVEPHOTO_PACKAGE"' in install
    return "set -eo pipefail\n" + "\n".join(lines) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize(("mutants", "code"), [((), 0), ((ENVELOPE_MUST_MUTANT,), 1)])
def test_gitlab_template_script_runs_and_fails_on_not_compatible(
    mutants: tuple[str, ...], code: int, tmp_path: Path
) -> None:
    template = _yaml(GITLAB)[".livephoto-conformance"]
    with reference(mutants) as target:
        env = _ci_env(tmp_path, **{k: str(v) for k, v in template["variables"].items()})
        env.update(LIVEPHOTO_TARGET=target, LIVEPHOTO_ARGS=SELECTION)
        done = subprocess.run(
            ["bash", "-c", _gitlab_script(template)], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=RUN_TIMEOUT, check=False,
        )  # fmt: skip
    assert done.returncode == code, done.stdout[-2000:] + done.stderr[-2000:]
    junit = tmp_path / template["artifacts"]["reports"]["junit"]
    assert junit.exists() and "<testsuite" in junit.read_text(encoding="utf-8")
    for path in template["artifacts"]["paths"]:
        assert (tmp_path / path).is_dir()
    assert re.search(r"^progress: envelope done", done.stderr, re.M)
