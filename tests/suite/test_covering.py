"""The covering set (issue 14): every named value, boundary and kind of the strategy modules' tables
is in it, checked on the bytes the client sends; the suite's tests carry it; the page is current.

Each expectation is derived from a strategy table, so a value added to a table without being
covered fails here. Where bytes need a table of their own to be read (a PNG mode's IHDR fields, an
unsupported format's signature), a value the reader does not know fails too.
"""

from __future__ import annotations

import importlib
import io
import itertools
import struct
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.errors import InvalidArgument
from PIL import Image

from conformance.client import ClientSettings, TargetClient
from conformance.exchange import KEY_HEADER, ApiRequest, Key, Part
from conformance.proxy.observed import parse_parts
from conformance.strategies._encode import corpus_image
from conformance.strategies._invalid import (
    BOMB_SIZES,
    CORRUPTIONS,
    EMPTY_CONTENT_TYPES,
    END_CUTS,
    FACELESS_CORPUS,
    FACELESS_SCALES,
    HUGE_LONG_SIDES,
    IMAGE_NAMES,
    OVERSIZED_KINDS,
    TOO_HIGH,
    UNSUPPORTED_KINDS,
)
from conformance.strategies._samples import FORMATS, MAX_IMAGE_BYTES, MAX_SIDE, MIME
from conformance.strategies._valid import (
    EXTENSIONS,
    FRAMINGS,
    SMALLEST_FACE_FRAME,
    STEMS,
    VARIANT_AXES,
    face_photo,
)
from conformance.strategies.covering import (
    BURST,
    CLAUSES,
    COVERING_EXTENSIONS,
    POOL,
    TRIPLE,
    covering_requests,
    success_axes,
)
from conformance.strategies.fields import (
    LONG_INVALID_TYPES,
    NAMED_INVALID_TYPES,
    NAMED_KEY_CASINGS,
    VALID_TYPES,
)
from conformance.strategies.requests import (
    MISSING_IMAGE_VARIANTS,
    NAMED_BOUNDARIES,
    NON_MULTIPART,
    PART_CONTENT_TYPES,
    PART_ORDERS,
    TEXT_IMAGE_VALUES,
    UNKNOWN_FIELDS,
    UNKNOWN_HEADERS,
)
from tests.strategies.helpers import decode, has_face, png_declared_size

