"""The runners (thread and subprocess), the serve CLI and internal failures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conformance import cli
from conformance.contract import Edition
from conformance.mock import app as app_module
from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread, config_to_args, start_server_process
from conformance.mutants import server_hooks
from tests.mock import samples
from tests.mock.samples import ENDPOINT, KEY
from tests.mock.test_errors import assert_error

AUTH = {"ailabapi-api-key": KEY}


def test_server_thread_stops_cleanly() -> None:
    """ServerThread listens on a real free port and releases it on exit."""
    with ServerThread(ServerConfig(api_keys=(KEY,))) as running:
        url = running.url
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert httpx.post(url + ENDPOINT).status_code == 401
    with pytest.raises(httpx.ConnectError):
        httpx.post(url + ENDPOINT)


def test_server_thread_surfaces_start_errors() -> None:
    """A port that cannot be bound is reported, not swallowed."""
    with ServerThread() as first:
        port = int(first.url.rsplit(":", 1)[1])
        with pytest.raises((RuntimeError, SystemExit)), ServerThread(port=port):
            pass


def test_internal_error_is_generic(client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """LP-ERR-13, LP-SEC-2: an unexpected exception is a 500 envelope without internals."""

    def explode(_: object) -> list[object]:
        raise RuntimeError(f"secret internals at {Path(__file__)}")

    monkeypatch.setattr(app_module, "find_faces", explode)
    response = client.post(ENDPOINT, headers=AUTH, files={"image_target": ("f.png", samples.face_small())})
    assert_error(response, 500, "SERVICE_INTERNAL_ERROR")
    assert "secret" not in response.text and "Traceback" not in response.text and ".py" not in response.text


def test_config_round_trips_to_cli_args() -> None:
    """config_to_args gives serve options that parse back to the same configuration."""
    config = ServerConfig(
        api_keys=("a", "b"),
        edition=Edition.E2025_09,
        seed=7,
        faults=("credits",),
        allow_fault_header=True,
        latency=0.5,
        hooks=server_hooks(["env-no-content-type"]),
    )
    args = cli.build_parser().parse_args(["serve", *config_to_args(config)])
    assert (args.api_key, args.edition, args.seed, args.fault, args.faults, args.latency, args.mutant) == (
        ["a", "b"],
        "2025-09",
        7,
        ["credits"],
        True,
        0.5,
        ["env-no-content-type"],
    )


def test_server_process() -> None:
    """start_server_process runs ``python -m conformance serve`` and finds its URL."""
    config = ServerConfig(api_keys=(KEY,), allow_fault_header=True)
    with start_server_process(config) as running:
        assert running.process.poll() is None
        response = httpx.post(running.url + ENDPOINT, headers={**AUTH, "x-livephoto-fault": "credits"})
        assert_error(response, 429, "ERROR_NOT_ENOUGH_CREDITS")
    assert running.process.poll() is not None


def test_server_process_plants_mutants_through_serve_options() -> None:
    """The catalogue's hooks cross the process boundary as ``--mutant NAME`` (the server imports
    nothing from the catalogue); hooks made in this process only are refused, not silently lost."""
    from conformance.mock.hooks import ServerHooks

    hooks = server_hooks(["env-no-content-type"])
    assert hooks.serve_args == ("--mutant", "env-no-content-type")
    with start_server_process(ServerConfig(api_keys=(KEY,), hooks=hooks)) as running:
        response = httpx.post(running.url + ENDPOINT, headers=AUTH)
        assert response.status_code == 400 and "content-type" not in response.headers
    local = ServerHooks(encode=lambda video: "x")
    assert local.in_process_only and not ServerHooks().active
    with pytest.raises(ValueError, match="no serve_args"):
        start_server_process(ServerConfig(hooks=local))


@pytest.mark.slow
def test_server_process_failure_is_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that cannot start gives an error with the reason, not a hang."""
    with start_server_process(ServerConfig()) as first:
        port = first.url.rsplit(":", 1)[1]
        monkeypatch.setattr("conformance.mock.runner.config_to_args", lambda config: ["--port", port])
        with pytest.raises(RuntimeError, match="did not come up"):
            start_server_process(ServerConfig(), timeout=20)


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--port", "http"],
        ["serve", "--edition", "2024-01"],
        ["serve", "--fault", "boom"],
        ["serve", "--latency", "-2"],
        ["serve", "--seed", "x"],
        [],
        ["nope"],
    ],
)
def test_cli_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Bad arguments → argparse's usage error (exit 2), never a traceback."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_cli_help_is_fast_and_lazy() -> None:
    """``--help`` does not import the server stack."""
    code = (
        "import sys; from conformance import cli; "
        "assert 'uvicorn' not in sys.modules and 'av' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
