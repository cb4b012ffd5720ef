"""Public Hypothesis strategies for Live Photos API requests: import them in your own tests.

``images`` builds real image files (valid face photos and labelled invalid uploads), ``fields``
the ``type`` values and key headers, ``requests`` whole ``ApiRequest`` objects.
"""

from __future__ import annotations

from conformance.strategies.fields import (
    invalid_type_values,
    key_header_casings,
    key_variants,
    valid_type_values,
)
from conformance.strategies.images import (
    MAX_IMAGE_BYTES,
    MAX_SIDE,
    ImageSample,
    InvalidImage,
    corrupt_images,
    decompression_bomb,
    empty_images,
    face_photo,
    faceless_images,
    huge_resolution_images,
    image_of_exact_size,
    image_with_side,
    invalid_images,
    oversized_images,
    unsupported_images,
    valid_images,
)
from conformance.strategies.requests import (
    corrupt_image_requests,
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

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_SIDE",
    "ImageSample",
    "InvalidImage",
    "corrupt_image_requests",
    "corrupt_images",
    "decompression_bomb",
    "empty_images",
    "face_photo",
    "faceless_images",
    "faceless_requests",
    "huge_resolution_images",
    "huge_resolution_requests",
    "image_of_exact_size",
    "image_with_side",
    "invalid_images",
    "invalid_requests",
    "invalid_type_requests",
    "invalid_type_values",
    "key_header_casings",
    "key_variants",
    "missing_image_requests",
    "missing_key_requests",
    "oversized_images",
    "oversized_requests",
    "request_for",
    "text_field_image_requests",
    "unknown_key_requests",
    "unsupported_format_requests",
    "unsupported_images",
    "valid_images",
    "valid_requests",
    "valid_type_values",
    "wrong_content_type_requests",
]