API_KEY, INVALID_KEY = "valid-key", "invalid-key-for-conformance"
MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"BM": "BMP"}
# PNG_MODES → (bit depth, colour type) in IHDR: a mode added to the table must be added here.
PNG_MODE_FIELDS = {
    "RGB": (8, 2),
    "RGBA": (8, 6),
    "P": (8, 3),
    "L": (8, 0),
    "RGB;16": (16, 2),
    "RGBA;16": (16, 6),
}
# UNSUPPORTED_KINDS → how its bytes start (or look): a kind added to the table must be added here.
SIGNATURES = {
    "GIF": lambda d: d[:4] == b"GIF8",
    "TIFF": lambda d: d[:4] in (b"II*\x00", b"MM\x00*"),
    "WebP": lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP",
    "ICO": lambda d: d[:4] == b"\x00\x00\x01\x00",
    "PDF": lambda d: d[:5] == b"%PDF-",
    "SVG": lambda d: d.lstrip().startswith(b"<svg"),
    "HEIC": lambda d: d[4:12] == b"ftypheic",
    "text": lambda d: d.isascii() and d[:1].isalpha(),
    "random": lambda d: d[:1] == b"\x00" and d[4:12] != b"ftypheic" and d[:4] != b"\x00\x00\x01\x00",
}
# CORRUPTIONS → words of the image description: a kind added to the table must be added here.
CORRUPTION_WORDS = {
    "truncated": "% of its pixel data",
    "truncated-end": "missing its last",
    "truncated-header": "cut inside its header",
    "garbled-body": "garbled body",
    "bad-header": "bad header",
}
MISSING_IMAGE_SHAPES = {  # MISSING_IMAGE_VARIANTS → the part names sent
    "type only": ["type"],
    "file under another name": ["type", "image"],
    "unknown field only": ["comment"],
}
NON_MULTIPART_TYPES = {"json": "application/json", "urlencoded": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def client() -> Iterator[TargetClient]:
    with TargetClient(
        ClientSettings(base_url="http://127.0.0.1:9", api_key=API_KEY, invalid_api_key=INVALID_KEY)
    ) as target:
        yield target


class Sent:
    """One covering request as the client builds it: raw headers, body, parts."""

    def __init__(self, client: TargetClient, request: ApiRequest) -> None:
        http = client.build(request)
        self.request = request
        self.headers = [(k.decode(), v.decode()) for k, v in http.headers.raw]
        self.body = http.read()
        self.content_type = http.headers.get("content-type", "")
        self.parts: tuple[Part, ...] = parse_parts(self.body, self.content_type) or ()

    def part(self, name: str) -> Part | None:
        return next((p for p in self.parts if p.name == name), None)

    @property
    def image(self) -> bytes:
        part = self.part("image_target")
        assert part is not None, self.request.description
        return part.content

    @property
    def type_value(self) -> str | None:
        part = self.part("type")
        return None if part is None else part.content.decode()

    @property
    def boundary(self) -> str:
        return self.content_type.partition("boundary=")[2]

    def key(self) -> tuple[str, str] | None:
        return next(((k, v) for k, v in self.headers if k.lower() == KEY_HEADER), None)


@pytest.fixture(scope="module")
def sent(client: TargetClient) -> dict[str, list[Sent]]:
    return {clause: [Sent(client, r) for r in covering_requests(clause)] for clause in CLAUSES}


def fmt_of(data: bytes) -> str | None:
    return next((fmt for magic, fmt in MAGIC.items() if data.startswith(magic)), None)


def declared_size(data: bytes) -> tuple[int, int]:
    """Width and height from the header (bombs included), never the pixels."""
    if data.startswith(b"\x89PNG"):
        return png_declared_size(data)
    with Image.open(io.BytesIO(data)) as image:
        return image.size


# ---------------------------------------------------------------- the suite carries the set


@pytest.fixture(scope="module")
def suite() -> dict[str, ModuleType]:
    for name in ("livephoto-errors", "livephoto-success"):  # the plugin registers them in a suite run
        try:
            settings.get_profile(name)
        except InvalidArgument:
            settings.register_profile(name, max_examples=1, deadline=None, database=None)
    return {
        m: importlib.import_module(f"conformance.suite.{m}")
        for m in ("test_errors", "test_request", "test_success")
    }


SUITE_TESTS = {
    "LP-OK-1": ("test_success", "test_generated_valid_requests_get_a_video"),
    **{c: ("test_errors", f"test_{c.lower().replace('-', '_')}") for c in CLAUSES if c.startswith("LP-ERR")},
}


def test_every_list_is_attached_to_its_suite_test_in_order(suite: dict[str, ModuleType]) -> None:
    assert set(SUITE_TESTS) == set(CLAUSES)
    for clause, (module, name) in SUITE_TESTS.items():
        test = getattr(suite[module], name)
        # Hypothesis runs explicit examples in reverse order of this list (the order written).
        examples = [e.kwargs["api_request"] for e in reversed(test.hypothesis_explicit_examples)]
        assert examples == list(covering_requests(clause)), clause


def test_the_suite_profiles_keep_the_explicit_phase() -> None:
    from hypothesis import Phase

    from conformance.pytest.profiles import register_hypothesis_profiles
    from conformance.settings import Settings

    class Config:
        def getoption(self, name: str, default: Any = None) -> Any:
            return {"examples_db": None, "thorough": False, "hypothesis_seed": 1}.get(name, default)

    register_hypothesis_profiles(Config(), Settings(target_url="", api_key="", max_examples=1))  # type: ignore[arg-type]
    for name in ("livephoto-errors", "livephoto-success"):
        assert Phase.explicit in settings.get_profile(name).phases


def test_an_unknown_clause_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"LP-ERR-99.*choose one of LP-OK-1"):
        covering_requests("LP-ERR-99")


def test_the_page_is_current() -> None:
    from tools.covering_doc import PAGE, render

    assert PAGE.read_text(encoding="utf-8") == render(), "run .venv/bin/python tools/covering_doc.py"


# ---------------------------------------------------------------- success: every factor, zipped


