"""Every (status, code) pair the server can emit is valid in both editions; the helpers that pick
statuses fail loudly on an undocumented code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.contract import Edition, documented_message, is_valid_pair
from conformance.mock import faults
from conformance.protocol.envelope import envelope, error, status_of, success
from conformance.schemas import envelope_errors

# The server's sources: its own and the protocol's (the multipart reader refuses with codes too).
SOURCE_DIRS = [Path(__file__).resolve().parents[2] / "conformance" / name for name in ("mock", "protocol")]
CODE_CALL = re.compile(r"(?:error|UploadRejected|ImageRejected)\(\s*\"([A-Z_]+)\"")


def emitted_codes() -> set[str]:
    """Every code literal passed to error()/UploadRejected()/ImageRejected() in the server's source
    (``mock/`` and ``protocol/``), plus the fault table."""
    codes = set(faults.SERVER_ERROR_CODES.values())
    for source in (path for folder in SOURCE_DIRS for path in folder.glob("*.py")):
        codes |= set(CODE_CALL.findall(source.read_text(encoding="utf-8")))
    return codes


def test_the_walk_finds_the_codes() -> None:
    """The source scan sees the codes of every stage (a guard against a regex that finds nothing)."""
    assert {
        "ERROR_APPLICATIONS_NOT_EXISTS",
        "MISSING_PARAMETERS",
        "FILE_SIZE_EXCEEDS_LIMIT",
        "UNSUPPORTED_FILE_TYPES",
        "FILE_RESOLUTION_EXCEEDS_LIMITS",
        "ERROR_NO_FACE_IN_FILE",
        "ERROR_ILLEGAL_OPERATION",
        "EXCEEDING_LIMITS",
    } <= emitted_codes()


@pytest.mark.parametrize("edition", [Edition.E2025_09, Edition.E2026_01])
def test_every_emitted_pair_is_valid(edition: Edition) -> None:
    """Each code the server can emit is documented, and its status is valid in the edition."""
    for code in sorted(emitted_codes()):
        assert documented_message(code), code
        status = status_of(code, edition)
        assert 400 <= status <= 599
        assert is_valid_pair(status, code, edition), (status, code, edition)
        outcome = error(code, "explanation", edition)
        assert envelope_errors(envelope(outcome, "r1"), status) == []


def test_edition_statuses_differ_where_the_table_says() -> None:
    """The edition matters: the 2026-01 status of FILE_DECODING_FAILURE is not valid in 2025-09."""
    assert status_of("FILE_DECODING_FAILURE", Edition.E2025_09) == 400
    assert status_of("FILE_DECODING_FAILURE", Edition.E2026_01) == 422
    assert not is_valid_pair(422, "FILE_DECODING_FAILURE", Edition.E2025_09)
    assert status_of("ERROR_ILLEGAL_OPERATION", Edition.E2026_01) == 405  # D-2


def test_undocumented_code_is_refused() -> None:
    """A typo in a code is a KeyError at once, never an undocumented pair on the wire."""
    with pytest.raises(KeyError, match="not a documented"):
        status_of("ERROR_TYPO", Edition.E2026_01)


def test_success_envelope_validates_and_errors_do_not() -> None:
    """The success envelope satisfies the schema; a tampered one (non-zero error_code on 200) does not."""
    body = envelope(success("AAAA"), "r2")
    assert envelope_errors(body, 200) == []
    body["error_code"] = 500
    assert envelope_errors(body, 200) != []
