"""The Live Photos API load profile for Locust: run it with ``livephoto-conformance load`` (docs/load.md).

Each Locust user sends requests picked by the ``--lp-mix`` weights from a pool drawn once, at start-up,
from the suite's strategies (``conformance.load.pool``), and every answer is judged by the suite's
checks (``conformance.load.judge``). Judging happens where the requests are sent (the local runner
or each worker); at the end of the test each worker sends its compact summary to the master as a
Locust message, and the master (or the local runner) writes every summary plus Locust's own figures
to the JSON file named by ``LIVEPHOTO_LOAD_OUT``, which ``livephoto-conformance load`` turns into the
report. Workers on other machines need nothing but network access to the master: no shared disk.

Bounds: the run time (``-t``) and a request cap (``--lp-max-requests``, split evenly between workers);
whichever comes first stops the run. The API key comes from ``LIVEPHOTO_API_KEY`` on every worker.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import gevent
import locust.stats
from locust import User, constant, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from conformance.client import ClientSettings, TargetClient, TargetUnreachable
from conformance.load.judge import DEFAULT_VIDEO_EVERY, LoadJudge
from conformance.load.pool import RequestPool, build_pool, parse_mix
from conformance.option_table import ENV_KEY
from conformance.redact import Redactor
from conformance.settings import Settings

RESULTS_MESSAGE = "livephoto_results"
FINISH_MESSAGE = "livephoto_finish"
REPORT_WAIT = 60.0  # s the master waits for the workers' summaries, beyond Locust's stop timeout
KEY_ENV = ENV_KEY
OUT_ENV = "LIVEPHOTO_LOAD_OUT"
PROGRESS_ENV = "LIVEPHOTO_LOAD_PROGRESS"  # where the master (or lone runner) writes live figures
PROGRESS_INTERVAL = 0.5  # s between two progress snapshots
CHART_PERCENTILES = (0.5, 0.95, 0.99)

# Locust's own history (what its HTML report charts) is reused for the report's timeline: sampled
# every second rather than every 5, with p99 beside Locust's default p50 and p95. Both are module
# settings Locust documents for this purpose.
locust.stats.PERCENTILES_TO_CHART = list(CHART_PERCENTILES)
locust.stats.HISTORY_STATS_INTERVAL_SEC = 1
DEFAULT_MAX_REQUESTS = 10_000
TRANSPORT_BACKOFF = 0.1  # s a user waits after a request the target did not answer


class ContractViolation(Exception):
    """Marks a request as failed in Locust's statistics: its answer broke the contract."""


class _State:
    """What one Locust process holds: the pool, the judge, the request budget, the summaries."""

    def __init__(self) -> None:
        self.pool: RequestPool | None = None
        self.judge: LoadJudge | None = None
        self.mix: dict[str, int] = {}
        self.budget = 0
        self.sent = 0
        self.reported = False
        self.quitting = False
        self.summaries: list[dict[str, Any]] = []
        self.started = 0.0
        self.stopped = 0.0
        self.progress: gevent.Greenlet | None = None


STATE = _State()
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns Locust's own output


def _options(parser: Any) -> None:
    group = parser.add_argument_group("livephoto", "Live Photos API load profile")
    group.add_argument("--lp-mix", default="success=1,errors=1", help="request mix, e.g. success=3,errors=1")
    group.add_argument("--lp-max-requests", type=int, default=DEFAULT_MAX_REQUESTS, help="request cap")
    group.add_argument("--lp-video-every", type=int, default=DEFAULT_VIDEO_EVERY, help="judge 1 video in N")
    group.add_argument("--lp-seed", type=int, default=0, help="seed of the request pool")
    group.add_argument("--lp-request-timeout", type=float, default=60.0, help="seconds per request")
    group.add_argument("--lp-artefacts-dir", default="livephoto-artefacts", help="failing videos go here")
    # Internal: the master sets each worker's share of the cap (hidden from --help).
    group.add_argument("--lp-worker-cap", type=int, default=0, help=argparse.SUPPRESS)


