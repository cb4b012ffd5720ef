"""Latency modes of the reference server (issue 18): every answer delayed, or only the successes, as a
real replacement that spends seconds generating a video but refuses a bad request at once."""

from __future__ import annotations

import time

import httpx
import pytest

from conformance import cli
from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread, config_to_args
from tests.mock import samples
from tests.mock.samples import ENDPOINT, KEY

AUTH = {"ailabapi-api-key": KEY}
SUCCESS_DELAY = 0.6
SLACK = 0.4  # seconds of scheduling slack on a loaded 2-core machine


def timed_post(http: httpx.Client, **options: object) -> tuple[int, float]:
    """The status of one POST to the endpoint and how long it took."""
    started = time.perf_counter()
    response = http.post(ENDPOINT, **options)  # type: ignore[arg-type]
    return response.status_code, time.perf_counter() - started


def test_success_latency_delays_only_the_successes() -> None:
    config = ServerConfig(api_keys=(KEY,), success_latency=SUCCESS_DELAY)
    face = {"image_target": ("f.png", samples.face_small())}
    with ServerThread(config) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        success = timed_post(http, headers=AUTH, files=face)
        no_key = timed_post(http, files=face)
        no_image = timed_post(http, headers=AUTH, files={"type": (None, "0")})
    assert success[0] == 200 and success[1] >= SUCCESS_DELAY
    assert no_key[0] == 401 and no_key[1] < SLACK
    assert no_image[0] == 400 and no_image[1] < SLACK


def test_latency_and_success_latency_add_up() -> None:
    config = ServerConfig(api_keys=(KEY,), latency=0.3, success_latency=SUCCESS_DELAY)
    face = {"image_target": ("f.png", samples.face_small())}
    with ServerThread(config) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        success = timed_post(http, headers=AUTH, files=face)
        no_image = timed_post(http, headers=AUTH, files={"type": (None, "0")})
    assert success[0] == 200 and success[1] >= 0.3 + SUCCESS_DELAY
    assert no_image[0] == 400 and 0.3 <= no_image[1] < 0.3 + SLACK


@pytest.mark.parametrize("name", ["latency", "success_latency"])
@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
def test_config_refuses_delays_that_would_hang_or_make_no_sense(name: str, seconds: float) -> None:
    with pytest.raises(ValueError, match=f"{name} must be a finite number of seconds"):
        ServerConfig(**{name: seconds})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--success-latency", "-1"],
        ["serve", "--success-latency", "nan"],
        ["serve", "--success-latency", "soon"],
        ["serve", "--latency", "inf"],
    ],
)
def test_cli_bad_latency_exits_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "Traceback" not in err
    assert argv[1] in err


def test_success_latency_round_trips_to_cli_args() -> None:
    """config_to_args (how start_server_process starts a server) carries the success latency."""
    config = ServerConfig(latency=0.25, success_latency=5.0)
    args = cli.build_parser().parse_args(["serve", *config_to_args(config)])
    assert (args.latency, args.success_latency) == (0.25, 5.0)
    assert cli.build_parser().parse_args(["serve"]).success_latency == 0.0
