"""What a suite test sent, named: the engine picks the checks for each (``plan.GROUP_PLANS``).

Kept apart from the plans so that naming a group loads no check (and so no PyAV or OpenCV).
"""

from __future__ import annotations

import enum


class Group(enum.Enum):
    """What a suite test sent, when it is more than one request judged alone: the test names it,
    the engine picks the checks (``GROUP_PLANS``); no test chooses checks itself."""

    ANY_ANSWER = "any answer of the endpoint"  # SPEC §2, LP-OK-3, LP-SEC-1
    DISTINCT_ANSWERS = "answers to different requests"  # LP-ENV-2
    BURST = "8 concurrent valid requests"  # LP-OPS-2
    IDENTICAL_PAIR = "one valid request sent twice"  # LP-OPS-3
    FRAMING_PAIR = "one picture as type 0, then as type 1"  # LP-VID-6
    ABSENT_TYPE_PAIR = "one picture without type, then as type 0"  # LP-REQ-5
    SUCCESS_LATENCY = "successes for ≤ 1 MP images"  # LP-OPS-1
    ERROR_LATENCY = "client errors"  # LP-OPS-1
    WRONG_METHOD = "the endpoint under another method"  # LP-ERR-11
    RATE_LIMITED = "a request while rate-limited"  # LP-ERR-12
    OUT_OF_CREDITS = "a request while out of credits"  # LP-ERR-12
    SERVER_ERROR = "a request while failing"  # LP-ERR-13
    RETIRED = "a request to a retired service"  # LP-ERR-15
    OVERSIZED = "a 50 MB body"  # LP-SEC-3
    HOSTILE = "a hostile request"  # LP-SEC-1, LP-SEC-2 (LP-SEC-2 on an error answer only)
    HOSTILE_ERROR = "a hostile request refused"  # LP-SEC-1, LP-SEC-2
    SURVIVOR = "the valid request after hostile ones"  # LP-SEC-4
