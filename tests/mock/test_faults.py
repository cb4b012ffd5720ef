"""Fault injection (LP-ERR-12, -13, -15): by header when allowed, server-wide by configuration."""

from __future__ import annotations

import time

import httpx
import pytest

from conformance.contract import Edition
from conformance.mock.config import ServerConfig
from conformance.mock.faults import Fault, fault_outcome, parse_fault, parse_faults
from conformance.mock.runner import ServerThread
from tests.mock import samples
from tests.mock.samples import ENDPOINT, KEY
from tests.mock.test_errors import assert_error

AUTH = {"ailabapi-api-key": KEY}
FACE = {"image_target": ("f.png", samples.face_small())}
HEADER_CASES = {
    "rate-limit": (429, "EXCEEDING_LIMITS", True),
    "credits": (429, "ERROR_NOT_ENOUGH_CREDITS", True),
    "server-error": (500, "SERVICE_INTERNAL_ERROR", False),
    "server-error:502": (502, "ERROR_GATEWAY", False),
    "server-error:503": (503, "AI_SERVICE_FLOW_RESTRICTION", True),
    "server-error:504": (504, "AI_SERVICE_TIMEOUT", False),
    "retired": (404, "ERROR_AI_NOT_EXISTS", False),
}


@pytest.mark.parametrize("fault", list(HEADER_CASES))
def test_fault_header(client: httpx.Client, fault: str) -> None:
    """Each fault state answers with its documented status, code and (for limits) Retry-After."""
    status, code, retry = HEADER_CASES[fault]
    response = client.post(ENDPOINT, headers={**AUTH, "X-LivePhoto-Fault": fault}, files=FACE)
    assert_error(response, status, code)
    assert ("retry-after" in response.headers) is retry
    assert client.post(ENDPOINT, headers=AUTH, files=FACE).status_code == 200  # only that request


def test_fault_after_authentication(client: httpx.Client) -> None:
    """A bad key still gets 401 whatever fault is asked for."""
    response = client.post(
        ENDPOINT, headers={"ailabapi-api-key": "bad", "x-livephoto-fault": "retired"}, files=FACE
    )
    assert_error(response, 401, "ERROR_USER_NOT_EXISTS")


def test_unknown_fault_is_a_clear_400(client: httpx.Client) -> None:
    """A mistyped fault header is refused with a message naming the accepted forms."""
    response = client.post(ENDPOINT, headers={**AUTH, "x-livephoto-fault": "explode"}, files=FACE)
    assert_error(response, 400, "ERROR_INVALID_PARAMETER")
    assert "rate-limit" in response.json()["error_detail"]["message"]


def test_latency_fault(client: httpx.Client) -> None:
    """latency:<s> delays the answer and then processes the request normally."""
    started = time.perf_counter()
    response = client.post(ENDPOINT, headers={**AUTH, "x-livephoto-fault": "latency:0.3"}, files=FACE)
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_header_ignored_when_not_allowed(server_2025: ServerThread) -> None:
    """With fault injection off the header is an unknown extra header (LP-REQ-7)."""
    with httpx.Client(base_url=server_2025.url, timeout=30) as http:
        response = http.post(ENDPOINT, headers={**AUTH, "x-livephoto-fault": "rate-limit"}, files=FACE)
    assert response.status_code == 200


@pytest.mark.parametrize("edition", [Edition.E2025_09, Edition.E2026_01])
def test_server_wide_fault(edition: Edition) -> None:
    """ServerConfig.faults puts every authenticated request in that state; statuses fit the edition."""
    config = ServerConfig(api_keys=(KEY,), edition=edition, faults=("rate-limit",))
    with ServerThread(config) as running, httpx.Client(base_url=running.url, timeout=30) as http:
        assert_error(http.post(ENDPOINT, headers=AUTH, files=FACE), 429, "EXCEEDING_LIMITS", edition)
        assert_error(http.post(ENDPOINT, files=FACE), 401, "ERROR_APPLICATIONS_NOT_EXISTS", edition)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rate-limit", Fault("rate-limit")),
        (" Server-Error:503 ", Fault("server-error", 503.0)),
        ("server-error", Fault("server-error", 500.0)),
        ("latency:1.5", Fault("latency", 1.5)),
    ],
)
def test_parse_fault(text: str, expected: Fault) -> None:
    """The accepted spellings."""
    assert parse_fault(text) == expected


@pytest.mark.parametrize(
    "text", ["", "boom", "server-error:418", "latency:x", "latency:-1", "latency:999", "retired:1"]
)
def test_parse_fault_rejects(text: str) -> None:
    """Anything else is a ValueError with the accepted forms (or the latency range)."""
    with pytest.raises(ValueError, match=r"fault|latency"):
        parse_fault(text)


def test_config_rejects_bad_values() -> None:
    """ServerConfig validates eagerly."""
    with pytest.raises(ValueError, match="unknown fault"):
        ServerConfig(faults=("nope",))
    with pytest.raises(ValueError, match="latency"):
        ServerConfig(latency=-1)
    with pytest.raises(ValueError, match="empty key"):
        ServerConfig(api_keys=("",))


def test_first_fault_wins_and_latency_alone_is_no_error() -> None:
    """Several faults: the first forcing one decides; latency alone forces nothing."""
    assert (
        fault_outcome(parse_faults("latency:0, credits, retired"), Edition.E2026_01).code
        == "ERROR_NOT_ENOUGH_CREDITS"
    )
    assert fault_outcome(parse_faults("latency:0"), Edition.E2026_01) is None
