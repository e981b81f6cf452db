"""Run statistics of a tenant (or one agent) over a time range: what dashboards chart.

Runs count in the UTC hour or day their `created_at` falls in. Counts, cost and tokens are SQL
aggregates; latency percentiles come from one query of per-run durations (never whole rows).
A run's latency excludes the time it waited for a person: each approval counts from
`requested_at` to `decided_at`, which approvals also get when they expire or are cancelled (a
pending one, of a run that ended anyway, counts until the run's `ended_at`).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, String, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col

from backend.errors import invalid
from backend.services.agents import get_agent
from backend.services.runs import MillisBetween, as_utc, run_started
from core.models import Agent, Approval, Run, RunStatus
from core.models.common import utcnow
from core.models.stats import (
    AgentDay,
    AgentStats,
    FailingAgent,
    RunStats,
    SeriesPoint,
    Totals,
)

Bucket = Literal["hour", "day"]
BUCKET_SIZES: dict[str, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
DEFAULT_RANGE = timedelta(days=7)
MAX_RANGE = timedelta(days=400)
MAX_BUCKETS = 1000
TOP_FAILING = 5
# Far enough from datetime's ends that a range and its buckets never overflow it.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


class _BucketStart(FunctionElement[str]):
    """The start of the UTC bucket a timestamp falls in, as `YYYY-MM-DDTHH:00:00` text.

    The format is part of the SQL, not a parameter, so GROUP BY repeats the same expression."""

    type = String()
    inherit_cache = True
    sqlite_format = ""
    postgres_format = ""


class _HourStart(_BucketStart):
    inherit_cache = True
    sqlite_format = "%Y-%m-%dT%H:00:00"
    postgres_format = 'YYYY-MM-DD"T"HH24:00:00'


class _DayStart(_BucketStart):
    inherit_cache = True
    sqlite_format = "%Y-%m-%dT00:00:00"
    postgres_format = 'YYYY-MM-DD"T"00:00:00'


@compiles(_BucketStart, "sqlite")
def _bucket_sqlite(element: _BucketStart, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('{element.sqlite_format}', {compiler.process(element.clauses, **kw)})"


@compiles(_BucketStart, "postgresql")
def _bucket_postgres(element: _BucketStart, compiler: SQLCompiler, **kw: Any) -> str:
    moment = compiler.process(element.clauses, **kw)
    return f"to_char({moment} AT TIME ZONE 'UTC', '{element.postgres_format}')"


_BUCKET_STARTS: dict[str, type[_BucketStart]] = {"hour": _HourStart, "day": _DayStart}


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    bucket: Bucket

    @property
    def bucket_starts(self) -> list[datetime]:
        size = BUCKET_SIZES[self.bucket]
        first = _floor(self.start, self.bucket)
        return [first + size * i for i in range(_bucket_count(first, self.end, size))]


def _floor(moment: datetime, bucket: Bucket) -> datetime:
    hour = moment.replace(minute=0, second=0, microsecond=0)
    return hour.replace(hour=0) if bucket == "day" else hour


def _bucket_count(first: datetime, end: datetime, size: timedelta) -> int:
    return -(-(end - first) // size)  # ceiling: the last bucket may be partial


def window(start: datetime | None, end: datetime | None, bucket: Bucket) -> Window:
    """The range asked for (default: the 7 days up to now), checked: 422s name the field."""
    end = _bounded(as_utc(end, "to"), "to") or utcnow()
    start = _bounded(as_utc(start, "from"), "from") or end - DEFAULT_RANGE
    if start >= end:
        raise invalid("to", "query", "must be after `from`")
    if end - start > MAX_RANGE:
        raise invalid("from", "query", f"at most {MAX_RANGE.days} days before `to`")
    size = BUCKET_SIZES[bucket]
    count = _bucket_count(_floor(start, bucket), end, size)
    if count > MAX_BUCKETS:
        raise invalid(
            "bucket", "query", f"{count} buckets of one {bucket}; at most {MAX_BUCKETS} per request"
        )
    return Window(start, end, bucket)


def _bounded(moment: datetime | None, name: str) -> datetime | None:
    if moment is not None and not EARLIEST <= moment < LATEST:
        raise invalid(name, "query", f"must be in the years {EARLIEST.year} to {LATEST.year - 1}")
    return moment


def _percentile(ordered: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default)."""
    if not ordered:
        return None
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class _Latencies:
    """Latencies in ms of the ended runs of a range: all, per bucket start, per agent."""

    all: list[float] = field(default_factory=list)
    by_bucket: dict[datetime, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_agent: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    @staticmethod
    def p50_p95(values: Iterable[float]) -> dict[str, float | None]:
        ordered = sorted(values)
        return {"p50_ms": _percentile(ordered, 0.5), "p95_ms": _percentile(ordered, 0.95)}


def _in_window(span: Window, agent_id: str | None) -> list[ColumnElement[bool]]:
    """The runs a statistic counts: created in the range (and of the agent, if one is asked)."""
    created = col(Run.created_at)
    conditions = [created >= span.start, created < span.end]
    return [*conditions, col(Run.agent_id) == agent_id] if agent_id else conditions


def _bucket_of(span: Window) -> ColumnElement[str]:
    return _BUCKET_STARTS[span.bucket](col(Run.created_at))


def _parse_bucket(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _latencies(session: Session, span: Window, agent_id: str | None) -> _Latencies:
    """One row per ended run: its agent, bucket, wall time and time spent waiting for people."""
    bucket = _bucket_of(span)
    wall = MillisBetween(run_started(), col(Run.ended_at))
    approval_closed = func.coalesce(col(Approval.decided_at), col(Run.ended_at))
    waited = func.coalesce(func.sum(MillisBetween(col(Approval.requested_at), approval_closed)), 0)
    statement = (
        select(col(Run.agent_id), bucket, wall, waited)
        .outerjoin(Approval, col(Approval.run_id) == col(Run.id))
        .where(col(Run.ended_at).is_not(None))
        .group_by(col(Run.id))
    )
    found = _Latencies()
    for agent, start, wall_ms, waited_ms in session.execute(
        statement.where(*_in_window(span, agent_id))
    ):
        # Clocks of different hosts can disagree by a little: latency is never negative.
        latency = max(0.0, float(wall_ms) - float(waited_ms))
        found.all.append(latency)
        found.by_bucket[_parse_bucket(start)].append(latency)
        found.by_agent[agent].append(latency)
    return found


def _every_status() -> dict[RunStatus, int]:
    return dict.fromkeys(RunStatus, 0)


def _series(
    session: Session, span: Window, agent_id: str | None, latencies: _Latencies
) -> list[SeriesPoint]:
    bucket = _bucket_of(span)
    statement = select(
        bucket,
        col(Run.status),
        func.count(),
        func.coalesce(func.sum(col(Run.cost_usd)), 0.0),
        func.coalesce(func.sum(col(Run.input_tokens)), 0),
        func.coalesce(func.sum(col(Run.output_tokens)), 0),
    ).group_by(bucket, col(Run.status))
    points = {
        start: SeriesPoint(
            start=start,
            by_status=_every_status(),
            **_Latencies.p50_p95(latencies.by_bucket.get(start, [])),
        )
        for start in span.bucket_starts
    }
    for start, status, runs, cost, input_tokens, output_tokens in session.execute(
        statement.where(*_in_window(span, agent_id))
    ):
        point = points[_parse_bucket(start)]
        point.by_status[RunStatus(status)] += runs
        point.runs += runs
        point.cost_usd += float(cost)
        point.input_tokens += int(input_tokens)
        point.output_tokens += int(output_tokens)
    return list(points.values())


@dataclass
class _AgentCells:
    """Per agent, per bucket: the rows of `agents` and `agent_days` before they are shaped."""

    agents: dict[str, AgentStats] = field(default_factory=dict)
    days: list[AgentDay] = field(default_factory=list)


def _per_agent(
    session: Session, span: Window, agent_id: str | None, latencies: _Latencies
) -> _AgentCells:
    bucket = _bucket_of(span)
    statement = (
        select(
            col(Run.agent_id),
            col(Agent.name),
            bucket,
            func.count(),
            func.sum(case((col(Run.status) == RunStatus.failed.value, 1), else_=0)),
            func.coalesce(func.sum(col(Run.cost_usd)), 0.0),
            func.coalesce(func.sum(col(Run.input_tokens)), 0),
            func.coalesce(func.sum(col(Run.output_tokens)), 0),
        )
        .join(Agent, col(Agent.id) == col(Run.agent_id))
        .group_by(col(Run.agent_id), col(Agent.name), bucket)
    )
    cells = _AgentCells()
    for agent, name, start, runs, failed, cost, input_tokens, output_tokens in session.execute(
        statement.where(*_in_window(span, agent_id))
    ):
        stats = cells.agents.get(agent)
        if stats is None:
            stats = cells.agents[agent] = AgentStats(
                agent_id=agent, agent_name=name, **_Latencies.p50_p95(latencies.by_agent[agent])
            )
        stats.runs += runs
        stats.failed += int(failed)
        stats.cost_usd += float(cost)
        stats.input_tokens += int(input_tokens)
        stats.output_tokens += int(output_tokens)
        if cost or input_tokens or output_tokens:
            cells.days.append(
                AgentDay(
                    agent_id=agent,
                    start=_parse_bucket(start),
                    cost_usd=float(cost),
                    input_tokens=int(input_tokens),
                    output_tokens=int(output_tokens),
                )
            )
    return cells


def _top_failing(agents: Iterable[AgentStats]) -> list[FailingAgent]:
    failing = [agent for agent in agents if agent.failed]
    failing.sort(key=lambda a: (-a.failed, -a.failed / a.runs, a.agent_name, a.agent_id))
    return [
        FailingAgent(
            agent_id=agent.agent_id,
            agent_name=agent.agent_name,
            runs=agent.runs,
            failed=agent.failed,
            failure_rate=agent.failed / agent.runs,
        )
        for agent in failing[:TOP_FAILING]
    ]


def run_stats(session: Session, span: Window, agent_id: str | None) -> RunStats:
    if agent_id is not None:
        agent_id = get_agent(session, agent_id).id  # another tenant's agent is a 404
    latencies = _latencies(session, span, agent_id)
    series = _series(session, span, agent_id, latencies)
    cells = _per_agent(session, span, agent_id, latencies)
    totals = Totals(by_status=_every_status(), **_Latencies.p50_p95(latencies.all))
    for point in series:
        totals.runs += point.runs
        totals.cost_usd += point.cost_usd
        totals.input_tokens += point.input_tokens
        totals.output_tokens += point.output_tokens
        for status, count in point.by_status.items():
            totals.by_status[status] += count
    agents = sorted(cells.agents.values(), key=lambda a: (-a.runs, a.agent_name, a.agent_id))
    return RunStats(
        from_=span.start,
        to=span.end,
        bucket=span.bucket,
        totals=totals,
        series=series,
        agents=agents,
        agent_days=sorted(cells.days, key=lambda day: (day.start, day.agent_id)),
        top_failing=_top_failing(agents),
    )
