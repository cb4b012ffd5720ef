"""The protocol's request values: read from ``schemas/request.schema.json``, equal to what the SPEC
says (each quoted from the clause catalogue, so a reworded SPEC shows up here), in agreement with
``openapi.yaml``, restated nowhere else in the package, and a broken schema is a clear error."""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance import protocol
from conformance.protocol.request import ContractDataError, read_request_contract
from conformance.resources import load_json, schemas_dir
from conformance.spec import catalogue

PACKAGE = Path(protocol.__file__).resolve().parents[1]


def _quote(clause: str, text: str) -> None:
    """The SPEC clause says ``text`` (collapsed whitespace), so the value next to it is the SPEC's."""
    assert text in " ".join(catalogue()[clause].text.split()), f"{clause} no longer says {text!r}"


def test_endpoint_and_key_header_are_the_specs() -> None:
    _quote("LP-REQ-1", "The endpoint is `POST {base}/api/portrait/effects/live-photo`")
    assert (protocol.METHOD, protocol.ENDPOINT_PATH) == ("POST", "/api/portrait/effects/live-photo")
    _quote("LP-REQ-2", "The request body is `multipart/form-data`.")
    assert protocol.FORM_MEDIA_TYPE == "multipart/form-data"
    _quote("LP-REQ-3", "Header `ailabapi-api-key` (string) is REQUIRED.")
    assert protocol.KEY_HEADER == "ailabapi-api-key"


def test_fields_and_type_values_are_the_specs() -> None:
    _quote("LP-REQ-4", "Part `image_target` (file) is REQUIRED.")
    assert protocol.IMAGE_FIELD == "image_target"
    _quote(
        "LP-REQ-5",
        "Part `type` is OPTIONAL; values `0` (avatar version) and `1` (full body version); default `0`.",
    )
    _quote("LP-REQ-5", "**[decided]** Exactly the strings `0` and `1` are valid;")
    assert protocol.TYPE_FIELD == "type"
    assert protocol.VALID_TYPES == ("0", "1")
    assert protocol.DEFAULT_TYPE == "0"


def test_image_limits_are_the_specs() -> None:
    _quote("LP-REQ-6", "format JPEG/JPG, PNG or BMP (by content, not by file name)")
    assert protocol.FORMATS == ("JPEG", "PNG", "BMP")
    assert protocol.FORMAT_MEDIA_TYPES == {"JPEG": "image/jpeg", "PNG": "image/png", "BMP": "image/bmp"}
    _quote("LP-REQ-6", "**[decided: 5 MB = 5 × 1024 × 1024 bytes; a file of exactly that size is valid]**")
    assert protocol.MAX_IMAGE_BYTES == 5 * 1024 * 1024
    _quote("LP-REQ-6", "**[decided: width ≤ 4095 and height ≤ 4095]**")
    assert protocol.MAX_SIDE == 4095
    _quote("LP-REQ-6", "**[decided: any image ≥ 32×32 that contains a detectable face must be accepted;")
    assert protocol.MIN_SIDE == 32


def test_values_come_from_the_schema() -> None:
    """The constants are the schema's data, not a second copy: the image's maxLength, type's enum."""
    schema = load_json("request.schema.json")
    image = schema["properties"][protocol.IMAGE_FIELD]
    assert image["maxLength"] == protocol.MAX_IMAGE_BYTES
    assert list(protocol.VALID_TYPES) == schema["properties"][protocol.TYPE_FIELD]["enum"]
    assert schema["x-endpoint"]["path"] == protocol.ENDPOINT_PATH


