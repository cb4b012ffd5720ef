"""The validating recording proxy (issue 9): forwards traffic unchanged, judges every exchange with
the suite's checks, records cassettes and replays them. Usage: docs/proxy.md.

The names below load lazily so the command line's ``--help`` stays fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Mode", "ProxyConfig", "create_proxy_app", "create_replay_app"]


def __getattr__(name: str) -> Any:
    if name in ("Mode", "ProxyConfig"):
        from conformance.proxy import config

        return getattr(config, name)
    if name == "create_proxy_app":
        from conformance.proxy.app import create_proxy_app

        return create_proxy_app
    if name == "create_replay_app":
        from conformance.proxy.replay import create_replay_app

        return create_replay_app
    raise AttributeError(f"module 'conformance.proxy' has no attribute {name!r}")
