"""The animation: a short H.264 (yuv420p) MP4 in which the face nods and smiles (LP-VID-1..6).

Type 0 (avatar) is a square crop centred on the face; type 1 (full body) is the whole image with its
aspect ratio. The motion is a smooth displacement field around the face (a nod: the head moves down
and back up; a smile: the mouth corners widen), so the output is deterministic for the same input
and seed.
"""

from __future__ import annotations

import io
import math

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from conformance.faces import Face

FPS = 12  # LP-VID-3: between 10 and 60 fps
DURATION_S = 2.0  # LP-VID-3: between 1 s and 15 s
MAX_OUTPUT_SIDE = 512  # px: bounded output keeps encoding fast (LP-OPS-1)
MIN_OUTPUT_SIDE = 64  # LP-VID-5
AVATAR_MARGIN = 2.2  # the avatar crop side as a multiple of the face width
NOD_AMPLITUDE = 0.12  # of the face height: how far the head moves down at the bottom of the nod
SMILE_AMPLITUDE = 0.08  # of the face width: how far each mouth corner moves outwards
CRF = "26"


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _avatar_crop(pixels: NDArray[np.uint8], face: Face) -> tuple[NDArray[np.uint8], Face]:
    """A square crop centred on the face (clamped to the image), and the face in crop coordinates."""
    height, width = pixels.shape[:2]
    side = min(width, height, max(face.w, face.h) * AVATAR_MARGIN)
    cx, cy = face.centre
    left = round(min(max(cx - side / 2, 0), width - side))
    top = round(min(max(cy - side / 2, 0), height - side))
    side_px = int(side)
    crop = pixels[top : top + side_px, left : left + side_px]
    return crop, Face(face.x - left, face.y - top, face.w, face.h)


def _fit(pixels: NDArray[np.uint8], face: Face) -> tuple[NDArray[np.uint8], Face]:
    """Scale so the long side is ≤ MAX_OUTPUT_SIDE (and ≥ MIN_OUTPUT_SIDE), with even dimensions."""
    height, width = pixels.shape[:2]
    scale = min(MAX_OUTPUT_SIDE / max(width, height), 1.0)
    scale = min(max(scale, MIN_OUTPUT_SIDE / min(width, height)), 2 * MAX_OUTPUT_SIDE / max(width, height))
    out_w, out_h = _even(width * scale), _even(height * scale)
    resized = np.asarray(cv2.resize(pixels, (out_w, out_h), interpolation=cv2.INTER_AREA), dtype=np.uint8)
    sx, sy = out_w / width, out_h / height
    return resized, Face(round(face.x * sx), round(face.y * sy), round(face.w * sx), round(face.h * sy))


def _motion_fields(shape: tuple[int, int], face: Face) -> tuple[NDArray[np.float32], ...]:
    """Base sampling grids and the two displacement weights (head for the nod, mouth for the smile)."""
    height, width = shape
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    cx, cy = face.centre
    head_sigma = max(face.w, face.h) * 0.75
    head = np.exp(-((grid_x - cx) ** 2 + (grid_y - cy) ** 2) / (2 * head_sigma**2)).astype(np.float32)
    mouth_x, mouth_y = cx, face.y + face.h * 0.78
    mouth = np.exp(
        -(((grid_x - mouth_x) / (face.w * 0.35)) ** 2 + ((grid_y - mouth_y) / (face.h * 0.12)) ** 2) / 2
    ).astype(np.float32)
    smile = (mouth * (grid_x - mouth_x) / max(face.w * 0.35, 1.0)).astype(np.float32)
    return grid_x, grid_y, head, smile


def render_frames(
    pixels: NDArray[np.uint8], face: Face, video_type: int, seed: int
) -> list[NDArray[np.uint8]]:
    """The RGB frames of the animation (deterministic for the same input, type and seed)."""
    if video_type == 0:
        pixels, face = _avatar_crop(pixels, face)
    frame0, face = _fit(np.ascontiguousarray(pixels), face)
    grid_x, grid_y, head, smile = _motion_fields(frame0.shape[:2], face)
    rng = np.random.default_rng(seed)
    phase = float(rng.uniform(0, 0.25))  # the seed varies the motion a little, deterministically
    nod_px = NOD_AMPLITUDE * face.h * float(rng.uniform(0.85, 1.15))
    smile_px = SMILE_AMPLITUDE * face.w
    count = int(FPS * DURATION_S)
    frames: list[NDArray[np.uint8]] = []
    for index in range(count):
        t = index / count
        nod = math.sin(2 * math.pi * (2 * t + phase)) * nod_px  # two nods in two seconds
        grin = 0.5 * (1 - math.cos(2 * math.pi * t)) * smile_px
        map_x = grid_x - grin * smile
        map_y = grid_y - nod * head
        warped = cv2.remap(frame0, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        frames.append(np.asarray(warped, dtype=np.uint8))
    return frames


def _yuv_frame(pixels: NDArray[np.uint8]) -> av.VideoFrame:
    """A yuv420p frame whose row padding is zeroed.

    libx264 reads the padding at the end of each row when the width is not a multiple of 64;
    left uninitialised, it made the bytes differ from run to run.
    """
    height, width = pixels.shape[:2]
    converted = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
    frame = av.VideoFrame(width, height, "yuv420p")
    for source, target in zip(converted.planes, frame.planes, strict=True):
        rows = np.frombuffer(memoryview(source), dtype=np.uint8).reshape(source.height, source.line_size)
        padded = np.zeros((target.height, target.line_size), dtype=np.uint8)
        padded[:, : target.width] = rows[:, : target.width]
        target.update(padded.tobytes())
    return frame


def encode_mp4(frames: list[NDArray[np.uint8]]) -> bytes:
    """Encode RGB frames as an H.264 yuv420p MP4 (LP-VID-1, LP-VID-2); single-threaded, so
    the bytes are the same for the same frames."""
    height, width = frames[0].shape[:2]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.options = {"preset": "veryfast", "crf": CRF, "threads": "1"}
        for pixels in frames:
            for packet in stream.encode(_yuv_frame(pixels)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def animate(pixels: NDArray[np.uint8], face: Face, video_type: int, seed: int) -> bytes:
    """The MP4 bytes for an image and its face (type 0 avatar, type 1 full body)."""
    return encode_mp4(render_frames(pixels, face, video_type, seed))
