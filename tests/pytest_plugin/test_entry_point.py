"""The plugin as pytest loads it: through the ``pytest11`` entry point, run by ``pytester``.

These runs are in-process: none of them starts the suite (no embedded server, no Hypothesis seed
forced on this process), so the plugin must stay out of the way or stop at its usage check.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest
from _pytest.fixtures import FixtureFunctionDefinition  # what @pytest.fixture returns (pytest >= 8.4)
from hypothesis import core as hypothesis_core

import conformance.plugin
import conformance.pytest
from conformance.option_table import plugin_options

pytest_plugins = ["pytester"]

SUITE_FIXTURES = {"livephoto_settings", "target_url", "client", "recorder", "verify", "judge"}


def _plugin_modules() -> list[ModuleType]:
    names = [info.name for info in pkgutil.iter_modules(conformance.pytest.__path__)]
    return [importlib.import_module(f"conformance.pytest.{name}") for name in names]


def test_the_entry_point_names_every_hook_and_fixture_of_the_package() -> None:
    """A hook or fixture written in a module of ``conformance.pytest`` but not re-exported by
    ``conformance.plugin`` would silently never run."""
    defined: dict[str, object] = {}
    for module in _plugin_modules():
        for name, obj in vars(module).items():
            own = getattr(obj, "__module__", None) == module.__name__
            is_hook = own and name.startswith("pytest_") and callable(obj)
            if is_hook or isinstance(obj, FixtureFunctionDefinition):
                defined[name] = obj
    assert set(defined) == set(conformance.plugin.__all__)
    assert all(getattr(conformance.plugin, name) is obj for name, obj in defined.items())
    assert {name for name in defined if not name.startswith("pytest_")} == SUITE_FIXTURES


def test_the_package_does_not_shadow_pytest() -> None:
    """``conformance.pytest`` is a subpackage: every ``import pytest`` still means the real one."""
    for module in _plugin_modules():
        assert vars(module)["pytest"] is pytest, module.__name__


def test_every_option_is_in_help_in_one_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    assert result.ret == pytest.ExitCode.OK
    help_text = result.stdout.str()
    group = help_text.index("Live Photos API conformance suite:")
    for option in plugin_options():
        assert option.flag in help_text[group:], option.flag
    assert "--no-insecure" in help_text  # flags come with their negation


def test_fixtures_are_found_through_the_entry_point(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures")
    listed = result.stdout.str()
    for name in SUITE_FIXTURES:
        assert f"\n{name} " in listed, name


def test_outside_the_suite_the_plugin_stays_out_of_the_way(pytester: pytest.Pytester) -> None:
    """A project that merely has the package installed: no header, no verdict, its exit code;
    a test asking for the suite's settings is skipped with the reason."""
    pytester.makepyfile(
        """
        def test_plain():
            assert True

        def test_wants_the_suite(livephoto_settings):
            raise AssertionError("never reached")
        """
    )
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*the conformance suite runs with --target URL or on conformance.suite*"])
    assert "livephoto-conformance 0.1.0: target" not in result.stdout.str()  # the suite's header
    assert "COMPATIBLE" not in result.stdout.str()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--clause", "LP-NOPE-1"], "ERROR: --clause LP-NOPE-1: no such clause (ids look like LP-ERR-5)"),
        (["--max-examples", "0"], "ERROR: --max-examples 0: must be at least 1"),
        (["--family", "nope"], "ERROR: --family nope: choose one of "),
        (["--fault-header", "rate-limit=nocolon"], "ERROR: --fault-header rate-limit=nocolon: "),
        (["--report-json", "a-file/r.json"], "ERROR: --report-json a-file/r.json: cannot be written"),
        (["--artefacts", "a-file"], "ERROR: --artefacts a-file: is a file; give a folder"),
        (["--target", "ftp://example"], "ERROR: --target 'ftp://example' is not an http(s) URL"),
    ],
    ids=["clause", "max-examples", "family", "fault-header", "report-path", "artefacts", "target"],
)
def test_a_bad_option_is_exit_4_in_one_line(
    args: list[str], message: str, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked in ``pytest_configure``, before a server starts or a request is sent."""
    pytester.path.joinpath("a-file").write_text("")
    # Were the check to pass, the suite would start in this process: collect only, and put back
    # the seed the plugin would force on Hypothesis.
    monkeypatch.setattr(hypothesis_core, "global_force_seed", hypothesis_core.global_force_seed)
    result = pytester.runpytest("--pyargs", "conformance.suite", "--collect-only", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if line.strip()]
    assert len(errors) == 1, errors
    assert errors[0].startswith(message), errors
    assert result.outlines == [] or not any("Traceback" in line for line in result.outlines)