def test_success_requests_zip_the_axes_instead_of_multiplying_them(sent: dict[str, list[Sent]]) -> None:
    """12 requests carry every factor (issue 18: at most 16 successes per default run)."""
    requests = sent["LP-OK-1"]
    assert len(requests) == len(POOL) >= max(len(axis) for axis in success_axes().values())
    assert len(requests) <= 12
    for one in requests:
        assert one.request.expect_clause == "LP-OK-1"
        assert {"LP-REQ-2", "LP-REQ-3", "LP-REQ-6"} <= set(one.request.labels)


def test_the_burst_tells_each_request_s_video_apart(sent: dict[str, list[Sent]]) -> None:
    """LP-OPS-2: six type-1 requests among the 8 whose aspect ratios are at least 25 % apart, so a
    video handed to another request of the burst shows in its aspect ratio."""
    burst = [sent["LP-OK-1"][i] for i in BURST]
    assert len(burst) == 8
    ratios = sorted(
        width / height
        for one in burst
        if one.type_value == "1"
        for width, height in [declared_size(one.image)]
    )
    assert len(ratios) == 6
    assert all(b / a >= 1.25 for a, b in itertools.pairwise(ratios)), ratios


def test_the_triple_is_one_picture_under_each_type(sent: dict[str, list[Sent]]) -> None:
    """LP-VID-6 and LP-REQ-5 compare videos of one picture: three lossless encodings, same pixels."""
    import numpy as np

    triple = {value: sent["LP-OK-1"][index] for value, index in TRIPLE.items()}
    assert {value: one.type_value for value, one in triple.items()} == {"1": "1", "0": "0", None: None}
    pixels = [np.asarray(decode(one.image).convert("RGB")) for one in triple.values()]
    assert all(fmt_of(one.image) in ("PNG", "BMP") for one in triple.values())
    assert all(np.array_equal(pixels[0], other) for other in pixels[1:])


def test_success_requests_cover_every_image_encoding(sent: dict[str, list[Sent]]) -> None:
    seen: dict[str, set[tuple[str, Any]]] = {fmt: set() for fmt in FORMATS}
    extensions: dict[str, set[str]] = {fmt: set() for fmt in FORMATS}
    framings: set[str] = set()
    for one in sent["LP-OK-1"]:
        data, fmt = one.image, fmt_of(one.image)
        assert fmt is not None
        image = decode(data)
        assert has_face(image), one.request.description
        framings.add("portrait" if image.width == image.height else "full-body")
        filename = one.part("image_target").filename or ""  # type: ignore[union-attr]
        extensions[fmt].add(Path(filename).suffix)
        if fmt == "JPEG":
            seen[fmt].add(("progressive", bool(image.info.get("progressive"))))
            seen[fmt].add(("orientation", image.getexif().get(0x0112)))
        elif fmt == "PNG":
            mode = {v: k for k, v in PNG_MODE_FIELDS.items()}[(data[24], data[25])]
            seen[fmt] |= {("mode", mode), ("interlace", bool(data[28]))}
        else:
            seen[fmt].add(("bits", struct.unpack_from("<H", data, 28)[0]))
    for fmt, axes in VARIANT_AXES.items():
        assert {(name, value) for name, values in axes.items() for value in values} <= seen[fmt], fmt
        assert set(COVERING_EXTENSIONS[fmt]) <= extensions[fmt], fmt
        assert set(EXTENSIONS[fmt]) - extensions[fmt] <= {".JPEG", ""}, fmt  # drawn by generation
    assert set(FRAMINGS) == framings


