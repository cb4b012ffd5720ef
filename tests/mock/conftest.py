"""Fixtures: the reference server on a real socket (one per module and edition) and a client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from conformance.contract import Edition
from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from tests.mock.samples import KEY


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    """The reference server (edition 2026-01, the fault header allowed) in a background thread."""
    with ServerThread(ServerConfig(api_keys=(KEY,), allow_fault_header=True)) as running:
        yield running


@pytest.fixture(scope="module")
def server_2025() -> Iterator[ServerThread]:
    """The reference server in edition 2025-09, fault header off."""
    with ServerThread(ServerConfig(api_keys=(KEY,), edition=Edition.E2025_09)) as running:
        yield running


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    """An httpx client bound to the 2026-01 server."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http