def _init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if not isinstance(runner, WorkerRunner):
        runner.register_message(RESULTS_MESSAGE, _receive)  # type: ignore[union-attr]
    else:
        runner.register_message(FINISH_MESSAGE, _finish)
    if not isinstance(runner, MasterRunner):
        if not os.environ.get(KEY_ENV):
            raise SystemExit(f"livephoto load: set {KEY_ENV} to the target's API key on every worker")
        seed = environment.parsed_options.lp_seed if environment.parsed_options else 0
        STATE.pool = build_pool({}, seed, kinds=("success", "errors"))
    # Imports and the pool took seconds before the event loop ran: refresh its clock, or Locust's
    # run-time timer (scheduled on the stale clock) would end the run that much early.
    gevent.get_hub().loop.update_now()


def _receive(environment: Environment, msg: Any, **_: Any) -> None:
    STATE.summaries.append(msg.data)


def _finish(environment: Environment, msg: Any, **_: Any) -> None:
    """Worker: the master asks for the results; stopping fires test_stop, which sends them."""
    environment.runner.stop()  # type: ignore[union-attr]


def _stopping(environment: Environment, **_: Any) -> None:
    """Master: collect every connected worker's summary before Locust tells them to quit.

    A headless master quits at the run-time limit without stopping its workers first and waits
    only half a second before it stops listening, too short for a busy worker's final judging.
    So the master asks each worker to finish and waits (bounded) for their summaries.
    """
    runner = environment.runner
    if not isinstance(runner, MasterRunner):
        return
    pending = {client.id for client in runner.clients.all}
    for client_id in pending:
        runner.send_message(FINISH_MESSAGE, None, client_id=client_id)
    deadline = time.monotonic() + environment.stop_timeout + REPORT_WAIT
    while time.monotonic() < deadline:
        reported = {summary.get("node") for summary in STATE.summaries}
        if pending <= reported:
            return
        gevent.sleep(0.2)
    logging.getLogger(__name__).error("livephoto load: not every worker sent its results in time")


def _start(environment: Environment, **_: Any) -> None:
    options: Any = environment.parsed_options
    STATE.started, STATE.summaries = time.time(), []
    if not isinstance(environment.runner, WorkerRunner) and os.environ.get(PROGRESS_ENV):
        STATE.progress = gevent.spawn(_report_progress, environment, Path(os.environ[PROGRESS_ENV]))
    if isinstance(environment.runner, MasterRunner):
        # Split the cap between the workers; they receive it with the other custom options.
        workers = max(1, environment.runner.worker_count)
        options.lp_worker_cap = math.ceil(options.lp_max_requests / workers)
        return
    STATE.mix = parse_mix(options.lp_mix)
    STATE.budget = options.lp_worker_cap or options.lp_max_requests
    STATE.sent, STATE.reported, STATE.quitting = 0, False, False
    settings = Settings(
        target_url=environment.host or "",
        api_key=os.environ[KEY_ENV],
        request_timeout=options.lp_request_timeout,
        artefacts_dir=Path(options.lp_artefacts_dir),
    )
    node = "local" if not isinstance(environment.runner, WorkerRunner) else environment.runner.client_id
    STATE.judge = LoadJudge(settings, Redactor([settings.api_key]), options.lp_video_every, node)


def _current_percentile(entry: Any, percentile: float) -> float | None:
    try:
        value = entry.get_current_response_time_percentile(percentile)
    except ValueError:  # no response-time cache on this runner
        return None
    return float(value) if value is not None else None


def _report_progress(environment: Environment, path: Path) -> None:
    """Master or lone runner: write the live figures for ``livephoto-conformance load``'s display
    (atomically: the reader never sees half a file)."""
    scratch = path.with_name(path.name + ".tmp")
    while True:
        total = environment.stats.total
        snapshot = {
            "elapsed": round(time.time() - STATE.started, 2),
            "users": environment.runner.user_count if environment.runner else 0,
            "requests": total.num_requests,
            "failures": total.num_failures,
            "rps": round(total.current_rps or 0.0, 2),
            "p50": _current_percentile(total, 0.5),
            "p95": _current_percentile(total, 0.95),
        }
        try:
            scratch.write_text(json.dumps(snapshot), encoding="utf-8")
            scratch.replace(path)
        except OSError:
            return  # the watcher's folder is gone: nobody is looking any more
        gevent.sleep(PROGRESS_INTERVAL)


