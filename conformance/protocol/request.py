"""The request side of the contract as values: the endpoint, the key header, the form's field names,
the valid ``type`` values and the image limits (SPEC §1, LP-REQ-1..6).

They are read from ``schemas/request.schema.json``, where they are data, so the reference server,
the proxy, the strategies and the checks cannot drift apart: the endpoint and the header from
``x-endpoint``, the field names from the properties that carry LP-REQ-4 (the image) and LP-REQ-5
(``type``), the valid values from ``type``'s ``enum`` and ``default``, the byte limit from the
image's ``maxLength`` and the pixel limits and formats from its ``x-max-side``, ``x-min-side`` and
``x-formats``. A schema that lacks one of them stops the import with a message naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from conformance.resources import load_json

SCHEMA_FILE = "request.schema.json"
_T = TypeVar("_T")


class ContractDataError(LookupError):
    """The request schema lacks a value the code needs, or holds one of the wrong kind."""


@dataclass(frozen=True)
class RequestContract:
    """The values of one request schema (``read_request_contract``)."""

    method: str  # LP-REQ-1
    endpoint_path: str  # LP-REQ-1
    form_media_type: str  # LP-REQ-2
    key_header: str  # LP-REQ-3, lower case (header names are case-insensitive)
    image_field: str  # LP-REQ-4
    type_field: str  # LP-REQ-5
    valid_types: tuple[str, ...]  # LP-REQ-5
    default_type: str  # LP-REQ-5: a request without the field is treated as this
    max_image_bytes: int  # LP-REQ-6
    max_side: int  # LP-REQ-6
    min_side: int  # LP-REQ-6 [decided]
    format_media_types: Mapping[str, str]  # LP-REQ-6: format → the media type a part may declare


def _get(node: object, *path: str) -> Any:
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            raise ContractDataError(f"schemas/{SCHEMA_FILE} has no {'/'.join(path)}")
        node = node[key]
    return node


def _typed(value: object, kind: type[_T], where: str) -> _T:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ContractDataError(f"schemas/{SCHEMA_FILE}: {where} must be a {kind.__name__}, got {value!r}")
    return value


def _clauses(prop: object) -> tuple[str, ...]:
    value = prop.get("x-clause", ()) if isinstance(prop, Mapping) else ()
    return (value,) if isinstance(value, str) else tuple(value)


def _field_for(schema: Mapping[str, Any], clause: str) -> str:
    """The one form field whose ``x-clause`` names ``clause`` (LP-REQ-4: the image, LP-REQ-5: type)."""
    properties = _typed(_get(schema, "properties"), dict, "properties")
    names = [str(name) for name, prop in properties.items() if clause in _clauses(prop)]
    if len(names) != 1:
        raise ContractDataError(f"schemas/{SCHEMA_FILE}: expected one property for {clause}, found {names}")
    return names[0]


def read_request_contract(schema: Mapping[str, Any]) -> RequestContract:
    """The values of a request schema; ``ContractDataError`` names the first one missing or wrong."""
    image_field, type_field = _field_for(schema, "LP-REQ-4"), _field_for(schema, "LP-REQ-5")

    def value(kind: type[_T], *path: str) -> _T:
        return _typed(_get(schema, *path), kind, "/".join(path))

    image, kind = ("properties", image_field), ("properties", type_field)
    formats = value(dict, *image, "x-formats")
    values = RequestContract(
        method=value(str, "x-endpoint", "method").upper(),
        endpoint_path=value(str, "x-endpoint", "path"),
        form_media_type=value(str, "x-endpoint", "content-type"),
        key_header=value(str, "x-endpoint", "key-header").lower(),
        image_field=image_field,
        type_field=type_field,
        valid_types=tuple(_typed(choice, str, f"{type_field}/enum") for choice in value(list, *kind, "enum")),
        default_type=value(str, *kind, "default"),
        max_image_bytes=value(int, *image, "maxLength"),
        max_side=value(int, *image, "x-max-side"),
        min_side=value(int, *image, "x-min-side"),
        format_media_types={
            str(fmt): _typed(mime, str, f"{image_field}/x-formats/{fmt}") for fmt, mime in formats.items()
        },
    )
    if not values.valid_types or values.default_type not in values.valid_types:
        raise ContractDataError(
            f"schemas/{SCHEMA_FILE}: {type_field}/default {values.default_type!r} is not in its enum"
        )
    if not 0 < values.min_side <= values.max_side or values.max_image_bytes <= 0 or not formats:
        raise ContractDataError(
            f"schemas/{SCHEMA_FILE}: {image_field} needs 0 < x-min-side ≤ x-max-side, a positive "
            "maxLength and at least one format"
        )
    return values


CONTRACT = read_request_contract(load_json(SCHEMA_FILE))

METHOD = CONTRACT.method  # "POST"
ENDPOINT_PATH = CONTRACT.endpoint_path  # "/api/portrait/effects/live-photo"
FORM_MEDIA_TYPE = CONTRACT.form_media_type  # "multipart/form-data"
KEY_HEADER = CONTRACT.key_header  # "ailabapi-api-key"
IMAGE_FIELD = CONTRACT.image_field  # "image_target"
TYPE_FIELD = CONTRACT.type_field  # "type"
VALID_TYPES = CONTRACT.valid_types  # ("0", "1"): exactly these strings [decided]
DEFAULT_TYPE = CONTRACT.default_type  # "0"
MAX_IMAGE_BYTES = CONTRACT.max_image_bytes  # 5 × 1024 × 1024: a file of exactly that size is valid
MAX_SIDE = CONTRACT.max_side  # 4095: width ≤ 4095 and height ≤ 4095
MIN_SIDE = CONTRACT.min_side  # 32: an image at least this big with a face must be accepted
FORMAT_MEDIA_TYPES = CONTRACT.format_media_types  # {"JPEG": "image/jpeg", "PNG": …, "BMP": …}
FORMATS = tuple(FORMAT_MEDIA_TYPES)  # ("JPEG", "PNG", "BMP")
