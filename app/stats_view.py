"""What the charts of runs show, shaped from `GET /v1/stats`: the dashboard's and an agent's.

Pure functions over the API's JSON. Every time axis is continuous (a bucket with no runs is kept,
as zeros), every axis of a non-negative quantity starts at 0, and an axis whose values are all 0
says so (`Axis.empty`) instead of inventing a scale.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.view import NONE, cost, duration, parse_time

# The ranges people pick, and the bucket each is charted in.
RANGES: dict[str, tuple[str, timedelta, str]] = {
    "24h": ("Last 24 hours", timedelta(hours=24), "hour"),
    "7d": ("Last 7 days", timedelta(days=7), "day"),
    "30d": ("Last 30 days", timedelta(days=30), "day"),
}
DEFAULT_RANGE = "7d"
STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
# A range longer than this many buckets is the API's mistake or a hand-made URL: chart no more.
MAX_BUCKETS = 2000
# Charts need one colour per status; the badges' colours (app.view) repeat some.
STATUS_CHART_COLORS = {
    "queued": "sky",
    "running": "blue",
    "awaiting_approval": "amber",
    "cancelling": "orange",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "gray",
    "timed_out": "violet",
}
# For statuses the API names that have no colour above, and for agents.
SPARE_COLORS = ("teal", "indigo", "pink", "lime", "brown", "cyan", "plum", "gold", "jade", "ruby")
AGENT_COLORS = ("indigo", "cyan", "orange", "crimson", "grass", "violet")
OTHER_AGENTS = "Other agents"
CHART_AGENTS = 10


@dataclass
class Window:
    """The time range asked for: whole buckets, the last one the current (partial) one."""

    start: datetime
    end: datetime
    bucket: str

    def params(self) -> dict[str, str]:
        return {"from": _iso(self.start), "to": _iso(self.end), "bucket": self.bucket}


@dataclass
class Axis:
    """A y (value) axis from 0. Its top is recharts' rounding of the largest value, or 1 when
    every value is 0 (recharts would draw 0..4 for nothing)."""

    domain: list[float | str] = field(default_factory=lambda: [0, 1])
    unit: str = ""
    empty: bool = True


@dataclass
class StatusSwatch:
    status: str = ""
    label: str = ""
    data_key: str = ""
    fill: str = ""


@dataclass
class Bucket:
    """One bucket of the time axis; `p50`/`p95` in the latency axis's unit, None without runs."""

    start: str = ""
    label: str = ""
    runs: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    p50: float | None = None
    p95: float | None = None


@dataclass
class AgentSwatch:
    """One agent's part of a stacked bar of use (the smallest ones share "Other agents")."""

    agent_id: str = ""
    name: str = ""
    cost_key: str = ""
    tokens_key: str = ""
    fill: str = ""


@dataclass
class UsageRow:
    start: str = ""
    label: str = ""
    cost: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)


@dataclass
class AgentStat:
    agent_id: str = ""
    agent_name: str = ""
    runs: int = 0
    failed: int = 0
    failures: str = ""
    cost_usd: float = 0.0
    cost: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    tokens: str = ""
    p50: str = NONE
    p95: str = NONE


@dataclass
class FailingAgent:
    agent_id: str = ""
    agent_name: str = ""
    runs: int = 0
    failed: int = 0
    failure_rate: str = ""


@dataclass
class Totals:
    runs: int = 0
    runs_text: str = "0"
    success_rate: str = NONE
    cost: str = "$0"
    tokens: str = "0"
    p50: str = NONE
    p95: str = NONE


