"""Strict base64 (LP-OK-2): the fast C path agrees with the rule-by-rule diagnosis and with a
canonical re-encoding, chunk by chunk; and the success schema asserts it without the memory the
exact base64 pattern cost (issue 18: ~30 bytes per video byte, 1.8 GB for a 60 MiB video)."""

from __future__ import annotations

import base64
import binascii
import copy
import os
import random
import tracemalloc
from typing import Any

import pytest

from conformance.protocol import strict_base64
from conformance.protocol.strict_base64 import Base64Defect, base64_defect, decode_base64_strict
from conformance.schemas import envelope_errors

SUCCESS: dict[str, Any] = {
    "request_id": "r1",
    "log_id": "l1",
    "error_code": 0,
    "error_msg": "",
    "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""},
    "data": {"video": "AAAAGGZ0eXBpc29t"},
}


def canonical(text: str) -> bool:
    """The independent oracle: strict base64 is what decodes with validation and re-encodes to itself."""
    try:
        return base64.b64encode(base64.b64decode(text, validate=True)).decode() == text
    except (binascii.Error, ValueError):
        return False


def samples(count: int) -> list[str]:
    """Short strings near strict base64: its alphabet, padding in every place, the usual defects."""
    rng = random.Random(18)
    alphabet = "QRUJDAgw+/=" * 3 + "-_\n é:"
    found = [base64.b64encode(os.urandom(n)).decode() for n in range(1, 12)]  # "" is strict, but no video
    found += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14))) for _ in range(count)]
    return found


@pytest.mark.parametrize("chunk", [4, 8, strict_base64.CHUNK])
def test_every_path_agrees_with_a_canonical_re_encoding(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(strict_base64, "CHUNK", chunk)
    for text in samples(20_000):
        strict = canonical(text)
        assert (base64_defect(text) is None) is strict, text
        try:
            decoded = decode_base64_strict(text)
        except Base64Defect:
            assert not strict, text
        else:
            assert strict, text
            assert decoded == base64.b64decode(text)


@pytest.mark.parametrize(
    ("where", "defect"),
    [
        ("padding inside", "padding '=' before the end of the data"),
        ("line break", "line break"),
        ("pad bits", "non-zero pad bits (RFC 4648 §3.5)"),
        ("missing padding", "missing padding"),
    ],
)
def test_a_defect_in_any_chunk_of_a_long_string_is_found(where: str, defect: str) -> None:
    text = base64.b64encode(os.urandom(3 * strict_base64.CHUNK // 4 * 3 + 1)).decode()  # 3 chunks, '=='
    boundary = 2 * strict_base64.CHUNK - 4  # the last group of the second chunk
    match where:
        case "padding inside":
            text = text[:boundary] + "QQ==" + text[boundary + 4 :]
        case "line break":
            text = text[: boundary + 1] + "\n" + text[boundary + 2 :]
        case "pad bits":
            text = text[:-3] + "R=="
        case "missing padding":
            text = text.rstrip("=")
    found = base64_defect(text)
    assert found is not None
    assert found.reason == defect


def test_the_schema_rejects_what_is_not_strict_base64() -> None:
    """The exact pattern is gone from the schema; contentEncoding carries the clause."""
    for text in (
        "QR==",
        "QUJDQQ=",
        "AAAAGGZ0eXBpc29",
        "QQ==QUJD",
        "QUJD\nQUJD",
        "data:video/mp4;base64,QUJD",
    ):
        body = copy.deepcopy(SUCCESS)
        body["data"]["video"] = text
        errors = envelope_errors(body, 200)
        assert [(e.clause, e.path) for e in errors] == [("LP-OK-2", "data/video")], text
    assert envelope_errors(SUCCESS, 200) == []


def test_validating_a_large_video_costs_no_memory_per_character() -> None:
    """Regression (issue 18): the exact pattern made Python's re keep ~30 bytes per video byte."""
    video = os.urandom(12 * 1024 * 1024)
    body = copy.deepcopy(SUCCESS)
    body["data"]["video"] = base64.b64encode(video).decode()
    envelope_errors(SUCCESS, 200)  # validator built and cached outside the measurement
    tracemalloc.start()
    try:
        errors = envelope_errors(body, 200)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert errors == []
    assert peak < 4 * 1024 * 1024, f"{peak / len(video):.1f} bytes per video byte"
    body["data"]["video"] = body["data"]["video"][:-4] + "QR=="
    assert [e.clause for e in envelope_errors(body, 200)] == ["LP-OK-2"]
