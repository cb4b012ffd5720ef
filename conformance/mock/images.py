"""Image intake: sniff the format by content, read the dimensions from the header, then decode
(LP-REQ-6, LP-ERR-6, -7, -9). Dimensions are checked before any pixel is decoded, so a
decompression bomb is a resolution error and never a memory blow-up.

The cost of a decode is bounded for any upload of at most 5 MiB (a hostile one included):

- CPU: structures that make a decoder loop without producing pixels are counted before decoding
  (JPEG scans and the 8×8 blocks they visit, JPEG segments, PNG chunks), and every read the decoder
  makes checks the decoding thread's CPU time against ``DECODE_CPU_SECONDS`` (Pillow's Python
  decoders, such as BMP RLE, read as they go). Past a bound the answer is ``FILE_DECODING_FAILURE``.
- Memory: the server admits a decode only once its estimated pixel memory (``decode_cost``, from
  the header) fits in ``DecodeBudget`` beside the decodes in flight; large images wait for each
  other instead of adding up. The decoded image is reduced in its own mode before any
  conversion, and converted only when needed.
"""

from __future__ import annotations

import asyncio
import io
import struct
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFile

from conformance.protocol.request import FORMATS
from conformance.protocol.request import MAX_SIDE as MAX_SIDE  # re-exported: the mutants use them
from conformance.protocol.request import MIN_SIDE as MIN_SIDE

# LP-REQ-6: MAX_SIDE (width ≤ 4095 and height ≤ 4095) and MIN_SIDE (smaller MAY be refused with
# ERROR_LOW_RESOLUTION) come from the protocol; ``sniff``'s names → Pillow's format names.
PILLOW_FORMATS = {fmt.lower(): fmt for fmt in FORMATS}
WORK_SIDE = 1280  # px: decoded images are reduced to this long side (the face detector looks at 640 px
#                   and the video at ≤ 512 px), so a 4095 px photo does not hold 50 MB per request

DECODE_CPU_SECONDS = 1.0  # CPU time of the decoding thread one upload may use
DECODE_MEMORY_BYTES = 128 * 1024 * 1024  # estimated pixel memory of all decodes in flight together
SMALL_DECODE_ROOM = 32 * 1024 * 1024  # of it, always left beside one large decode for small ones
MAX_JPEG_SEGMENTS = 512  # before the first scan (a photo has 10–30; a split ICC profile adds a few)
MAX_JPEG_SCANS = 100  # a progressive JPEG has about 10 (mozjpeg's richest scripts about 20)
MAX_JPEG_BLOCK_VISITS = 12_000_000  # Σ over scans of the 8×8 blocks each visits (≈ 60 ns each):
#                                     a 4095² 4:4:4 progressive file with libjpeg's 10 scans needs 3.7 M
MAX_PNG_CHUNKS = 10_000  # a 5 MiB PNG in 8 KiB IDAT chunks has 640

_EXIF_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}  # EXIF orientation → the transposition that makes the image upright (as ImageOps.exif_transpose)

# Pillow's own bomb guard (Image.MAX_IMAGE_PIXELS, ≈ 89 MP) is left as it is: the header check
# below keeps every image at ≤ 4095 × 4095 ≈ 16.8 MP before Pillow sees it, and a
# DecompressionBombError is still mapped to the resolution error should a header lie.


class ImageRejected(Exception):
    """The image cannot be accepted; ``code`` is the documented error code to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sniff(data: bytes) -> str | None:
    """``jpeg``, ``png`` or ``bmp`` from the magic bytes, or None for anything else (LP-REQ-6)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"BM") and len(data) >= 26:
        return "bmp"
    return None


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ValueError("PNG without an IHDR chunk")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _bmp_size(data: bytes) -> tuple[int, int]:
    header_size = struct.unpack("<I", data[14:18])[0]
    if header_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack("<HH", data[18:22])
        return width, height
    width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)  # a negative height means top-down rows


