"""Builders for exchanges and settings used by the project's own tests (no network)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.check_context import CheckContext
from conformance.contract import Edition, error_codes
from conformance.exchange import ApiRequest, Exchange, ImageInfo, Key, Part
from conformance.settings import Settings
from conformance.verdicts import Blocked, NotApplicable, Violation

API_KEY = "sk-test-SECRET-0123456789"
VIDEO_B64 = "AAAAGGZ0eXBpc29tAAACAGlzb21pc28y"


def settings(tmp: Path | None = None, **changes: Any) -> Settings:
    """Settings for check tests."""
    base = Settings(target_url="http://127.0.0.1:9", api_key=API_KEY, edition=Edition.ANY)
    if tmp is not None:
        base = base.with_changes(artefacts_dir=tmp)
    return base.with_changes(**changes)


def context(tmp: Path | None = None, **changes: Any) -> CheckContext:
    """The check context of ``settings(tmp, **changes)``: what checks receive."""
    return settings(tmp, **changes).check_context()


def request(description: str = "a face photo", **changes: Any) -> ApiRequest:
    """A valid-looking request (no real image needed by most checks)."""
    fields: dict[str, Any] = {
        "description": description,
        "parts": (Part("image_target", b"\xff\xd8\xff", "photo.jpg", "image/jpeg"),),
        "image": ImageInfo("JPEG", 512, 512, 3, True),
    }
    fields.update(changes)
    return ApiRequest(**fields)


def success_body(**changes: Any) -> dict[str, Any]:
    """A conforming success envelope."""
    body: dict[str, Any] = {
        "request_id": "req-1",
        "log_id": "log-1",
        "error_code": 0,
        "error_msg": "",
        "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""},
        "data": {"video": VIDEO_B64},
    }
    body.update(changes)
    return body


def error_body(status: int, code: str, **changes: Any) -> dict[str, Any]:
    """A conforming error envelope."""
    body: dict[str, Any] = {
        "request_id": "req-2",
        "log_id": "log-2",
        "error_code": status,
        "error_msg": "failed",
        "error_detail": {
            "status_code": status,
            "code": code,
            "code_message": error_codes()[code].code_message if code in error_codes() else "x",
            "message": "explanation",
        },
    }
    body.update(changes)
    return body


def exchange(
    status: int = 200,
    body: dict[str, Any] | bytes | None = None,
    *,
    headers: list[tuple[str, str]] | None = None,
    api_request: ApiRequest | None = None,
    elapsed: float = 0.1,
) -> Exchange:
    """An exchange as the client would return it."""
    if body is None:
        body = success_body()
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Exchange(
        request=api_request or request(),
        url="http://127.0.0.1:9/api/portrait/effects/live-photo",
        status=status,
        headers=headers if headers is not None else [("content-type", "application/json")],
        body=raw,
        elapsed=elapsed,
    )


def mutate(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of body with a dotted path set (value ``...`` deletes it)."""
    out = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = out
    for name in parents:
        node = node[name]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return out


def outcome(check: Any, *args: Any) -> str:
    """'pass', 'skip', 'blocked' or the clause id of the Violation the check raises."""
    try:
        check(*args)
    except Violation as violation:
        return violation.clause
    except Blocked:
        return "blocked"
    except NotApplicable:
        return "skip"
    return "pass"


def assert_fails(check: Any, clause: str, *args: Any) -> Violation:
    """The check raises a Violation of ``clause``; returns it."""
    with pytest.raises(Violation) as info:
        check(*args)
    assert info.value.clause == clause
    return info.value


__all__ = ["API_KEY", "Key"]
