"""TargetClient against hostile servers: bounded time, bounded memory, one clear line, no redirects."""

from __future__ import annotations

import time

import pytest

from conformance.client import BREAKER_THRESHOLD, ClientSettings, TargetClient, TargetGone, TargetUnreachable
from conformance.exchange import ApiRequest
from tests.factories import API_KEY
from tests.hostile import servers as zoo

TIMEOUT = 1.0
CAP = 4 * 1024 * 1024
SLACK = 2.0  # seconds of scheduling slack on a loaded 2-core machine


def client_for(url: str, *, verify: bool = True, cap: int = CAP) -> TargetClient:
    """A client with a short timeout and a small response cap."""
    return TargetClient(
        ClientSettings(base_url=url, api_key=API_KEY, timeout=TIMEOUT, max_response_bytes=cap, verify=verify)
    )


def probe() -> ApiRequest:
    """A request carrying the valid key."""
    return ApiRequest(description="a hostile-zoo probe")


def unreachable(url: str, **options: object) -> tuple[str, float]:
    """The one-line TargetUnreachable message and how long the client took to give up."""
    started = time.perf_counter()
    with client_for(url, **options) as client, pytest.raises(TargetUnreachable) as info:  # type: ignore[arg-type]
        client.send(probe())
    return str(info.value), time.perf_counter() - started


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        (zoo.silent, "timed out"),
        (zoo.slowloris, "timed out"),
        (zoo.header_trickle, "timed out"),
        (zoo.reset_mid_body, "failed"),
        (zoo.short_body, "failed"),
        (zoo.respond_once(zoo.HTTP09_GARBAGE), "failed"),
        (zoo.tls_alert, "failed"),
    ],
    ids=[
        "silent",
        "slowloris",
        "header-trickle",
        "reset-mid-body",
        "short-content-length",
        "http09-garbage",
        "tls-alert",
    ],
)
def test_broken_answers_give_one_line_within_the_timeout(behaviour: zoo.Behaviour, expected: str) -> None:
    with zoo.serve(behaviour) as server:
        message, took = unreachable(server.url)
    assert expected in message
    assert "\n" not in message
    assert API_KEY not in message
    assert took < TIMEOUT + SLACK


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "gzip, gzip"])
def test_compression_bomb_is_capped_on_the_decoded_size(encoding: str) -> None:
    """1 GiB of zeros in ~1 MiB (or ~2 KiB twice gzipped): the body stops at the cap, decoded."""
    with (
        zoo.serve(zoo.compression_bomb(encoding, 256 * 1024 * 1024)) as server,
        client_for(server.url) as client,
    ):
        exchange = client.send(probe())
    assert exchange.truncated
    assert len(exchange.body) == CAP
    assert exchange.body == bytes(CAP)  # decoded zeros, not the compressed bytes


def test_small_compressed_body_is_decoded_whole() -> None:
    body = zoo.error_envelope(400, "ERROR_PARAMETERS", "bad request")
    for encoding, packed in [("gzip", zoo.gzip.compress(body)), ("deflate", zoo.zlib.compress(body))]:
        response = zoo.head(Content_Encoding=encoding, Content_Length=len(packed)) + packed
        with zoo.serve(zoo.respond_once(response)) as server, client_for(server.url) as client:
            exchange = client.send(probe())
        assert exchange.body == body
        assert not exchange.truncated
        assert exchange.envelope is not None


def test_raw_deflate_without_zlib_header_is_accepted() -> None:
    body = b'{"request_id": "r"}'
    compressor = zoo.zlib.compressobj(6, zoo.zlib.DEFLATED, -zoo.zlib.MAX_WBITS)
    packed = compressor.compress(body) + compressor.flush()
    response = zoo.head(Content_Encoding="deflate", Content_Length=len(packed)) + packed
    with zoo.serve(zoo.respond_once(response)) as server, client_for(server.url) as client:
        assert client.send(probe()).body == body


def test_corrupt_gzip_is_unreachable_not_a_crash() -> None:
    response = zoo.head(Content_Encoding="gzip", Content_Length=20) + b"\x1f\x8b\x08\x00" + b"\xff" * 16
    with zoo.serve(zoo.respond_once(response)) as server:
        message, _ = unreachable(server.url)
    assert "corrupt" in message


