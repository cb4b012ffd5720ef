"""Hostile review item 14: escaped forms of the key were missed. A target that echoed the key
JSON-escaped (``\\/``, ``\\u003d``) or percent-encoded in lower case passed LP-SEC-1, and those
forms reached the terminal, report.html, report.json and junit.xml. Now every form a server or a
framework writes is found (LP-SEC-1) and masked (conformance.redact): as sent; JSON-escaped (any
``\\uXXXX``, ``\\/``, escaped twice); percent-encoded in either case, mixed, partial, twice, ``+``
for a space; HTML references; base64/base64url at any alignment; hex; inside a gzip body, declared
or not. Each form is echoed by a real server on 127.0.0.1 and read by the suite's client."""

from __future__ import annotations

import base64
import gzip
import html
import json
import urllib.parse
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conformance.checks import security
from conformance.client import ClientSettings, TargetClient
from conformance.engine import Recorder
from conformance.exchange import ApiRequest
from conformance.redact import MASK, Redactor, key_forms
from conformance.reports import write_reports
from conformance.reports.model import aggregate
from conformance.verdicts import Verdict
from tests import factories
from tests.hostile import servers as zoo

KEY = "sk-live/Key+=0123456789abcdef"  # '-', '/', '+' and '=' are escaped differently everywhere
SPACED = "sk live 0123 4567 89ab"  # form-encoding writes its spaces as '+'


def _percent(text: str, *, upper: bool, every: bool = False) -> str:
    """Percent-encoding with lower- or upper-case hex; ``every``: unreserved characters too."""
    if every:
        return "".join(f"%{b:02X}" if upper else f"%{b:02x}" for b in text.encode())
    return _hex_case(urllib.parse.quote(text, safe=""), upper)


def _hex_case(encoded: str, upper: bool) -> str:
    out, index = [], 0
    while index < len(encoded):
        if encoded[index] == "%":
            digits = encoded[index + 1 : index + 3]
            out.append("%" + (digits.upper() if upper else digits.lower()))
            index += 3
        else:
            out.append(encoded[index])
            index += 1
    return "".join(out)


# form name → how a server writes the key in its JSON error message (the body is JSON text)
ECHOES: dict[str, Callable[[str], str]] = {
    "plain": lambda k: k,
    "json-solidus": lambda k: k.replace("/", "\\/"),
    "json-unicode-every-char": lambda k: "".join(f"\\u{ord(c):04X}" for c in k),
    "json-unicode-some-chars": lambda k: k.replace("=", "\\u003d").replace("-", "\\u002D"),
    "json-escaped-twice": lambda k: json.dumps(json.dumps({"key": k}).replace("/", "\\/"))[1:-1],
    "percent-lower": lambda k: _percent(k, upper=False),
    "percent-upper-every-byte": lambda k: _percent(k, upper=True, every=True),
    "percent-mixed-partial": lambda k: "".join(
        f"%{ord(c):02{'x' if i % 2 else 'X'}}" if i % 3 == 0 else c for i, c in enumerate(k)
    ),
    "percent-twice": lambda k: urllib.parse.quote(urllib.parse.quote(k, safe=""), safe=""),
    "form-encoded": lambda k: urllib.parse.urlencode({"key": k}),
    "html-references": lambda k: "".join(
        f"&#{ord(c)};" if i % 2 else f"&#x{ord(c):x};" for i, c in enumerate(k)
    ),
    "html-named": lambda k: k.replace("/", "&sol;").replace("+", "&plus;").replace("=", "&equals;"),
    "base64": lambda k: base64.b64encode(k.encode()).decode(),
    "base64url-inside-longer-text": lambda k: (
        base64.urlsafe_b64encode(f"Bearer {k}!".encode()).decode().rstrip("=")
    ),
    "base64-json-escaped": lambda k: base64.b64encode(f"xy{k}".encode()).decode().replace("/", "\\/"),
    "hex": lambda k: k.encode().hex(),
}


def echo_server(form: Callable[[str], str], *, coding: str = "", status: int = 401) -> zoo.Behaviour:
    """A target that answers an error (401 by default, or 400 ERROR_PARAMETERS) with the request's
    key in ``form`` inside ``error_msg`` (as JSON text, the form's backslashes kept), optionally
    compressed (``gzip``, ``deflate``, or ``gzip-undeclared``: a gzip body without
    Content-Encoding)."""
    code, line = (
        ("ERROR_USER_NOT_EXISTS", "401 Unauthorized")
        if status == 401
        else ("ERROR_PARAMETERS", "400 Bad Request")
    )

    def behaviour(conn: zoo.Connection) -> None:
        request = conn.read_request()
        if request is None:
            return
        key = request.headers.get("ailabapi-api-key", "")
        envelope = zoo.error_envelope(status, code, "@@ECHO@@").decode()
        body = envelope.replace("@@ECHO@@", "unknown key " + form(key)).encode()
        if coding == "gzip":
            conn.send(zoo.answer(gzip.compress(body), status=line, Content_Encoding="gzip"))
        elif coding == "deflate":
            conn.send(zoo.answer(zlib.compress(body), status=line, Content_Encoding="deflate"))
        elif coding == "gzip-undeclared":
            conn.send(zoo.answer(gzip.compress(body), status=line, content_type="application/gzip"))
        else:
            conn.send(zoo.answer(body, status=line))

    return behaviour