@dataclass
class StatsView:
    """Everything the charts and tables of one `GET /v1/stats` answer show."""

    per_bucket: str = "per day"
    totals: Totals = field(default_factory=Totals)
    # The statuses that have runs in the range (their colours fixed over the whole vocabulary).
    statuses: list[StatusSwatch] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)
    runs_axis: Axis = field(default_factory=Axis)
    latency_axis: Axis = field(default_factory=Axis)
    cost_axis: Axis = field(default_factory=Axis)
    tokens_axis: Axis = field(default_factory=Axis)
    agent_series: list[AgentSwatch] = field(default_factory=list)
    usage: list[UsageRow] = field(default_factory=list)
    agents: list[AgentStat] = field(default_factory=list)
    # The costliest agents (then the most tokens), for the per-agent bars.
    chart_agents: list[AgentStat] = field(default_factory=list)
    chart_agents_height: int = 120
    top_failing: list[FailingAgent] = field(default_factory=list)


# Time ---------------------------------------------------------------------------------------
def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def floor(moment: datetime, bucket: str) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == "day" else moment


def window(choice: str, now: datetime) -> Window:
    """`24h`: the current hour and the 23 before it; `7d`/`30d`: today and the days before."""
    _, span, bucket = RANGES.get(choice, RANGES[DEFAULT_RANGE])
    step = STEPS[bucket]
    return Window(start=floor(now, bucket) - (span - step), end=now, bucket=bucket)


def bucket_label(moment: datetime, bucket: str) -> str:
    """`Tue 14:00` for an hour (unique within a day and a bit), `Mar 3` for a day (UTC)."""
    return f"{moment:%a %H}:00" if bucket == "hour" else f"{moment:%b} {moment.day}"


def time_axis(start: Any, end: Any, bucket: str, seen: Iterable[datetime] = ()) -> list[datetime]:
    """Every bucket from the one holding `start` up to `end`, and any bucket data fell in."""
    step = STEPS.get(bucket, STEPS["day"])
    first, last = parse_time(start), parse_time(end)
    starts: set[datetime] = {floor(moment, bucket) for moment in seen}
    if first is not None and last is not None:
        moment = floor(first, bucket)
        while moment < last and len(starts) < MAX_BUCKETS:
            starts.add(moment)
            moment += step
    return sorted(starts)


def _starts(rows: Sequence[dict[str, Any]], bucket: str) -> dict[datetime, list[dict[str, Any]]]:
    placed: dict[datetime, list[dict[str, Any]]] = {}
    for row in rows:
        moment = parse_time(row.get("start"))
        if moment is not None:
            placed.setdefault(floor(moment, bucket), []).append(row)
    return placed


# Axes and colours ---------------------------------------------------------------------------
def axis(values: Iterable[float | None], unit: str = "") -> Axis:
    """From 0 to recharts' rounded top, or 0..1 (and `empty`) when no value is above 0."""
    top = max((value for value in values if value is not None), default=0.0)
    return Axis(domain=[0, "auto"] if top > 0 else [0, 1], unit=unit, empty=top <= 0)


def status_swatches(statuses: Sequence[str]) -> list[StatusSwatch]:
    """The API's statuses in its order, each with a colour no other status has."""
    taken = {STATUS_CHART_COLORS[s] for s in statuses if s in STATUS_CHART_COLORS}
    spare = iter([color for color in SPARE_COLORS if color not in taken])
    swatches = []
    for status in statuses:
        color = STATUS_CHART_COLORS.get(status) or next(spare, "gray")
        swatches.append(
            StatusSwatch(
                status=status,
                label=status.replace("_", " "),
                data_key=f"by_status.{status}",
                fill=f"var(--{color}-9)",
            )
        )
    return swatches


def latency_unit(values_ms: Iterable[float | None]) -> str:
    return "s" if max((v for v in values_ms if v is not None), default=0.0) >= 1000 else "ms"


def _in_unit(value_ms: Any, unit: str) -> float | None:
    if value_ms is None:
        return None
    return round(float(value_ms), 1) if unit == "ms" else round(float(value_ms) / 1000, 2)


def _ms(value_ms: Any) -> str:
    return NONE if value_ms is None else duration(float(value_ms) / 1000)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else NONE


