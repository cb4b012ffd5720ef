"""Hostile review item 2: enforce mode failed open. A violating 200 sent with ``Content-Encoding:
br``, an unknown coding, a corrupt gzip body or a gzip bomb was forwarded unchanged and logged
``unjudged``. Now what enforce mode cannot judge it withholds (502 ERROR_GATEWAY naming the
reason); br is decoded; every decoding is bounded by the response cap."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import brotli
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from conformance.proxy.runner import AppThread
from tests.mock.samples import KEY, face_small
from tests.proxy.conftest import proxied
from tests.security.conftest import ENDPOINT, assert_envelope

CAP = 1024 * 1024  # the proxy's response cap in these tests: a bomb decodes to 8 times more
VIOLATING = b'{"error_code": 0, "data": {}}'  # a 200 that is no envelope (LP-ENV-*), to a keyless request
ZEROS = bytes(8 * CAP)

# case → (body as sent, Content-Encoding, what the 502's message must name)
UNJUDGEABLE: dict[str, tuple[bytes, str, str]] = {
    "unknown coding": (VIOLATING, "zstd", "'zstd' is not one the proxy decodes"),
    "unknown after a known one": (gzip.compress(VIOLATING), "gzip, x-custom", "'x-custom'"),
    "corrupt gzip": (
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xffnot deflate at all",
        "gzip",
        "does not decode",
    ),
    "truncated gzip": (gzip.compress(VIOLATING)[:-12], "gzip", "truncated"),
    "gzip with trailing bytes": (gzip.compress(VIOLATING) + b"junk", "gzip", "after its end"),
    "corrupt br": (b"\xff\xfe not brotli", "br", "does not decode"),
    "truncated br": (brotli.compress(VIOLATING * 50)[:-3], "br", "truncated"),
    "gzip bomb": (gzip.compress(ZEROS, 9), "gzip", f"more than {CAP} bytes"),
    "br bomb": (brotli.compress(ZEROS), "br", f"more than {CAP} bytes"),
    "deflate bomb": (gzip.compress(ZEROS)[10:-8], "deflate", f"more than {CAP} bytes"),
}


@pytest.fixture(scope="module")
def conforming() -> tuple[int, bytes]:
    """A conforming answer to a keyless request: the reference server's own 401."""
    with ServerThread(ServerConfig(api_keys=(KEY,))) as reference:
        answer = httpx.post(reference.url + ENDPOINT, files=_files(), timeout=30)
    return answer.status_code, answer.content


@pytest.fixture(scope="module")
def upstream(conforming: tuple[int, bytes]) -> Iterator[AppThread]:
    """Answers with the case named by ``x-case``: an unjudgeable one, a br-coded violation, or the
    conforming 401 coded with br (the legitimate answer)."""
    status, envelope = conforming
    cases: dict[str, tuple[int, bytes, str]] = {
        name: (200, body, coding) for name, (body, coding, _) in UNJUDGEABLE.items()
    }
    cases["br violation"] = (200, brotli.compress(VIOLATING), "br")
    cases["gzip then br violation"] = (200, brotli.compress(gzip.compress(VIOLATING)), "gzip, br")
    cases["br conforming"] = (status, brotli.compress(envelope), "br")

    async def answer(request: Request) -> Response:
        await request.body()
        code, body, coding = cases[request.headers["x-case"]]
        headers = {"content-type": "application/json", "content-encoding": coding}
        return Response(body, status_code=code, headers=headers)

    running = AppThread(Starlette(routes=[Route(ENDPOINT, answer, methods=["POST"])]))
    with running:
        yield running


def _files() -> dict[str, tuple[str, bytes, str]]:
    return {"image_target": ("face.png", face_small(), "image/png")}


def _post(url: str, case: str) -> httpx.Response:
    # No key: the request breaks LP-ERR-1 alone, so the answer is judged against it. httpx must not
    # decode the answer: the raw bytes are compared.
    return httpx.post(url + ENDPOINT, files=_files(), headers={"x-case": case, "accept-encoding": "identity"})


def test_enforce_withholds_what_it_cannot_judge(upstream: AppThread, conforming: tuple[int, bytes]) -> None:
    with proxied(upstream.url, mode="enforce", max_response_body=CAP) as proxy:
        for case, (_, _, reason) in UNJUDGEABLE.items():
            answer = _post(proxy.url, case)
            assert_envelope(answer.status_code, answer.json(), 502, "ERROR_GATEWAY")
            message = answer.json()["error_detail"]["message"]
            assert "could not be judged" in message, case
            assert reason in message, (case, message)
            assert answer.headers["x-livephoto-proxy"] == "enforced"
        for case in ("br violation", "gzip then br violation"):  # decoded, judged, withheld for its clauses
            answer = _post(proxy.url, case)
            assert_envelope(answer.status_code, answer.json(), 502, "ERROR_GATEWAY")
            assert "violates LP-" in answer.json()["error_detail"]["message"], case

        # The legitimate answer, br-coded, passes unchanged.
        with httpx.Client() as raw:
            request = raw.build_request(
                "POST", proxy.url + ENDPOINT, files=_files(), headers={"x-case": "br conforming"}
            )
            passed = raw.send(request, stream=True)
            body = b"".join(passed.iter_raw())
        assert (passed.status_code, passed.headers["content-encoding"]) == (conforming[0], "br")
        assert brotli.decompress(body) == conforming[1]
        assert "x-livephoto-proxy" not in passed.headers
        report = httpx.get(proxy.url + "/_livephoto/report").json()
    assert report["metrics"]["enforced"] == len(UNJUDGEABLE) + 2
    assert sum(report["metrics"]["undecodable"].values()) == len(UNJUDGEABLE)


def test_observe_forwards_them_unchanged_and_counts_them(upstream: AppThread) -> None:
    """Observe mode never changes traffic: the same answers go through as sent, counted unjudged."""
    with proxied(upstream.url, mode="observe", max_response_body=CAP) as proxy, httpx.Client() as raw:
        for case, (sent, coding, _) in UNJUDGEABLE.items():
            request = raw.build_request(
                "POST", proxy.url + ENDPOINT, files=_files(), headers={"x-case": case}
            )
            answer = raw.send(request, stream=True)
            assert (answer.status_code, b"".join(answer.iter_raw())) == (200, sent), case
            assert answer.headers["content-encoding"] == coding
        report = raw.get(proxy.url + "/_livephoto/report").json()
    assert report["metrics"]["verdicts"]["unjudged"] == len(UNJUDGEABLE)
    assert sum(report["metrics"]["undecodable"].values()) == len(UNJUDGEABLE)