def judge_echo(behaviour: zoo.Behaviour, key: str, tmp_path: Path) -> tuple[str, list[Path], bytes]:
    """Run LP-SEC-1 on the target's real answer; the violation as pytest prints it, the report
    files written from the recorded results, and the body as received."""
    with zoo.serve(behaviour) as server:
        client_settings = ClientSettings(base_url=server.url, api_key=key, timeout=5.0)
        with TargetClient(client_settings) as client:
            exchange = client.send(ApiRequest(description="an LP-SEC-1 probe"))
    recorder = Recorder(context=factories.settings(api_key=key).check_context(), redactor=Redactor([key]))
    violation = recorder.run(security.api_key_is_not_echoed, exchange)
    assert violation is not None, f"LP-SEC-1 missed the echo in {exchange.body[:300]!r}"
    assert violation.clause == "LP-SEC-1"
    report = aggregate(recorder.results, target_url=server.url, config={"api_key": "***"})
    written = write_reports(
        report,
        json=tmp_path / "report.json",
        html=tmp_path / "report.html",
        md=tmp_path / "report.md",
        junit=tmp_path / "junit.xml",
        redactor=Redactor([key]),
    )
    shown = str(violation) + repr(recorder.results)
    return shown, written, exchange.body


def assert_masked(text: str, key: str, echoed: str, where: str) -> None:
    """Neither the key's forms nor the form the target used appear; the redactor finds none."""
    assert echoed not in text, f"{where} shows the echoed form {echoed!r}"
    leaked = [form for form in key_forms(key) if form in text]
    assert not leaked, f"{where} shows {leaked[0]!r}"
    assert Redactor([key]).find(text) is None, where


@pytest.mark.parametrize("form", list(ECHOES), ids=list(ECHOES))
def test_each_form_of_the_key_is_lp_sec_1_and_masked_in_every_output(form: str, tmp_path: Path) -> None:
    shown, written, body = judge_echo(echo_server(ECHOES[form]), KEY, tmp_path)
    echoed = ECHOES[form](KEY)
    assert echoed.encode() in body  # the target really sent that form
    assert "API key" in shown and MASK in shown
    assert_masked(shown, KEY, echoed, "the violation")
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert_masked(text, KEY, echoed, path.name)
        assert html.unescape(echoed) not in html.unescape(text), path.name


@pytest.mark.parametrize("form", ["percent-lower", "form-encoded", "json-unicode-every-char"])
def test_a_key_with_spaces_is_found_in_every_form(form: str, tmp_path: Path) -> None:
    """``+`` for a space (form-encoding), ``%20`` and ``\\u0020``."""
    shown, written, _ = judge_echo(echo_server(ECHOES[form]), SPACED, tmp_path)
    for text in [shown, *(path.read_text(encoding="utf-8") for path in written)]:
        assert_masked(text, SPACED, ECHOES[form](SPACED), "output")


@pytest.mark.parametrize("coding", ["gzip", "deflate", "gzip-undeclared"])
def test_the_key_inside_a_compressed_body_is_lp_sec_1(coding: str, tmp_path: Path) -> None:
    shown, written, _ = judge_echo(echo_server(ECHOES["json-solidus"], coding=coding), KEY, tmp_path)
    if coding == "gzip-undeclared":
        assert "compressed" in shown  # found inside the gzip stream the client did not decode
    for text in [shown, *(path.read_text(encoding="utf-8") for path in written)]:
        assert_masked(text, KEY, ECHOES["json-solidus"](KEY), "output")


def test_a_target_that_never_echoes_passes(tmp_path: Path) -> None:
    """No false alarm on an answer that holds ordinary escapes, base64 and hex."""
    video = base64.b64encode(bytes(range(256)) * 400).decode()

    def behaviour(conn: zoo.Connection) -> None:
        if conn.read_request() is not None:
            body = {"error_msg": "caf\\u00e9 %2Fpath &amp; 0123456789abcdef", "data": {"video": video}}
            conn.send(zoo.answer(json.dumps(body).encode()))

    with (
        zoo.serve(behaviour) as server,
        TargetClient(ClientSettings(base_url=server.url, api_key=KEY)) as client,
    ):
        exchange = client.send(ApiRequest(description="a probe"))
    recorder = Recorder(context=factories.settings(api_key=KEY).check_context(), redactor=Redactor([KEY]))
    assert recorder.run(security.api_key_is_not_echoed, exchange) is None


# ---------------------------------------------------------------- the redactor, any key, any mix

KEY_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]) | st.sampled_from("-/+=%&\\\"' ")
ENCODINGS = ["raw", "json", "json-upper", "percent", "percent-upper", "html", "html-hex", "plus"]
STARTERS = "%&\\+"  # escapes start with these: every encoder escapes them (a raw "%41" is not "%41")


