"""Same seed, same requests (issue 14): the client derives the multipart boundary from the parts, so
two runs with one ``--hypothesis-seed`` send byte-identical requests, and a recorded run replays
offline with the same verdict."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.client import ClientSettings, TargetClient, derived_boundary
from conformance.exchange import ApiRequest, Key, Part
from conformance.proxy.cassette import load_cassettes
from conformance.proxy.observed import parse_parts
from conformance.reports import load_report
from conformance.strategies import face_photo, request_for
from conformance.strategies.covering import CLAUSES, covering_requests
from tests.suite.recording import KEY, RecordingServer, cli_server, run_suite

BASE = "http://127.0.0.1:9"  # never contacted: requests are only built


def built(request: ApiRequest, *, api_key: str = KEY) -> tuple[str, bytes]:
    """The Content-Type header and the body the client sends for ``request``."""
    with TargetClient(ClientSettings(base_url=BASE, api_key=api_key)) as client:
        http = client.build(request)
        return http.headers.get("content-type", ""), http.read()


def covering_digest() -> str:
    """One digest over the bytes of every covering request, as the client builds them."""
    digest = hashlib.sha256()
    with TargetClient(ClientSettings(base_url=BASE, api_key=KEY)) as client:
        for clause in CLAUSES:
            for request in covering_requests(clause):
                http = client.build(request)
                digest.update(
                    http.headers.get("content-type", "").encode() + hashlib.sha256(http.read()).digest()
                )
    return digest.hexdigest()


def test_the_same_request_is_the_same_bytes_from_two_clients() -> None:
    request = request_for(face_photo(side=128), type_value="1")
    first, second = built(request), built(request)
    assert first == second
    content_type, body = first
    boundary = content_type.partition("boundary=")[2]
    assert boundary == derived_boundary(request)
    assert len(boundary) == 32 and set(boundary) <= set("0123456789abcdef")  # httpx's own format
    parts = parse_parts(body, content_type)
    assert parts is not None and [p.name for p in parts] == ["image_target", "type"]


def test_the_boundary_changes_with_any_part() -> None:
    photo = face_photo(side=128)
    base = request_for(photo, type_value="1")
    variants = [
        request_for(photo, type_value="0"),
        request_for(photo, type_value="1", image_first=False),
        request_for(photo, type_value="1", part_content_type="generic"),
        request_for(face_photo(side=160), type_value="1"),
    ]
    boundaries = {derived_boundary(r) for r in [base, *variants]}
    assert len(boundaries) == 1 + len(variants)


def test_a_boundary_found_inside_a_part_is_derived_again() -> None:
    plain = ApiRequest(description="x", parts=(Part("type", b"1"),))
    clash = f"--{derived_boundary(plain)}".encode()
    # A part containing the boundary its parts would derive: the first candidate must be refused.
    request = ApiRequest(description="clash", parts=(Part("type", b"1"), Part("comment", clash)))
    first_candidate = hashlib.sha256()
    for part in request.parts:
        for text in (part.name, part.filename, part.content_type):
            first_candidate.update(b"\x00" if text is None else text.encode() + b"\x01")
        first_candidate.update(hashlib.sha256(part.content).digest())
    planted = ApiRequest(
        description="planted",
        parts=(Part("type", b"1"), Part("comment", f"--{first_candidate.hexdigest()[:32]}".encode())),
    )
    boundary = derived_boundary(planted)
    assert f"--{boundary}".encode() not in planted.parts[1].content
    content_type, body = built(planted)
    parts = parse_parts(body, content_type)
    assert parts is not None and [p.content for p in parts] == [p.content for p in planted.parts]
    assert derived_boundary(request)  # no clash: derived at once


def test_a_given_boundary_is_sent_as_given() -> None:
    request = request_for(face_photo(side=128), boundary="x")
    assert built(request)[0] == "multipart/form-data; boundary=x"


@pytest.mark.slow
def test_the_covering_set_is_the_same_bytes_in_another_process() -> None:
    """Nothing in it depends on the process: not the hash seed (so not the order of a set), not
    the time (a PDF records its date)."""
    code = "from tests.suite.test_determinism import covering_digest; print(covering_digest())"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # this process has a random one
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == covering_digest()


def test_replay_answers_identical_requests_in_recording_order(tmp_path: Path) -> None:
    """A valid and an unknown key look alike in a cassette (the key is never recorded): an exact
    replay tells them apart by the order the requests came in."""
    from conformance.mock.config import ServerConfig
    from conformance.mock.runner import ServerThread
    from conformance.proxy.app import create_proxy_app
    from conformance.proxy.config import ProxyConfig
    from conformance.proxy.replay import create_replay_app
    from conformance.proxy.runner import AppThread

    photo = face_photo(side=128)
    sequence = [request_for(photo, key=key) for key in (Key.VALID, Key.INVALID, Key.VALID)]
    with ServerThread(ServerConfig(api_keys=(KEY,))) as upstream:
        record = ProxyConfig(
            upstream=str(upstream.url), record_dir=tmp_path / "cassettes", artefacts_dir=tmp_path
        )
        with (
            AppThread(create_proxy_app(record)) as proxy,
            TargetClient(ClientSettings(base_url=proxy.url, api_key=KEY)) as client,
        ):
            recorded = [client.send(r).status for r in sequence]
    assert recorded == [200, 401, 200]
    with (
        AppThread(create_replay_app(tmp_path / "cassettes")) as replay,
        TargetClient(ClientSettings(base_url=replay.url, api_key="another-key")) as client,
    ):
        assert [client.send(r).status for r in sequence] == recorded
        assert client.send(sequence[0]).status == 200  # past the recordings: the last answer again


# ---------------------------------------------------------------- whole suite runs (slow)

SELECTION = ("--family", "errors", "--max-examples", "2")


@pytest.mark.slow
def test_two_runs_with_one_seed_send_byte_identical_requests(tmp_path: Path) -> None:
    runs = {}
    with RecordingServer() as server:
        for label, seed in (("first", 20141), ("second", 20141), ("other seed", 20142)):
            result = run_suite(server.url, tmp_path, *SELECTION, f"--hypothesis-seed={seed}")
            assert result.returncode == 0, result.stdout[-3000:]
            runs[label] = server.recorder.take()
    first, second, other = (sorted(r.wire for r in runs[label]) for label in runs)
    assert len(first) > 100
    assert first == second  # method, path, every header in order (boundaries too), body digest
    assert first != other  # the comparison can fail: another seed generates other requests
    covering = {
        hashlib.sha256(built(r)[1]).hexdigest() for c in CLAUSES if "ERR" in c for r in covering_requests(c)
    }
    for label, requests in runs.items():  # the covering set goes out whatever the seed
        assert covering <= {r.body_sha256 for r in requests}, label


REPLAY_SELECTION = (
    "--clause",
    "LP-ERR-2",
    "--clause",
    "LP-REQ-3",
    "--clause",
    "LP-ERR-5",
    "--max-examples",
    "2",
)


@pytest.mark.slow
def test_a_recorded_run_replays_offline_with_the_same_verdict(tmp_path: Path) -> None:
    """Record a run through ``proxy --record`` in front of ``serve``; stop both; replay the
    cassettes with ``replay`` and run again with the same seed: same verdict per clause."""
    cassettes = tmp_path / "cassettes"
    seed = "--hypothesis-seed=77"
    env = {"LIVEPHOTO_REPLAY_TEST_KEYS": KEY}
    with (
        cli_server(
            "serve", "--port", "0", "--api-key-env", "LIVEPHOTO_REPLAY_TEST_KEYS", env=env
        ) as upstream,
        cli_server(
            "proxy", "--upstream", upstream, "--listen", "127.0.0.1:0", "--record", str(cassettes)
        ) as proxy,
    ):
        recorded = run_suite(proxy, tmp_path, *REPLAY_SELECTION, seed, "--report-json", "recorded.json")
    assert recorded.returncode == 0, recorded.stdout[-3000:]
    entries = load_cassettes(cassettes)
    assert sum(e.response.status == 200 for e in entries) >= 10  # successes were recorded
    with cli_server("replay", str(cassettes), "--listen", "127.0.0.1:0") as replay:  # offline
        replayed = run_suite(replay, tmp_path, *REPLAY_SELECTION, seed, "--report-json", "replayed.json")
    assert replayed.returncode == recorded.returncode, replayed.stdout[-3000:]
    # Per clause: the verdict and every check's verdict (a request that missed its recording, or
    # got another request's answer, changes some of them).
    verdicts = [
        {c.id: (c.verdict, sorted((r.check, r.verdict) for r in c.checks)) for c in load_report(path).clauses}
        for path in (tmp_path / "recorded.json", tmp_path / "replayed.json")
    ]
    assert verdicts[0] == verdicts[1]
