"""The provider's error-code table as data, and the edition rules of SPEC §0 as code."""

from __future__ import annotations

import csv
from pathlib import Path

import jsonschema
import pytest

from conformance.contract import (
    SPEC_NAMED_PAIRS,
    Edition,
    documented_message,
    error_codes,
    is_valid_pair,
    statuses_for,
)
from conformance.resources import load_json

SHARED_CSV = Path(__file__).resolve().parents[3] / "shared" / "spec" / "error-codes.csv"


def test_table_has_126_codes_and_validates() -> None:
    jsonschema.validate(load_json("error-codes.json"), load_json("error-codes.schema.json"))
    assert len(error_codes()) == 126


def test_table_matches_the_shared_csv() -> None:
    if not SHARED_CSV.exists():
        pytest.skip("../shared/spec/error-codes.csv is not beside this checkout")
    with SHARED_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(error_codes())
    for row in rows:
        code = error_codes()[row["code"]]
        assert code.status[Edition.E2025_09] == int(row["status_2025_09"])
        assert code.status[Edition.E2026_01] == int(row["status_2026_01"])
        assert code.code_message == row["code_message"]


@pytest.mark.parametrize(
    ("status", "code", "edition", "valid"),
    [
        (400, "FILE_DECODING_FAILURE", Edition.E2025_09, True),
        (422, "FILE_DECODING_FAILURE", Edition.E2025_09, False),
        (422, "FILE_DECODING_FAILURE", Edition.E2026_01, True),
        (400, "FILE_DECODING_FAILURE", Edition.E2026_01, False),
        (400, "FILE_DECODING_FAILURE", Edition.ANY, True),
        (422, "FILE_DECODING_FAILURE", Edition.ANY, True),
        (413, "FILE_DECODING_FAILURE", Edition.ANY, False),
        (422, "FILE_RESOLUTION_EXCEEDS_LIMITS", Edition.E2025_09, True),
        (413, "FILE_RESOLUTION_EXCEEDS_LIMITS", Edition.E2025_09, False),
        (413, "FILE_RESOLUTION_EXCEEDS_LIMITS", Edition.E2026_01, True),
        (401, "ERROR_USER_NOT_EXISTS", Edition.ANY, True),
        (401, "NOT_A_DOCUMENTED_CODE", Edition.ANY, False),
        (405, "ERROR_ILLEGAL_OPERATION", Edition.E2026_01, True),  # D-2
        (429, "EXCEEDING_LIMITS", Edition.E2025_09, True),  # D-2
        (403, "ERROR_ILLEGAL_OPERATION", Edition.E2026_01, True),
        (403, "ERROR_ILLEGAL_OPERATION", Edition.E2025_09, False),
    ],
)
def test_pair_validity_per_edition(status: int, code: str, edition: Edition, valid: bool) -> None:
    assert is_valid_pair(status, code, edition) is valid


def test_every_table_pair_is_valid_in_its_edition() -> None:
    for code in error_codes().values():
        for edition in (Edition.E2025_09, Edition.E2026_01):
            assert is_valid_pair(code.status[edition], code.code, edition)
            assert is_valid_pair(code.status[edition], code.code, Edition.ANY)


def test_documented_messages() -> None:
    assert documented_message("ERROR_NO_FACE_IN_FILE") == "No face detected in the file."
    assert documented_message("NOPE") is None


def test_statuses_for_includes_named_pairs() -> None:
    assert statuses_for("EXCEEDING_LIMITS", Edition.E2025_09) == {422, 429}
    assert statuses_for("ERROR_ILLEGAL_OPERATION", Edition.E2026_01) == {403, 405}
    assert all(code in error_codes() for _, code in SPEC_NAMED_PAIRS)
