"""The one results model every report is written from: a clause-level tree of verdicts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from conformance.spec import Level, catalogue
from conformance.verdicts import Verdict

SCHEMA_VERSION = "1.1"
NOT_EXERCISED = "not exercised in this run"
COMPATIBLE, NOT_COMPATIBLE, INCOMPLETE = "COMPATIBLE", "NOT COMPATIBLE", "INCOMPLETE"
OUTCOMES = (COMPATIBLE, NOT_COMPATIBLE, INCOMPLETE)
KINDS = ("suite", "proxy", "load")
_PASSING = frozenset({Verdict.PASS, Verdict.INFO})
_FAILING = frozenset({Verdict.FAIL, Verdict.ERROR})


@dataclass
class CheckResult:
    """The outcome of one check on one test (or proxied exchange)."""

    check: str
    clause: str
    level: str
    verdict: Verdict
    message: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    nodeid: str = ""
    duration: float = 0.0
    videos: list[str] = field(default_factory=list)
    # A skip the SPEC allows (e.g. LP-ERR-12 without a --fault-header): the clause counts as judged.
    permitted: bool = False
    blocked_by: str = ""  # verdict blocked: the root clause that failed first on the exchange

    def __post_init__(self) -> None:
        self.verdict = Verdict(self.verdict)

    @property
    def effective_verdict(self) -> Verdict:
        """The verdict as it counts for the clause: a failing MAY-level check is information."""
        if self.verdict is Verdict.FAIL and Level(self.level).informational:
            return Verdict.INFO
        return self.verdict

    @property
    def title(self) -> str:
        """The first line of the message (a Violation's ``[clause level] title``)."""
        return self.message.strip().splitlines()[0] if self.message.strip() else ""


@dataclass
class ClauseResult:
    """The verdict of one SPEC clause and the check results behind it."""

    id: str
    level: str
    family: str
    title: str
    text: str
    verdict: Verdict
    checks: list[CheckResult]
    reason: str = ""
    failed_level: str | None = None
    levels: list[str] = field(default_factory=list)  # every obligation the clause states

    def __post_init__(self) -> None:
        self.verdict = Verdict(self.verdict)
        if not self.levels:
            self.levels = [str(level) for level in _catalogue_levels(self.id, self.level)]

    @property
    def failures(self) -> list[CheckResult]:
        """The checks that failed or errored, as they count for the clause."""
        return [c for c in self.checks if c.effective_verdict in _FAILING]

    @property
    def blocked_by(self) -> list[str]:
        """The root clauses this clause was blocked by (verdict blocked), in order."""
        if self.verdict is not Verdict.BLOCKED:
            return []
        return _dedupe(c.blocked_by for c in self.checks if c.verdict is Verdict.BLOCKED)

    @property
    def judged(self) -> bool:
        """The suite reached a verdict on the clause: pass, info or fail, or a skip the SPEC
        allows. A clause never exercised, only skipped for want of an answer, or in error is not."""
        if self.verdict in (Verdict.PASS, Verdict.INFO, Verdict.FAIL):
            return True
        if self.verdict is Verdict.SKIPPED:
            return bool(self.checks) and all(c.permitted for c in self.checks)
        return False


@dataclass
class Sample:
    """A success video shown in the HTML report, with what made it (distinct inputs are chosen)."""

    path: str
    caption: str
    image: str = ""  # the uploaded image as saved, shown beside the video's frames
    image_format: str = ""  # JPEG, PNG, BMP: the report shows each format and each type
    type_value: str = ""  # the request's ``type`` field: "0", "1" or "absent"


@dataclass(frozen=True)
class RunTraffic:
    """What the run cost the target and where its time went (issue 18).

    ``requests`` are sent on the wire (a retried 429 counts twice), ``successes`` the answers 200
    (what a paid target bills); ``waited_s`` is the wall time with at least one request in flight,
    ``work_s`` the rest of the run's wall time (the suite's own work: generating, judging).
    ``reduced`` names the clauses ``--budget`` left with fewer samples than the default run.
    """

    requests: int
    successes: int
    wall_s: float
    waited_s: float
    concurrency: int
    rate_limits_retried: int = 0
    rate_limits_returned: int = 0
    backoff_s: float = 0.0
    planned: int = 0  # requests the planning pass found (identical ones once)
    unplanned: int = 0  # sent outside the plan: shrinks, splits of failures, provoked rate limits
    budget: int | None = None  # --budget: success requests allowed
    reduced: dict[str, str] = field(default_factory=dict)  # clause -> what the budget cut

    @property
    def work_s(self) -> float:
        """Wall time not spent waiting on the target."""
        return max(0.0, self.wall_s - self.waited_s)

    def line(self) -> str:
        """One sentence for the terminal and Markdown."""
        parts = [
            f"{self.requests} requests ({self.successes} successes)",
            f"{self.wall_s:.1f} s: {self.waited_s:.1f} s waiting on the target, {self.work_s:.1f} s working",
            f"concurrency {self.concurrency}",
        ]
        if self.budget is not None:
            parts.append(f"budget {self.budget} successes")
        if self.rate_limits_retried or self.rate_limits_returned:
            parts.append(
                f"{self.rate_limits_retried} rate limits waited out ({self.backoff_s:.1f} s), "
                f"{self.rate_limits_returned} not"
            )
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """The JSON report's ``traffic`` object."""
        data = asdict(self)
        data["work_s"] = round(self.work_s, 3)
        for key in ("wall_s", "waited_s", "backoff_s"):
            data[key] = round(data[key], 3)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunTraffic:
        """Rebuild from ``as_dict`` output (``work_s`` is derived, not read)."""
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**{**fields, "reduced": dict(fields.get("reduced") or {})})


