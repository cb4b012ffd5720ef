"""Generated requests build into well-formed HTTP requests that say what they test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conformance.client import ClientSettings, TargetClient
from conformance.exchange import KEY_HEADER, ApiRequest, Key, Part
from conformance.proxy.observed import parse_parts
from conformance.strategies import (
    corrupt_image_requests,
    face_photo,
    faceless_requests,
    huge_resolution_requests,
    invalid_requests,
    invalid_type_requests,
    missing_image_requests,
    missing_key_requests,
    oversized_requests,
    request_for,
    text_field_image_requests,
    unknown_key_requests,
    unsupported_format_requests,
    valid_requests,
    wrong_content_type_requests,
)
from conformance.strategies.requests import BOUNDARY_CHARS, NAMED_BOUNDARIES
from tests.strategies.helpers import decode, has_face

FAST = settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def client() -> Iterator[TargetClient]:
    with TargetClient(ClientSettings(base_url="http://127.0.0.1:9", api_key="k")) as target:
        yield target


def sent(client: TargetClient, request: ApiRequest) -> tuple[dict[str, str], list[tuple[str, str]], bytes]:
    built = client.build(request)
    body = built.read()
    raw = [(k.decode(), v.decode()) for k, v in built.headers.raw]
    return {k.lower(): v for k, v in raw}, raw, body


def check_multipart(client: TargetClient, request: ApiRequest) -> tuple[Part, ...]:
    headers, _, body = sent(client, request)
    assert headers["content-type"].startswith("multipart/form-data; boundary=")
    if request.boundary:
        assert headers["content-type"] == f"multipart/form-data; boundary={request.boundary}"
    parts = parse_parts(body, headers["content-type"])  # the proxy's parser, python-multipart inside
    assert parts is not None, "not a well-formed multipart body"
    assert [p.name for p in parts] == [p.name for p in request.parts]
    for got, part in zip(parts, request.parts, strict=True):
        assert got.content == part.content
        assert got.filename == part.filename
        assert got.content_type == part.content_type
    return parts


def check_key(client: TargetClient, request: ApiRequest) -> None:
    _, raw, _ = sent(client, request)
    keys = [(name, value) for name, value in raw if name.lower() == KEY_HEADER]
    expected = {
        Key.VALID: [(request.key_header, "k")],
        Key.MISSING: [],
        Key.EMPTY: [(request.key_header, "")],
        Key.INVALID: [(request.key_header, "invalid-key-for-conformance")],
    }[request.key]
    assert keys == expected


@FAST
@given(valid_requests(max_side=512))
def test_valid_requests_are_well_formed_multipart(client: TargetClient, request: ApiRequest) -> None:
    parts = check_multipart(client, request)
    check_key(client, request)
    assert request.expect_clause == "LP-OK-1"
    image_parts = [p for p in parts if p.name == "image_target"]
    assert len(image_parts) == 1 and image_parts[0].filename
    image = decode(image_parts[0].content)  # type: ignore[arg-type]
    assert has_face(image)
    assert request.image is not None and image.size == (request.image.width, request.image.height)
    types = [p.content for p in parts if p.name == "type"]
    assert types in ([b"0"], [b"1"], [])
    assert request.key_header.lower() == KEY_HEADER
    assert f"{request.image.format} {request.image.width}×{request.image.height}" in request.description
    _, raw, _ = sent(client, request)
    for header in request.headers:
        assert header in raw


def test_valid_requests_vary_what_lp_req_2_allows() -> None:
    seen: set[str] = set()

    @settings(FAST, max_examples=100, derandomize=True)  # a coverage claim: not left to chance
    @given(valid_requests(max_side=128))
    def run(request: ApiRequest) -> None:
        image = next(p for p in request.parts if p.name == "image_target")
        seen.add("type first" if request.parts[0].name == "type" else "image first")
        seen.add("boundary" if request.boundary else "default boundary")
        seen.add(f"content-type {image.content_type}")
        seen.add("no extension" if "." not in (image.filename or "") else "extension")
        seen.add("casing" if request.key_header != KEY_HEADER else "lower")
        seen.add("extras" if "LP-REQ-7" in request.labels else "plain")

    run()
    assert {
        "type first",
        "image first",
        "boundary",
        "default boundary",
        "content-type None",
        "content-type application/octet-stream",
        "no extension",
        "extension",
        "casing",
        "lower",
        "extras",
        "plain",
    } <= seen


def test_absent_part_content_type_is_hand_built(client: TargetClient) -> None:
    request = request_for(face_photo(), part_content_type="absent", boundary="abc")
    assert request.raw_body is not None and "hand-built" in request.description
    parts = check_multipart(client, request)
    assert parts[0].content_type is None
    assert "-F" not in request.curl("http://x")  # curl sends the raw body only


def test_absent_part_content_type_without_extension_is_hand_built_too(client: TargetClient) -> None:
    # httpx writes application/octet-stream for a file part without a type: only a raw body omits it.
    photo = face_photo()
    nameless = type(photo)(photo.data, "photo", photo.content_type, photo.info, photo.description)
    request = request_for(nameless, part_content_type="absent")
    assert request.raw_body is not None
    assert check_multipart(client, request)[0].content_type is None


def test_boundary_never_occurs_in_the_content() -> None:
    photo = face_photo()
    inside = photo.data[100:110].decode("latin-1")
    request = request_for(photo, boundary=inside.strip("-") or "x")
    assert request.boundary is not None
    assert b"--" + request.boundary.encode() not in photo.data


def test_request_for_rejects_unknown_content_type_option() -> None:
    with pytest.raises(InvalidArgument, match="part_content_type"):
        request_for(face_photo(), part_content_type="wrong")


@pytest.mark.parametrize(
    "kwargs", [{"types": ("2",)}, {"types": ()}, {"max_side": 4096}, {"formats": ("GIF",)}]
)
def test_valid_requests_validate_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument, match=next(iter(kwargs))):
        valid_requests(**kwargs)  # type: ignore[arg-type]


CLAUSES = [
    (missing_key_requests(), "LP-ERR-1"),
    (unknown_key_requests(), "LP-ERR-2"),
    (missing_image_requests(), "LP-ERR-3"),
    (text_field_image_requests(), "LP-ERR-4"),
    (invalid_type_requests(), "LP-ERR-5"),
    (unsupported_format_requests(), "LP-ERR-6"),
    (corrupt_image_requests(), "LP-ERR-7"),
    (oversized_requests(), "LP-ERR-8"),
    (huge_resolution_requests(), "LP-ERR-9"),
    (faceless_requests(), "LP-ERR-10"),
    (wrong_content_type_requests(), "LP-ERR-11"),
]


@pytest.mark.parametrize(("strategy", "clause"), CLAUSES, ids=[c for _, c in CLAUSES])
def test_invalid_requests_build_and_carry_their_clause(
    client: TargetClient, strategy: st.SearchStrategy[ApiRequest], clause: str
) -> None:
    @settings(FAST, max_examples=10)
    @given(strategy)
    def run(request: ApiRequest) -> None:
        assert request.expect_clause == clause
        assert request.description
        assert request.curl("http://127.0.0.1:9/x").startswith("curl ")
        check_key(client, request)
        if clause == "LP-ERR-11":
            headers, _, body = sent(client, request)
            if headers["content-type"] == "application/json":
                assert set(json.loads(body)) == {"image_target", "type"}
            else:
                assert set(parse_qs(body.decode())) == {"image_target", "type"}
            return
        parts = check_multipart(client, request)
        image_parts = [p for p in parts if p.name == "image_target"]
        if clause == "LP-ERR-3":
            assert not image_parts
        elif clause == "LP-ERR-4":
            assert image_parts[0].filename is None or image_parts[0].content == b""
        else:
            assert len(image_parts) == 1 and image_parts[0].filename
        if clause == "LP-ERR-5":
            assert [p.content for p in parts if p.name == "type"] not in ([b"0"], [b"1"], [])
        if clause in ("LP-ERR-1", "LP-ERR-2"):
            assert request.key in (Key.MISSING, Key.EMPTY, Key.INVALID)

    run()


@FAST
@given(invalid_requests())
def test_invalid_requests_cover_the_error_clauses(request: ApiRequest) -> None:
    assert request.expect_clause in {c for _, c in CLAUSES}
    assert request.description


def test_a_request_with_a_wrong_part_is_caught_by_the_checker(client: TargetClient) -> None:
    good = request_for(face_photo())
    bad = ApiRequest(description="x", parts=(Part("image_target", b"abc", "a.jpg", "image/jpeg"),))
    parts = check_multipart(client, bad)
    assert parts[0].content != good.parts[0].content


def test_mismatched_part_content_type_is_opt_in(client: TargetClient) -> None:
    request = request_for(face_photo(format="JPEG"), part_content_type="mismatched")
    assert check_multipart(client, request)[0].content_type == "image/png"
    assert "part Content-Type image/png" in request.description


def test_falsifying_examples_print_short() -> None:
    # Hypothesis pretty-prints failing examples; megabytes of image bytes would flood the report.
    from hypothesis.vendor.pretty import pretty

    from conformance.strategies import image_of_exact_size

    big = image_of_exact_size(5 * 1024 * 1024 + 1)
    request = request_for(big, part_content_type="absent")
    assert request.raw_body is not None and len(request.raw_body) > 5 * 1024 * 1024
    for value in (big, request, request.parts[0]):
        assert len(pretty(value)) < 500


@pytest.mark.parametrize("boundary", NAMED_BOUNDARIES)
def test_named_boundaries_are_rfc_2046_boundaries_the_client_sends(
    client: TargetClient, boundary: str
) -> None:
    assert 1 <= len(boundary) <= 70 and set(boundary) <= set(BOUNDARY_CHARS)
    request = request_for(face_photo(format="PNG", side=128), boundary=boundary)
    assert request.boundary == boundary
    check_multipart(client, request)
