"""Which checks judge an exchange: the one plan the suite, the proxy and the load profile share.

A check set per kind of answer (every answer, every error, a valid request's answer, the latency
bounds) and ``plan(exchange, expect=…)``, which picks them; fronts never choose checks themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.checks import envelope, errors, operations, request, security, success, video
from conformance.engine.groups import Group
from conformance.exchange import ENDPOINT_PATH, Exchange, Key
from conformance.media import keep_probe, probe_exchange
from conformance.registry import check_of
from conformance.spec import Level

CheckFunc = Callable[..., Any]

# Checks every response of the endpoint gets, whatever was asked (SPEC §2, LP-OK-3, LP-SEC-1).
COMMON: tuple[CheckFunc, ...] = (
    envelope.response_is_json_object,
    envelope.request_and_log_ids_are_strings,
    envelope.request_id_is_not_empty,
    envelope.error_code_matches_http_status,
    envelope.error_detail_is_complete,
    envelope.error_msg_is_present,
    envelope.error_code_str_is_well_formed,
    envelope.success_and_error_are_not_mixed,
    envelope.additional_fields_are_reported,
    success.success_carries_data_object,
    success.error_carries_no_video,
    security.api_key_is_not_echoed,
)
# Checks of every error response (LP-ERR-14, LP-SEC-2).
ERROR_COMMON: tuple[CheckFunc, ...] = (
    errors.code_message_is_documented,
    errors.message_is_human_readable,
    security.errors_reveal_no_internals,
)
# Checks of the answer to a valid request (LP-OK-*, LP-VID-*).
SUCCESS: tuple[CheckFunc, ...] = (
    request.endpoint_answers_post,
    success.valid_request_succeeds,
    video.video_is_strict_base64,
    *video.VIDEO_CHECKS,
)
# The latency bounds every exchange of the run is held to (LP-OPS-1).
LATENCY: tuple[CheckFunc, ...] = (operations.success_arrives_in_time, operations.client_error_arrives_in_time)
# What a request's labels ask of the target when it is valid (LP-REQ-*).
LABEL_CHECKS: dict[str, CheckFunc] = {
    "LP-REQ-2": request.multipart_variant_is_accepted,
    "LP-REQ-3": request.key_header_casing_is_accepted,
    "LP-REQ-5": request.valid_type_is_accepted,
    "LP-REQ-6": request.valid_image_is_accepted,
    "LP-REQ-7": request.extra_fields_are_ignored,
}


def failure_checks(clause: str) -> tuple[CheckFunc, ...]:
    """The checks of a request that breaks ``clause`` (a §5 failure), beyond the common ones."""
    extra: tuple[CheckFunc, ...] = ()
    if clause == "LP-ERR-3":
        extra = (request.image_target_is_required,)
    elif clause == "LP-ERR-5":
        extra = (request.invalid_type_is_refused,)
    return (*errors.FAILURE_CHECKS[clause], errors.client_error_is_never_5xx, *extra)


def plan(exchange: Exchange, *, expect: str | None) -> list[CheckFunc]:
    """The checks for one exchange.

    ``expect`` is ``"success"`` for a valid request, a §5 clause id for a request built to break
    it, or None when the suite does not know (the proxy): then the response decides.
    """
    checks = list(COMMON)
    if expect == "success" or (expect is None and exchange.status == 200):
        checks += SUCCESS
        checks += [LABEL_CHECKS[label] for label in _clause_labels(exchange) if label in LABEL_CHECKS]
    if exchange.status != 200:
        checks += ERROR_COMMON
    if expect and expect.startswith("LP-ERR-"):
        checks += failure_checks(expect)
    return checks


def _clause_labels(exchange: Exchange) -> list[str]:
    return sorted({label.split(":", 1)[0] for label in exchange.request.labels})


# --- Plans of the fronts that judge traffic they did not choose: the proxy, the load profile -------

# D-4: an answer to a wrong method is judged by LP-ERR-11, not by the §2 checks.
WRONG_METHOD: tuple[CheckFunc, ...] = (
    errors.wrong_method_is_a_client_error,
    errors.wrong_method_is_405_illegal_operation,
    errors.wrong_method_has_envelope,
    security.api_key_is_not_echoed,
    security.errors_reveal_no_internals,
)
# The checks that decode the video (LP-OK-2, LP-VID-*): the costly part of judging a success, which
# the load profile runs on a sample of the successes only.
VIDEO: frozenset[CheckFunc] = frozenset((video.video_is_strict_base64, *video.VIDEO_CHECKS))
# Checks over the many exchanges the load profile gathers: every request_id it saw (LP-ENV-2), the
# videos of one pooled request sent again (LP-OPS-3), windows of valid requests (LP-OPS-2).
REQUEST_ID_GROUP: tuple[CheckFunc, ...] = (envelope.request_ids_are_distinct,)
SAME_REQUEST_PAIR: tuple[CheckFunc, ...] = (video.identical_requests_give_same_shape,)
CONSISTENCY_WINDOW: tuple[CheckFunc, ...] = (operations.concurrent_requests_are_consistent,)
WINDOW_SIZE = operations.CONCURRENCY  # LP-OPS-2: "Under 8 concurrent valid requests"


@dataclass(frozen=True)
class ObservedPlan:
    """The checks of an exchange a front only observed, and the expectation they judge it by."""

    checks: tuple[CheckFunc, ...]
    expect: str | None


def observed_plan(exchange: Exchange, *, breaks: str | None) -> ObservedPlan | None:
    """The plan of an exchange the suite did not send (the proxy sees bytes, not intentions); None
    for one outside the contract (another path than the endpoint).

    ``breaks`` is the one §5 clause the request visibly breaks (None: none, or several — then the
    response decides). A wrong method is judged by LP-ERR-11's checks (D-4). SPEC LP-ERR-1:
    authentication comes before the body, and an observer cannot tell a known key from an unknown
    one, so a 401 to a keyed request is judged as the answer to LP-ERR-2.
    """
    request = exchange.request
    if request.path != ENDPOINT_PATH:
        return None
    if request.method != "POST":
        return ObservedPlan(WRONG_METHOD, "LP-ERR-11")
    expect = "LP-ERR-2" if exchange.status == 401 and request.key is Key.VALID else breaks
    return ObservedPlan(tuple(plan(exchange, expect=expect)), expect)


def decisive_first(checks: Sequence[CheckFunc]) -> tuple[list[CheckFunc], list[CheckFunc]]:
    """A plan in two parts, order kept: the MUST checks, whose failures alone make an answer
    non-compatible, then the SHOULD and MAY ones.

    A front that must decide before it passes an answer on (the enforcing proxy) runs the first part,
    decides, and judges the rest afterwards: the decision is the one the whole plan gives, because
    the checks a clause builds on (``needs``) are MUST checks of the same plan (a test holds every
    plan to that), so no MUST verdict can appear in the second part.
    """
    first = [check for check in checks if check_of(check).level is Level.MUST]
    return first, [check for check in checks if check_of(check).level is not Level.MUST]


def judges_video(success_number: int, every: int) -> bool:
    """The load profile's sampling rule: the video of the first success, and of one success in
    ``every`` after it, is fully judged (``every`` 1 judges them all)."""
    return (success_number - 1) % every == 0


def sampled_plan(exchange: Exchange, *, expect: str, video: bool) -> list[CheckFunc]:
    """``plan`` for a load-run exchange: without the video checks unless its video is sampled."""
    checks = plan(exchange, expect=expect)
    return checks if video else [check for check in checks if check not in VIDEO]


def latency_check(expect: str) -> CheckFunc:
    """The LP-OPS-1 budget an answer is held to: the success bound for a valid request, the client
    error bound for the others."""
    return LATENCY[0] if expect == "success" else LATENCY[1]


def unanswered_check(expect: str) -> CheckFunc:
    """The check a load-run request that got no answer is recorded against (as an error): a valid
    request's LP-OPS-2 consistency, an invalid one's LP-OPS-1 bound."""
    return CONSISTENCY_WINDOW[0] if expect == "success" else LATENCY[1]


def shape_stand_in(exchange: Exchange) -> Exchange | None:
    """A stand-in for a success whose video was judged, keeping its request and the video's shape
    (the probe) but not the bytes: what LP-OPS-3 compares later answers to without the memory of
    the video. None when the video did not decode."""
    probe = probe_exchange(exchange)
    if probe is None or not probe.ok:
        return None
    kept = Exchange(
        exchange.request,
        exchange.url,
        200,
        [],
        b"{}",
        exchange.elapsed,
        invalid_api_key=exchange.invalid_api_key,
    )
    keep_probe(kept, probe)  # the video bytes are dropped: only its shape is compared
    return kept


GROUP_PLANS: dict[Group, tuple[CheckFunc, ...]] = {
    Group.ANY_ANSWER: COMMON,
    Group.DISTINCT_ANSWERS: (envelope.request_ids_are_distinct,),
    # Distinct request ids under concurrency are LP-OPS-2's own ("distinct request_ids"): LP-ENV-2
    # judges them on answers sent alone, so a racy id counter fails one clause.
    Group.BURST: (operations.concurrent_requests_are_consistent,),
    Group.IDENTICAL_PAIR: SAME_REQUEST_PAIR,
    Group.FRAMING_PAIR: (video.avatar_and_full_body_framings_differ,),
    Group.ABSENT_TYPE_PAIR: (request.absent_type_is_avatar,),
    Group.SUCCESS_LATENCY: (operations.success_arrives_in_time,),
    Group.ERROR_LATENCY: (operations.client_error_arrives_in_time,),
    Group.WRONG_METHOD: WRONG_METHOD,
    Group.RATE_LIMITED: (
        *COMMON,
        *ERROR_COMMON,
        errors.rate_limit_is_429_or_503,
        errors.limit_carries_retry_after,
    ),
    Group.OUT_OF_CREDITS: (
        *COMMON,
        *ERROR_COMMON,
        errors.out_of_credits_is_429,
        errors.limit_carries_retry_after,
    ),
    Group.SERVER_ERROR: (*COMMON, *ERROR_COMMON, errors.server_failure_is_5xx_with_listed_code),
    Group.RETIRED: (*COMMON, *ERROR_COMMON, errors.retired_answers_404_ai_not_exists),
    Group.OVERSIZED: (security.oversized_body_is_refused,),
    Group.HOSTILE: (security.api_key_is_not_echoed,),
    Group.HOSTILE_ERROR: (security.api_key_is_not_echoed, security.errors_reveal_no_internals),
    Group.SURVIVOR: (security.target_survives,),
}


def own_checks(group: Group) -> tuple[CheckFunc, ...]:
    """A group's checks beyond those every answer and every error gets (what a test that cannot
    send the group records as skipped, e.g. LP-ERR-12 without a way to provoke a rate limit)."""
    return tuple(c for c in GROUP_PLANS[group] if c not in (*COMMON, *ERROR_COMMON))