# Shaping ------------------------------------------------------------------------------------
def buckets(stats: dict[str, Any], statuses: Sequence[str]) -> list[Bucket]:
    """The series on a continuous time axis; latency in `latency_unit` of its p95s."""
    bucket = str(stats.get("bucket", "day"))
    # One row per bucket in the API's answer (were there two, the later would count).
    placed = {start: rows[-1] for start, rows in _starts(stats.get("series") or [], bucket).items()}
    unit = latency_unit(row.get("p95_ms") for row in placed.values())
    shaped = []
    for moment in time_axis(stats.get("from"), stats.get("to"), bucket, placed):
        row = placed.get(moment, {})
        counted = {str(status): int(n) for status, n in (row.get("by_status") or {}).items()}
        shaped.append(
            Bucket(
                start=_iso(moment),
                label=bucket_label(moment, bucket),
                runs=int(row.get("runs", 0)),
                by_status={**dict.fromkeys(statuses, 0), **counted},
                cost_usd=round(float(row.get("cost_usd", 0)), 6),
                input_tokens=int(row.get("input_tokens", 0)),
                output_tokens=int(row.get("output_tokens", 0)),
                p50=_in_unit(row.get("p50_ms"), unit),
                p95=_in_unit(row.get("p95_ms"), unit),
            )
        )
    return shaped


def agent_series(stats: dict[str, Any], most: int = len(AGENT_COLORS)) -> list[AgentSwatch]:
    """The agents of the bars of use, costliest first; past `most`, one "Other agents"."""
    totals: dict[str, tuple[float, int]] = {}
    for row in stats.get("agent_days") or []:
        spent, used = totals.get(str(row["agent_id"]), (0.0, 0))
        tokens = int(row.get("input_tokens", 0)) + int(row.get("output_tokens", 0))
        totals[str(row["agent_id"])] = (spent + float(row.get("cost_usd", 0)), used + tokens)
    names = {
        str(a["agent_id"]): str(a.get("agent_name") or a["agent_id"])
        for a in stats.get("agents") or []
    }
    ranked = sorted(totals, key=lambda agent: (-totals[agent][0], -totals[agent][1], agent))
    shown = ranked if len(ranked) <= most else ranked[: most - 1]
    swatches = [
        AgentSwatch(
            agent_id=agent,
            name=names.get(agent, agent),
            cost_key=f"cost.a{index}",
            tokens_key=f"tokens.a{index}",
            fill=f"var(--{AGENT_COLORS[index % len(AGENT_COLORS)]}-9)",
        )
        for index, agent in enumerate(shown)
    ]
    if len(shown) < len(ranked):
        swatches.append(
            AgentSwatch("", OTHER_AGENTS, "cost.other", "tokens.other", "var(--gray-8)")
        )
    return swatches


def usage(stats: dict[str, Any], series: Sequence[AgentSwatch]) -> list[UsageRow]:
    """Cost and tokens per bucket (continuous), split by the agents of `series`."""
    bucket = str(stats.get("bucket", "day"))
    placed = _starts(stats.get("agent_days") or [], bucket)
    keys = {swatch.agent_id: swatch.cost_key.removeprefix("cost.") for swatch in series}
    other = "other" if any(not swatch.agent_id for swatch in series) else None
    shaped = []
    for moment in time_axis(stats.get("from"), stats.get("to"), bucket, placed):
        row = UsageRow(start=_iso(moment), label=bucket_label(moment, bucket))
        row.cost = dict.fromkeys([*keys.values(), *([other] if other else [])], 0.0)
        row.tokens = dict.fromkeys(row.cost, 0)
        for entry in placed.get(moment, []):
            key = keys.get(str(entry["agent_id"]), other)
            if key is None:
                continue
            row.cost[key] = round(row.cost[key] + float(entry.get("cost_usd", 0)), 6)
            used = int(entry.get("input_tokens", 0)) + int(entry.get("output_tokens", 0))
            row.tokens[key] += used
        shaped.append(row)
    return shaped