@dataclass
class RunReport:
    """One run of the suite, the proxy or the load test, clause by clause."""

    schema_version: str
    kind: str
    suite_version: str
    target_url: str
    edition: str
    level: str
    seed: int | None
    started_at: str
    finished_at: str
    config: dict[str, Any]
    clauses: list[ClauseResult]
    samples: list[Sample] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    # Why the run as a whole judged less than it should (interrupted, only collected, …).
    incomplete_reasons: list[str] = field(default_factory=list)
    catalogue_size: int = 0  # clauses in the SPEC; 0 = this suite's catalogue
    traffic: RunTraffic | None = None  # requests, successes, waiting vs working (the suite)

    def __post_init__(self) -> None:
        if not self.catalogue_size:
            self.catalogue_size = len(catalogue())

    @property
    def gating_failures(self) -> list[ClauseResult]:
        """The clauses failing a check at or above the gating level."""
        return [
            c for c in self.clauses if c.failed_level is not None and Level(c.failed_level).gates(self.level)
        ]

    @property
    def not_judged(self) -> list[ClauseResult]:
        """The selected clauses the run reached no verdict on (blocked ones are counted apart:
        their root failed, and the root decides the verdict)."""
        return [c for c in self.clauses if not c.judged and c.verdict is not Verdict.BLOCKED]

    @property
    def blocked(self) -> list[ClauseResult]:
        """The clauses that could not be judged because another clause failed first."""
        return [c for c in self.clauses if c.verdict is Verdict.BLOCKED]

    @property
    def complete(self) -> bool:
        """Every selected clause was judged (and at least one clause was selected)."""
        return bool(self.clauses) and not self.not_judged and not self.blocked and not self.incomplete_reasons

    @property
    def outcome(self) -> str:
        """NOT COMPATIBLE on a gating failure; else INCOMPLETE unless every clause was judged;
        else COMPATIBLE. Every output and the exit code follow this one value."""
        if self.gating_failures:
            return NOT_COMPATIBLE
        return COMPATIBLE if self.complete else INCOMPLETE

    @property
    def compatible(self) -> bool:
        """Every selected clause judged, and none failed at or above the gating level."""
        return self.outcome == COMPATIBLE

    @property
    def is_selection(self) -> bool:
        """The run judged a part of the SPEC only (--clause, --family, -k)."""
        return len([c for c in self.clauses if c.id in catalogue()]) < self.catalogue_size

    @property
    def scope(self) -> str:
        """ "for 7 of 46 clauses" for a selection, else ""."""
        return f"for {len(self.clauses)} of {self.catalogue_size} clauses" if self.is_selection else ""

    @property
    def roots(self) -> list[tuple[ClauseResult, list[str]]]:
        """Each failing clause with the clauses blocked by it: the failures grouped by root cause."""
        blocked: dict[str, list[str]] = {}
        for clause in self.clauses:
            for root in clause.blocked_by:
                blocked.setdefault(root, []).append(clause.id)
        return [(c, blocked.get(c.id, [])) for c in self.clauses if c.verdict in _FAILING]

    @property
    def root_line(self) -> str:
        """e.g. "1 root failure: LP-OK-2 (3 clauses blocked by it)"; "" when nothing failed."""
        roots = self.roots
        if not roots:
            return ""
        parts = [
            f"{c.id}" + (f" ({len(b)} clause{'s' if len(b) != 1 else ''} blocked by it)" if b else "")
            for c, b in roots
        ]
        return f"{len(roots)} root failure{'s' if len(roots) != 1 else ''}: {', '.join(parts)}"

    def not_judged_reasons(self) -> list[tuple[str, str]]:
        """(clause or "run", why) for everything that makes the run incomplete."""
        rows = [("run", reason) for reason in self.incomplete_reasons]
        for clause in self.not_judged:
            rows.append((clause.id, clause.reason or NOT_EXERCISED))
        return rows

    @property
    def must_failures(self) -> int:
        """How many clauses have a failing MUST-level check."""
        return sum(1 for c in self.clauses if c.failed_level == Level.MUST)

    @property
    def should_score(self) -> float | None:
        """Percent of judged clauses stating a SHOULD that did not fail (None when none)."""
        judged = [
            c
            for c in self.clauses
            if Level.SHOULD in c.levels and c.verdict not in (Verdict.SKIPPED, Verdict.BLOCKED)
        ]
        if not judged:
            return None
        good = sum(1 for c in judged if c.verdict not in _FAILING)
        return round(100.0 * good / len(judged), 1)

    @property
    def counts(self) -> dict[str, int]:
        """Number of clauses per verdict (every verdict present, zeros included)."""
        counts = {verdict.value: 0 for verdict in Verdict}
        for clause in self.clauses:
            counts[clause.verdict.value] += 1
        return counts

    @property
    def failed(self) -> list[ClauseResult]:
        """The clauses a reader must look at: verdict fail or error, in SPEC order."""
        return [c for c in self.clauses if c.verdict in _FAILING]

    @property
    def should_failures(self) -> int:
        """How many clauses fail only a SHOULD-level check."""
        return sum(1 for c in self.clauses if c.failed_level == Level.SHOULD)

    @property
    def verdict_line(self) -> str:
        """One sentence every output shows: the outcome, its scope and its reasons.

        e.g. "COMPATIBLE for 7 of 46 clauses (0 MUST failures, SHOULD score 100%)" or
        "INCOMPLETE (3 clauses not judged, 0 MUST failures, SHOULD score n/a)".
        """
        score = self.should_score
        score_text = "n/a" if score is None else f"{score:g}%"
        head = f"{self.outcome} {self.scope}".strip()
        parts = [f"{self.must_failures} MUST failure{'s' if self.must_failures != 1 else ''}"]
        if self.level == Level.SHOULD.value and self.should_failures:
            parts.append(f"{self.should_failures} SHOULD failure{'s' if self.should_failures != 1 else ''}")
        missing = len(self.not_judged)
        if missing:
            parts.append(f"{missing} clause{'s' if missing != 1 else ''} not judged")
        if self.blocked:
            parts.append(f"{len(self.blocked)} blocked")
        parts.extend(self.incomplete_reasons)
        parts.append(f"SHOULD score {score_text}")
        return f"{head} ({', '.join(parts)})"

    def summary(self) -> dict[str, Any]:
        """The derived figures, as the JSON report records them."""
        return {
            "verdict": self.outcome,
            "compatible": self.compatible,
            "complete": self.complete,
            "must_failures": self.must_failures,
            "should_score": self.should_score,
            "counts": self.counts,
            "selected": len(self.clauses),
            "catalogue": self.catalogue_size,
            "not_judged": [{"clause": c, "reason": r} for c, r in self.not_judged_reasons()],
            "roots": [{"clause": c.id, "blocked": b} for c, b in self.roots],
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, derived figures included under ``summary``."""
        data = asdict(self)
        data["traffic"] = self.traffic.as_dict() if self.traffic is not None else None
        data["summary"] = self.summary()
        for clause in data["clauses"]:
            clause["verdict"] = str(clause["verdict"])
            for check in clause["checks"]:
                check["verdict"] = str(check["verdict"])
        return _plain(data)  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        """Rebuild a report from ``to_dict`` output (``summary`` is recomputed, not trusted)."""
        clauses = [
            ClauseResult(
                id=c["id"],
                level=c["level"],
                family=c["family"],
                title=c.get("title", ""),
                text=c.get("text", ""),
                verdict=Verdict(c["verdict"]),
                checks=[CheckResult(**check) for check in c.get("checks", [])],
                reason=c.get("reason", ""),
                failed_level=c.get("failed_level"),
                levels=list(c.get("levels", [])),
            )
            for c in data["clauses"]
        ]
        return cls(
            schema_version=data["schema_version"],
            kind=data["kind"],
            suite_version=data["suite_version"],
            target_url=data["target_url"],
            edition=data["edition"],
            level=data["level"],
            seed=data.get("seed"),
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            config=dict(data.get("config", {})),
            clauses=clauses,
            samples=[Sample(**s) for s in data.get("samples", [])],
            metrics=dict(data.get("metrics", {})),
            incomplete_reasons=list(data.get("incomplete_reasons", [])),
            catalogue_size=int(data.get("catalogue_size", 0)),
            traffic=RunTraffic.from_dict(data["traffic"]) if data.get("traffic") else None,
        )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Verdict | Level):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # Paths, enums from settings: reports hold text


def _catalogue_levels(clause_id: str, level: str) -> tuple[str, ...]:
    cat = catalogue()
    if clause_id in cat:
        return tuple(str(lv) for lv in cat[clause_id].levels)
    return (level,)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def judge_clause(clause_level: str, results: list[CheckResult]) -> tuple[Verdict, str, str | None]:
    """A clause's verdict, reason and failing level from its (deduplicated) check results."""
    if not results:
        return Verdict.SKIPPED, NOT_EXERCISED, None
    effective = [r.effective_verdict for r in results]
    if all(v is Verdict.SKIPPED for v in effective):
        return Verdict.SKIPPED, "; ".join(_dedupe(r.message for r in results)), None
    if all(v in (Verdict.SKIPPED, Verdict.BLOCKED) for v in effective):
        roots = _dedupe(r.blocked_by for r in results if r.verdict is Verdict.BLOCKED)
        return Verdict.BLOCKED, f"blocked by {', '.join(roots)}", None
    if Level(clause_level).informational:
        notes = _dedupe(r.title for r in results if r.verdict is not Verdict.PASS)
        return Verdict.INFO, "; ".join(notes), None
    failing = [r for r in results if r.effective_verdict is Verdict.FAIL]
    if failing:
        strongest = min((Level(r.level) for r in failing), key=lambda lv: lv.rank)
        first = next(r for r in failing if Level(r.level) is strongest)
        return Verdict.FAIL, first.title, strongest.value
    errored = [r for r in results if r.verdict is Verdict.ERROR]
    if errored:
        return Verdict.ERROR, errored[0].title, None
    notes = _dedupe(r.title for r in results if r.effective_verdict is Verdict.INFO)
    return Verdict.PASS, "; ".join(notes), None


def aggregate(
    results: Iterable[CheckResult], *, clauses: Iterable[str] | None = None, **meta: Any
) -> RunReport:
    """Build the clause-level report from check results (rules: docs/reports.md).

    Every clause of the catalogue (or of ``clauses``) gets a verdict; results for clauses
    outside that selection are kept too. ``meta`` fills the run's fields (``target_url``,
    ``edition``, ``level``, ``seed``, ``started_at``, ``finished_at``, ``config``, ``kind``,
    ``samples``, ``metrics``, ``suite_version``).
    """
    from conformance import __version__

    unknown = set(meta) - {f for f in RunReport.__dataclass_fields__ if f != "clauses"}
    if unknown:
        raise TypeError(f"aggregate() got unknown report fields: {', '.join(sorted(unknown))}")
    cat = catalogue()
    by_clause: dict[str, dict[tuple[str, str, str], CheckResult]] = {}
    for result in results:
        key = (result.check, str(result.verdict), result.message)
        by_clause.setdefault(result.clause, {}).setdefault(key, result)
    selected = list(clauses) if clauses is not None else list(cat)
    ordered = selected + sorted(set(by_clause) - set(selected), key=_sort_key)
    clause_results = []
    for clause_id in ordered:
        found = list(by_clause.get(clause_id, {}).values())
        if clause_id in cat:
            spec = cat[clause_id]
            level, family, title, text = spec.level.value, spec.family, spec.title, spec.text
        else:  # a check of a newer catalogue: keep it rather than lose the result
            level = min((Level(r.level) for r in found), key=lambda lv: lv.rank).value
            family, title, text = clause_id.split("-")[1].lower(), clause_id, ""
        verdict, reason, failed_level = judge_clause(level, found)
        clause_results.append(
            ClauseResult(clause_id, level, family, title, text, verdict, found, reason, failed_level)
        )
    started = meta.pop("started_at", None) or _now()
    return RunReport(
        schema_version=meta.pop("schema_version", SCHEMA_VERSION),
        kind=meta.pop("kind", "suite"),
        suite_version=meta.pop("suite_version", __version__),
        target_url=meta.pop("target_url", ""),
        edition=str(meta.pop("edition", "any")),
        level=str(meta.pop("level", Level.MUST.value)).upper(),
        seed=meta.pop("seed", None),
        started_at=started,
        finished_at=meta.pop("finished_at", None) or _now(),
        config=_plain(dict(meta.pop("config", {}) or {})),
        clauses=clause_results,
        samples=list(meta.pop("samples", [])),
        metrics=_plain(dict(meta.pop("metrics", {}) or {})),
        incomplete_reasons=list(meta.pop("incomplete_reasons", [])),
        traffic=meta.pop("traffic", None),
    )


def _sort_key(clause_id: str) -> tuple[str, int]:
    family, _, number = clause_id.rpartition("-")
    return (family, int(number) if number.isdigit() else 0)