def _timeline(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Locust's chart history as plain points: seconds since the first, users, requests/s,
    failures/s and the current p50/p95/p99 in ms."""
    points: list[dict[str, Any]] = []
    start: datetime | None = None
    for entry in history:
        moment = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
        start = start or moment
        point = {
            "t": (moment - start).total_seconds(),
            "users": entry.get("user_count", [None, 0])[1],
            "rps": round(float(entry.get("current_rps", [None, 0])[1] or 0), 2),
            "fail_per_s": round(float(entry.get("current_fail_per_sec", [None, 0])[1] or 0), 2),
        }
        for percentile in CHART_PERCENTILES:
            pair = entry.get(f"response_time_percentile_{percentile}")
            point[f"p{round(percentile * 100)}"] = float(pair[1]) if pair and pair[1] is not None else None
        points.append(point)
    return points


def _stop(environment: Environment, **_: Any) -> None:
    STATE.stopped = time.time()
    if STATE.progress is not None:
        STATE.progress.kill(block=False)
        STATE.progress = None
    if isinstance(environment.runner, MasterRunner) or STATE.judge is None or STATE.reported:
        return
    STATE.reported = True
    environment.runner.send_message(RESULTS_MESSAGE, STATE.judge.finish())  # type: ignore[union-attr]


def _write(environment: Environment, **_: Any) -> None:
    out = os.environ.get(OUT_ENV)
    if isinstance(environment.runner, WorkerRunner) or not out:
        return
    total = environment.stats.total
    stats = {
        "requests": total.num_requests,
        "failures": total.num_failures,
        "rps": total.total_rps,
        "by_name": {
            name: {"requests": entry.num_requests, "failures": entry.num_failures, "rps": entry.total_rps}
            for (name, _method), entry in environment.stats.entries.items()
        },
    }
    outcome = {
        "started": STATE.started,
        "stopped": STATE.stopped or time.time(),
        "stats": stats,
        "nodes": STATE.summaries,
        "timeline": _timeline(environment.stats.history),
    }
    Path(out).write_text(json.dumps(outcome), encoding="utf-8")


# Locust's event hooks are untyped: registered by loop rather than by decorators mypy cannot see through.
_HOOKS: tuple[tuple[Any, Any], ...] = (
    (events.init_command_line_parser, _options),
    (events.init, _init),
    (events.test_start, _start),
    (events.test_stopping, _stopping),
    (events.test_stop, _stop),
    (events.quitting, _write),
)
for _hook, _listener in _HOOKS:
    _hook.add_listener(_listener)


class LivePhotoUser(User):
    """Sends pooled requests back to back and has every answer judged."""

    wait_time = constant(0)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.client = TargetClient(
            ClientSettings(
                base_url=self.host or "",
                api_key=os.environ[KEY_ENV],
                timeout=options.lp_request_timeout if options else 60.0,
            )
        )
        self.rng = random.Random(id(self))

    def on_stop(self) -> None:
        self.client.close()

    @task
    def send(self) -> None:
        """One request from the pool, timed, judged and reported to Locust."""
        if STATE.pool is None or STATE.judge is None:
            return
        if STATE.sent >= STATE.budget:
            self._exhausted()
            return
        STATE.sent += 1
        entry = STATE.pool.pick(self.rng, STATE.mix)
        started = time.perf_counter()
        exception: Exception | None = None
        length = 0
        try:
            # A load test measures rate limits, it does not wait them out: each 429 is a data point.
            exchange = self.client.send(entry.request, retry_rate_limits=False)
        except TargetUnreachable as exc:
            STATE.judge.transport_error(entry.kind, str(exc))
            exception, elapsed = exc, time.perf_counter() - started
            gevent.sleep(TRANSPORT_BACKOFF)  # a refused connection fails at once: do not spin
        else:
            # The target's time only: judging happens after the answer is in.
            length, elapsed = len(exchange.body), exchange.elapsed
            violations = STATE.judge.judge(exchange, entry.expect)
            if violations:
                exception = ContractViolation(f"{violations} contract violation(s)")
        self.environment.events.request.fire(
            request_type="POST",
            name=entry.kind,
            response_time=elapsed * 1000,
            response_length=length,
            exception=exception,
            context={},
        )

    def _exhausted(self) -> None:
        """The request cap is reached: this process stops its run (once)."""
        if not STATE.quitting:
            STATE.quitting = True
            gevent.spawn(self.environment.runner.quit)
        gevent.sleep(0.5)