def _encode_char(char: str, how: str) -> str:
    code, utf8 = ord(char), char.encode()
    if how == "raw" and char not in STARTERS:
        return char
    if how.startswith("json"):
        units = char.encode("utf-16-be")
        escaped = "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
        return escaped.upper().replace("\\U", "\\u") if how == "json-upper" else escaped
    if how == "plus" and char == " ":
        return "+"
    if how.startswith("html"):
        return f"&#{code};" if how == "html" else f"&#x{code:X};"
    return "".join(f"%{b:02X}" if how == "percent-upper" else f"%{b:02x}" for b in utf8)


def _layer(echoed: str, how: str) -> str:
    """A second layer over the whole echo: percent-encoded or JSON-escaped again."""
    if how == "percent":
        return urllib.parse.quote(echoed, safe="")
    if how == "json":
        return json.dumps(echoed)[1:-1].replace("/", "\\/")
    return echoed


KEYS = st.text(KEY_CHARS, min_size=8, max_size=32).filter(lambda k: k.strip() == k)
MIXES = st.lists(st.sampled_from(ENCODINGS), min_size=32, max_size=32)
LAYERS = st.sampled_from(["none", "percent", "json"])
AROUND = st.text(st.sampled_from('abc {}":,\\/%&#;+0123456789'), max_size=20)


def _found_and_masked_in_place(key: str, choices: list[str], layer: str, before: str, after: str) -> None:
    echoed = _layer("".join(_encode_char(char, how) for char, how in zip(key, choices, strict=False)), layer)
    text = f"<{before}|{echoed}|{after}>"
    redactor = Redactor([key])
    assume(redactor.find(before) is None and redactor.find(after) is None)  # only the echo holds it
    assert redactor.find(text) is not None, text
    masked = redactor.text(text)
    assert redactor.find(masked) is None
    assert masked != MASK, f"masked whole, not in place: {text!r}"
    assert masked.startswith(f"<{before}|") and masked.endswith(f"|{after}>"), masked


@settings(max_examples=150, deadline=None)
@given(key=KEYS, choices=MIXES, layer=LAYERS, before=AROUND, after=AROUND)
def test_any_key_in_any_mix_of_escapes_is_found_and_masked_in_place(
    key: str, choices: list[str], layer: str, before: str, after: str
) -> None:
    _found_and_masked_in_place(key, choices, layer, before, after)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(key=KEYS, choices=MIXES, layer=LAYERS, before=AROUND, after=AROUND)
def test_many_keys_in_any_mix_of_escapes(
    key: str, choices: list[str], layer: str, before: str, after: str
) -> None:
    _found_and_masked_in_place(key, choices, layer, before, after)


def test_bytes_are_masked_byte_for_byte_elsewhere() -> None:
    """Cassette blobs: the key masked in binary content, every other byte kept; a key inside a
    compressed stream (which masking cannot reach) makes the whole blob ``***``."""
    redactor = Redactor([KEY])
    image = (
        b"\x89PNG\r\n\x1a\n"
        + bytes(range(256))
        + KEY.encode()
        + b"\xff\x00"
        + _percent(KEY, upper=False).encode()
    )
    masked = redactor.data(image)
    assert masked == b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"***\xff\x00***"
    assert redactor.data(gzip.compress(KEY.encode() * 3)) == MASK.encode()
    untouched = gzip.compress(b"no secret here")
    assert redactor.data(untouched) is untouched


# ---------------------------------------------------------------- the whole suite, every output

SUITE_FORMS = ["json-unicode-every-char", "json-solidus", "percent-lower", "html-references", "hex"]


@pytest.mark.slow
@pytest.mark.hostile
@pytest.mark.parametrize(("form", "coding"), [*((f, "") for f in SUITE_FORMS), ("plain", "gzip")])
def test_the_suite_fails_lp_sec_1_and_no_output_shows_the_echo(
    form: str, coding: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """``pytest --target`` against a target echoing the key in one form (in 400 errors, as the
    preflight must pass): LP-SEC-1 fails, and neither the terminal, report.json, report.html,
    report.md nor junit.xml holds the key in any form."""
    from tests.hostile.test_zoo import KEY as SUITE_KEY
    from tests.hostile.test_zoo import run_suite

    with zoo.serve(echo_server(ECHOES[form], coding=coding, status=400)) as server:
        run = run_suite(server, tmp_path, record_property, "--clause", "LP-SEC-1", "--junitxml", "junit.xml")
    assert any(request.key == SUITE_KEY for request in server.requests)
    assert run.exit_code == 1, run.output[-3000:]
    assert run.verdict("LP-SEC-1") is Verdict.FAIL
    assert "API key" in run.output and "in the response body" in run.output
    outputs = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert {"junit.xml", "report.json", "report.html", "report.md", "stdout.txt"} <= {p.name for p in outputs}
    for path in outputs:
        assert_masked(path.read_text("utf-8", "replace"), SUITE_KEY, ECHOES[form](SUITE_KEY), path.name)
