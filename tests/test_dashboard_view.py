"""What the dashboard's and an agent's charts draw, shaped from `GET /v1/stats` answers."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.stats_view import (
    AGENT_COLORS,
    OTHER_AGENTS,
    Axis,
    axis,
    bucket_label,
    stats_view,
    status_swatches,
    window,
)
from backend.services.meta import meta
from backend.settings import Settings
from core.models.stats import RunStats

VOCABULARY = meta(Settings()).model_dump(mode="json")["run_statuses"]
STATUSES: list[str] = VOCABULARY["all"]
ACTIVE: list[str] = VOCABULARY["active"]
NOW = datetime(2026, 3, 10, 14, 25, tzinfo=UTC)


def counts(**given: int) -> dict[str, int]:
    """Every status, as the API lists them: 0 unless given."""
    return {status: given.get(status, 0) for status in STATUSES}


def point(start: datetime, **fields: Any) -> dict[str, Any]:
    by_status = fields.pop("by_status", {})
    row = {
        "start": start.isoformat(),
        "runs": sum(by_status.values()),
        "by_status": counts(**by_status),
        "cost_usd": 0.0,
        "input_tokens": 0,
        "output_tokens": 0,
        "p50_ms": None,
        "p95_ms": None,
    }
    return {**row, **fields}


def answer(choice: str, series: list[dict[str, Any]], **parts: Any) -> dict[str, Any]:
    """A `GET /v1/stats` answer; checked against the API's own model of one."""
    asked = window(choice, NOW)
    runs = {s: sum(p["by_status"][s] for p in series) for s in STATUSES}
    stats = {
        "from": asked.start.isoformat(),
        "to": asked.end.isoformat(),
        "bucket": asked.bucket,
        "totals": {
            "runs": sum(runs.values()),
            "by_status": runs,
            "cost_usd": sum(p["cost_usd"] for p in series),
            "input_tokens": sum(p["input_tokens"] for p in series),
            "output_tokens": sum(p["output_tokens"] for p in series),
            "p50_ms": parts.pop("p50_ms", None),
            "p95_ms": parts.pop("p95_ms", None),
        },
        "series": series,
        "agents": parts.pop("agents", []),
        "agent_days": parts.pop("agent_days", []),
        "top_failing": parts.pop("top_failing", []),
    }
    assert not parts
    RunStats.model_validate(stats)
    return stats


def agent(agent_id: str, runs: int, failed: int = 0, cost_usd: float = 0.0) -> dict[str, Any]:
    return {
        "agent_id": agent_id,
        "agent_name": f"name of {agent_id}",
        "runs": runs,
        "failed": failed,
        "cost_usd": cost_usd,
        "input_tokens": 10 * runs,
        "output_tokens": 5 * runs,
        "p50_ms": 1200.0,
        "p95_ms": 2500.0,
    }


def test_an_axis_starts_at_zero_and_an_all_zero_one_spans_zero_to_one() -> None:
    assert axis([0, 0.0, None]) == Axis(domain=[0, 1], empty=True)
    assert axis([]) == Axis(domain=[0, 1], empty=True)
    mixed = axis([0, 0.004, None, 3], unit="s")
    assert mixed == Axis(domain=[0, "auto"], unit="s", empty=False)


def test_a_range_is_whole_utc_buckets_up_to_now() -> None:
    day = window("24h", NOW)
    assert (day.bucket, day.end) == ("hour", NOW)
    assert day.start == datetime(2026, 3, 9, 15, tzinfo=UTC)  # 24 hours, this one the last
    week = window("7d", NOW)
    assert (week.bucket, week.start) == ("day", datetime(2026, 3, 4, tzinfo=UTC))
    assert window("30d", NOW).start == datetime(2026, 2, 9, tzinfo=UTC)
    assert window("a year", NOW) == week  # an unknown choice (a hand-made URL) is the default
    assert week.params() == {
        "from": "2026-03-04T00:00:00Z",
        "to": "2026-03-10T14:25:00Z",
        "bucket": "day",
    }


def test_empty_buckets_are_kept_as_zeros_on_a_continuous_axis() -> None:
    asked = window("24h", NOW)
    busy = asked.start + timedelta(hours=5)
    series = [point(busy, by_status={"succeeded": 2, "failed": 1}, p50_ms=300.0, p95_ms=800.0)]
    view = stats_view(answer("24h", series), STATUSES, ACTIVE)
    assert len(view.buckets) == 24
    assert [b.start for b in view.buckets[:2]] == ["2026-03-09T15:00:00Z", "2026-03-09T16:00:00Z"]
    assert view.buckets[-1].label == bucket_label(NOW.replace(minute=0), "hour") == "Tue 14:00"
    assert [b.runs for b in view.buckets] == [0] * 5 + [3] + [0] * 18
    quiet = view.buckets[0]
    assert quiet.by_status == counts()
    assert (quiet.p50, quiet.p95) == (None, None)
    assert (view.buckets[5].p50, view.buckets[5].p95) == (300.0, 800.0)
    assert view.latency_axis.unit == "ms"


def test_statuses_keep_the_vocabularys_order_each_in_its_own_colour() -> None:
    swatches = status_swatches(STATUSES)
    assert [s.status for s in swatches] == STATUSES
    assert len({s.fill for s in swatches}) == len(STATUSES)
    assert {s.data_key for s in swatches} == {f"by_status.{s}" for s in STATUSES}
    # A status the API adds later gets a colour of its own too.
    grown = status_swatches([*STATUSES, "paused"])
    assert grown[-1].status == "paused"
    assert len({s.fill for s in grown}) == len(STATUSES) + 1