_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PROGRESSIVE_SOF = {0xC2, 0xC6, 0xCA, 0xCE}


@dataclass
class _JpegLayout:
    """What the segments before the first scan say: size, components (id → sampling factors)."""

    width: int = 0
    height: int = 0
    progressive: bool = False
    components: dict[int, tuple[int, int]] = field(default_factory=dict)
    first_scan: int = -1  # offset of the first SOS marker

    def blocks(self, component: int) -> int:
        """8×8 blocks a scan of one component visits (MCU padding included, so never less)."""
        h_max = max((h for h, _ in self.components.values()), default=1)
        v_max = max((v for _, v in self.components.values()), default=1)
        h, v = self.components.get(component, (h_max, v_max))  # an unknown id counts as the largest
        return -(-self.width // (8 * h_max)) * h * -(-self.height // (8 * v_max)) * v


def _jpeg_walk(data: bytes, *, stop_at_frame: bool) -> _JpegLayout:
    """Walk the segments from SOI to the frame header (``stop_at_frame``) or to the first scan.
    At most MAX_JPEG_SEGMENTS segments: a file of a million empty comments is refused before
    Pillow's Python marker loop spends seconds on it; bytes between segments are refused too."""
    layout = _JpegLayout()
    pos = 2
    segments = 0
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("JPEG marker expected")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise ValueError(f"more than {MAX_JPEG_SEGMENTS} JPEG segments before the first scan")
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in _SOF_MARKERS:
            if pos + 10 > len(data):
                break
            layout.height, layout.width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            layout.progressive = marker in _PROGRESSIVE_SOF
            if stop_at_frame:
                return layout
            count = data[pos + 9]
            for index in range(count):
                at = pos + 10 + 3 * index
                if at + 2 < len(data):
                    layout.components[data[at]] = (max(1, data[at + 1] >> 4), max(1, data[at + 1] & 0x0F))
        elif marker == 0xDA:
            if not layout.width:
                break
            layout.first_scan = pos
            return layout
        pos += 2 + length
    raise ValueError("JPEG without a frame header" if not layout.width else "JPEG without a scan")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    layout = _jpeg_walk(data, stop_at_frame=True)
    return layout.width, layout.height


def _jpeg_scan_cost(data: bytes, layout: _JpegLayout) -> tuple[int, int]:
    """(scans, 8×8 block visits) of the first image, up to its EOI. Every SOS is ``FF DA`` (entropy
    coded data stuffs a 0 after each FF), so counting the byte pair never misses one."""
    end = data.find(b"\xff\xd9", layout.first_scan)
    end = len(data) if end < 0 else end
    scans = visits = 0
    pos = layout.first_scan
    while 0 <= pos < end:
        scans += 1
        if scans > MAX_JPEG_SCANS:
            break
        count = data[pos + 4] if pos + 4 < len(data) else 0
        ids = data[pos + 5 : pos + 5 + 2 * count : 2]
        visits += sum(layout.blocks(component) for component in ids) or layout.blocks(-1)
        pos = data.find(b"\xff\xda", pos + 2)
    return scans, visits


def _check_jpeg_cost(data: bytes) -> None:
    """Refuse a JPEG whose scans would cost seconds of CPU: a progressive file can repeat cheap
    scans (a few bytes each) over a 4095² frame, each one a full pass of the decoder."""
    layout = _jpeg_walk(data, stop_at_frame=False)
    scans, visits = _jpeg_scan_cost(data, layout)
    if scans > MAX_JPEG_SCANS or visits > MAX_JPEG_BLOCK_VISITS:
        shown = f"more than {MAX_JPEG_SCANS}" if scans > MAX_JPEG_SCANS else str(scans)
        raise ImageRejected(
            "FILE_DECODING_FAILURE",
            f"The JPEG has {shown} scans, too costly to decode (at most {MAX_JPEG_SCANS}, "
            f"and {MAX_JPEG_BLOCK_VISITS // 1_000_000} million 8×8 blocks over all scans).",
        )


def _check_png_chunks(data: bytes) -> None:
    """Refuse a PNG of more than MAX_PNG_CHUNKS chunks: Pillow handles each in Python, so
    hundreds of thousands of tiny chunks (ancillary or IDAT) cost seconds."""
    pos, chunks = 8, 0
    while pos + 8 <= len(data):
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise ImageRejected(
                "FILE_DECODING_FAILURE",
                f"The PNG has more than {MAX_PNG_CHUNKS} chunks, too costly to decode.",
            )
        length = struct.unpack_from(">I", data, pos)[0]
        if data[pos + 4 : pos + 8] == b"IEND":
            return
        pos += 12 + length


def header_size(data: bytes, fmt: str) -> tuple[int, int]:
    """(width, height) read from the file header, without decoding pixels (LP-ERR-9)."""
    reader = {"png": _png_size, "bmp": _bmp_size, "jpeg": _jpeg_size}[fmt]
    try:
        return reader(data)
    except (ValueError, struct.error):
        raise ImageRejected("FILE_DECODING_FAILURE", f"The {fmt.upper()} header is corrupt.") from None


def _check_side(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageRejected(
            "FILE_RESOLUTION_EXCEEDS_LIMITS",
            f"The image is {width}×{height} px; width and height must be less than {MAX_SIDE + 1} px.",
        )


class _BudgetReader:
    """A seekable binary file over the upload, without copying it, that refuses to go on once the
    decoding thread has used ``seconds`` of CPU: every decoder, C or Python, reads as it decodes."""

    def __init__(self, data: bytes | bytearray, seconds: float) -> None:
        self._view = memoryview(data)
        self._pos = 0
        self._deadline = time.thread_time() + seconds

    def _check(self) -> None:
        if time.thread_time() > self._deadline:
            raise ImageRejected(
                "FILE_DECODING_FAILURE",
                f"The image is too costly to decode (more than {DECODE_CPU_SECONDS:g} s of CPU).",
            )

    def read(self, size: int | None = -1) -> bytes:
        self._check()
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        chunk = bytes(self._view[self._pos : end])
        self._pos = max(self._pos, end)
        return chunk

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view.release()


class DecodeBudget:
    """Admission of decodes by estimated pixel memory (``decode_cost``), awaited on the event loop
    before a decode is handed to the media pool: decodes in flight together stay within ``total``
    bytes. An estimate is capped at ``total - room``, so large decodes run one at a time and a
    small one always fits beside them: waiting here, not in a pool thread, a legitimate photo
    passes while large hostile uploads queue behind each other."""

    def __init__(self, total: int = DECODE_MEMORY_BYTES, room: int = SMALL_DECODE_ROOM) -> None:
        self.total = total
        self.largest = total - room
        self.used = 0
        self._changed: asyncio.Condition | None = None  # made in the serving loop on first use

    @asynccontextmanager
    async def reserve(self, cost: int) -> AsyncIterator[None]:
        """Hold ``cost`` bytes of the budget (capped at ``total - room``) for the duration."""
        cost = min(max(cost, 0), self.largest)
        if self._changed is None:
            self._changed = asyncio.Condition()
        changed = self._changed
        async with changed:
            await changed.wait_for(lambda: self.used + cost <= self.total)
            self.used += cost
        try:
            yield
        finally:
            async with changed:
                self.used -= cost
                changed.notify_all()


_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}  # else 4
_CONVERT_FIRST = {"1": "L", "P": "RGB", "PA": "RGBA"}  # modes Pillow resizes by nearest or wrongly


DECODE_SLACK = 1.25  # decoder buffers and allocator slack beside the pixels (measured: 1.2×)
DECODE_OVERHEAD = 4 * 1024 * 1024  # per decode, whatever its size


def decode_cost(data: bytes) -> int:
    """Bytes a decode of ``data`` holds at its peak, from the header alone (a cheap walk): the
    decoded image in Pillow's mode, a full-size conversion where one is needed, a progressive
    JPEG's coefficients (2 bytes per coefficient of every full-resolution block, whatever the
    draft scale). 0 when the header is unreadable or too large: such an upload is refused before
    any pixel is decoded."""
    fmt = sniff(data)
    try:
        if fmt is None:
            return 0
        width, height = header_size(data, fmt)
        if width > MAX_SIDE or height > MAX_SIDE:
            return 0
        pixels = width * height
        if fmt == "jpeg":
            layout = _jpeg_walk(data, stop_at_frame=False)
            reduction = min(width // WORK_SIDE, height // WORK_SIDE)
            scale = next((s for s in (8, 4, 2, 1) if reduction >= s), 1)
            estimate = -(-width // scale) * -(-height // scale) * 4  # Pillow's draft, RGB/CMYK 4 bytes
            if layout.progressive:
                estimate += sum(layout.blocks(component) for component in layout.components) * 128
        elif fmt == "png":
            depth, colour = data[24], data[25]
            # palette → RGB(A) copy, alpha → premultiplied copy for resizing; 16-bit grey is 2 bytes
            per_pixel = {0: 2 if depth == 16 else 1, 2: 4, 3: 9, 4: 8, 6: 8}.get(colour, 9)
            estimate = pixels * per_pixel
        else:
            bits = struct.unpack_from("<H", data, 28)[0] if len(data) >= 30 else 32
            estimate = pixels * (3 if _bmp_is_rle(data) else 5 if bits <= 8 else 8)
    except (ImageRejected, ValueError, struct.error, IndexError):
        return 0
    return int(estimate * DECODE_SLACK) + DECODE_OVERHEAD


def load_image(data: bytes) -> NDArray[np.uint8]:
    """Decode an uploaded image into an RGB array, rejecting it with the SPEC §5 code when needed."""
    fmt = sniff(data)
    if fmt is None:
        raise ImageRejected("UNSUPPORTED_FILE_TYPES", "The file is not a JPEG, PNG or BMP image.")
    _check_side(*header_size(data, fmt))
    try:
        if fmt == "jpeg":
            _check_jpeg_cost(data)
        elif fmt == "png":
            _check_png_chunks(data)
        _check_complete(data, fmt)
    except (ValueError, struct.error, IndexError):
        raise ImageRejected("FILE_DECODING_FAILURE", f"The {fmt.upper()} file is corrupt.") from None
    if fmt == "bmp" and _bmp_is_rle(data):
        return _decode_rle_bmp(data)
    return _decode(data, fmt)


def _check_complete(data: bytes, fmt: str) -> None:
    """A file cut short is refused, even where a lenient decoder would fill in the rest: the
    commonest real truncation is an interrupted upload missing only its last bytes (LP-ERR-7).
    JPEG must close its last scan with EOI, PNG must reach IEND, and an uncompressed BMP must hold
    every row its header declares."""
    if fmt == "jpeg":
        complete = data.rfind(b"\xff\xd9") > data.rfind(b"\xff\xda") >= 0
    elif fmt == "png":
        end = data.rfind(b"IEND")
        complete = end >= 12 and len(data) >= end + 8
    else:
        complete = _bmp_rows_present(data)
    if not complete:
        raise ImageRejected("FILE_DECODING_FAILURE", f"The {fmt.upper()} file is truncated.")


def _bmp_rows_present(data: bytes) -> bool:
    if _bmp_is_rle(data) or struct.unpack_from("<I", data, 14)[0] == 12:
        return True  # RLE streams end with their own marker; OS/2 files are judged by the decoder
    offset: int = struct.unpack_from("<I", data, 10)[0]
    width, height = _bmp_size(data)
    bits: int = struct.unpack_from("<H", data, 28)[0]
    stride = ((bits * width + 31) // 32) * 4
    return len(data) >= offset + stride * height


def _bmp_is_rle(data: bytes) -> bool:
    """An RLE8 or RLE4 BMP (BITMAPINFOHEADER or later, compression 1 or 2)."""
    return (
        len(data) >= 34
        and struct.unpack_from("<I", data, 14)[0] >= 40
        and data[30] in (1, 2)
        and not any(data[31:34])
    )


def _decode_rle_bmp(data: bytes) -> NDArray[np.uint8]:
    """RLE BMPs are decoded by OpenCV: Pillow's RLE decoder is Python, one pixel at a time (a
    4095² file of 255-pixel runs took 2 s, one of bare line ends 4 s); OpenCV's takes 0.1 s."""
    width, height = header_size(data, "bmp")
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageRejected("FILE_DECODING_FAILURE", "The BMP file is corrupt or truncated.")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageRejected(
            "ERROR_LOW_RESOLUTION",
            f"The image is {width}×{height} px; at least {MIN_SIDE}×{MIN_SIDE} px are needed.",
        )
    if max(width, height) > WORK_SIDE:
        bgr = cv2.resize(bgr, _fit((width, height)), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def _decode(data: bytes, fmt: str) -> NDArray[np.uint8]:
    reader = _BudgetReader(data, DECODE_CPU_SECONDS)
    try:
        with Image.open(reader, formats=[PILLOW_FORMATS[fmt]]) as image:  # type: ignore[arg-type]
            _check_side(*image.size)  # the lazy open has read the header only
            original = image.size
            if fmt == "jpeg":
                image.draft("RGB", (WORK_SIDE, WORK_SIDE))  # DCT scaling: decode at a reduced size
            image.load()
            small = _reduce(image)
            rgb = _upright(small, image)
            if rgb is image:  # closing the file below would release its pixels
                rgb = rgb.copy()
            reader._check()  # the last stages are bounded, but a decode that ran over still fails
    except ImageRejected:
        raise
    except Image.DecompressionBombError:
        raise ImageRejected("FILE_RESOLUTION_EXCEEDS_LIMITS", "The image declares too many pixels.") from None
    except (OSError, ValueError, SyntaxError, struct.error, EOFError, IndexError):
        raise ImageRejected(
            "FILE_DECODING_FAILURE", f"The {fmt.upper()} file is corrupt or truncated."
        ) from None
    finally:
        reader.close()
    width, height = original
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageRejected(
            "ERROR_LOW_RESOLUTION",
            f"The image is {width}×{height} px; at least {MIN_SIDE}×{MIN_SIDE} px are needed.",
        )
    return np.asarray(rgb, dtype=np.uint8)


def _reduce(image: ImageFile.ImageFile) -> Image.Image:
    """The decoded image reduced to WORK_SIDE in its own mode, in place (the full-size pixels are
    freed), converted first only for modes Pillow cannot resize faithfully: no full-size RGB copy."""
    work: Image.Image = image.convert(_CONVERT_FIRST[image.mode]) if image.mode in _CONVERT_FIRST else image
    if max(work.size) > WORK_SIDE:
        work.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BILINEAR, reducing_gap=None)
    return work


def _fit(size: tuple[int, int]) -> tuple[int, int]:
    """``size`` scaled to fit WORK_SIDE × WORK_SIDE (the long side becomes WORK_SIDE)."""
    width, height = size
    scale = WORK_SIDE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _upright(small: Image.Image, original: Image.Image) -> Image.Image:
    """RGB, turned upright by the EXIF orientation (read from the original's metadata)."""
    if small.mode.startswith("I;16") or small.mode == "I":
        wide = np.asarray(small).astype(np.uint32)
        small = Image.fromarray((np.clip(wide, 0, 65535) >> 8).astype(np.uint8), mode="L")
    orientation = original.getexif().get(0x0112, 1)  # Pillow caps EXIF tag data at the file size
    method = _EXIF_TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    if method is not None:
        small = small.transpose(method)
    return small if small.mode == "RGB" else small.convert("RGB")
