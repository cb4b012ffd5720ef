"""The reference server: a real implementation of the retired Live Photos API (SPEC, issue 3)."""

from __future__ import annotations

from conformance.mock.app import create_app
from conformance.mock.config import ServerConfig
from conformance.mock.respx import respx_router

__all__ = ["ServerConfig", "create_app", "respx_router"]
