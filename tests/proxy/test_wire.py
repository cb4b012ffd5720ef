"""Wire helpers: hop-by-hop headers, content codings, failure codes; and the bounded totals."""

from __future__ import annotations

import gzip
import zlib

import httpx
import pytest

from conformance.proxy.config import ProxyConfig
from conformance.proxy.observe import KEPT_PER_OUTCOME
from conformance.proxy.runner import AppThread
from conformance.proxy.wire import ResponseTooLarge, classify_failure, decode_body, forwardable
from conformance.reports.json_report import validate_report_data
from tests.mock.samples import KEY
from tests.proxy.conftest import ENDPOINT, fixed_app, proxied


def test_forwardable_drops_hop_by_hop_and_connection_named_headers() -> None:
    raw = [
        (b"Host", b"a"),
        (b"Connection", b"close, X-Secret-Hop"),
        (b"x-secret-hop", b"1"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Expect", b"100-continue"),
        (b"X-Kept", b"2"),
        (b"X-Kept", b"3"),
    ]
    assert forwardable(raw, request=True) == [(b"X-Kept", b"2"), (b"X-Kept", b"3")]
    assert forwardable(raw, request=False) == [
        (b"Host", b"a"),
        (b"Expect", b"100-continue"),
        (b"X-Kept", b"2"),
        (b"X-Kept", b"3"),
    ]


def test_decode_body_handles_codings_within_the_limit() -> None:
    text = b'{"a": 1}' * 100
    assert decode_body(text, "", 10_000) is text
    assert decode_body(gzip.compress(text), "gzip", 10_000) == text
    assert decode_body(zlib.compress(text), "deflate", 10_000) == text
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert decode_body(raw_deflate.compress(text) + raw_deflate.flush(), "deflate", 10_000) == text
    assert decode_body(gzip.compress(text), "gzip", 100) is None  # over the limit once decoded
    assert decode_body(b"not gzip", "gzip", 10_000) is None
    assert decode_body(text, "br", 10_000) is None


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (httpx.ReadTimeout("slow"), "AI_SERVICE_TIMEOUT"),
        (httpx.ConnectTimeout("slow"), "AI_SERVICE_TIMEOUT"),
        (httpx.ConnectError("refused"), "ERROR_GATEWAY"),
        (httpx.RemoteProtocolError("garbage"), "ERROR_GATEWAY"),
        (httpx.ReadError("reset"), "ERROR_GATEWAY"),
        (ResponseTooLarge(), "ERROR_GATEWAY"),
        (RuntimeError("?"), "ERROR_GATEWAY"),
    ],
)
def test_failures_map_to_documented_codes(exc: Exception, code: str) -> None:
    assert classify_failure(exc, ProxyConfig(upstream="http://127.0.0.1:1"))[0] == code


def test_gzip_answers_are_judged_decoded_and_forwarded_as_sent() -> None:
    body = gzip.compress(b'{"request_id": "r", "log_id": "l", "error_code": 1}')
    app = fixed_app(body, **{"content-encoding": "gzip"})
    with AppThread(app) as upstream, proxied(upstream.url) as proxy:
        raw = httpx.post(
            proxy.url + ENDPOINT, content=b"x", headers={"ailabapi-api-key": KEY, "accept-encoding": "gzip"}
        )
        report = httpx.get(proxy.url + "/_livephoto/report").json()
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.content == gzip.decompress(body)  # httpx decoded what the proxy passed on untouched
    assert report["metrics"]["verdicts"] == {"fail": 1}
    env6 = next(c for c in report["clauses"] if c["id"] == "LP-ENV-6")  # LP-ENV-3 blocked by it (D-10)
    assert env6["verdict"] == "fail"


def test_totals_stay_bounded_and_the_report_is_valid() -> None:
    def varying(request: object) -> bytes:  # a distinct failure message per exchange
        number = request.headers["x-n"]  # type: ignore[attr-defined]
        return f'{{"request_id": "{number}", "log_id": "l", "error_code": {number}}}'.encode()

    count = KEPT_PER_OUTCOME + 10
    with AppThread(fixed_app(varying)) as upstream, proxied(upstream.url) as proxy, httpx.Client() as http:
        for number in range(1, count + 1):
            http.post(
                proxy.url + ENDPOINT, content=b"x", headers={"ailabapi-api-key": KEY, "x-n": str(number)}
            )
        report = http.get(proxy.url + "/_livephoto/report").json()
    validate_report_data(report)
    env6 = next(c for c in report["clauses"] if c["id"] == "LP-ENV-6")  # LP-ENV-3 blocked by it (D-10)
    assert len([c for c in env6["checks"] if c["verdict"] == "fail"]) == KEPT_PER_OUTCOME
    counted = {tuple(row[:4]): row[4] for row in report["metrics"]["outcomes"]}
    assert counted[("success_and_error_are_not_mixed", "LP-ENV-6", "MUST", "fail")] == count
    assert report["metrics"]["exchanges"] == count


@pytest.mark.parametrize(("count", "size"), [(2, 10**9), (16, 1)])
def test_pending_judgements_stay_within_count_and_bytes(count: int, size: int) -> None:
    """With judging slowed down, concurrent answers still all arrive, and no more exchanges (or
    bytes) than allowed ever wait to be judged at once (a single one always fits)."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from conformance.proxy.app import create_proxy_app

    seen: list[int] = []
    with AppThread(fixed_app(b'{"x": 1}')) as upstream:
        app = create_proxy_app(ProxyConfig(upstream=upstream.url, max_pending=count, max_pending_bytes=size))
        proxy = app.state.proxy
        judge = proxy.observer.judge
        lock = threading.Lock()

        def slow_judge(*args: object) -> object:
            with lock:
                seen.append(proxy._waiting)
            time.sleep(0.05)
            return judge(*args)

        proxy.observer.judge = slow_judge
        with AppThread(app) as running, ThreadPoolExecutor(6) as pool:
            answers = list(
                pool.map(lambda _: httpx.post(running.url + ENDPOINT, content=b"x", timeout=30), range(6))
            )
            report = httpx.get(running.url + "/_livephoto/report").json()
    assert [a.status_code for a in answers] == [200] * 6
    assert report["metrics"]["exchanges"] == 6
    assert max(seen) <= (1 if size == 1 else count)