def test_the_bars_are_the_statuses_that_have_runs_in_vocabulary_order() -> None:
    start = window("7d", NOW).start
    series = [
        point(start, by_status={"failed": 1}),
        point(start + timedelta(days=2), by_status={"succeeded": 3, "cancelled": 1}),
    ]
    view = stats_view(answer("7d", series), STATUSES, ACTIVE)
    shown = [s.status for s in view.statuses]
    assert shown == [s for s in STATUSES if s in {"failed", "succeeded", "cancelled"}]
    assert view.totals.runs == 5
    assert view.totals.runs_text == "5"
    assert view.totals.success_rate == "60%"
    assert view.runs_axis == Axis(domain=[0, "auto"], empty=False)
    assert [b.runs for b in view.buckets] == [1, 0, 4, 0, 0, 0, 0]


def test_no_cost_recorded_is_said_not_drawn_on_an_invented_scale() -> None:
    start = window("7d", NOW).start
    series = [point(start, by_status={"succeeded": 2}, input_tokens=40, output_tokens=8)]
    view = stats_view(answer("7d", series, agents=[agent("agt_a", 2)]), STATUSES, ACTIVE)
    assert view.cost_axis == Axis(domain=[0, 1], empty=True)
    assert view.tokens_axis.domain == [0, "auto"]
    assert not view.tokens_axis.empty
    assert view.latency_axis.empty  # no percentile in any bucket: nothing ended
    assert view.totals.cost == "$0"
    assert view.totals.tokens == "48"


def test_latency_is_in_seconds_once_a_p95_reaches_one() -> None:
    start = window("7d", NOW).start
    series = [
        point(start, by_status={"succeeded": 1}, p50_ms=400.0, p95_ms=900.0),
        point(start + timedelta(days=1), by_status={"succeeded": 1}, p50_ms=1500.0, p95_ms=4250.0),
    ]
    view = stats_view(answer("7d", series, p50_ms=950.0, p95_ms=4000.0), STATUSES, ACTIVE)
    assert view.latency_axis == Axis(domain=[0, "auto"], unit="s", empty=False)
    assert [(b.p50, b.p95) for b in view.buckets[:3]] == [(0.4, 0.9), (1.5, 4.25), (None, None)]
    assert (view.totals.p50, view.totals.p95) == ("950 ms", "4.0 s")


def test_use_per_bucket_is_split_by_the_costliest_agents_and_the_rest() -> None:
    start = window("7d", NOW).start
    ids = [f"agt_{n}" for n in range(len(AGENT_COLORS) + 2)]
    days: list[dict[str, Any]] = [
        {
            "agent_id": agent_id,
            "start": (start + timedelta(days=1)).isoformat(),
            "cost_usd": 0.01 * (n + 1),
            "input_tokens": 100,
            "output_tokens": 1,
        }
        for n, agent_id in enumerate(ids)
    ]
    series = [
        point(
            start + timedelta(days=1),
            by_status={"succeeded": len(ids)},
            cost_usd=sum(d["cost_usd"] for d in days),
            input_tokens=100 * len(ids),
            output_tokens=len(ids),
        )
    ]
    agents = [
        agent(agent_id, 1, cost_usd=d["cost_usd"]) for agent_id, d in zip(ids, days, strict=True)
    ]
    view = stats_view(answer("7d", series, agents=agents, agent_days=days), STATUSES, ACTIVE)
    names = [s.name for s in view.agent_series]
    assert names == [f"name of agt_{n}" for n in (7, 6, 5, 4, 3)] + [OTHER_AGENTS]
    assert len(view.usage) == 7
    assert view.per_bucket == "per day"
    assert view.usage[0].cost == dict.fromkeys(["a0", "a1", "a2", "a3", "a4", "other"], 0.0)
    used = view.usage[1]
    assert used.cost["a0"] == 0.08
    assert used.cost["other"] == pytest.approx(0.01 + 0.02 + 0.03)
    assert used.tokens["other"] == 3 * 101
    assert [a.agent_id for a in view.chart_agents[:2]] == ["agt_7", "agt_6"]


def test_agents_and_the_top_failing_link_by_id() -> None:
    start = window("24h", NOW).start
    series = [point(start, by_status={"succeeded": 2, "failed": 2, "running": 1})]
    agents = [agent("agt_ok", 2), agent("agt_bad", 3, failed=2, cost_usd=0.0042)]
    failing = [
        {
            "agent_id": "agt_bad",
            "agent_name": "name of agt_bad",
            "runs": 3,
            "failed": 2,
            "failure_rate": 2 / 3,
        }
    ]
    stats = answer("24h", series, agents=agents, top_failing=failing)
    view = stats_view(stats, STATUSES, ACTIVE)
    busiest, calm = view.agents
    assert (busiest.agent_id, busiest.runs, busiest.failures) == ("agt_bad", 3, "2 (67%)")
    assert (busiest.cost, busiest.tokens, busiest.p50, busiest.p95) == (
        "$0.00420",
        "45",
        "1.2 s",
        "2.5 s",
    )
    assert (calm.agent_id, calm.failures) == ("agt_ok", "0")
    (worst,) = view.top_failing
    assert (worst.agent_id, worst.failed, worst.failure_rate) == ("agt_bad", 2, "67%")
    assert view.totals.success_rate == "50%"  # of the 4 that ended; one is still running
    assert view.per_bucket == "per hour"
