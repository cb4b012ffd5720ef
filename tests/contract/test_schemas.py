"""The JSON Schemas: the documented example passes, every table pair builds a valid error envelope,
and hand-made broken envelopes are rejected with an error naming the clause."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance.contract import Edition, error_codes
from conformance.resources import load_json, schemas_dir
from conformance.schemas import SCHEMA_FILES, envelope_errors, schema_errors

# The response example of the provider's documentation (docs/live-photo-api.original.md).
DOC_EXAMPLE: dict[str, Any] = {
    "request_id": "",
    "log_id": "",
    "error_code": 0,
    "error_msg": "",
    "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""},
    "data": {"video": ""},
}
SUCCESS = {**copy.deepcopy(DOC_EXAMPLE), "request_id": "r1", "data": {"video": "AAAAGGZ0eXBpc29t"}}


def _error(status: int, code: str) -> dict[str, Any]:
    return {
        "request_id": "r2",
        "log_id": "l2",
        "error_code": status,
        "error_msg": "failed",
        "error_detail": {
            "status_code": status,
            "code": code,
            "code_message": error_codes()[code].code_message,
            "message": "explanation",
        },
    }


def test_schema_documents_are_valid_2020_12_with_metadata() -> None:
    for name in SCHEMA_FILES:
        document = load_json(name)
        jsonschema.Draft202012Validator.check_schema(document)
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        for key in ("$id", "title", "description", "x-clause"):
            assert document[key], f"{name} lacks {key}"


def test_documented_example_is_a_valid_envelope() -> None:
    """The documentation's example has an empty video: a valid envelope, not a valid success."""
    assert schema_errors("envelope", DOC_EXAMPLE) == []
    errors = envelope_errors(DOC_EXAMPLE, 200)
    assert [(e.clause, e.path) for e in errors] == [("LP-OK-2", "data/video")]


def test_success_example_validates() -> None:
    assert envelope_errors(SUCCESS, 200) == []


def test_success_schema_declares_the_media() -> None:
    video = load_json("success.schema.json")["properties"]["data"]["properties"]["video"]
    assert video["contentEncoding"] == "base64"
    assert video["contentMediaType"] == "video/mp4"


@pytest.mark.parametrize("edition", [Edition.E2025_09, Edition.E2026_01])
def test_every_table_pair_builds_a_valid_error_envelope(edition: Edition) -> None:
    for code in error_codes().values():
        status = code.status[edition]
        assert envelope_errors(_error(status, code.code), status) == [], code.code


def _broken(change: str) -> tuple[dict[str, Any], int]:
    if change.startswith("error:"):
        body, status = _error(422, "ERROR_NO_FACE_IN_FILE"), 422
    else:
        body, status = copy.deepcopy(SUCCESS), 200
    match change:
        case "missing log_id":
            del body["log_id"]
        case "missing request_id":
            del body["request_id"]
        case "request_id as integer":
            body["request_id"] = 7
        case "error_code as string":
            body["error_code"] = "0"
        case "error_code non-zero on success":
            body["error_code"] = 200
        case "missing error_detail":
            del body["error_detail"]
        case "status_code missing":
            del body["error_detail"]["status_code"]
        case "status_code not 200 on success":
            body["error_detail"]["status_code"] = 201
        case "code non-empty on success":
            body["error_detail"]["code"] = "ERROR_PARAMETERS"
        case "code_message as null":
            body["error_detail"]["code_message"] = None
        case "video with data: prefix":
            body["data"]["video"] = "data:video/mp4;base64,AAAAGGZ0eXBpc29t"
        case "video URL-safe base64":
            body["data"]["video"] = "AAAA-_-_"
        case "video with line breaks":
            body["data"]["video"] = "AAAA\nAAAA"
        case "video without padding":
            body["data"]["video"] = "AAAAGGZ0eXBpc29"
        case "data missing on success":
            del body["data"]
        case "data as string on success":
            body["data"] = "video"
        case "error:error_code 0":
            body["error_code"] = 0
        case "error:empty code":
            body["error_detail"]["code"] = ""
        case "error:video on an error":
            body["data"] = {"video": "AAAA"}
        case "error:status_code 200 on an error":
            body["error_detail"]["status_code"] = 200
    return body, status


BROKEN = {
    "missing log_id": "LP-ENV-2",
    "missing request_id": "LP-ENV-2",
    "request_id as integer": "LP-ENV-2",
    "error_code as string": "LP-ENV-3",
    "error_code non-zero on success": "LP-ENV-6",
    "missing error_detail": "LP-ENV-4",
    "status_code missing": "LP-ENV-4",
    "status_code not 200 on success": "LP-ENV-4",
    "code non-empty on success": "LP-ENV-6",
    "code_message as null": "LP-ENV-4",
    "video with data: prefix": "LP-OK-2",
    "video URL-safe base64": "LP-OK-2",
    "video with line breaks": "LP-OK-2",
    "video without padding": "LP-OK-2",
    "data missing on success": "LP-OK-3",
    "data as string on success": "LP-OK-3",
    "error:error_code 0": "LP-ENV-6",
    "error:empty code": "LP-ENV-6",
    "error:video on an error": "LP-OK-3",
    "error:status_code 200 on an error": "LP-ENV-4",
}


@pytest.mark.parametrize(("change", "clause"), BROKEN.items())
def test_broken_envelope_is_rejected_naming_its_clause(change: str, clause: str) -> None:
    body, status = _broken(change)
    errors = envelope_errors(body, status)
    assert errors, f"{change} was accepted"
    assert clause in {e.clause for e in errors}, [str(e) for e in errors]


def test_long_video_is_not_copied_into_messages() -> None:
    body = copy.deepcopy(SUCCESS)
    body["data"]["video"] = "data:" + "A" * 100_000
    (error,) = envelope_errors(body, 200)
    assert len(error.message) < 200


def test_request_schema_types() -> None:
    assert schema_errors("request", {"image_target": "bytes", "type": "1"}) == []
    assert schema_errors("request", {"image_target": "bytes"}) == []
    assert [e.clause for e in schema_errors("request", {"type": "0"})] == ["LP-REQ-4"]
    for bad in ("2", "01", " 1", "1.0", "true", ""):
        errors = schema_errors("request", {"image_target": "x", "type": bad})
        assert [e.clause for e in errors] == ["LP-REQ-5"], bad


def test_openapi_refs_the_same_schemas_and_validates() -> None:
    yaml = pytest.importorskip("yaml")
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    path = schemas_dir() / "openapi.yaml"
    spec, base_uri = read_from_filename(str(path))
    validate(spec, base_uri=base_uri)
    text = path.read_text(encoding="utf-8")
    refs = {line.split('"')[1] for line in text.splitlines() if "$ref" in line and ".json" in line}
    assert refs == {"./request.schema.json", "./success.schema.json", "./error.schema.json"}
    document = yaml.safe_load(text)
    assert "schemas" not in document.get("components", {}), "no second copy of any schema"
    assert json.dumps(document).count('"properties"') == 0
    assert Path(base_uri.removeprefix("file://")).parent == path.parent
