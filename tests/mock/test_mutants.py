"""The mutant catalogue (issue 8): well-formed (fast), each hook plants its fault (fast, in-process),
and the suite kills every mutant and passes every benign variant (slow, ``-m mutants``)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from conformance.mutants import Mutant, all_mutants, get, server_hooks
from conformance.spec import FAMILIES, Level, catalogue
from tests.mock.samples import ENDPOINT, FIVE_MIB, KEY, face_small, png_bomb, solid

# Clauses no mutant of the reference server can break, with the reason (MAY clauses are excluded:
# they cannot fail).
UNTESTABLE = {
    "LP-REQ-3": "header names reach an ASGI app already lower-cased (h11 and httptools fold them), so "
    "the reference server cannot be made to depend on the key header's casing; the suite's casing "
    "tests still judge other servers",
}
MUTANT_FAMILIES = {
    "envelope",
    "errors",
    "limits",
    "formats",
    "request",
    "auth",
    "base64",
    "success",
    "video",
    "security",
    "operations",
    "editions",
    "benign",
}
SELECTION_OPTIONS = {"--family", "--clause", "-k", "--max-examples", "--edition", "--level"}


# ---------------------------------------------------------------- the catalogue is well-formed


def test_names_are_unique_and_look_alike() -> None:
    names = [m.name for m in all_mutants()]
    assert len(names) == len(set(names))
    assert all(name == name.lower() and " " not in name for name in names)


@pytest.mark.parametrize("mutant", all_mutants(), ids=lambda m: m.name)
def test_each_mutant_is_well_formed(mutant: Mutant) -> None:
    clause = catalogue()[mutant.clause]  # raises for an unknown clause
    assert mutant.family in MUTANT_FAMILIES
    assert mutant.description
    if not mutant.benign:
        assert mutant.level in clause.levels, f"{mutant.clause} states no {mutant.level} obligation"
        assert clause.level is not Level.MAY
        assert mutant.family != "benign"
    for also in mutant.also:
        assert also in catalogue() and also != mutant.clause
    assert _plants_something(mutant), "a mutant without a hook changes nothing"
    options = [arg for arg in mutant.selection if arg.startswith("-")]
    assert set(options) <= SELECTION_OPTIONS
    families = [v for o, v in zip(mutant.selection, mutant.selection[1:], strict=False) if o == "--family"]
    assert set(families) <= set(FAMILIES)


def _plants_something(mutant: Mutant) -> bool:
    defaults = Mutant("x", "LP-ENV-1", Level.MUST, "envelope", "x")
    hooks = ("decide", "body", "response", "intake", "load", "video", "encode", "request_id")
    return (
        any(getattr(mutant, h) != getattr(defaults, h) for h in hooks)
        or mutant.auth_after_body
        or mutant.max_image_bytes != defaults.max_image_bytes
    )


def test_every_testable_clause_has_a_mutant() -> None:
    covered = {m.clause for m in all_mutants() if not m.benign}
    testable = {c.id for c in catalogue().values() if c.level is not Level.MAY} - set(UNTESTABLE)
    assert testable - covered == set()
    assert set(UNTESTABLE) <= set(catalogue())
    assert not set(UNTESTABLE) & covered, "a clause documented as untestable has a mutant"


def test_should_clauses_and_should_obligations_have_should_mutants() -> None:
    levels = {(m.clause, m.level) for m in all_mutants() if not m.benign}
    for clause in catalogue().values():
        if clause.level is Level.SHOULD:
            assert (clause.id, Level.SHOULD) in levels, clause.id


def test_benign_variants_cover_the_issue() -> None:
    benign = {m.name for m in all_mutants() if m.benign}
    assert len(benign) >= 8
    for wanted in ("edition", "extra-fields", "charset", "request-id", "fps", "audio", "chunked"):
        assert any(wanted in name for name in benign), wanted


EXACT_TARGET = 0.90  # issue 17: at least 90 % of the mutants are killed exactly


def test_at_least_90_percent_of_the_mutants_must_be_killed_exactly() -> None:
    """Each declared-exact mutant's run asserts an exact kill (``MutantRun.ok``: the failing clauses
    are exactly its clause); below 90 % of the catalogue declared so, the catalogue fails here."""
    mutants = [m for m in all_mutants() if not m.benign]
    exact = [m for m in mutants if m.declared_exact]
    assert len(exact) / len(mutants) >= EXACT_TARGET, sorted(m.name for m in mutants if not m.declared_exact)


def test_a_declared_exact_mutant_is_ok_only_when_killed_exactly() -> None:
    from conformance.mutation import MutantRun

    assert get("env-log-id-missing").declared_exact
    assert MutantRun("env-log-id-missing", 1, ("LP-ENV-2",), 1.0).ok
    assert not MutantRun("env-log-id-missing", 1, ("LP-ENV-2", "LP-ERR-11"), 1.0).ok
    assert not get("err-corrupt-500").declared_exact  # also: LP-ERR-13 (D-10)


def test_unknown_mutant_is_a_clear_error() -> None:
    with pytest.raises(
        ValueError, match=r"unknown mutant 'env-no-contenttype' \(did you mean env-no-content-type"
    ):
        server_hooks(["env-no-contenttype"])
    with pytest.raises(ValueError, match="not a single string"):
        server_hooks("vid-still")
    assert get("vid-still").clause == "LP-VID-4"


def test_serve_cli_accepts_mutants_and_refuses_unknown_ones(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli import build_parser

    args = build_parser().parse_args(["serve", "--mutant", "vid-still", "--mutant", "b64-url-safe"])
    assert args.mutant == ["vid-still", "b64-url-safe"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--mutant", "nope"])
    assert "unknown mutant 'nope'" in capsys.readouterr().err


# ---------------------------------------------------------------- hooks plant their fault (in-process)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, ServerThread]]:
    """One server per mutant used below, started lazily."""
    running: dict[str, ServerThread] = {}
    yield running
    for server in running.values():
        server.stop()


def _post(
    servers: dict[str, ServerThread],
    mutant: str,
    *,
    key: str | None = KEY,
    image: bytes | None = None,
    type_value: str | None = None,
) -> httpx.Response:
    if mutant not in servers:
        config = ServerConfig(api_keys=(KEY,), hooks=server_hooks([mutant] if mutant else []))
        servers[mutant] = ServerThread(config).start()
    headers = {"ailabapi-api-key": key} if key is not None else {}
    files = {"image_target": ("face.png", image if image is not None else face_small(), "image/png")}
    data = {"type": type_value} if type_value is not None else {}
    with httpx.Client(base_url=servers[mutant].url, timeout=60) as http:
        return http.post(ENDPOINT, headers=headers, files=files, data=data)


def test_reference_without_mutants_is_unchanged(servers: dict[str, ServerThread]) -> None:
    answer = _post(servers, "", type_value="2")
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["request_id"]


def test_envelope_mutants_alter_the_answer(servers: dict[str, ServerThread]) -> None:
    assert "content-type" not in _post(servers, "env-no-content-type", type_value="2").headers
    assert "request_id" not in _post(servers, "env-request-id-missing", type_value="2").json()
    page = _post(servers, "env-html-error-page", key=None)
    assert page.status_code == 401
    assert page.headers["content-type"].startswith("text/html")


def test_new_envelope_mutants_break_one_field(servers: dict[str, ServerThread]) -> None:
    import json

    assert "log_id" not in _post(servers, "env-log-id-missing", type_value="2").json()
    two = _post(servers, "env-body-not-one-object", type_value="2")
    assert two.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(two.text)
    first, _, line = two.text.partition("\n")
    assert json.loads(first)["error_detail"]["code"] == "ERROR_INVALID_PARAMETER" and json.loads(line)
    success = _post(servers, "env-200-with-error")
    assert (success.status_code, success.json()["error_code"]) == (200, 200)


def test_body_and_response_hooks_leave_a_wrong_method_alone(servers: dict[str, ServerThread]) -> None:
    """A wrong method's answer is the framework's (LP-ERR-11's, D-4): the envelope mutants do not
    alter it, or they would break LP-ERR-11 besides their own clause (D-10)."""
    _post(servers, "env-request-id-missing")  # starts the server
    with httpx.Client(base_url=servers["env-request-id-missing"].url, timeout=60) as http:
        answer = http.get(ENDPOINT, headers={"ailabapi-api-key": KEY})
    assert answer.status_code == 405 and answer.json()["request_id"]


def test_error_mutants_change_status_and_code(servers: dict[str, ServerThread]) -> None:
    missing_key = _post(servers, "err-missing-key-400", key=None)
    assert (missing_key.status_code, missing_key.json()["error_detail"]["code"]) == (
        400,
        "MISSING_PARAMETERS",
    )
    echoed = _post(servers, "sec-key-echoed", key="wrong-key")
    assert "wrong-key" in echoed.text
    trace = _post(servers, "sec-stack-trace", type_value="2")
    assert "Traceback (most recent call last)" in trace.json()["error_detail"]["message"]


def test_auth_after_body_refuses_the_image_before_the_key(servers: dict[str, ServerThread]) -> None:
    bomb = _post(servers, "err-auth-after-body", key=None, image=png_bomb())
    assert bomb.status_code == 413  # the reference answers 401 first
    assert _post(servers, "", key=None, image=png_bomb()).status_code == 401


def test_bomb_crashes_the_mutant_with_a_500(servers: dict[str, ServerThread]) -> None:
    answer = _post(servers, "lim-bomb-500", image=png_bomb())
    assert (answer.status_code, answer.json()["error_detail"]["code"]) == (500, "SERVICE_INTERNAL_ERROR")


def test_five_mib_limit_mutant_is_off_by_one(servers: dict[str, ServerThread]) -> None:
    from conformance.strategies import image_of_exact_size

    over = image_of_exact_size(FIVE_MIB + 1).data
    assert _post(servers, "", image=over).status_code == 413
    assert _post(servers, "lim-5mib-plus-one-accepted", image=over).status_code != 413


def test_dying_mutant_fails_every_request_after_a_hostile_one(servers: dict[str, ServerThread]) -> None:
    assert _post(servers, "sec-dies-after-hostile", type_value="2").status_code == 400
    assert _post(servers, "sec-dies-after-hostile", image=png_bomb()).status_code == 413
    assert _post(servers, "sec-dies-after-hostile", type_value="2").status_code == 500


@pytest.mark.slow
def test_base64_and_video_mutants_change_the_video(servers: dict[str, ServerThread]) -> None:
    url_safe = _post(servers, "b64-url-safe").json()["data"]["video"]
    assert "+" not in url_safe and "/" not in url_safe
    assert base64.urlsafe_b64decode(url_safe)[4:8] == b"ftyp"
    png = base64.b64decode(_post(servers, "vid-not-a-video").json()["data"]["video"])
    assert png.startswith(b"\x89PNG")


# The suite run against each mutant (killed, precise, sound; benign variants pass) is asserted in
# tests/mock/test_seed_stability.py, at fixed seeds that take turns, against the recorded outcome:
# the same assertion without the luck of a random seed (issue 14).


def test_slow_mutant_delays_no_face_errors_only(servers: dict[str, ServerThread]) -> None:
    """A slow face detector: "no face" answered after 5.5 s, a missing key (401) and a success at once
    (each answer late would make a whole-suite run take minutes)."""
    import time

    started = time.perf_counter()
    answer = _post(servers, "ops-slow-client-errors", image=solid((64, 64), "PNG"))
    assert answer.json()["error_code_str"] == "ERROR_NO_FACE_IN_FILE"
    assert time.perf_counter() - started >= 5.5
    for key, status in ((None, 401), (KEY, 200)):
        started = time.perf_counter()
        assert _post(servers, "ops-slow-client-errors", key=key).status_code == status
        assert time.perf_counter() - started < 5
