"""The face detector shared by the reference server, the strategies and the video checks.

OpenCV's Haar frontal-face cascade ships inside the opencv-python-headless 4.x wheel
(``cv2.data.haarcascades``): nothing is downloaded at run time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 5
MIN_FACE = 30  # px: the smallest face side the detector looks for
DETECT_MAX_SIDE = 640  # px: larger images are scaled down before detection (speed)

_local = threading.local()


@dataclass(frozen=True)
class Face:
    """A detected face box in the coordinates of the image given to ``detect_faces``."""

    x: int
    y: int
    w: int
    h: int

    @property
    def centre(self) -> tuple[float, float]:
        """The box centre."""
        return (self.x + self.w / 2, self.y + self.h / 2)


@cache
def cascade_path() -> str:
    """The cascade file inside the OpenCV wheel."""
    return str(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]


def _classifier() -> cv2.CascadeClassifier:
    # CascadeClassifier is not safe to share between threads: one per thread.
    classifier = getattr(_local, "classifier", None)
    if classifier is None:
        classifier = cv2.CascadeClassifier(cascade_path())
        if classifier.empty():
            raise RuntimeError(f"OpenCV could not load the face cascade at {cascade_path()}")
        _local.classifier = classifier
    return classifier


def detect_faces(pixels: NDArray[np.uint8]) -> list[Face]:
    """Faces in an RGB, RGBA or grayscale image array, largest first."""
    gray: Any = pixels
    if pixels.ndim == 3:
        code = cv2.COLOR_RGBA2GRAY if pixels.shape[2] == 4 else cv2.COLOR_RGB2GRAY
        gray = cv2.cvtColor(pixels, code)
    height, width = gray.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(height, width))
    if scale < 1.0:
        gray = cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    found = _classifier().detectMultiScale(
        gray, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBORS, minSize=(MIN_FACE, MIN_FACE)
    )
    faces = [
        Face(round(x / scale), round(y / scale), round(w / scale), round(h / scale))
        for (x, y, w, h) in (found if len(found) else [])
    ]
    return sorted(faces, key=lambda f: f.w * f.h, reverse=True)