def agent_stats(stats: dict[str, Any]) -> list[AgentStat]:
    """One row per agent with runs in the range, the busiest first."""
    rows = []
    agents = stats.get("agents") or []
    for agent in sorted(agents, key=lambda a: (-int(a.get("runs", 0)), a["agent_id"])):
        runs, failed = int(agent.get("runs", 0)), int(agent.get("failed", 0))
        given, taken = int(agent.get("input_tokens", 0)), int(agent.get("output_tokens", 0))
        rows.append(
            AgentStat(
                agent_id=str(agent["agent_id"]),
                agent_name=str(agent.get("agent_name") or agent["agent_id"]),
                runs=runs,
                failed=failed,
                failures=f"{failed:,} ({_percent(failed, runs)})" if failed else "0",
                cost_usd=round(float(agent.get("cost_usd", 0)), 6),
                cost=cost(agent.get("cost_usd")),
                input_tokens=given,
                output_tokens=taken,
                tokens=f"{given + taken:,}",
                p50=_ms(agent.get("p50_ms")),
                p95=_ms(agent.get("p95_ms")),
            )
        )
    return rows


def top_failing(stats: dict[str, Any]) -> list[FailingAgent]:
    return [
        FailingAgent(
            agent_id=str(row["agent_id"]),
            agent_name=str(row.get("agent_name") or row["agent_id"]),
            runs=int(row.get("runs", 0)),
            failed=int(row.get("failed", 0)),
            failure_rate=f"{100 * float(row.get('failure_rate', 0)):.0f}%",
        )
        for row in stats.get("top_failing") or []
    ]


def totals(stats: dict[str, Any], active: Iterable[str]) -> Totals:
    """Success rate over the runs that ended (a run still going has not failed yet)."""
    given = stats.get("totals") or {}
    by_status = {str(k): int(v) for k, v in (given.get("by_status") or {}).items()}
    runs = int(given.get("runs", 0))
    ended = runs - sum(by_status.get(status, 0) for status in active)
    entered, produced = int(given.get("input_tokens", 0)), int(given.get("output_tokens", 0))
    return Totals(
        runs=runs,
        runs_text=f"{runs:,}",
        success_rate=_percent(by_status.get("succeeded", 0), ended),
        cost=cost(given.get("cost_usd")),
        tokens=f"{entered + produced:,}",
        p50=_ms(given.get("p50_ms")),
        p95=_ms(given.get("p95_ms")),
    )


def stats_view(
    stats: dict[str, Any], statuses: Sequence[str], active: Iterable[str] = ()
) -> StatsView:
    """The whole answer, shaped; `statuses` and `active` are the API's (`GET /v1/meta`)."""
    # A status the answer counts that the vocabulary read earlier lacks still gets its bar.
    counted = [str(s) for s in ((stats.get("totals") or {}).get("by_status") or {})]
    ordered = [*statuses, *[status for status in counted if status not in statuses]]
    shaped = buckets(stats, ordered)
    series = agent_series(stats)
    used = usage(stats, series)
    agents = agent_stats(stats)
    costliest = sorted(agents, key=lambda a: (-a.cost_usd, -(a.input_tokens + a.output_tokens)))
    counted_runs = {status for b in shaped for status, count in b.by_status.items() if count}
    unit = latency_unit(row.get("p95_ms") for row in stats.get("series") or [])
    costs = [b.cost_usd for b in shaped] + [a.cost_usd for a in agents]
    tokens = [b.input_tokens + b.output_tokens for b in shaped]
    return StatsView(
        per_bucket=f"per {stats.get('bucket', 'day')}",
        totals=totals(stats, active),
        statuses=[s for s in status_swatches(ordered) if s.status in counted_runs],
        buckets=shaped,
        runs_axis=axis(b.runs for b in shaped),
        latency_axis=axis((b.p95 for b in shaped), unit=unit),
        cost_axis=axis([*costs, *(sum(row.cost.values()) for row in used)]),
        tokens_axis=axis([*tokens, *(a.input_tokens + a.output_tokens for a in agents)]),
        agent_series=series,
        usage=used,
        agents=agents,
        chart_agents=costliest[:CHART_AGENTS],
        chart_agents_height=48 + 32 * max(min(len(agents), CHART_AGENTS), 2),
        top_failing=top_failing(stats),
    )
