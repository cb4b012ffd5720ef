"""Checks of SPEC §6, operations (LP-OPS-*): latency budgets and behaviour under concurrency."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import quantiles

from conformance.check_context import CheckContext
from conformance.checks.video import ASPECT_TOLERANCE, aspect_drift
from conformance.exchange import Exchange
from conformance.media import probe_exchange
from conformance.registry import fail, requirement
from conformance.verdicts import NotApplicable

SUCCESS_BUDGET = 30.0  # s, LP-OPS-1: "within 30 s for a ≤ 1 MP image"
ERROR_BUDGET = 5.0  # s, LP-OPS-1: "an error response for a client error within 5 s"
SMALL_IMAGE_PIXELS = 1_000_000  # LP-OPS-1: "≤ 1 MP"
CONCURRENCY = 8  # LP-OPS-2: "Under 8 concurrent valid requests"
RATE_LIMIT_ANSWERS = frozenset({(429, "EXCEEDING_LIMITS"), (503, "AI_SERVICE_FLOW_RESTRICTION")})
OWN_ASPECT_TOLERANCE = ASPECT_TOLERANCE  # LP-OPS-2 "its own request", judged as LP-VID-6 does
FULL_BODY_TYPE = "1"  # LP-REQ-5: type 1 keeps the input's aspect ratio (LP-VID-6)


def latency_figures(exchanges: Sequence[Exchange]) -> str:
    """p50 / p95 / max of the exchanges' latencies, for evidence."""
    times = sorted(e.elapsed for e in exchanges)
    if len(times) < 2:
        return f"{times[0] * 1000:.0f} ms" if times else "no exchanges"
    cuts = quantiles(times, n=20, method="inclusive")
    return f"p50 {cuts[9] * 1000:.0f} ms, p95 {cuts[18] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"


def _within(exchanges: Sequence[Exchange], budget: float, kind: str) -> str:
    """Fail on the first exchange slower than the budget; the latency figures otherwise."""
    if not exchanges:
        raise NotApplicable(f"no {kind} among these exchanges")
    for exchange in exchanges:
        if exchange.elapsed > budget:
            fail(
                f"HTTP {exchange.status} after {exchange.elapsed:.1f} s",
                f"within {budget:g} s",
                exchange=exchange,
            )
    return latency_figures(exchanges)


@requirement("LP-OPS-1")
def success_arrives_in_time(exchanges: Sequence[Exchange], ctx: CheckContext) -> str:
    """A success response SHOULD arrive within 30 s for a ≤ 1 MP image."""
    small = [
        e
        for e in exchanges
        if e.status == 200
        and e.request.image is not None
        and e.request.image.width * e.request.image.height <= SMALL_IMAGE_PIXELS
    ]
    return _within(small, SUCCESS_BUDGET, "success for a ≤ 1 MP image")


@requirement("LP-OPS-1")
def client_error_arrives_in_time(exchanges: Sequence[Exchange], ctx: CheckContext) -> str:
    """An error response for a client error SHOULD arrive within 5 s."""
    errors = [e for e in exchanges if 400 <= e.status < 500]
    return _within(errors, ERROR_BUDGET, "client error answer")


@requirement("LP-OPS-2")
def concurrent_requests_are_consistent(exchanges: Sequence[Exchange], ctx: CheckContext) -> str:
    """Under 8 concurrent valid requests the target MUST NOT answer with anything but 200 or the
    rate-limit responses of LP-ERR-12, and MUST stay consistent (each response belongs to its own
    request: distinct ``request_id``s).

    "Its own request" is also judged on the content where it can be: the video of a type 1 (full
    body) request must have its own input image's aspect ratio (within 10 %), so a target that
    hands one request's video to another under concurrency is caught.
    """
    seen: dict[str, Exchange] = {}
    for exchange in exchanges:
        if exchange.status != 200 and (exchange.status, exchange.code) not in RATE_LIMIT_ANSWERS:
            fail(
                f"HTTP {exchange.status} code {exchange.code or '(none)'} under concurrency",
                "HTTP 200 or a rate-limit answer (429 EXCEEDING_LIMITS, 503 AI_SERVICE_FLOW_RESTRICTION)",
                exchange=exchange,
            )
        _video_fits_own_image(exchange, exchanges)
        request_id = (exchange.envelope or {}).get("request_id")
        if isinstance(request_id, str) and request_id:
            if request_id in seen:
                fail(
                    f"request_id {request_id!r} on two of the concurrent responses",
                    "a distinct request_id per response",
                    exchange=exchange,
                )
            seen[request_id] = exchange
    ok = sum(1 for e in exchanges if e.status == 200)
    return f"{ok}/{len(exchanges)} answered 200; {latency_figures(exchanges)}"


def _video_fits_own_image(exchange: Exchange, burst: Sequence[Exchange]) -> None:
    """Fail when a type 1 success carries a video framed for another image of the burst (LP-OPS-2).

    A video whose aspect fits no image of the burst is not another request's: LP-VID-6 (the aspect
    of a full-body video) judges it, so one defect stays one failing clause.
    """
    image = exchange.request.image
    if exchange.status != 200 or exchange.request.type_value != FULL_BODY_TYPE:
        return
    if image is None or not image.width or not image.height:
        return
    probe = probe_exchange(exchange)
    if probe is None or not probe.ok or not probe.width or not probe.height:
        return  # no judgeable video: LP-OK-1 / LP-VID-1 say so
    wanted, got, drift = aspect_drift(image, probe)
    if drift <= OWN_ASPECT_TOLERANCE:
        return
    others = [o.request.image for o in burst if o is not exchange and o.request.image is not None]
    fits = [
        o for o in others if o is not None and o.height and aspect_drift(o, probe)[2] <= OWN_ASPECT_TOLERANCE
    ]
    if fits:
        fail(
            f"a {probe.width}×{probe.height} video (ratio {got:.3f}) for this request's "
            f"{image.width}×{image.height} image (ratio {wanted:.3f}), the shape of another request's "
            f"{fits[0].width}×{fits[0].height} image",
            f"each video framed from its own request's image (ratio within {OWN_ASPECT_TOLERANCE:.0%})",
            exchange=exchange,
        )
