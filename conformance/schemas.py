"""JSON Schema validation of envelopes and request forms, each error naming the clause it breaks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator
from referencing import Registry, Resource

from conformance.protocol.strict_base64 import base64_defect
from conformance.resources import load_json

SCHEMA_FILES = (
    "envelope.schema.json",
    "success.schema.json",
    "error.schema.json",
    "request.schema.json",
)
BASE_URI = "https://livephoto-conformance.dev/schemas/"


@dataclass(frozen=True)
class SchemaError:
    """One way an instance fails a schema: where, what, and which clause says so."""

    clause: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.clause}: {self.path or '(top level)'}: {self.message}"


@cache
def _registry() -> Registry[Any]:
    resources = [(BASE_URI + name, Resource.from_contents(load_json(name))) for name in SCHEMA_FILES]
    return Registry().with_resources(resources)


def _content_encoding(
    validator: Validator, encoding: str, instance: object, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """``contentEncoding: base64`` as an assertion (JSON Schema makes it an annotation): strict RFC
    4648 §4 base64, checked in linear time. The exact regular expression would cost Python's ``re``
    about 30 bytes per video byte (1.8 GB for a 60 MiB video). A defect the sibling ``pattern``
    already reports (alphabet, prefix, whitespace) is not reported twice."""
    if encoding != "base64" or not isinstance(instance, str):
        return
    defect = base64_defect(instance)
    pattern = schema.get("pattern")
    if defect is not None and (not isinstance(pattern, str) or re.search(pattern, instance)):
        yield ValidationError(f"not strict base64: {defect}")


_Validator = validators.extend(Draft202012Validator, {"contentEncoding": _content_encoding})


@cache
def validator(name: str) -> Validator:
    """A validator for one schema of ``schemas/`` (``success``, ``error``, ``envelope``, ``request``)."""
    schema = load_json(f"{name}.schema.json")
    return _Validator(schema, registry=_registry())


def _clause_of(error: ValidationError, default: str) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else ""
        sub = schema.get("properties", {}).get(missing, {})
        if isinstance(sub, dict) and "x-clause" in sub:
            return _first(sub["x-clause"])
    if "x-clause" in schema:
        return _first(schema["x-clause"])
    return default


def _first(value: str | list[str]) -> str:
    return value if isinstance(value, str) else value[0]


def _leaves(error: ValidationError) -> list[ValidationError]:
    if error.context:
        return [leaf for sub in error.context for leaf in _leaves(sub)]
    return [error]


def _describe(error: ValidationError) -> str:
    if error.validator == "pattern" and isinstance(error.instance, str):
        # The instance can be megabytes of base64: show its start, not all of it.
        start = error.instance[:40] + ("…" if len(error.instance) > 40 else "")
        return f"{start!r} does not match {error.validator_value!r}"
    message = str(error.message)
    return message if len(message) <= 200 else message[:200] + "…"


def schema_errors(name: str, instance: object) -> list[SchemaError]:
    """Every violation of schema ``name`` by ``instance``, most specific first, with its clause."""
    default = _first(load_json(f"{name}.schema.json").get("x-clause", ["LP-ENV-1"]))
    found: list[SchemaError] = []
    for error in validator(name).iter_errors(instance):
        parent = _clause_of(error, default)
        for leaf in _leaves(error) if error.validator in ("anyOf", "oneOf") else [error]:
            found.append(
                SchemaError(
                    clause=_clause_of(leaf, parent),
                    path="/".join(str(p) for p in leaf.absolute_path),
                    message=_describe(leaf),
                )
            )
    return sorted(found, key=lambda e: (e.clause, e.path))


def envelope_errors(body: object, http_status: int) -> list[SchemaError]:
    """Violations of the success schema (HTTP 200) or the error schema (any other status)."""
    return schema_errors("success" if http_status == 200 else "error", body)
