"""Invalid uploads, each labelled with the clause it exercises and the error family expected."""

from __future__ import annotations

import io
import struct
import time
from functools import cache

import numpy as np
from hypothesis import strategies as st
from PIL import Image

from conformance.exchange import ImageInfo
from conformance.strategies._encode import corpus_image, encode_png, flat_png, pad_jpeg, pad_png
from conformance.strategies._samples import MAX_IMAGE_BYTES, MAX_SIDE, MIME, InvalidImage, kib
from conformance.strategies._valid import face_photo, image_with_size

TOO_HIGH = MAX_SIDE + 1  # LP-ERR-9: 4096 on a side is rejected
FIXED_DATE = time.gmtime(0)  # the date written into files that record one (PDF)
FACELESS_CORPUS = ("chelsea.png", "coffee.png", "rocket.jpg", "camera.png")  # PROVENANCE.md
FACELESS_SCALES = (0.25, 0.5, 1.0)
IMAGE_NAMES = ("photo.jpg", "image.png", "picture.bmp", "selfie.JPG", "upload.jpeg")
BOMB_SIZES = ((20000, 20000), (TOO_HIGH, TOO_HIGH), (65535, 16), (TOO_HIGH, 1), (1, TOO_HIGH), (30000, 64))
# LP-ERR-7: how a supported file is broken. "truncated" cuts inside the pixel data at a fraction,
# "truncated-end" drops the last bytes (an interrupted upload: a JPEG without its EOI marker, a PNG
# without IEND), "truncated-header" cuts inside the header.
# LP-ERR-6: the SPEC's list of unsupported formats ("random" = random bytes with an image file name).
UNSUPPORTED_KINDS = ("GIF", "TIFF", "WebP", "ICO", "PDF", "SVG", "HEIC", "text", "random")
EMPTY_CONTENT_TYPES = (None, "image/jpeg", "image/png", "application/octet-stream")  # LP-ERR-4
OVERSIZED_KINDS = ("PNG", "JPEG", "BMP")  # LP-ERR-8: padded PNG/JPEG, a big BMP
OVERSIZED_EXTRAS = (1, 1024, 512 * 1024, MAX_IMAGE_BYTES)  # LP-ERR-8: bytes over 5 MiB
HUGE_LONG_SIDES = (TOO_HIGH, 5000, 8192)  # LP-ERR-9: real flat images with a side ≥ 4096
HUGE_SHORT_SIDES = (16, 64, 256)
CORRUPTIONS = ("truncated", "truncated-end", "truncated-header", "garbled-body", "bad-header")
END_CUTS = (2, 12, 16, 256)  # bytes dropped by "truncated-end": 2 = a JPEG's EOI, 12 = a PNG's IEND
MAX_END_CUT = 512  # generated "truncated-end" cuts are 1 to this many bytes


def _invalid(
    data: bytes,
    fmt: str,
    size: tuple[int, int],
    name: str | None,
    what: str,
    clause: str,
    family: str,
    *,
    has_face: bool | None = None,
    content_type: str | None = None,
) -> InvalidImage:
    info = ImageInfo(fmt, size[0], size[1], len(data), has_face, what)
    shown = f"{fmt} {size[0]}×{size[1]}" if size[0] else fmt
    description = f"{shown}, {kib(len(data))}, named {name!r} ({what})"
    return InvalidImage(data, name, content_type, info, description, clause=clause, family=family)


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@cache
def _faceless(name: str, scale: float, fmt: str) -> InvalidImage:
    image = corpus_image(name)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    data = _save(image, fmt)
    ext = {"JPEG": ".jpg", "PNG": ".png", "BMP": ".bmp"}[fmt]
    what = f"valid {image.mode} photo of {name.split('.')[0]} without a human face"
    return _invalid(
        data,
        fmt,
        image.size,
        f"photo{ext}",
        what,
        "LP-ERR-10",
        "no-face",
        has_face=False,
        content_type=MIME[fmt],
    )


def faceless_images() -> st.SearchStrategy[InvalidImage]:
    """Valid JPEG/PNG/BMP photos without a human face (LP-ERR-10 → 422 ERROR_NO_FACE_IN_FILE)."""
    return st.builds(
        _faceless,
        st.sampled_from(FACELESS_CORPUS),
        st.sampled_from(FACELESS_SCALES),
        st.sampled_from(("JPEG", "PNG", "BMP")),
    )


