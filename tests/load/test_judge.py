"""Judging under load without Locust: real answers from the reference and the mix-up servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.client import ClientSettings, TargetClient
from conformance.load.judge import LoadJudge, failing_outcomes
from conformance.load.pool import PoolEntry, error_entries, valid_entries
from conformance.load.report import build_report, metrics_of, percentiles
from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from conformance.redact import Redactor
from conformance.settings import REFERENCE_API_KEY, Settings
from tests.load.mixup_server import MixUpServer


@pytest.fixture(scope="module")
def reference() -> Iterator[str]:
    with ServerThread(ServerConfig()) as server:
        yield server.url


def _judge(url: str, tmp_path: Path, video_every: int = 1, node: str = "local") -> LoadJudge:
    settings = Settings(target_url=url, api_key=REFERENCE_API_KEY, artefacts_dir=tmp_path)
    return LoadJudge(settings, Redactor([REFERENCE_API_KEY]), video_every, node)


def _send(url: str, judge: LoadJudge, entries: list[PoolEntry]) -> int:
    with TargetClient(ClientSettings(base_url=url, api_key=REFERENCE_API_KEY)) as client:
        return sum(judge.judge(client.send(entry.request), entry.expect) for entry in entries)


def _type1(entries: list[PoolEntry]) -> list[PoolEntry]:
    return [e for e in entries if any(p.name == "type" and p.content == b"1" for p in e.request.parts)]


def test_reference_answers_pass_and_videos_are_sampled(reference: str, tmp_path: Path) -> None:
    judge = _judge(reference, tmp_path, video_every=3)
    errors = error_entries(per_strategy=1)
    assert _send(reference, judge, [*valid_entries(), *errors]) == 0
    summary = judge.finish()
    assert failing_outcomes(summary) == {}
    assert summary["successes"] == 6
    assert summary["videos_judged"] == 2  # the 1st and the 4th
    assert summary["requests"] == 6 + len(errors)
    assert len(summary["latencies_ms"]["success"]) == 6
    assert "200" in summary["statuses"]
    assert any(code.startswith("401 ") for code in summary["statuses"])
    checks = {tuple(o[:2]) for o in summary["outcomes"]}
    assert ("concurrent_requests_are_consistent", "LP-OPS-2") in checks
    assert ("request_ids_are_distinct", "LP-ENV-2") in checks
    assert ("video_is_decodable_with_two_frames", "LP-VID-1") in checks


def test_unsampled_successes_skip_only_the_video_checks(reference: str, tmp_path: Path) -> None:
    judge = _judge(reference, tmp_path, video_every=100)
    _send(reference, judge, valid_entries()[:3])
    counts = {(o[0], o[3]): o[4] for o in judge.finish()["outcomes"]}
    assert counts[("video_is_decodable_with_two_frames", "pass")] == 1
    assert counts[("success_carries_data_object", "pass")] == 3


def test_a_server_that_mixes_up_responses_is_caught(tmp_path: Path) -> None:
    """Sequential requests suffice: MixUp hands each success the previous request's answer."""
    square, tall = sorted(_type1(valid_entries()), key=lambda e: e.request.image.height)[-2:]  # type: ignore[union-attr]
    with MixUpServer() as server:
        judge = _judge(server.url, tmp_path)
        found = _send(server.url, judge, [square, tall, square])
        summary = judge.finish()
    failed = failing_outcomes(summary)
    assert found > 0
    assert failed["LP-ENV-2"] >= 1  # the first answer came twice
    assert failed["LP-OPS-2"] >= 1  # a 1:2 image got a square video and the other way round
    assert failed["LP-VID-6"] >= 1


def test_an_unanswered_request_is_an_error_not_a_pass(tmp_path: Path) -> None:
    judge = _judge("http://127.0.0.1:9", tmp_path)
    judge.transport_error("success", "connection refused")
    summary = judge.finish()
    assert summary["requests"] == 1
    assert ["concurrent_requests_are_consistent", "LP-OPS-2", "MUST", "error", 1] in summary["outcomes"]


def test_video_every_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="video_every must be ≥ 1"):
        _judge("http://127.0.0.1:9", tmp_path, video_every=0)


def test_the_report_merges_workers_and_catches_shared_ids(reference: str, tmp_path: Path) -> None:
    entries = valid_entries()[:2]
    one, two = _judge(reference, tmp_path, node="w1"), _judge(reference, tmp_path, node="w2")
    _send(reference, one, entries)
    _send(reference, two, entries)
    first, second = one.finish(), two.finish()
    settings = Settings(target_url=reference, api_key=REFERENCE_API_KEY, artefacts_dir=tmp_path)
    outcome = {"started": 100.0, "stopped": 104.0, "stats": {"rps": 1.0}, "nodes": [first, second]}
    report = build_report(outcome, settings, Redactor([REFERENCE_API_KEY]), {"users": 2})
    assert report.kind == "load"
    assert report.metrics["workers"] == 2
    assert report.metrics["requests"] == 4
    assert report.metrics["requests_per_s"] == 1.0
    assert report.metrics["contract_violations"] == 0
    assert report.compatible
    # The same request id reaching two workers is a mix-up the workers alone cannot see.
    shared = next(iter(first["request_ids"]))
    second["request_ids"][shared] = "another request"
    broken = build_report(outcome, settings, Redactor([REFERENCE_API_KEY]), {"users": 2})
    assert broken.metrics["contract_violations"] == 1
    assert [c.id for c in broken.failed] == ["LP-ENV-2"]


def test_metrics_give_rates_by_code_and_percentiles() -> None:
    node = {
        "statuses": {"200": 3, "400 ERROR_INVALID_PARAMETER": 1},
        "latencies_ms": {"success": [100.0, 200.0, 300.0], "errors": [10.0]},
        "outcomes": [["c", "LP-OPS-2", "MUST", "fail", 2], ["c", "LP-OK-1", "MUST", "pass", 3]],
        "transport_errors": {"success: refused": 1},
    }
    metrics = metrics_of({"started": 0.0, "stopped": 2.0, "nodes": [node]}, {})
    assert metrics["requests"] == 5
    assert metrics["requests_per_s"] == 2.5
    assert metrics["error_rate_by_code"] == {"400 ERROR_INVALID_PARAMETER": 0.25}
    assert metrics["violations_by_clause"] == {"LP-OPS-2": 2}
    assert metrics["latency_ms"]["success"]["p50"] == 200.0
    assert percentiles([]) == {}
    assert percentiles([5.0])["p95"] == 5.0
