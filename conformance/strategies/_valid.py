"""Valid face photos (LP-REQ-6) and the fixed boundary images the suite pins with @example.

Valid images derive from the real face photo ``astronaut.png`` (one frontal face at x=177 y=66
w=95 h=95) by shrinkable transformations; every transformation is constrained so that the face
stays large enough for ``conformance.faces.detect_faces`` (LP-REQ-6, LP-OK-1).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from PIL import Image

from conformance.exchange import ImageInfo
from conformance.faces import DETECT_MAX_SIDE
from conformance.strategies._encode import corpus_image, encode_png, pad_jpeg, pad_png
from conformance.strategies._samples import (
    FORMATS,
    MAX_IMAGE_BYTES,
    MAX_SIDE,
    MIME,
    MIN_SIDE,
    ImageSample,
    InvalidImage,
    kib,
)

SMALLEST_FACE_FRAME = 64  # px: below this long side the face gets too small to detect
FACE_BOX = (177, 66, 95, 95)  # x, y, w, h of the face in astronaut.png (PROVENANCE.md)
FACE_MIN_PX = 48  # px: the face's width at detection scale we keep (the detector finds ≥ ~35)
FRAMINGS = ("portrait", "full-body")
EXTENSIONS = {
    "JPEG": (".jpg", ".jpeg", ".JPG", ".JPEG", ""),
    "PNG": (".png", ".PNG", ""),
    "BMP": (".bmp", ".BMP", ""),
}
STEMS = ("photo", "IMG_0001", "portrait", "selfie-2024")
SIZE_TIERS = ("small", "small", "small", "medium", "large", "limit")  # sampled: small half the time
PNG_MODES = ("RGB", "RGBA", "P", "L", "RGB;16", "RGBA;16")
# The encodings each format is varied over (quality aside): every value of every axis is sent in
# every run (conformance.strategies.covering). JPEG EXIF orientations 1 and 2 keep the face upright.
VARIANT_AXES: dict[str, dict[str, tuple[Any, ...]]] = {
    "JPEG": {"progressive": (False, True), "orientation": (None, 1, 2)},
    "PNG": {"mode": PNG_MODES, "interlace": (False, True)},
    "BMP": {"bits": (24, 32)},
}
DEFAULT_VARIANTS: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 90, "progressive": False},
    "PNG": {"mode": "RGB", "interlace": False},
    "BMP": {"bits": 24},
}
_BYTES_PER_PIXEL = {"BMP": 4, "PNG": 8, "JPEG": 0}  # worst case of the format's variants; 0 = no cap


@dataclass(frozen=True)
class _Scene:
    margin: int  # px kept around the face box before clipping to the photo
    pad: float  # full-body: extra canvas height as a fraction of the crop height (0 = portrait)
    background: int  # grey level of the padding and rotation fill
    mirror: bool
    angle: int  # degrees
    brightness: int  # percent added to 100


def _crop_box(margin: int) -> tuple[int, int, int, int]:
    x, y, w, h = FACE_BOX
    return (max(0, x - margin), max(0, y - margin), min(512, x + w + margin), min(512, y + h + margin))


def _scene_size(scene: _Scene) -> tuple[int, int]:
    left, top, right, bottom = _crop_box(scene.margin)
    return right - left, round((bottom - top) * (1 + scene.pad))


def _max_scene_long(long_side: int) -> float:
    """The longest scene whose 95 px face stays FACE_MIN_PX wide at detection scale."""
    return FACE_BOX[2] * min(long_side, DETECT_MAX_SIDE) / FACE_MIN_PX


def _render_scene(scene: _Scene) -> Image.Image:
    image = corpus_image("astronaut.png").convert("RGB").crop(_crop_box(scene.margin))
    if scene.pad:
        canvas = Image.new("RGB", _scene_size(scene), (scene.background,) * 3)
        canvas.paste(image, (0, 0))
        image = canvas
    if scene.mirror:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if scene.angle:
        image = image.rotate(
            scene.angle, resample=Image.Resampling.BILINEAR, fillcolor=(scene.background,) * 3
        )
    if scene.brightness:
        factor = 1 + scene.brightness / 100
        image = image.point(lambda v: min(255, round(v * factor)))
    return image


def _encode(image: Image.Image, fmt: str, variant: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        exif = None
        if variant.get("orientation"):
            exif = Image.Exif()
            exif[0x0112] = variant["orientation"]  # Orientation; 1 and 2 keep the face upright
        image.save(
            out,
            "JPEG",
            quality=variant["quality"],
            progressive=variant["progressive"],
            **({"exif": exif.tobytes()} if exif is not None else {}),
        )
    elif fmt == "BMP":
        image.convert("RGBA" if variant["bits"] == 32 else "RGB").save(out, "BMP")
    else:
        mode, interlace = variant["mode"], variant["interlace"]
        if mode in ("RGB;16", "RGBA;16") or interlace:
            pixels = np.asarray(image.convert(mode.split(";")[0] if mode != "P" else "RGB"))
            if mode.endswith(";16"):
                pixels = pixels.astype(np.uint16) * 257
            return encode_png(pixels, interlace=interlace, level=1)
        image.convert(mode).save(out, "PNG", compress_level=1)
    return out.getvalue()


def _finish(image: Image.Image, fmt: str, variant: dict[str, Any], filename: str, notes: str) -> ImageSample:
    if fmt == "PNG" and variant["mode"] == "P":
        variant = {**variant, "interlace": False}  # the hand-written interlaced encoder has no palette
    if fmt == "PNG" and "A" in variant["mode"]:
        alpha = Image.new("L", image.size, 255)
        image = image.convert("RGB")
        image.putalpha(alpha)
    data = _encode(image, fmt, variant)
    while fmt == "JPEG" and len(data) > variant.get("max_bytes", MAX_IMAGE_BYTES):
        variant = {**variant, "quality": max(10, variant["quality"] - 20)}
        data = _encode(image, fmt, variant)
    shape = _variant_text(fmt, variant)
    info = ImageInfo(fmt, image.width, image.height, len(data), True, f"{shape}; {notes}")
    description = f"{fmt} {image.width}×{image.height} {shape}, {kib(len(data))}, {notes}, named {filename!r}"
    return ImageSample(data, filename, MIME[fmt], info, description)


def _variant_text(fmt: str, variant: dict[str, Any]) -> str:
    if fmt == "JPEG":
        kind = "progressive" if variant["progressive"] else "baseline"
        exif = f" EXIF orientation {variant['orientation']}" if variant.get("orientation") else ""
        return f"{kind} q{variant['quality']}{exif}"
    if fmt == "BMP":
        return f"{variant['bits']}-bit"
    return str(variant["mode"]) + (" interlaced" if variant["interlace"] else "")


def _variants(fmt: str) -> st.SearchStrategy[dict[str, Any]]:
    axes: dict[str, st.SearchStrategy[Any]] = {k: st.sampled_from(v) for k, v in VARIANT_AXES[fmt].items()}
    if fmt == "JPEG":
        axes["quality"] = st.integers(60, 95)
    return st.fixed_dictionaries(axes)


def _budget_side(fmt: str, max_bytes: int, max_side: int) -> int:
    per_pixel = _BYTES_PER_PIXEL[fmt]
    if not per_pixel:
        return max_side
    return min(max_side, math.isqrt(int(max_bytes * 0.98) // per_pixel))


def _check_args(
    formats: tuple[str, ...], min_side: int, max_side: int, framing: tuple[str, ...], max_bytes: int
) -> None:
    bad = [f for f in formats if f not in FORMATS]
    if not formats or bad:
        raise InvalidArgument(f"formats={formats!r} must be a non-empty subset of {FORMATS}")
    if not framing or any(f not in FRAMINGS for f in framing):
        raise InvalidArgument(f"framing={framing!r} must be a non-empty subset of {FRAMINGS}")
    if not MIN_SIDE <= min_side <= MAX_SIDE:
        raise InvalidArgument(f"min_side={min_side} must be between {MIN_SIDE} and {MAX_SIDE} (LP-REQ-6)")
    if not max(min_side, SMALLEST_FACE_FRAME) <= max_side <= MAX_SIDE:
        raise InvalidArgument(
            f"max_side={max_side} must be between max(min_side, {SMALLEST_FACE_FRAME}) "
            f"and {MAX_SIDE} (LP-REQ-6)"
        )
    if not 64 * 1024 <= max_bytes <= MAX_IMAGE_BYTES:
        raise InvalidArgument(f"max_bytes={max_bytes} must be between 65536 and {MAX_IMAGE_BYTES} (LP-REQ-6)")


@st.composite
def _valid_image(
    draw: st.DrawFn,
    formats: tuple[str, ...],
    min_side: int,
    max_side: int,
    framing: tuple[str, ...],
    max_bytes: int,
) -> ImageSample:
    fmt = draw(st.sampled_from(formats))
    hi = _budget_side(fmt, max_bytes, max_side)
    lo = max(min_side, SMALLEST_FACE_FRAME)
    # Size tiers cap the long side: mostly modest (speed), yet the format's limit is reached. The
    # tier only sets the upper bound, so the side itself shrinks towards lo in every tier.
    tier = draw(st.sampled_from(SIZE_TIERS))
    hi = max(lo, hi)
    caps = {"small": 640, "medium": 1600, "large": hi, "limit": hi}
    long_side = draw(st.integers(lo, max(lo, min(hi, caps[tier]))))
    if tier == "limit":
        long_side = hi  # still drawn above, so the shrinker can move to another tier
    room = _max_scene_long(long_side)
    frame = draw(st.sampled_from(framing))
    margin = draw(st.integers(15, max(15, min(240, int((room - FACE_BOX[2]) / 2)))))
    pad = 0.0
    if frame == "full-body":
        crop_w, crop_h = _scene_size(_Scene(margin, 0.0, 0, False, 0, 0))
        # Keep the face detectable (room) and the short side ≥ min_side.
        pad_max = min(room / crop_h - 1, long_side * crop_w / crop_h / min_side - 1, 1.5)
        if pad_max < 0.3:
            frame = "portrait (frame too small to pad)"
        else:
            pad = draw(st.integers(30, int(pad_max * 100))) / 100
    scene = _Scene(
        margin=margin,
        pad=pad,
        background=draw(st.integers(0, 255)),
        mirror=draw(st.booleans()),
        angle=draw(st.integers(-8, 8)),
        brightness=draw(st.integers(-25, 25)),
    )
    # The short side must reach min_side too: grow the image, or square the crop when that cannot fit.
    width, height = _scene_size(scene)
    need = math.ceil(min_side * max(width, height) / min(width, height))
    if need > hi:
        scene = replace(scene, margin=min(scene.margin, FACE_BOX[1]), pad=0.0)  # margin ≤ 66: square crop
        frame = "portrait (frame too small to pad)" if frame != "portrait" else frame
        need = min_side
    long_side = max(long_side, need)
    variant = {**draw(_variants(fmt)), "max_bytes": max_bytes}
    ext = draw(st.sampled_from(EXTENSIONS[fmt]))
    filename = draw(st.sampled_from(STEMS)) + ext
    return _build(scene, long_side, fmt, variant, filename, frame)


def _build(
    scene: _Scene, long_side: int, fmt: str, variant: dict[str, Any], filename: str, frame: str
) -> ImageSample:
    image = _render_scene(scene)
    scale = long_side / max(image.size)
    size = (max(MIN_SIDE, round(image.width * scale)), max(MIN_SIDE, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.BILINEAR)
    changes = [frame]
    changes += ["mirrored"] if scene.mirror else []
    changes += [f"rotated {scene.angle}°"] if scene.angle else []
    changes += [f"brightness {scene.brightness:+d}%"] if scene.brightness else []
    return _finish(image, fmt, variant, filename, ", ".join(changes))


def valid_images(
    *,
    formats: tuple[str, ...] = FORMATS,
    min_side: int = 64,
    max_side: int = MAX_SIDE,
    framing: tuple[str, ...] = FRAMINGS,
    max_bytes: int = MAX_IMAGE_BYTES,
) -> st.SearchStrategy[ImageSample]:
    """Face photos the target must accept (LP-REQ-6: JPEG/PNG/BMP, ≤ 5 MB, < 4096×4096).

    Long side between ``min_side`` and ``max_side``; shrinks towards small, plain images.
    """
    formats, framing = tuple(formats), tuple(framing)
    _check_args(formats, min_side, max_side, framing, max_bytes)
    return _valid_image(formats, min_side, max_side, framing, max_bytes)


@cache
def face_photo(*, format: str = "JPEG", side: int = 512, framing: str = "portrait") -> ImageSample:
    """One fixed valid face photo with long side ``side`` (LP-REQ-6); cached."""
    ext = {"JPEG": ".jpg", "PNG": ".png", "BMP": ".bmp"}.get(format, "")
    return variant_photo(format, (), side=side, framing=framing, filename="face" + ext)


@cache
def variant_photo(
    fmt: str,
    variant: tuple[tuple[str, Any], ...],
    *,
    side: int = 256,
    framing: str = "portrait",
    filename: str = "face",
) -> ImageSample:
    """A fixed valid face photo in one encoding of ``VARIANT_AXES`` (given as sorted items, so it
    can be cached), long side ``side``; what the covering set sends (LP-REQ-6)."""
    _check_args((fmt,), MIN_SIDE, max(side, SMALLEST_FACE_FRAME), (framing,), MAX_IMAGE_BYTES)
    if side < SMALLEST_FACE_FRAME:
        raise ValueError(f"side={side} must be ≥ {SMALLEST_FACE_FRAME} for the face to stay detectable")
    unknown = {name for name, _ in variant} - set(VARIANT_AXES[fmt])
    if unknown:
        raise ValueError(f"variant={variant!r}: {sorted(unknown)} are not {fmt} axes ({VARIANT_AXES[fmt]})")
    pad = 1.0 if framing == "full-body" else 0.0
    margin = 40 if pad else 60
    while _scene_size(_Scene(margin, pad, 0, False, 0, 0))[1] > _max_scene_long(side) and margin > 15:
        margin -= 5
    if framing == "full-body" and _scene_size(_Scene(margin, pad, 0, False, 0, 0))[1] > _max_scene_long(side):
        raise ValueError(f"side={side} is too small for a full-body frame with a detectable face")
    chosen = {**DEFAULT_VARIANTS[fmt], **dict(variant)}
    return _build(_Scene(margin, pad, 200, False, 0, 0), side, fmt, chosen, filename, framing)


@cache
def scene_with_size(
    width: int,
    height: int,
    *,
    format: str = "PNG",
    variant: tuple[tuple[str, Any], ...] = (),
    filename: str = "photo",
) -> ImageSample:
    """The whole photo scaled to fill ``width``×``height`` and cropped around the face: any aspect
    ratio, a face of a good size and texture everywhere (a video of it visibly moves, LP-VID-4).
    ``variant`` picks an encoding of ``VARIANT_AXES`` (sorted items, so it can be cached)."""
    _check_args((format,), MIN_SIDE, max(width, height), ("portrait",), MAX_IMAGE_BYTES)
    if min(width, height) < SMALLEST_FACE_FRAME:
        raise ValueError(f"{width}×{height}: both sides must be ≥ {SMALLEST_FACE_FRAME} px")
    photo = corpus_image("astronaut.png").convert("RGB")
    scale = max(width / photo.width, height / photo.height)
    photo = photo.resize(
        (math.ceil(photo.width * scale), math.ceil(photo.height * scale)), Image.Resampling.BILINEAR
    )
    x, y, w, h = FACE_BOX
    left = min(max(0, round((x + w / 2) * scale - width / 2)), photo.width - width)
    top = min(max(0, round((y + h / 2) * scale - height / 2)), photo.height - height)
    image = photo.crop((left, top, left + width, top + height))
    chosen = {**DEFAULT_VARIANTS[format], **dict(variant)}
    return _finish(image, format, chosen, filename, "the photo cropped around the face")


def image_of_exact_size(size: int = MAX_IMAGE_BYTES, *, format: str = "PNG") -> ImageSample:
    """A valid face photo of exactly ``size`` bytes, padded with a comment chunk/segment (LP-REQ-6)."""
    if format not in ("PNG", "JPEG"):
        raise ValueError(f"format={format!r} must be 'PNG' or 'JPEG' (metadata padding)")
    for side in (512, 256, 128, 64):
        base = face_photo(format=format, side=side)
        if len(base.data) + 64 <= size:
            break
    else:
        raise ValueError(f"size={size} is smaller than the smallest face photo ({len(base.data) + 64} bytes)")
    data = pad_png(base.data, size) if format == "PNG" else pad_jpeg(base.data, size)
    info = ImageInfo(format, base.info.width, base.info.height, len(data), True, "padded with a comment")
    description = (
        f"{format} {base.info.width}×{base.info.height} padded with a comment to exactly {size} bytes"
    )
    name = "exact" + (".png" if format == "PNG" else ".jpg")
    return ImageSample(data, name, MIME[format], info, description)


@cache
def image_with_side(side: int, *, format: str = "PNG") -> ImageSample:
    """A face photo ``side``×``side`` (flat background): valid up to 4095, LP-ERR-9 from 4096."""
    return image_with_size(side, side, format=format)


@cache
def image_with_size(
    width: int,
    height: int,
    *,
    format: str = "PNG",
    variant: tuple[tuple[str, Any], ...] = (),
    filename: str | None = None,
) -> ImageSample:
    """A face photo ``width``×``height`` on a flat background: valid while both sides are ≤ 4095,
    an LP-ERR-9 ``InvalidImage`` when either is ≥ 4096 (so each side's limit can be probed alone).
    ``variant`` picks an encoding of ``VARIANT_AXES`` (sorted items, so it can be cached).
    """
    if format not in FORMATS:
        raise ValueError(f"format={format!r} must be one of {FORMATS}")
    long_side, short_side = max(width, height), min(width, height)
    if short_side < SMALLEST_FACE_FRAME or long_side > 3 * MAX_SIDE:
        raise ValueError(f"{width}×{height}: both sides must be ≥ {SMALLEST_FACE_FRAME} and ≤ {3 * MAX_SIDE}")
    if width == height and long_side <= DETECT_MAX_SIDE:
        canvas = _render_scene(_Scene(60, 0.0, 0, False, 0, 0)).resize(
            (width, height), Image.Resampling.BILINEAR
        )
    else:
        # The detector sees the image scaled to DETECT_MAX_SIDE: the face must stay FACE_MIN_PX there.
        face_px = 1.3 * FACE_MIN_PX * max(long_side, DETECT_MAX_SIDE) / DETECT_MAX_SIDE
        crop = _render_scene(_Scene(30, 0.0, 0, False, 0, 0))
        k = face_px / FACE_BOX[2]
        crop = crop.resize((round(crop.width * k), round(crop.height * k)), Image.Resampling.BILINEAR)
        if max(crop.size) > short_side:
            raise ValueError(
                f"{width}×{height}: the short side cannot hold a detectable face ({crop.width} px)"
            )
        canvas = Image.new("RGB", (width, height), (128, 128, 128))
        canvas.paste(crop, ((width - crop.width) // 2, (height - crop.height) // 2))
    unknown = {name for name, _ in variant} - set(VARIANT_AXES[format])
    if unknown:
        raise ValueError(f"variant={variant!r}: {sorted(unknown)} are not {format} axes")
    chosen = {**DEFAULT_VARIANTS[format], "quality": 85, **dict(variant)}
    ext = {"JPEG": ".jpg", "PNG": ".png", "BMP": ".bmp"}[format]
    name = f"side-{width}{ext}" if width == height else f"size-{width}x{height}{ext}"
    name = name if filename is None else filename
    sample = _finish(canvas, format, {**chosen, "max_bytes": 1 << 40}, name, "face on a flat background")
    if long_side <= MAX_SIDE:
        return sample
    which = "width" if width > MAX_SIDE else "height"
    which = "side" if width == height else which
    return InvalidImage(
        sample.data,
        sample.filename,
        sample.content_type,
        sample.info,
        sample.description + f" ({which} {long_side} ≥ 4096)",
        clause="LP-ERR-9",
        family="too-high-resolution",
    )
