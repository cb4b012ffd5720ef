"""The catalogue itself: every mutant, its clause and how the suite is run against it (issue 8).

Families group the faults for the score table: envelope, errors (wrong codes and statuses),
limits (5 MiB / 4096 px), formats, request, auth, base64, success, video, security, operations,
editions; ``benign`` variants must pass. ``get`` finds one by name, ``all_mutants`` lists them.
"""

from __future__ import annotations

import base64
import difflib
from collections.abc import Callable
from typing import TypedDict, Unpack

from conformance.contract import Edition
from conformance.mock.hooks import EncodeHook, LoadHook
from conformance.mutants import hooks as h
from conformance.mutants import video as v
from conformance.mutants.model import (
    BodyHook,
    DecideHook,
    IntakeHook,
    Mutant,
    RequestIdHook,
    ResponseHook,
    VideoHook,
)
from conformance.protocol.request import MAX_IMAGE_BYTES
from conformance.spec import Level

MUST, SHOULD = Level.MUST, Level.SHOULD
ERRORS = ("--family", "errors")
# Each selection is a family (so the report judges every clause of it) narrowed with -k to the
# tests that exercise the fault, so a run takes seconds.
ENVELOPE = ("--family", "envelope", "-k", "every_kind_of_answer")
SUCCESS = ("--family", "success", "-k", "face_photo_gets_a_video")
VIDEO = ("--family", "video", "-k", "face_photo_gets_a_video")
OPERATIONS = ("--family", "operations", "-k", "concurrent")


def _request(tests: str, *more: str) -> tuple[str, ...]:
    return ("--family", "request", "-k", tests, *more)


def _errors(tests: str) -> tuple[str, ...]:
    return ("--family", "errors", "-k", tests)


def _security(tests: str) -> tuple[str, ...]:
    return ("--family", "security", "-k", tests)


MP4_HEADER = "AAAAIGZ0eXBpc29tAAACAGlzb21pc28y"  # a few bytes of an MP4 header, as base64
_SHAPES = v.Calls()  # request counter of the ``ops-shape-varies`` mutant


class _Hooks(TypedDict, total=False):
    """Every ``Mutant`` field after the five the catalogue gives by position, but ``benign``."""

    selection: tuple[str, ...]
    also: tuple[str, ...]
    exact: bool
    crashes: bool
    decide: tuple[DecideHook, ...]
    body: tuple[BodyHook, ...]
    response: tuple[ResponseHook, ...]
    intake: tuple[IntakeHook, ...]
    load: LoadHook | None
    video: VideoHook | None
    encode: EncodeHook | None
    request_id: RequestIdHook | None
    auth_after_body: bool
    max_image_bytes: int


class _Options(_Hooks, total=False):
    benign: bool


def _b64(transform: Callable[[str], str]) -> EncodeHook:
    return lambda video: transform(base64.b64encode(video).decode("ascii"))


def _m(
    name: str, clause: str, level: Level, family: str, description: str, **hooks: Unpack[_Options]
) -> Mutant:
    return Mutant(name, clause, level, family, description, **hooks)


def _benign(name: str, clause: str, description: str, **hooks: Unpack[_Hooks]) -> Mutant:
    return Mutant(name, clause, Level.MUST, "benign", description, benign=True, **hooks)