@cache
def _unsupported(kind: str) -> tuple[bytes, str, tuple[int, int]]:
    photo = Image.open(io.BytesIO(face_photo(format="PNG", side=128).data)).convert("RGB")
    pillow_formats = {"GIF": "GIF", "TIFF": "TIFF", "WebP": "WEBP", "ICO": "ICO", "PDF": "PDF"}
    if kind in pillow_formats:
        # A PDF records when it was made: a fixed date keeps the file the same in every run.
        dated = {"creationDate": FIXED_DATE, "modDate": FIXED_DATE} if kind == "PDF" else {}
        return _save(photo, pillow_formats[kind], **dated), kind, photo.size
    if kind == "SVG":
        svg = '<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128"><circle r="40"/></svg>'
        return svg.encode(), kind, (128, 128)
    if kind == "HEIC":
        # An ISO-BMFF ftyp box with the 'heic' brand, then a meta box stub: what HEIC sniffers look at.
        ftyp = struct.pack(">I", 24) + b"ftypheic" + struct.pack(">I", 0) + b"mif1heic"
        return ftyp + struct.pack(">I", 40) + b"meta" + bytes(32), kind, (0, 0)
    if kind == "text":
        return b"This is not an image, it is plain text.\n", kind, (0, 0)
    raise ValueError(kind)


def _unsupported_image(kind: str, name: str, noise: bytes) -> InvalidImage:
    if kind == "random":
        # A leading 0x00 byte keeps random bytes from starting like any image signature.
        data, size = b"\x00" + noise, (0, 0)
    else:
        data, _, size = _unsupported(kind)
    return _invalid(data, kind, size, name, "unsupported format", "LP-ERR-6", "unsupported-format")


def unsupported_images() -> st.SearchStrategy[InvalidImage]:
    """Files in a format other than JPEG/PNG/BMP with image-like names (LP-ERR-6 → 415)."""
    return st.builds(
        _unsupported_image,
        st.sampled_from(UNSUPPORTED_KINDS),
        st.sampled_from(IMAGE_NAMES),
        st.binary(min_size=1, max_size=256),
    )