def test_success_requests_cover_every_request_factor(sent: dict[str, list[Sent]]) -> None:
    requests = sent["LP-OK-1"]
    assert {one.type_value for one in requests} == {*VALID_TYPES, None}
    assert set(NAMED_KEY_CASINGS) <= {one.key()[0] for one in requests if one.key()}  # type: ignore[index]
    assert all(one.key() == (one.request.key_header, API_KEY) for one in requests)
    boundaries = {one.boundary for one in requests}
    assert set(NAMED_BOUNDARIES) <= boundaries and boundaries - set(NAMED_BOUNDARIES)  # and derived ones
    orders = {[p.name for p in one.parts].index("image_target") == 0 for one in requests if one.type_value}
    assert len(orders) == len(PART_ORDERS)
    kinds = set()
    for one in requests:
        part = one.part("image_target")
        assert part is not None
        expected = MIME[fmt_of(part.content) or ""]
        kinds.add(
            {expected: "exact", None: "absent", "application/octet-stream": "generic"}[part.content_type]
        )
    assert kinds == set(PART_CONTENT_TYPES)
    names = {p.name for one in requests for p in one.parts} - {"image_target", "type"}
    assert set(UNKNOWN_FIELDS) <= names
    headers = {k for one in requests for k, _ in one.headers}
    assert {name for name, _ in UNKNOWN_HEADERS} <= headers
    stems = {Path(one.part("image_target").filename or "").stem for one in requests}  # type: ignore[union-attr]
    assert set(STEMS) <= stems


def test_the_pool_holds_every_limit(sent: dict[str, list[Sent]]) -> None:
    found = {"5 MiB": False, "width": False, "height": False, "smallest": False, "by content": False}
    for one in sent["LP-OK-1"]:
        data = one.image
        width, height = declared_size(data)
        found["5 MiB"] |= len(data) == MAX_IMAGE_BYTES
        found["width"] |= width == MAX_SIDE and height < MAX_SIDE
        found["height"] |= height == MAX_SIDE and width < MAX_SIDE
        found["smallest"] |= min(width, height) == SMALLEST_FACE_FRAME
        filename = one.part("image_target").filename or ""  # type: ignore[union-attr]
        found["by content"] |= fmt_of(data) == "JPEG" and filename.endswith(".png")
        assert "LP-REQ-6" in one.request.labels
    assert all(found.values()), found


# ---------------------------------------------------------------- errors: every named value


def test_every_key_situation_under_every_casing(sent: dict[str, list[Sent]]) -> None:
    missing = [one for one in sent["LP-ERR-1"] if one.key() is None]
    empty = {one.key()[0] for one in sent["LP-ERR-1"] if one.key() and one.key()[1] == ""}  # type: ignore[index]
    unknown = {
        k for one in sent["LP-ERR-2"] if (key := one.key()) and key[1] == INVALID_KEY for k in [key[0]]
    }
    assert len(missing) == 1
    assert set(NAMED_KEY_CASINGS) <= empty
    assert set(NAMED_KEY_CASINGS) <= unknown
    assert {one.request.key for one in sent["LP-ERR-1"]} == {Key.MISSING, Key.EMPTY}


def test_every_missing_image_and_text_image(sent: dict[str, list[Sent]]) -> None:
    shapes = [[p.name for p in one.parts] for one in sent["LP-ERR-3"]]
    assert all("image_target" not in shape for shape in shapes)
    assert [MISSING_IMAGE_SHAPES[v] for v in MISSING_IMAGE_VARIANTS] == shapes
    texts = {
        p.content.decode()
        for one in sent["LP-ERR-4"]
        if (p := one.part("image_target")) and p.filename is None
    }
    assert set(TEXT_IMAGE_VALUES) <= texts
    empties = [p for one in sent["LP-ERR-4"] if (p := one.part("image_target")) and p.filename is not None]
    assert all(p.content == b"" for p in empties)
    assert set(IMAGE_NAMES) <= {p.filename for p in empties}
    assert {c or "application/octet-stream" for c in EMPTY_CONTENT_TYPES} <= {p.content_type for p in empties}


def test_every_named_invalid_type(sent: dict[str, list[Sent]]) -> None:
    values = {one.type_value for one in sent["LP-ERR-5"]}
    assert set(NAMED_INVALID_TYPES) | set(LONG_INVALID_TYPES) <= values
    # issue 14: what int() and float() turn into 0 or 1, and the SPEC's own examples
    assert {"+0", " 0", "00", "0.0", "1e0", "0 ", "\t1", " 1", "01", "1.0", "true", ""} <= values
    assert not values & {*VALID_TYPES, None}


def test_every_unsupported_format(sent: dict[str, list[Sent]]) -> None:
    kinds = set()
    for one in sent["LP-ERR-6"]:
        matching = [kind for kind in UNSUPPORTED_KINDS if SIGNATURES[kind](one.image)]
        assert len(matching) == 1, (one.request.description, matching)
        kinds.add(matching[0])
    assert kinds == set(UNSUPPORTED_KINDS)


