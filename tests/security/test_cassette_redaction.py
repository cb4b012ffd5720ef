"""Hostile review item 7: the key survived in cassettes. A key echoed inside a gzip-encoded body was
stored compressed, in clear; text fields over 64 KiB were stored raw; Authorization, Cookie and
Proxy-Authorization were recorded verbatim; a percent-encoded key (``%2D``) was kept. Now a coded
body is decoded (bounded) before redaction and stored decoded without its Content-Encoding (VCR.py's
``decode_compressed_response``); a coding the proxy cannot decode is withheld; every blob is
redacted; credential headers are ``***`` unless ``--keep-header`` keeps one (VCR.py's
``filter_headers``), and their values are masked wherever else they appear. Every attack runs
through the real proxy on a real socket; replay then serves the recording."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import urllib.parse
import zlib
from pathlib import Path

import brotli
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.cli import build_parser
from conformance.proxy.cassette import BLOB_DIR, load_cassettes
from conformance.proxy.replay import create_replay_app
from conformance.proxy.runner import AppThread
from conformance.redact import Redactor, key_forms
from tests.mock.samples import face_jpeg, face_small
from tests.proxy.conftest import proxied
from tests.security.conftest import ENDPOINT
from tests.security.test_key_forms import ECHOES

KEY = "sk-live/Key+=0123456789abcdef"
TOKEN = "tok_0123456789ABCDEFghij"  # Authorization: Bearer …
SESSION = "sess_abcdefghijKLMNOPQRST"  # Cookie: session=…
UPSTREAM_SESSION = "upst_9876543210zyxwvuts"  # Set-Cookie from the upstream
PROXY_CREDENTIALS = "Basic " + base64.b64encode(b"proxyuser:proxy-secret-pw").decode()
SECRETS = [KEY, TOKEN, SESSION, UPSTREAM_SESSION, PROXY_CREDENTIALS]
VIDEO = b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 4


def _compress(body: bytes, coding: str) -> bytes:
    for step in [c.strip() for c in coding.split(",")]:
        if step == "gzip":
            body = gzip.compress(body)
        elif step == "deflate":
            body = zlib.compress(body)
        elif step == "br":
            body = brotli.compress(body)
        elif step == "corrupt-gzip":
            body = gzip.compress(body)[:-12] + b"garbage-tail"
    return body


def upstream_app() -> Starlette:
    """Echoes the request's key (``?form=`` one of ECHOES), its bearer token and its session
    cookie in an error envelope, compressed as ``?coding=`` says; ``?kind=big`` answers 100 KiB of
    text, ``?kind=video`` a success whose video bytes hold the key. Always sets a session cookie."""

    async def answer(request: Request) -> Response:
        await request.body()
        query = request.query_params
        key = request.headers.get("ailabapi-api-key", "")
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        session = request.cookies.get("session", "")
        echoed = ECHOES[query.get("form", "plain")](key)
        if query.get("kind") == "big":
            body = ("x" * 50_000 + f" key={echoed} token={token} " + "y" * 50_000).encode()
        elif query.get("kind") == "video":
            video = base64.b64encode(VIDEO + key.encode() + VIDEO).decode()
            body = json.dumps({"request_id": "r", "error_code": 0, "data": {"video": video}}).encode()
        else:
            text = json.dumps({"error_code": 401, "error_msg": "@@", "error_detail": {"code": "X"}})
            body = text.replace("@@", f"unknown key {echoed}, token {token}, cookie {session}").encode()
        headers = {"content-type": "application/json", "set-cookie": f"sid={UPSTREAM_SESSION}; HttpOnly"}
        coding = query.get("coding", "")
        if coding:
            body = _compress(body, coding)
            headers["content-encoding"] = coding.replace("corrupt-gzip", "gzip")
        return Response(body, status_code=200 if query.get("kind") == "video" else 401, headers=headers)

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


def send(url: str, query: str, image: bytes | None = None, **fields: str) -> httpx.Response:
    headers = {
        "ailabapi-api-key": KEY,
        "authorization": f"Bearer {TOKEN}",
        "cookie": f"session={SESSION}; theme=dark",
        "proxy-authorization": PROXY_CREDENTIALS,
    }
    files = {"image_target": ("face.png", image or face_small(), "image/png")}
    return httpx.post(f"{url}{ENDPOINT}?{query}", files=files, data=fields, headers=headers, timeout=60)


def assert_nothing_leaks(record: Path, echoed: list[str]) -> None:
    """No file of the recording holds a secret in any form, also once gunzipped."""
    redactor = Redactor(SECRETS)
    literal = {form.encode() for secret in SECRETS for form in key_forms(secret)}
    literal |= {text.encode() for text in echoed}
    files = [path for path in record.rglob("*") if path.is_file()]
    assert len(files) > 3
    for path in files:
        content = path.read_bytes()
        views = [content]
        if content[:2] == b"\x1f\x8b":
            views.append(zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(content, 1 << 26))
        for view in views:
            found = [form for form in literal if form in view]
            assert not found, f"{path.relative_to(record)} holds {found[0]!r}"
            assert redactor.find_bytes(view) is None, (
                f"{path.relative_to(record)}: {redactor.find_bytes(view)}"
            )


ATTACKS = [
    ("coding=gzip&form=plain", "gzip"),
    ("coding=gzip&form=json-unicode-every-char", "gzip"),
    ("coding=deflate&form=percent-lower", "deflate"),
    ("coding=br&form=percent-mixed-partial", "br"),
    ("coding=gzip, gzip&form=json-solidus", "gzip, gzip"),
    ("kind=big&form=percent-upper-every-byte", None),
    ("kind=big&coding=gzip&form=base64", "gzip"),
    ("form=html-references", None),
    ("form=hex", None),
]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[httpx.Response]]:
    record = tmp_path_factory.mktemp("cassettes")
    answers = []
    with AppThread(upstream_app()) as upstream, proxied(upstream.url, record_dir=record) as proxy:
        for query, _ in ATTACKS:
            answers.append(send(proxy.url, urllib.parse.quote(query, safe="=&")))
        answers.append(send(proxy.url, "kind=video", image=face_jpeg()))
        # request side: a 100 KiB text field and an image holding the key (a client's upload)
        long_field = "z" * 70_000 + ECHOES["percent-lower"](KEY) + "z" * 30_000
        answers.append(send(proxy.url, "form=plain", image=face_small() + KEY.encode(), note=long_field))
        answers.append(send(proxy.url, "coding=compress"))  # a coding the proxy does not decode
        with pytest.raises(httpx.DecodingError):  # the client cannot decode it either
            send(proxy.url, "coding=corrupt-gzip")
        answers.append(httpx.Response(401))
        path = f"/v1/x?k={ECHOES['percent-lower'](KEY)}&j={ECHOES['percent-mixed-partial'](KEY)}"
        answers.append(httpx.get(proxy.url + path, headers={"ailabapi-api-key": KEY}, timeout=60))
        assert httpx.get(proxy.url + "/_livephoto/report", timeout=60).status_code == 200
    return record, answers


def test_no_form_of_any_secret_is_in_the_cassettes(recorded: tuple[Path, list[httpx.Response]]) -> None:
    record, answers = recorded
    assert KEY in answers[0].text  # observe mode: the client got the echo (LP-SEC-1 fails)
    echoed = [ECHOES[name](KEY) for name in ECHOES if ECHOES[name](KEY) != KEY] + [KEY]
    assert_nothing_leaks(record, echoed)


def test_coded_bodies_are_stored_decoded_and_replayed(recorded: tuple[Path, list[httpx.Response]]) -> None:
    record, answers = recorded
    entries = load_cassettes(record)  # the schema accepts what the writer wrote
    assert len(entries) == len(answers)
    for entry, (_, coding) in zip(entries, ATTACKS, strict=False):
        response = entry.response
        names = [name.lower() for name, _ in response.headers]
        assert "content-encoding" not in names
        assert response.decoded_from == coding
        text = response.body or (record / BLOB_DIR / str(response.body_sha256)).read_text()
        assert "***" in text  # what the body said, with the key masked
    withheld = entries[-3:-1]
    for entry in withheld:
        assert entry.response.body is None and entry.response.body_sha256 is None
        assert "not recorded" in str(entry.response.withheld)
    assert "compress" in str(withheld[0].response.withheld)
    with AppThread(create_replay_app(record)) as replay:
        video = send(replay.url, "", image=face_jpeg())
        assert video.status_code == 200 and "content-encoding" not in video.headers
        served = base64.b64decode(video.json()["data"]["video"])
        assert served.startswith(VIDEO) and served.endswith(VIDEO) and KEY.encode() not in served


def test_credential_headers_are_filtered_and_their_values_masked_elsewhere(
    recorded: tuple[Path, list[httpx.Response]],
) -> None:
    record, _ = recorded
    entry = load_cassettes(record)[0]
    request = {name.lower(): value for name, value in entry.request.headers}
    for name in ("ailabapi-api-key", "authorization", "cookie", "proxy-authorization"):
        assert request[name] == "***", name
    response = {name.lower(): value for name, value in entry.response.headers}
    assert response["set-cookie"] == "***"
    body = str(entry.response.body)
    assert "token ***" in body and "cookie ***" in body


def test_request_blobs_are_redacted(recorded: tuple[Path, list[httpx.Response]]) -> None:
    record, _ = recorded
    entry = load_cassettes(record)[len(ATTACKS) + 1]
    parts = {part.name: part for part in entry.request.parts}
    assert parts["note"].value is None  # over the inline limit: a blob, redacted
    assert b"***" in (record / BLOB_DIR / str(parts["note"].sha256)).read_bytes()
    image = (record / BLOB_DIR / str(parts["image_target"].sha256)).read_bytes()
    assert image == face_small() + b"***"
    # matching still uses the SHA-256 of the image as sent
    assert entry.request.image_sha256 == hashlib.sha256(face_small() + KEY.encode()).hexdigest()


def test_keep_header_keeps_one_credential_header(tmp_path: Path) -> None:
    record = tmp_path / "record"
    with (
        AppThread(upstream_app()) as upstream,
        proxied(upstream.url, record_dir=record, keep_headers=("authorization",)) as proxy,
    ):
        send(proxy.url, "form=plain")
        httpx.get(proxy.url + "/_livephoto/report", timeout=60)
    entry = load_cassettes(record)[0]
    request = {name.lower(): value for name, value in entry.request.headers}
    assert request["authorization"] == f"Bearer {TOKEN}"  # kept, as asked
    assert request["cookie"] == "***" and request["ailabapi-api-key"] == "***"
    assert KEY not in json.dumps(entry.as_dict())


def test_keep_header_on_the_command_line() -> None:
    parser = build_parser()
    args = parser.parse_args(
        [
            "proxy",
            "--upstream",
            "http://127.0.0.1:9",
            "--keep-header",
            "Authorization",
            "--keep-header",
            "cookie",
        ]
    )
    assert args.keep_header == ["authorization", "cookie"]


def test_keep_header_refuses_a_header_that_is_not_filtered(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(
            ["proxy", "--upstream", "http://127.0.0.1:9", "--keep-header", "authorisation"]
        )
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--keep-header takes a credential header" in err and "Traceback" not in err