def test_openapi_says_the_same() -> None:
    """openapi.yaml describes the endpoint, the form's media type, the key header and the image
    media types; ``x-endpoint`` and ``x-formats`` repeat them for code that reads no YAML."""
    yaml = pytest.importorskip("yaml")
    document = yaml.safe_load((schemas_dir() / "openapi.yaml").read_text(encoding="utf-8"))
    operation = document["paths"][protocol.ENDPOINT_PATH][protocol.METHOD.lower()]
    content = operation["requestBody"]["content"]
    assert list(content) == [protocol.FORM_MEDIA_TYPE]
    assert content[protocol.FORM_MEDIA_TYPE]["schema"]["$ref"] == "./request.schema.json"
    declared = content[protocol.FORM_MEDIA_TYPE]["encoding"][protocol.IMAGE_FIELD]["contentType"]
    assert {t.strip() for t in declared.split(",")} == {
        *protocol.FORMAT_MEDIA_TYPES.values(),
        "application/octet-stream",
    }
    (scheme,) = document["components"]["securitySchemes"].values()
    assert (scheme["in"], scheme["name"].lower()) == ("header", protocol.KEY_HEADER)


def _without(*path: str) -> Callable[[dict[str, Any]], None]:
    def change(schema: dict[str, Any]) -> None:
        node = schema
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return change


def _set(value: object, *path: str) -> Callable[[dict[str, Any]], None]:
    def change(schema: dict[str, Any]) -> None:
        node = schema
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


BROKEN: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "no x-endpoint": (_without("x-endpoint"), "has no x-endpoint"),
    "no key header": (_without("x-endpoint", "key-header"), "has no x-endpoint/key-header"),
    "no x-max-side": (_without("properties", "image_target", "x-max-side"), "x-max-side"),
    "maxLength as text": (
        _set("5242880", "properties", "image_target", "maxLength"),
        "maxLength must be a int",
    ),
    "a side that is a bool": (_set(True, "properties", "image_target", "x-max-side"), "must be a int"),
    "default outside the enum": (_set("2", "properties", "type", "default"), "'2' is not in its enum"),
    "two image fields": (_set({"x-clause": ["LP-REQ-4"]}, "properties", "photo"), "expected one property"),
    "no type field": (_without("properties", "type"), "expected one property for LP-REQ-5"),
    "min above max": (_set(5000, "properties", "image_target", "x-min-side"), "x-min-side ≤ x-max-side"),
    "no formats": (_set({}, "properties", "image_target", "x-formats"), "at least one format"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_schema_is_a_clear_error(case: str) -> None:
    """A schema that lacks a value, or holds one of the wrong kind, names it (never a KeyError)."""
    schema = copy.deepcopy(load_json("request.schema.json"))
    change, message = BROKEN[case]
    change(schema)
    with pytest.raises(ContractDataError, match=r"request\.schema\.json") as info:
        read_request_contract(schema)
    assert message in str(info.value)


def _literal(node: ast.expr) -> object:
    """The value of a constant expression (a literal, a tuple of them, ``5 * 1024 * 1024``), else a
    marker that equals nothing."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(_literal(element) for element in node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left, right = _literal(node.left), _literal(node.right)
        if isinstance(left, int) and isinstance(right, int):
            return left * right
    return object()


def _assignments() -> Iterator[tuple[str, int, str, object]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "protocol" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                yield str(path.relative_to(PACKAGE)), node.lineno, ast.unparse(node), _literal(node.value)


def test_no_module_restates_a_protocol_value() -> None:
    """Issue 16: the contract lives once. No module of the package assigns one of the protocol's
    distinctive values to a name of its own (it imports the protocol's instead)."""
    values = {
        protocol.ENDPOINT_PATH,
        protocol.KEY_HEADER,
        protocol.IMAGE_FIELD,
        protocol.MAX_IMAGE_BYTES,
        protocol.MAX_SIDE,
        protocol.VALID_TYPES,
        protocol.FORMATS,
    }
    restated = [
        f"{path}:{line}: {code}"
        for path, line, code, value in _assignments()
        if isinstance(value, str | int | tuple) and value in values
    ]
    assert not restated, "\n".join(restated)


def test_the_restatement_scan_finds_one() -> None:
    """The scan above sees a restatement (a guard against a scan that finds nothing)."""
    tree = ast.parse("MAX_IMAGE_BYTES = 5 * 1024 * 1024\nKEY = 'ailabapi-api-key'\nX = ('0', '1')\n")
    values = [_literal(node.value) for node in tree.body if isinstance(node, ast.Assign)]
    assert values == [protocol.MAX_IMAGE_BYTES, protocol.KEY_HEADER, protocol.VALID_TYPES]