def test_every_corruption_of_every_format(sent: dict[str, list[Sent]]) -> None:
    for fmt in FORMATS:
        original = face_photo(format=fmt, side=128).data
        mine = [one for one in sent["LP-ERR-7"] if one.image[:2] == original[:2]]
        for how in CORRUPTIONS:
            assert any(CORRUPTION_WORDS[how] in one.request.description for one in mine), (fmt, how)
        prefixes = [one.image for one in mine if original.startswith(one.image)]
        cuts = {len(original) - len(prefix) for prefix in prefixes}
        assert set(END_CUTS) <= cuts, fmt  # a few bytes short: the interrupted upload
        header = {"JPEG": original.find(b"\xff\xda"), "PNG": original.find(b"IDAT") - 4, "BMP": 54}[fmt]
        assert any(len(prefix) < header for prefix in prefixes), fmt  # cut inside the header
        assert any(header < len(p) < len(original) - max(END_CUTS) for p in prefixes), fmt  # in the pixels
        garbled = [one.image for one in mine if len(one.image) == len(original) and one.image != original]
        assert len(garbled) >= 2, fmt  # garbled data, broken header
    # the issue's own examples: a JPEG without its EOI marker, a PNG without its IEND chunk
    assert 2 in END_CUTS and 12 in END_CUTS


def test_sizes_just_over_the_limit(sent: dict[str, list[Sent]]) -> None:
    sizes = {(fmt_of(one.image), len(one.image)) for one in sent["LP-ERR-8"]}
    assert all(size > MAX_IMAGE_BYTES for _, size in sizes)
    assert {("PNG", MAX_IMAGE_BYTES + 1), ("JPEG", MAX_IMAGE_BYTES + 1)} <= sizes
    assert set(OVERSIZED_KINDS) == {fmt for fmt, _ in sizes}


def test_each_side_over_the_limit_alone_and_every_bomb(sent: dict[str, list[Sent]]) -> None:
    shapes = {(fmt_of(one.image), *declared_size(one.image)) for one in sent["LP-ERR-9"]}
    for fmt in FORMATS:
        assert any(f == fmt and w == TOO_HIGH and h < TOO_HIGH for f, w, h in shapes), fmt
        assert any(f == fmt and h == TOO_HIGH and w < TOO_HIGH for f, w, h in shapes), fmt
    assert {("PNG", *size) for size in BOMB_SIZES} <= shapes
    assert set(HUGE_LONG_SIDES) <= {max(w, h) for _, w, h in shapes}
    faces = [one for one in sent["LP-ERR-9"] if "face" in one.request.description]
    assert {declared_size(one.image) for one in faces} == {
        (TOO_HIGH, 768),
        (768, TOO_HIGH),
        (TOO_HIGH, TOO_HIGH),
    }


def test_every_faceless_photo_scale_and_format(sent: dict[str, list[Sent]]) -> None:
    seen = set()
    for one in sent["LP-ERR-10"]:
        size = declared_size(one.image)
        for name in FACELESS_CORPUS:
            full = corpus_image(name).size
            for scale in FACELESS_SCALES:
                if (
                    size == (round(full[0] * scale), round(full[1] * scale))
                    and name.split(".")[0] in one.request.description
                ):
                    seen.add((name, scale, fmt_of(one.image)))
    assert {name for name, _, _ in seen} == set(FACELESS_CORPUS)
    assert {scale for _, scale, _ in seen} == set(FACELESS_SCALES)
    assert {fmt for _, _, fmt in seen} == set(FORMATS)


def test_every_wrong_content_type(sent: dict[str, list[Sent]]) -> None:
    assert {one.content_type for one in sent["LP-ERR-11"]} == {NON_MULTIPART_TYPES[k] for k in NON_MULTIPART}


def test_error_requests_expect_their_clause(sent: dict[str, list[Sent]]) -> None:
    for clause in CLAUSES:
        if clause.startswith("LP-ERR"):
            assert {one.request.expect_clause for one in sent[clause]} == {clause}
