"""The suite run by ``pytester`` against the embedded reference server, in a fresh process.

A subprocess, as users run it: the run starts a server process, forces a Hypothesis seed and
imports the suite's modules, none of which may leak into this test process.
"""

from __future__ import annotations

import json

import pytest

from conformance.pytest.verdict import EXIT_INCOMPLETE

pytest_plugins = ["pytester"]

RUN_TIMEOUT = 120  # s: a hang guard far above the few seconds a run of one clause takes


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Runs against the embedded server with its own key, whatever this shell exports."""
    monkeypatch.delenv("LIVEPHOTO_API_KEY", raising=False)
    return pytester


def test_a_tiny_selection_against_the_embedded_server(suite: pytest.Pytester) -> None:
    """Options → settings → embedded server → fixtures → results carried on the reports →
    the verdict, the exit code and the JSON report, for one clause."""
    result = suite.runpytest_subprocess(
        "--pyargs", "conformance.suite", "--clause", "LP-ERR-2", "--report-json", "r.json",
        "--hypothesis-seed=7", timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(
        [
            "livephoto-conformance *: target embedded reference server at http://127.0.0.1:*",
            "*seed 7 (reproduce with --hypothesis-seed=7)",
            "LP-ERR-2 *MUST *pass*",
            "COMPATIBLE for 1 of 46 clauses *",
            "report written: r.json",
        ]
    )
    report = json.loads((suite.path / "r.json").read_text())
    assert [clause["id"] for clause in report["clauses"]] == ["LP-ERR-2"]
    checks = report["clauses"][0]["checks"]  # the recorder's results, collected from the reports
    assert checks and all(c["verdict"] == "pass" and c["nodeid"] for c in checks), checks
    assert report["seed"] == 7


def test_a_run_that_selects_nothing_is_incomplete(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess(
        "--pyargs", "conformance.suite", "-k", "nomatch", timeout=RUN_TIMEOUT
    )  # fmt: skip
    assert result.ret == EXIT_INCOMPLETE, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["INCOMPLETE*"])
    assert "COMPATIBLE (" not in result.stdout.str()