def _corrupt(fmt: str, how: str, amount: int) -> InvalidImage:
    """``amount``: the % of the pixel data kept ("truncated"), the bytes dropped at the end
    ("truncated-end"), the extra size of the BMP's declared length ("garbled-body")."""
    base = face_photo(format=fmt, side=128)
    data = base.data
    what = f"{how.replace('-', ' ')} {fmt}"
    if how == "truncated":
        # Keep the header and cut inside the pixel data (amount % of the remainder).
        head = data.index(b"\xff\xda") + 12 if fmt == "JPEG" else {"PNG": 8 + 25 + 20, "BMP": 54}[fmt]
        data = data[: head + (len(data) - head) * amount // 100]
        what = f"{fmt} truncated at {amount} % of its pixel data"
    elif how == "truncated-end":
        data = data[:-amount]
        what = f"{fmt} missing its last {amount} bytes"
    elif how == "truncated-header":
        if fmt == "JPEG":
            data = data[: data.index(b"\xff\xc0") + 6]  # inside the frame header: no dimensions
        else:
            data = data[: {"PNG": 8 + 8 + 6, "BMP": 14 + 16}[fmt]]  # inside IHDR / the DIB header
        what = f"{fmt} cut inside its header ({len(data)} bytes)"
    elif how == "garbled-body":
        if fmt == "JPEG":
            # Huffman code counts summing past 256 are fatal to libjpeg ("Bogus Huffman table").
            dht = data.index(b"\xff\xc4") + 5
            data = data[:dht] + b"\xff" * 16 + data[dht + 16 :]
        elif fmt == "PNG":
            idat = data.index(b"IDAT")
            data = data[: idat + 4] + bytes(b ^ 0x5A for b in data[idat + 4 : idat + 40]) + data[idat + 40 :]
        else:
            data = data[:10] + struct.pack("<I", len(data) + amount * 1000) + data[14:]  # pixels past the end
    else:  # bad-header: the signature survives, the header does not
        if fmt == "JPEG":
            sof = data.index(b"\xff\xc0")
            data = data[: sof + 5] + b"\x00\x00\x00\x00" + data[sof + 9 :]  # 0×0 frame
        elif fmt == "PNG":
            data = data[:16] + b"\x00\x00\x00\x00" + data[20:]  # width 0, CRC now wrong
        else:
            data = data[:14] + struct.pack("<I", 7) + data[18:]  # an impossible DIB header size
    return _invalid(
        data,
        fmt,
        (base.info.width, base.info.height),
        base.filename,
        what,
        "LP-ERR-7",
        "corrupt",
        content_type=MIME[fmt],
    )


def corrupt_images() -> st.SearchStrategy[InvalidImage]:
    """Truncated or corrupt JPEG/PNG/BMP files that a strict decoder refuses (LP-ERR-7): cut in the
    pixel data, at the end (a few bytes short) or in the header; garbled data; a broken header."""
    formats = st.sampled_from(("JPEG", "PNG", "BMP"))
    return st.one_of(
        st.builds(_corrupt, formats, st.just("truncated-end"), st.integers(1, MAX_END_CUT)),
        st.builds(_corrupt, formats, st.sampled_from(_BY_FRACTION), st.integers(10, 90)),
    )


_BY_FRACTION = tuple(how for how in CORRUPTIONS if how != "truncated-end")


def _empty(name: str, content_type: str | None) -> InvalidImage:
    return _invalid(b"", "empty", (0, 0), name, "zero bytes", "LP-ERR-4", "empty", content_type=content_type)


def empty_images() -> st.SearchStrategy[InvalidImage]:
    """A zero-byte file named like an image (LP-ERR-4 → 400 PARAMETERS_CANNOT_EMPTY)."""
    return st.builds(_empty, st.sampled_from(IMAGE_NAMES), st.sampled_from(EMPTY_CONTENT_TYPES))


@cache
def _oversized(kind: str, extra: int) -> InvalidImage:
    size = MAX_IMAGE_BYTES + extra
    if kind == "BMP":
        side = 1400 + min(extra, 1 << 20) // 4096  # 24-bit BMP of the face photo: 1400² × 3 > 5 MiB
        photo = Image.open(io.BytesIO(face_photo(format="PNG", side=640).data)).convert("RGB")
        data = _save(photo.resize((side, side), Image.Resampling.BILINEAR), "BMP")
        return _invalid(
            data,
            "BMP",
            (side, side),
            "big.bmp",
            "valid 24-bit BMP over 5 MiB",
            "LP-ERR-8",
            "too-large",
            has_face=True,
            content_type=MIME["BMP"],
        )
    base = face_photo(format=kind, side=512)
    data = pad_png(base.data, size) if kind == "PNG" else pad_jpeg(base.data, size)
    what = f"valid {kind} padded with a comment to {size} bytes, over 5 MiB"
    return _invalid(
        data,
        kind,
        (base.info.width, base.info.height),
        "big" + {"PNG": ".png", "JPEG": ".jpg"}[kind],
        what,
        "LP-ERR-8",
        "too-large",
        has_face=True,
        content_type=MIME[kind],
    )


def oversized_images() -> st.SearchStrategy[InvalidImage]:
    """Valid face photos just over 5 MiB, up to twice that (LP-ERR-8 → 413 FILE_SIZE_EXCEEDS_LIMIT)."""
    return st.builds(_oversized, st.sampled_from(OVERSIZED_KINDS), st.sampled_from(OVERSIZED_EXTRAS))


@cache
def decompression_bomb(width: int = 20000, height: int = 20000) -> InvalidImage:
    """A small valid 1-bit PNG declaring ``width``×``height``, one side ≥ 4096 (LP-ERR-9)."""
    if max(width, height) < TOO_HIGH or min(width, height) < 1 or max(width, height) > 65535:
        raise ValueError(f"width={width}, height={height}: one side must be in [{TOO_HIGH}, 65535], both ≥ 1")
    data = flat_png(width, height, bit_depth=1)
    what = f"decompression bomb: declares {width}×{height} in {kib(len(data))}"
    return _invalid(
        data,
        "PNG",
        (width, height),
        "bomb.png",
        what,
        "LP-ERR-9",
        "too-high-resolution",
        content_type=MIME["PNG"],
    )


@cache
def _real_huge(fmt: str, long_side: int, short_side: int, tall: bool) -> InvalidImage:
    short_side = min(short_side, MAX_IMAGE_BYTES // 2 // (long_side * 3))  # stays under 5 MiB even as BMP
    width, height = (short_side, long_side) if tall else (long_side, short_side)
    if fmt == "PNG":
        data = encode_png(np.full((height, width, 3), 128, dtype=np.uint8), level=9)
    else:
        data = _save(Image.new("RGB", (width, height), (128, 128, 128)), fmt)
    ext = {"JPEG": ".jpg", "PNG": ".png", "BMP": ".bmp"}[fmt]
    what = f"real flat {fmt} {width}×{height}, side ≥ 4096"
    return _invalid(
        data,
        fmt,
        (width, height),
        "wide" + ext,
        what,
        "LP-ERR-9",
        "too-high-resolution",
        has_face=False,
        content_type=MIME[fmt],
    )


def huge_resolution_images() -> st.SearchStrategy[InvalidImage]:
    """Images with a side ≥ 4096: tiny bombs, real flat images, and face photos 4096 px wide, high
    or both, so each side's limit is probed alone (LP-ERR-9)."""
    bombs = st.sampled_from(BOMB_SIZES).map(lambda size: decompression_bomb(*size))
    real = st.builds(
        _real_huge,
        st.sampled_from(("PNG", "JPEG", "BMP")),
        st.sampled_from(HUGE_LONG_SIDES),
        st.sampled_from(HUGE_SHORT_SIDES),
        st.booleans(),
    )
    faces = st.sampled_from(((TOO_HIGH, TOO_HIGH), (TOO_HIGH, 768), (768, TOO_HIGH)))
    return st.one_of(real, bombs, faces.map(lambda size: image_with_size(*size, format="JPEG")))


def invalid_images() -> st.SearchStrategy[InvalidImage]:
    """Any invalid upload of LP-ERR-4 and LP-ERR-6..10."""
    return st.one_of(
        empty_images(),
        unsupported_images(),
        corrupt_images(),
        oversized_images(),
        huge_resolution_images(),
        faceless_images(),
    )
