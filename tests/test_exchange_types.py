"""The typed seams of an exchange: lazily computed fields, the memo, and the summaries reports keep."""

from __future__ import annotations

import json
from dataclasses import replace

from conformance.exchange import NOT_JSON, ApiRequest, Exchange, ImageInfo, Key, MemoKey, Part
from conformance.verdicts import Evidence

REQUEST = ApiRequest(
    "a PNG, type 1",
    parts=(Part("image_target", b"\x89PNG" + b"0" * 100, "face.png", "image/png"), Part("type", b"1")),
    key=Key.INVALID,
    headers=(("x-extra", "1"),),
    image=ImageInfo("PNG", 64, 48, 104),
)


def _exchange(body: bytes, status: int = 400) -> Exchange:
    return Exchange(
        REQUEST, "http://127.0.0.1:9/x", status, [("content-type", "application/json")], body, 0.0123
    )


def test_json_and_schema_errors_are_computed_once_and_not_carried_by_replace() -> None:
    exchange = _exchange(b'{"error_code": "x"}')
    assert exchange.json is exchange.json  # parsed once
    assert exchange.schema_errors and exchange.schema_errors is exchange.schema_errors
    swapped = replace(exchange, body=b"not json")  # the proxy's decoded body: judged afresh
    assert swapped.json is NOT_JSON and swapped.envelope is None and swapped.schema_errors == ()


def test_the_memo_computes_each_key_once_and_replace_starts_empty() -> None:
    calls: list[int] = []
    key: MemoKey[int] = MemoKey("answer")
    exchange = _exchange(b"{}")
    assert exchange.memo.get(key, lambda: calls.append(1) or 42) == 42
    assert exchange.memo.get(key, lambda: calls.append(1) or 0) == 42 and calls == [1]
    assert key in exchange.memo and key not in replace(exchange, status=500).memo


def test_evidence_keeps_the_json_shape_reports_have() -> None:
    exchange = _exchange(b'{"error_code": 1}')
    evidence = Evidence(exchange.request.summary(), exchange.summary(), curl=exchange.curl())
    data = evidence.as_dict()
    assert data["request"] == {
        "description": "a PNG, type 1",
        "method": "POST",
        "path": "/api/portrait/effects/live-photo",
        "api_key": "invalid",
        "parts": [
            {"name": "image_target", "bytes": 104, "filename": "face.png", "content_type": "image/png"},
            {"name": "type", "bytes": 1, "value": "1"},
        ],
        "headers": {"x-extra": "1"},
        "image": {"format": "PNG", "width": 64, "height": 48, "bytes": 104},
    }
    assert data["response"] == {
        "status": 400,
        "headers": {"content-type": "application/json"},
        "body_excerpt": '{"error_code": 1}',
        "bytes": 17,
        "truncated": False,
        "elapsed_ms": 12.3,
    }
    back = Evidence.from_dict(json.loads(json.dumps(data)))  # as the recorder rebuilds it, redacted
    assert back == evidence and back.as_dict() == data
    assert Evidence().as_dict()["request"] == {} and Evidence.from_dict(Evidence().as_dict()) == Evidence()


def test_the_curl_of_an_exchange_sends_its_configured_invalid_key() -> None:
    """Regression (issue 16): the printed curl sent ``invalid-key-for-conformance`` whatever
    ``--invalid-api-key`` said."""
    exchange = replace(_exchange(b"{}"), invalid_api_key="my-configured-bad-key")
    assert "ailabapi-api-key: my-configured-bad-key" in exchange.curl()
    assert "invalid-key-for-conformance" not in exchange.curl()
