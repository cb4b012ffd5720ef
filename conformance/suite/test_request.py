"""SPEC §1 request: what every compatible target must accept (LP-REQ-*)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given

from conformance.exchange import ApiRequest, Part
from conformance.strategies import face_photo, request_for, valid_requests
from conformance.suite._shared import success_settings, type_part, with_covering_set, with_header


def _labelled(api_request: ApiRequest, label: str, why: str) -> ApiRequest:
    return replace(
        api_request,
        labels=(*api_request.labels, label),
        description=f"{api_request.description}; {why}",
    )


def _photo_request(**kwargs: Any) -> ApiRequest:
    return request_for(face_photo(format="JPEG", side=320), **kwargs)


def _multipart_variants() -> list[ApiRequest]:
    base = _photo_request(type_value="1")
    image = next(p for p in base.parts if p.name == "image_target")
    return [
        _labelled(replace(base, parts=(type_part("1"), image)), "LP-REQ-2", "type part first"),
        _labelled(
            replace(base, boundary="----WebKitFormBoundary7MA4YWxkTrZu0gW"), "LP-REQ-2", "browser boundary"
        ),
        _labelled(replace(base, boundary="x"), "LP-REQ-2", "one-character boundary"),
        _labelled(
            replace(base, parts=(replace(image, filename="photo"), type_part("1"))),
            "LP-REQ-2",
            "filename without extension",
        ),
        _labelled(
            replace(base, parts=(replace(image, filename="PHOTO.JPG"), type_part("1"))),
            "LP-REQ-2",
            "upper-case extension",
        ),
        _labelled(
            replace(base, parts=(replace(image, content_type="application/octet-stream"), type_part("1"))),
            "LP-REQ-2",
            "part Content-Type application/octet-stream",
        ),
        _labelled(_without_part_content_type(base), "LP-REQ-2", "no part Content-Type"),
    ]


def _without_part_content_type(base: ApiRequest) -> ApiRequest:
    """A body httpx cannot express (it always adds a part Content-Type for a known extension)."""
    image = next(p for p in base.parts if p.name == "image_target")
    boundary = "conformance-no-part-content-type"
    disposition = 'Content-Disposition: form-data; name="image_target"; filename="photo.jpg"'
    body = (
        f"--{boundary}\r\n{disposition}\r\n\r\n".encode()
        + image.content
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\n1\r\n'.encode()
        + f"--{boundary}--\r\n".encode()
    )
    return replace(base, parts=(), raw_body=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.clause("LP-REQ-2", "LP-REQ-1")
@pytest.mark.parametrize("api_request", _multipart_variants(), ids=lambda r: r.description.split("; ")[-1])
def test_standard_multipart_bodies_are_accepted(api_request: ApiRequest, verify: Any) -> None:
    """LP-REQ-2: any boundary, parts in any order, filename with or without extension, part
    Content-Type present or not."""
    verify(api_request, expect="success")


@pytest.mark.clause("LP-REQ-3")
@pytest.mark.parametrize("header", ["AILABAPI-API-KEY", "Ailabapi-Api-Key", "ailabapi-API-key"])
def test_key_header_in_any_casing_is_accepted(header: str, verify: Any) -> None:
    """LP-REQ-3: "HTTP header names are case insensitive; the target MUST accept any casing"."""
    api_request = replace(_photo_request(type_value="0"), key_header=header)
    verify(_labelled(api_request, "LP-REQ-3", f"key header spelled {header}"), expect="success")


def _limits_test() -> Any:
    @pytest.mark.clause("LP-REQ-6")
    @success_settings()
    @given(api_request=valid_requests(max_side=640).map(lambda r: _labelled(r, "LP-REQ-6", "generated")))
    def test_valid_images_up_to_the_limits_are_accepted(api_request: ApiRequest, verify: Any) -> None:
        """LP-REQ-6: JPEG/PNG/BMP by content, ≤ 5 MiB (exactly 5 MiB is valid), sides ≤ 4095 px;
        the limits and formats are explicit examples (the covering set), more images are generated."""
        verify(api_request, expect="success")

    return with_covering_set(test_valid_images_up_to_the_limits_are_accepted, "LP-REQ-6")


test_valid_images_up_to_the_limits_are_accepted = _limits_test()


@pytest.mark.clause("LP-REQ-7")
def test_unknown_fields_and_headers_are_ignored(verify: Any) -> None:
    """LP-REQ-7: unknown extra form fields and unknown extra headers MUST be ignored."""
    base = _photo_request(type_value="0")
    extra = replace(base, parts=(*base.parts, Part("return_type", b"1"), Part("comment", "photo ✓".encode())))
    extra = with_header(extra, "X-Client-Trace", "conformance-42", "unknown header X-Client-Trace")
    verify(_labelled(extra, "LP-REQ-7", "unknown fields return_type and comment"), expect="success")