def test_endless_and_huge_bodies_stop_at_the_cap() -> None:
    for behaviour in (zoo.endless_body, zoo.gigabyte_body, zoo.huge_json):
        with zoo.serve(behaviour) as server, client_for(server.url) as client:
            started = time.perf_counter()
            exchange = client.send(probe())
        assert exchange.truncated
        assert len(exchange.body) == CAP
        assert time.perf_counter() - started < TIMEOUT + SLACK


def test_redirect_is_not_followed_and_the_key_goes_nowhere_else() -> None:
    with zoo.serve(zoo.well_behaved_json) as elsewhere:
        for location in (f"{elsewhere.url}/steal", "file:///etc/passwd"):
            with zoo.serve(zoo.redirect(location)) as server, client_for(server.url) as client:
                exchange = client.send(probe())
            assert exchange.status == 302
            assert exchange.header("location") == location
        assert not zoo.wait_for(lambda: elsewhere.connections > 0, 0.3)
    with zoo.serve(zoo.redirect("/loop")) as server, client_for(server.url) as client:
        for _ in range(3):
            assert client.send(probe()).status == 302
        assert len(server.requests) == 3  # one request each: the loop is never entered


def test_invalid_utf8_json_and_html_are_exchanges_not_errors() -> None:
    for raw in (zoo.INVALID_UTF8, zoo.INVALID_JSON, zoo.HTML_ERROR):
        with zoo.serve(zoo.respond_once(raw)) as server, client_for(server.url) as client:
            exchange = client.send(probe())
        assert exchange.envelope is None


def test_breaker_opens_after_consecutive_failures_and_closes_on_an_answer() -> None:
    with zoo.serve(zoo.silent) as server, client_for(server.url) as client:
        for _ in range(BREAKER_THRESHOLD):
            with pytest.raises(TargetUnreachable) as info:
                client.send(probe())
            assert not isinstance(info.value, TargetGone)
        assert client.consecutive_failures == BREAKER_THRESHOLD
        connections = server.connections
        started = time.perf_counter()
        with pytest.raises(TargetGone, match="target stopped answering: 3 requests in a row"):
            client.send(probe())
        assert time.perf_counter() - started < 0.1
        assert server.connections == connections  # nothing more was sent
    with zoo.serve(zoo.dies_after(0)) as server, client_for(server.url) as client:
        with pytest.raises(TargetUnreachable):
            client.send(probe())
        assert client.consecutive_failures == 1
    with zoo.serve(zoo.well_behaved_json) as server, client_for(server.url) as client:
        client.send(probe())
        assert client.consecutive_failures == 0


def test_tls_to_a_plain_port_fails_with_one_line() -> None:
    with zoo.serve(zoo.plain_http_error) as server:
        message, took = unreachable(server.url.replace("http://", "https://"))
    assert "failed" in message
    assert "\n" not in message
    assert took < TIMEOUT + SLACK


def test_self_signed_certificate_is_refused_unless_insecure(self_signed: tuple[str, str]) -> None:
    context = zoo.self_signed_context(*self_signed)
    with zoo.serve(zoo.well_behaved_json, tls=context) as server:
        message, _ = unreachable(server.url)
        assert "CERTIFICATE_VERIFY_FAILED" in message
        assert "\n" not in message
        with client_for(server.url, verify=False) as client:
            assert client.send(probe()).status == 400


def test_key_is_in_no_repr_pytest_may_print() -> None:
    """pytest's long tracebacks print fixture arguments (settings, recorder, client settings)."""
    from conformance.engine import Recorder
    from conformance.redact import Redactor
    from tests.factories import settings

    client_settings = ClientSettings(base_url="http://127.0.0.1:9", api_key=API_KEY)
    recorder = Recorder(context=settings().check_context(), redactor=Redactor([API_KEY]))
    for shown in (repr(settings()), repr(client_settings), repr(recorder)):
        assert API_KEY not in shown
        assert any(field in shown for field in ("target_url", "base_url", "invalid_api_key"))