# fmt: off
CATALOGUE: tuple[Mutant, ...] = (
    _m("env-no-content-type", "LP-ENV-1", MUST, "envelope", "responses without a Content-Type header",
        response=(h.strip_content_type,), selection=ENVELOPE),
    _m("env-html-error-page", "LP-ENV-1", MUST, "envelope", "client errors as an HTML error page",
        response=(h.html_error_page,), selection=ENVELOPE),
    _m("env-request-id-missing", "LP-ENV-2", MUST, "envelope", "no request_id field",
        body=(h.drop("request_id"),), selection=ENVELOPE),
    _m("env-request-id-empty", "LP-ENV-2", SHOULD, "envelope", 'request_id is ""',
        body=(h.set_field(("request_id",), lambda o, out, c: ""),), selection=ENVELOPE),
    _m("env-error-code-string", "LP-ENV-3", MUST, "envelope", 'error_code as a string ("401")',
        body=(h.set_field(("error_code",), lambda o, out, c: str(o["error_code"])),), selection=ENVELOPE),
    _m("env-status-code-mismatch", "LP-ENV-4", MUST, "envelope", "error_detail.status_code 200 on errors",
        body=(h.set_field(("error_detail", "status_code"), lambda o, out, c: 200, errors_only=True),),
        selection=ENVELOPE),
    _m("env-error-detail-missing", "LP-ENV-4", MUST, "envelope", "no error_detail object",
        body=(h.drop("error_detail"),), selection=ENVELOPE),
    _m("env-error-msg-missing", "LP-ENV-5", SHOULD, "envelope", "no error_msg field",
        body=(h.drop("error_msg"),), selection=ENVELOPE),
    _m("env-200-with-error", "LP-ENV-6", MUST, "envelope",
        "error_code is the HTTP status on every answer: a success carries error code 200",
        body=(h.error_code_is_status,), selection=ENVELOPE),
    _m("env-error-with-code-0", "LP-ENV-6", MUST, "envelope", "errors carry error_code 0",
        body=(h.set_field(("error_code",), lambda o, out, c: 0, errors_only=True),), selection=ENVELOPE),
    _m("env-log-id-missing", "LP-ENV-2", MUST, "envelope", "no log_id field",
        body=(h.drop("log_id"),), selection=ENVELOPE),
    _m("env-body-not-one-object", "LP-ENV-1", MUST, "envelope",
        "a JSON log line after the envelope: the body is two JSON values, not one object",
        response=(h.trailing_log_line,), selection=ENVELOPE),
    # ---------------------------------------------------------------- success (SPEC §3)
    _m("ok-type-1-refused", "LP-OK-1", MUST, "success", "type 1 (full body) refused as invalid",
        intake=(h.refuse_if(lambda u, c: u.type_value == "1", "ERROR_INVALID_PARAMETER", "No type 1."),),
        selection=SUCCESS),
    _m("ok-data-missing", "LP-OK-3", MUST, "success", "success without data: the video at the top level",
        body=(h.video_at_top_level,), selection=SUCCESS),
    _m("ok-error-carries-video", "LP-OK-3", MUST, "success", "errors carry a non-empty data.video",
        body=(h.error_with_video,),
        selection=("--clause", "LP-OK-3", "--clause", "LP-ENV-1", "-k", "every_kind_of_answer")),
    _m("b64-url-safe", "LP-OK-2", MUST, "base64", "data.video in URL-safe base64 (- and _)",
        encode=lambda video: base64.urlsafe_b64encode(video).decode("ascii"), selection=SUCCESS),
    _m("b64-line-breaks", "LP-OK-2", MUST, "base64", "data.video wrapped at 76 columns (MIME)",
        encode=lambda video: base64.encodebytes(video).decode("ascii"), selection=SUCCESS),
    _m("b64-data-uri", "LP-OK-2", MUST, "base64", "data.video with a data:video/mp4;base64, prefix",
        encode=_b64(lambda text: "data:video/mp4;base64," + text), selection=SUCCESS),
    # ---------------------------------------------------------------- video (SPEC §4)
    _m("vid-not-a-video", "LP-VID-1", MUST, "video", "data.video is a PNG of the first frame",
        video=v.first_frame_as_png, selection=VIDEO),
    _m("vid-one-frame", "LP-VID-1", MUST, "video", "an MP4 with a single frame",
        video=v.frames_hook(v.first_only), selection=VIDEO),
    _m("vid-webm", "LP-VID-2", SHOULD, "video", "VP8 in WebM instead of H.264 in MP4",
        video=v.frames_hook(v.unchanged, codec="libvpx", fmt="webm"), selection=VIDEO),
    _m("vid-too-short", "LP-VID-3", SHOULD, "video", "a 0.5 s video", video=v.frames_hook(v.looped(0.25)),
        selection=VIDEO),
    _m("vid-still", "LP-VID-4", SHOULD, "video", "every frame the same: a still image",
        video=v.frames_hook(v.still), selection=VIDEO),
    _m("vid-odd-size", "LP-VID-5", SHOULD, "video", "odd width and height (4:4:4 so x264 accepts them)",
        video=v.frames_hook(v.odd_sized, pix_fmt="yuv444p"), selection=VIDEO),
    _m("vid-avatar-no-face", "LP-VID-6", SHOULD, "video", "avatar video with the face painted over",
        video=v.face_hidden, selection=VIDEO),
    _m("vid-wrong-aspect", "LP-VID-6", SHOULD, "video", "full-body video squashed to a square",
        video=v.frames_hook(v.squashed), selection=VIDEO),
    _m("ops-shape-varies", "LP-OPS-3", SHOULD, "video", "identical requests get videos of different lengths",
        video=v.frames_hook(v.varying_length(_SHAPES)), selection=("--clause", "LP-OPS-3")),
    # ---------------------------------------------------------------- request (SPEC §1)
    _m("req-endpoint-moved", "LP-REQ-1", MUST, "request", "POST on the documented path is a 404",
        decide=(h.success_is_removed_endpoint,), selection=_request("face_photo_gets_a_video"), exact=False),
    _m("req-short-boundary", "LP-REQ-2", MUST, "request", "multipart boundaries under 10 characters refused",
        intake=(h.refuse_if(h.boundary_shorter_than(10), "MISSING_PARAMETERS", "Malformed body."),),
        selection=_request("standard_multipart")),
    _m("req-no-image-is-fine", "LP-REQ-4", MUST, "request", "a request without image_target succeeds",
        intake=(h.no_image_is_fine,), selection=_request("lp_err_3")),
    _m("req-type-defaults-to-1", "LP-REQ-5", MUST, "request", "an absent type is taken as 1 (full body)",
        intake=(h.retype({None: "1"}),), selection=_request("absent_type")),
    _m("req-type-lenient", "LP-REQ-5", MUST, "request", 'type parsed with int(): " 1", "+0", "01" accepted',
        intake=(h.lenient_type,), selection=_request("lp_err_5")),
    _m("req-type-float", "LP-REQ-5", MUST, "request", 'type parsed with float(): "1.0", "1e0" accepted',
        intake=(h.float_type,), selection=_request("lp_err_5")),
    _m("req-5mib-refused", "LP-REQ-6", MUST, "limits", "an image of exactly 5 MiB refused (≥ for >)",
        intake=(h.refuse_if(h.at_least(MAX_IMAGE_BYTES), "FILE_SIZE_EXCEEDS_LIMIT", "Too large."),),
        selection=_request("valid_images_up_to")),
    _m("req-4095-refused", "LP-REQ-6", MUST, "limits", "a 4095-px side refused (≥ 4095 for ≥ 4096)",
        load=h.refuses_side(4095), selection=_request("valid_images_up_to")),
    _m("req-bmp-refused", "LP-REQ-6", MUST, "formats", "BMP images refused as unsupported",
        intake=(h.refuse_if(h.is_bmp, "UNSUPPORTED_FILE_TYPES", "BMP is not supported."),),
        # Not exact by nature (D-12): the corrupt, huge and faceless BMPs of LP-ERR-7/9/10 get
        # "unsupported" too, and a broken file cannot be re-encoded to tell the two apart.
        selection=_request("valid_images_up_to"), exact=False),
    _m("req-format-by-name", "LP-REQ-6", MUST, "formats", "the format judged by the file name's extension",
        intake=(h.refuse_if(h.extension_disagrees, "UNSUPPORTED_FILE_TYPES", "Wrong file type."),),
        selection=_request("valid_images_up_to")),
    _m("req-unknown-field-refused", "LP-REQ-7", MUST, "request", "unknown form fields refused",
        intake=(h.refuse_if(h.unknown_fields, "ERROR_INVALID_PARAMETER", "Unknown field."),),
        # Not exact by nature: LP-ERR-3's "an unknown field only" body is refused for its field.
        selection=_request("unknown_fields"), exact=False),
    # ---------------------------------------------------------------- auth and errors (SPEC §5)
    _m("err-missing-key-400", "LP-ERR-1", MUST, "auth", "a missing key answered 400 MISSING_PARAMETERS",
        decide=(h.answer(h.code_is("ERROR_APPLICATIONS_NOT_EXISTS"), "MISSING_PARAMETERS"),),
        selection=_errors("lp_err_1 and not lp_err_10 and not lp_err_11")),
    _m("err-auth-after-body", "LP-ERR-1", MUST, "auth", "the key checked after the body and the image",
        auth_after_body=True, selection=_errors("authentication_comes_before")),
    _m("err-unknown-key-403", "LP-ERR-2", MUST, "auth", "an unknown key answered 403 ERROR_USER_LOCKED",
        decide=(h.answer(h.code_is("ERROR_USER_NOT_EXISTS"), "ERROR_USER_LOCKED"),),
        selection=_errors("lp_err_2")),
    _m("err-missing-image-422", "LP-ERR-3", MUST, "errors", "a missing image_target answered 422",
        decide=(h.answer(h.missing_image, "ERROR_INVALID_FILE"),), selection=_errors("lp_err_3")),
    _m("err-text-image-415", "LP-ERR-4", MUST, "errors", "image_target as text answered 415",
        decide=(h.answer(h.text_or_empty_image, "UNSUPPORTED_FILE_TYPES"),), selection=_errors("lp_err_4")),
    _m("req-type-accepts-2", "LP-REQ-5", MUST, "request", 'type "2" accepted (as full body)',
        intake=(h.retype({"2": "1"}),), selection=("--clause", "LP-REQ-5")),
    _m("err-invalid-type-415", "LP-ERR-5", MUST, "errors", "an invalid type answered 415",
        decide=(h.answer(h.code_is("ERROR_INVALID_PARAMETER"), "UNSUPPORTED_FILE_TYPES"),),
        selection=_errors("lp_err_5")),
    _m("err-invalid-type-code", "LP-ERR-5", SHOULD, "errors",
        "an invalid type answered 400 MISSING_PARAMETERS",
        decide=(h.answer(h.code_is("ERROR_INVALID_PARAMETER"), "MISSING_PARAMETERS"),),
        selection=_errors("lp_err_5")),
    _m("fmt-gif-webp-accepted", "LP-ERR-6", MUST, "formats", "GIF and WebP decoded and animated",
        load=h.decode_gif_and_webp, selection=("--clause", "LP-ERR-6")),
    _m("err-unsupported-413", "LP-ERR-6", MUST, "errors", "an unsupported format answered 413",
        decide=(h.answer(h.code_is("UNSUPPORTED_FILE_TYPES"), "FILE_SIZE_EXCEEDS_LIMIT"),),
        selection=_errors("lp_err_6")),
    _m("err-unsupported-code", "LP-ERR-6", SHOULD, "errors",
        "an unsupported format answered 415 ERROR_UNSUPPORTED_GRAYSCALE_IMAGE",
        decide=(h.answer(h.code_is("UNSUPPORTED_FILE_TYPES"), "ERROR_UNSUPPORTED_GRAYSCALE_IMAGE"),),
        selection=_errors("lp_err_6")),
    _m("fmt-truncated-jpeg-accepted", "LP-ERR-7", MUST, "formats",
        "a lenient decoder: a JPEG a few bytes short (no EOI marker) decoded anyway",
        load=h.repairs_jpeg_end, selection=_errors("lp_err_7")),
    _m("err-corrupt-500", "LP-ERR-7", MUST, "errors", "a corrupt image crashes the decoder: 500",
        decide=(h.answer(h.code_is("FILE_DECODING_FAILURE"), "SERVICE_INTERNAL_ERROR"),),
        selection=_errors("lp_err_7"), also=("LP-ERR-13",)),
    _m("err-oversize-422", "LP-ERR-8", MUST, "errors", "a file over 5 MB answered 422 ERROR_CONTENT_TOO_LONG",
        decide=(h.answer(h.code_is("FILE_SIZE_EXCEEDS_LIMIT"), "ERROR_CONTENT_TOO_LONG", 422),),
        selection=_errors("lp_err_8 or limits_are_exact")),
    _m("lim-5mib-plus-one-accepted", "LP-ERR-8", MUST, "limits", "5 MiB + 1 byte accepted (limit off by one)",
        max_image_bytes=MAX_IMAGE_BYTES + 1, selection=_errors("lp_err_8 or limits_are_exact")),
    _m("err-resolution-400", "LP-ERR-9", MUST, "errors",
        "too high a resolution answered 400 ERROR_PARAMETERS",
        decide=(h.answer(h.code_is("FILE_RESOLUTION_EXCEEDS_LIMITS"), "ERROR_PARAMETERS"),),
        selection=_errors("lp_err_9 or limits_are_exact")),
    _m("lim-4096-accepted", "LP-ERR-9", MUST, "limits", "a 4096-px side accepted (limit off by one)",
        load=h.accepts_side(4096), selection=("--clause", "LP-ERR-9"), exact=False),
    _m("lim-bomb-500", "LP-ERR-9", MUST, "limits", "a decompression bomb exhausts memory: 500",
        load=h.bomb_crashes, selection=_errors("lp_err_9 or limits_are_exact or authentication_comes_before"),
        also=("LP-ERR-13", "LP-ERR-1"), exact=False, crashes=True),
    _m("err-no-face-404", "LP-ERR-10", MUST, "errors", "no face answered 404 ERROR_FACE_NOT_FOUND",
        decide=(h.answer(h.code_is("ERROR_NO_FACE_IN_FILE"), "ERROR_FACE_NOT_FOUND"),),
        selection=_errors("lp_err_10")),
    _m("err-no-face-code", "LP-ERR-10", SHOULD, "errors", "no face answered 422 ERROR_FACE_UNRECOGNIZABLE",
        decide=(h.answer(h.code_is("ERROR_NO_FACE_IN_FILE"), "ERROR_FACE_UNRECOGNIZABLE"),),
        selection=_errors("lp_err_10")),
    _m("err-json-body-422", "LP-ERR-11", MUST, "errors", "a JSON or urlencoded body answered 422",
        decide=(h.answer(h.not_multipart, "ERROR_INVALID_FILE"),), selection=_errors("lp_err_11")),
    _m("err-wrong-method-500", "LP-ERR-11", MUST, "errors", "GET/PUT/DELETE answered 500",
        decide=(h.answer(h.code_is("ERROR_ILLEGAL_OPERATION"), "SERVICE_INTERNAL_ERROR"),),
        selection=("--clause", "LP-ERR-11")),
    _m("err-wrong-method-404", "LP-ERR-11", SHOULD, "errors", "GET/PUT/DELETE answered 404",
        decide=(h.answer(h.code_is("ERROR_ILLEGAL_OPERATION"), "ERROR_RESOURCE_NOT_FOUND"),),
        selection=("--clause", "LP-ERR-11")),
    _m("err-rate-limit-400", "LP-ERR-12", MUST, "errors", "rate limiting answered 400",
        decide=(h.answer(h.code_is("EXCEEDING_LIMITS"), "ERROR_PARAMETERS"),),
        selection=("--clause", "LP-ERR-12")),
    _m("err-no-retry-after", "LP-ERR-12", SHOULD, "errors", "429 without Retry-After",
        decide=(h.without_header("Retry-After"),), selection=("--clause", "LP-ERR-12")),
    _m("err-server-error-400", "LP-ERR-13", MUST, "errors",
        "a server failure answered 400 PROCESSING_FAILURE",
        decide=(h.answer(h.injected_server_error, "PROCESSING_FAILURE", 400),),
        selection=("--clause", "LP-ERR-13")),
    _m("err-code-message-wrong", "LP-ERR-14", SHOULD, "errors", "code_message is not the documented text",
        body=(h.set_field(("error_detail", "code_message"), lambda o, out, c: "Error", errors_only=True),),
        selection=_errors("lp_err_3 or lp_err_5 or lp_err_7")),
    _m("err-retired-410", "LP-ERR-15", MUST, "errors", "retirement answered 410 ERROR_RESOURCE_RECLAIMED",
        decide=(h.answer(h.code_is("ERROR_AI_NOT_EXISTS"), "ERROR_RESOURCE_RECLAIMED"),),
        selection=("--clause", "LP-ERR-15")),
    _m("ed-corrupt-2025-09-status", "LP-ERR-7", MUST, "editions",
        "a 2026-01 server answering FILE_DECODING_FAILURE with its 2025-09 status (400)",
        decide=(h.answer(h.code_is("FILE_DECODING_FAILURE"), "FILE_DECODING_FAILURE", 400),),
        selection=(*_errors("lp_err_7"), "--edition", "2026-01")),
    # ---------------------------------------------------------------- operations (SPEC §6)
    _m("ops-slow-client-errors", "LP-OPS-1", SHOULD, "operations",
        "a slow face detector: 'no face' client errors answered after 5.5 s",
        response=(h.slow_client_errors(5.5, h.code_is("ERROR_NO_FACE_IN_FILE")),),
        selection=("--clause", "LP-OPS-1", "-k", "latency_budgets")),
    _m("ops-duplicate-request-ids", "LP-OPS-2", MUST, "operations",
        "request ids from an unlocked counter: duplicates under concurrency", intake=(h.racy_request_id,),
        request_id=h.racy_id, selection=OPERATIONS),
    _m("ops-swapped-responses", "LP-OPS-2", MUST, "operations",
        "a shared 'current image': concurrent requests get each other's videos",
        intake=(h.shares_latest_image,), selection=OPERATIONS),
    # ---------------------------------------------------------------- security (SPEC §7)
    _m("sec-key-echoed", "LP-SEC-1", MUST, "security", "errors repeat the API key in error_msg",
        body=(h.echoes_key,), selection=_security("key_is_not_echoed")),
    _m("sec-stack-trace", "LP-SEC-2", SHOULD, "security", "errors carry a Python traceback",
        body=(h.with_stack_trace,), selection=_security("hostile")),
    _m("sec-oversized-400", "LP-SEC-3", MUST, "security", "a 50 MB body refused with 400, not 413",
        decide=(h.answer(h.oversized_body, "ERROR_PARAMETERS"),),
        selection=_security("hostile")),
    _m("sec-dies-after-hostile", "LP-SEC-4", MUST, "security", "after a hostile request every answer is 500",
        decide=(h.dies_after_hostile,), selection=_security("hostile"), exact=False),
    # ---------------------------------------------------------------- benign variants: must pass
    _benign("benign-edition-2025-09", "LP-ERR-7", "every error with its 2025-09 status (the other edition)",
        decide=(h.in_edition(Edition.E2025_09),), selection=ERRORS),
    _benign("benign-extra-fields", "LP-ENV-7", "extra top-level and error_detail fields",
        body=(h.extra_fields,), selection=ENVELOPE),
    _benign("benign-charset", "LP-ENV-1", "Content-Type: application/json; charset=utf-8",
        response=(h.content_type("application/json; charset=utf-8"),), selection=ENVELOPE),
    _benign("benign-request-id-format", "LP-ENV-2", "request ids like LP-0000000001 (a locked counter)",
        request_id=h.sequential_id, selection=("--clause", "LP-ENV-2", "--clause", "LP-OPS-2")),
    _benign("benign-no-error-code-str", "LP-ENV-5", "no error_code_str (the reference sends it: both pass)",
        body=(h.drop("error_code_str"),), selection=ENVELOPE),
    _benign("benign-24-fps-4-s", "LP-VID-3", "a 4 s video at 24 fps",
        video=v.frames_hook(v.looped(4.0), fps=24), selection=VIDEO),
    _benign("benign-audio-track", "LP-VID-7", "an AAC audio track beside the video",
        video=v.frames_hook(v.unchanged, audio=True), selection=VIDEO),
    _benign("benign-chunked", "LP-ENV-1", "responses sent with Transfer-Encoding: chunked",
        response=(h.chunked,), selection=("--family", "envelope", "--family", "success")),
    _benign("benign-rate-limit-503", "LP-ERR-12", "rate limiting answered 503 AI_SERVICE_FLOW_RESTRICTION",
        decide=(h.answer(h.code_is("EXCEEDING_LIMITS"), "AI_SERVICE_FLOW_RESTRICTION", 503),),
        selection=("--clause", "LP-ERR-12")),
)
# fmt: on


def all_mutants() -> tuple[Mutant, ...]:
    """Every mutant and benign variant, in catalogue order."""
    return CATALOGUE


def get(name: str) -> Mutant:
    """The mutant called ``name``; a ValueError lists the known names."""
    for mutant in CATALOGUE:
        if mutant.name == name:
            return mutant
    names = [m.name for m in CATALOGUE]
    close = difflib.get_close_matches(name, names, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else f"e.g. {names[0]}"
    raise ValueError(f"unknown mutant {name!r} ({hint} docs/mutants.md lists all {len(names)})")
