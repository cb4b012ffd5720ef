"""Hypothesis strategies for images: valid face photos and invalid uploads labelled by clause.

Valid images derive from the real face photo ``astronaut.png`` by shrinkable transformations
(LP-REQ-6); invalid ones carry the clause (LP-ERR-4, -6 … -10) and error family they exercise.
"""

from __future__ import annotations

from conformance.strategies._invalid import (
    corrupt_images,
    decompression_bomb,
    empty_images,
    faceless_images,
    huge_resolution_images,
    invalid_images,
    oversized_images,
    unsupported_images,
)
from conformance.strategies._samples import MAX_IMAGE_BYTES, MAX_SIDE, ImageSample, InvalidImage
from conformance.strategies._valid import face_photo, image_of_exact_size, image_with_side, valid_images

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_SIDE",
    "ImageSample",
    "InvalidImage",
    "corrupt_images",
    "decompression_bomb",
    "empty_images",
    "face_photo",
    "faceless_images",
    "huge_resolution_images",
    "image_of_exact_size",
    "image_with_side",
    "invalid_images",
    "oversized_images",
    "unsupported_images",
    "valid_images",
]
