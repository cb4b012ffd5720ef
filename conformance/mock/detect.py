"""Face finding for the reference server: a fast pass on a small copy, the full detector as fallback.

``conformance.faces.detect_faces`` looks at up to 640 px; most uploads are portraits whose face is
large, which a 320 px copy finds at a third of the cost. Only when that finds nothing is the full
detector run, so an image with a small face is still accepted (LP-REQ-6, LP-ERR-10).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from conformance.faces import Face, detect_faces

FAST_SIDE = 320  # px: the long side of the copy the fast pass looks at


def find_faces(pixels: NDArray[np.uint8]) -> list[Face]:
    """Faces in an RGB image (largest first), in the image's coordinates."""
    height, width = pixels.shape[:2]
    scale = FAST_SIDE / max(height, width)
    if scale < 0.75:
        small = cv2.resize(
            pixels, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
        )
        found = detect_faces(np.asarray(small, dtype=np.uint8))
        if found:
            return [
                Face(round(f.x / scale), round(f.y / scale), round(f.w / scale), round(f.h / scale))
                for f in found
            ]
    return detect_faces(pixels)
