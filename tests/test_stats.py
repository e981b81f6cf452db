"""Run statistics: counts, cost, tokens and latency per UTC bucket and per agent, per tenant.

Runs recorded at chosen times pin bucketing and percentiles down exactly; runs through the real
engine (a worker, approvals decided through the API) show the same from what a worker records.
"""

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.db import TenantScope, scoped_session
from core.models import Approval, ApprovalStatus, Run, RunStatus
from tests.helpers import Api, agent_with, calc, error_fields, run_agent, script, wait_for_run

STATUSES = {status.value for status in RunStatus}
# SQLite's date functions read times to the millisecond: a difference of two is within 1 ms of
# the microsecond one, and a latency (two differences) within 2 ms.
MS = 2.0


def stats(api: Api, **params: Any) -> Any:
    return api.ok(api.get("/v1/stats", params=params))


def iso(moment: datetime) -> str:
    return moment.isoformat()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class Recorder:
    """Runs (and approvals) written straight to the database, at the times a test chooses."""

    def __init__(self, app: FastAPI, api: Api) -> None:
        assert api.tenant_id is not None
        self.engine, self.api, self.tenant_id = app.state.engine, api, api.tenant_id

    def agent(self, name: str) -> tuple[str, str]:
        agent = self.api.new_agent(name)
        return agent["id"], self.api.publish(agent["id"])["id"]

    def run(
        self,
        agent: tuple[str, str],
        created: str,
        status: RunStatus = RunStatus.succeeded,
        queued_s: float | None = 0.0,
        ran_s: float | None = None,
        waits: tuple[tuple[float, float | None, ApprovalStatus], ...] = (),
        **usage: Any,
    ) -> str:
        """A run created at `created`, started `queued_s` later (None: never), ended `ran_s`
        after that (None: not ended), with approvals (requested, decided after its start)."""
        created_at = at(created)
        started_at = created_at + timedelta(seconds=queued_s) if queued_s is not None else None
        clock = started_at or created_at
        ended_at = clock + timedelta(seconds=ran_s) if ran_s is not None else None
        with scoped_session(self.engine, TenantScope(self.tenant_id)) as session:
            run = Run(
                agent_id=agent[0],
                version_id=agent[1],
                version_number=1,
                status=status,
                input="recorded",
                created_by="test",
                created_at=created_at,
                started_at=started_at,
                ended_at=ended_at,
                **usage,
            )
            session.add(run)
            session.flush()
            for seq, (requested, decided, approval_status) in enumerate(waits, start=2):
                session.add(
                    Approval(
                        run_id=run.id,
                        agent_id=agent[0],
                        step_seq=seq,
                        tool_name="calculator",
                        status=approval_status,
                        requested_at=clock + timedelta(seconds=requested),
                        decided_at=clock + timedelta(seconds=decided) if decided else None,
                    )
                )
            session.commit()
            return run.id


def by_status(**counts: int) -> dict[str, int]:
    return {status: counts.get(status, 0) for status in STATUSES}


def test_latency_percentiles_leave_out_the_time_runs_waited_for_people(
    app: FastAPI, tenant_a: Api
) -> None:
    record = Recorder(app, tenant_a)
    quick, slow = record.agent("quick"), record.agent("slow")
    # Latency: ended_at - started_at (created_at if never started), less approval waits.
    usage: dict[str, Any] = {"cost_usd": 0.25, "input_tokens": 10, "output_tokens": 5}
    record.run(quick, "2025-03-10T01:00:00Z", queued_s=0.5, ran_s=1, **usage)  # 1000: no queue
    record.run(quick, "2025-03-10T01:10:00Z", RunStatus.cancelled, queued_s=None, ran_s=2)  # 2000
    approved = ((1, 7, ApprovalStatus.approved),)
    record.run(quick, "2025-03-10T01:20:00Z", RunStatus.failed, ran_s=10, waits=approved)  # 4000
    expired, usage = ((1, 3, ApprovalStatus.expired),), {"cost_usd": 0.5, "input_tokens": 20}
    record.run(slow, "2025-03-10T01:30:00Z", RunStatus.timed_out, ran_s=5, waits=expired, **usage)
    pending = ((2, None, ApprovalStatus.pending),)  # counts until the run ended: 8 s - 6 s
    record.run(slow, "2025-03-10T01:40:00Z", RunStatus.cancelled, ran_s=8, waits=pending)  # 2000
    record.run(slow, "2025-03-10T03:00:00Z", RunStatus.running, ran_s=None)  # not ended

    answer = stats(
        tenant_a, **{"from": "2025-03-10T00:00:00Z", "to": "2025-03-10T04:00:00Z", "bucket": "hour"}
    )

    totals = answer["totals"]
    assert totals["by_status"] == by_status(
        succeeded=1, cancelled=2, failed=1, timed_out=1, running=1
    )
    assert (totals["runs"], totals["input_tokens"], totals["output_tokens"]) == (6, 30, 5)
    assert totals["cost_usd"] == pytest.approx(0.75)
    # Sorted latencies 1000, 2000, 2000, 3000, 4000: linear interpolation between ranks.
    assert totals["p50_ms"] == pytest.approx(2000, abs=MS)
    assert totals["p95_ms"] == pytest.approx(3000 + 0.8 * 1000, abs=MS)
    agents = {agent["agent_name"]: agent for agent in answer["agents"]}
    assert (agents["quick"]["p50_ms"], agents["quick"]["p95_ms"]) == (
        pytest.approx(2000, abs=MS),
        pytest.approx(2000 + 0.9 * 2000, abs=MS),
    )
    assert (agents["slow"]["p50_ms"], agents["slow"]["p95_ms"]) == (
        pytest.approx(2500, abs=MS),
        pytest.approx(2000 + 0.95 * 1000, abs=MS),
    )
    one_am = answer["series"][1]
    assert (one_am["start"], one_am["runs"]) == ("2025-03-10T01:00:00Z", 5)
    assert one_am["p50_ms"] == pytest.approx(2000, abs=MS)
    three_am = answer["series"][3]
    assert (three_am["runs"], three_am["p50_ms"], three_am["p95_ms"]) == (1, None, None)
    # Only `failed` is a failure: the timed-out and cancelled runs are not.
    assert [(a["agent_name"], a["runs"], a["failed"]) for a in answer["agents"]] == [
        ("quick", 3, 1),
        ("slow", 3, 0),
    ]
    (failing,) = answer["top_failing"]
    assert (failing["agent_id"], failing["runs"], failing["failed"]) == (quick[0], 3, 1)
    assert failing["failure_rate"] == pytest.approx(1 / 3)
    # Cost and tokens per agent per bucket: only the cells with any.
    cells = sorted([(quick[0], 0.25, 10, 5), (slow[0], 0.5, 20, 0)])
    assert [
        (cell["agent_id"], cell["cost_usd"], cell["input_tokens"], cell["output_tokens"])
        for cell in answer["agent_days"]
    ] == [
        (agent, pytest.approx(cost), tokens_in, tokens_out)
        for agent, cost, tokens_in, tokens_out in cells
    ]
    assert {cell["start"] for cell in answer["agent_days"]} == {"2025-03-10T01:00:00Z"}


def test_runs_count_in_the_utc_bucket_of_their_creation_and_empty_buckets_are_listed(
    app: FastAPI, tenant_a: Api
) -> None:
    record = Recorder(app, tenant_a)
    agent = record.agent("nightly")
    for created in (
        "2025-03-09T23:59:59.999Z",
        "2025-03-10T00:00:00Z",
        "2025-03-10T00:00:00.001Z",
        "2025-03-12T06:00:00Z",
        "2025-03-13T00:00:00Z",  # at `to`: outside the range
    ):
        record.run(agent, created, ran_s=1)
    days = stats(tenant_a, **{"from": "2025-03-09T12:00:00Z", "to": "2025-03-13T00:00:00Z"})
    assert (days["from"], days["to"], days["bucket"]) == (
        "2025-03-09T12:00:00Z",
        "2025-03-13T00:00:00Z",
        "day",
    )
    assert [(point["start"], point["runs"]) for point in days["series"]] == [
        ("2025-03-09T00:00:00Z", 1),
        ("2025-03-10T00:00:00Z", 2),
        ("2025-03-11T00:00:00Z", 0),
        ("2025-03-12T00:00:00Z", 1),
    ]
    empty = days["series"][2]
    assert empty["by_status"] == by_status()
    assert (empty["cost_usd"], empty["input_tokens"], empty["p50_ms"]) == (0, 0, None)
    assert days["totals"]["runs"] == 4

    # Offsets are converted to UTC: 02:00 at +02:00 is midnight UTC, so 23:59:59.999 is out.
    later = stats(
        tenant_a,
        **{"from": "2025-03-10T02:00:00+02:00", "to": "2025-03-10T05:30:00", "bucket": "hour"},
    )
    assert (later["from"], later["to"]) == ("2025-03-10T00:00:00Z", "2025-03-10T05:30:00Z")
    assert [point["runs"] for point in later["series"]] == [2, 0, 0, 0, 0, 0]
    assert later["series"][-1]["start"] == "2025-03-10T05:00:00Z"


def test_stats_of_one_agent_and_never_of_another_tenant(
    app: FastAPI, tenant_a: Api, tenant_b: Api
) -> None:
    mine = Recorder(app, tenant_a)
    theirs = Recorder(app, tenant_b)
    first, second = mine.agent("first"), mine.agent("second")
    other = theirs.agent("first")  # the same name in another tenant
    mine.run(first, "2025-03-10T01:00:00Z", ran_s=1, cost_usd=1.0)
    mine.run(second, "2025-03-10T01:00:00Z", RunStatus.failed, ran_s=2)
    theirs.run(other, "2025-03-10T01:00:00Z", RunStatus.failed, ran_s=3, cost_usd=5.0)
    window = {"from": "2025-03-10T00:00:00Z", "to": "2025-03-11T00:00:00Z"}

    everything = stats(tenant_a, **window)
    assert everything["totals"]["by_status"] == by_status(succeeded=1, failed=1)
    assert everything["totals"]["cost_usd"] == pytest.approx(1.0)
    assert {agent["agent_id"] for agent in everything["agents"]} == {first[0], second[0]}
    assert [agent["agent_id"] for agent in everything["top_failing"]] == [second[0]]

    only_first = stats(tenant_a, agent_id=first[0], **window)
    assert only_first["totals"]["by_status"] == by_status(succeeded=1)
    assert [agent["agent_id"] for agent in only_first["agents"]] == [first[0]]
    assert only_first["top_failing"] == []
    assert only_first["totals"]["p50_ms"] == pytest.approx(1000, abs=MS)

    theirs_seen = stats(tenant_b, **window)
    assert theirs_seen["totals"]["by_status"] == by_status(failed=1)
    assert [agent["agent_id"] for agent in theirs_seen["agents"]] == [other[0]]
    # Another tenant's agent is not found, like everywhere else.
    for api, agent_id in ((tenant_b, first[0]), (tenant_a, other[0]), (tenant_a, "agt_nope")):
        response = api.get("/v1/stats", params={"agent_id": agent_id, **window})
        assert response.status_code == 404, response.text


def test_by_default_the_last_seven_days_by_day_for_any_role(tenant_a: Api) -> None:
    viewer = tenant_a.as_role("viewer")
    before = datetime.now(UTC)
    answer = stats(viewer)
    after = datetime.now(UTC)
    start, end = at(answer["from"]), at(answer["to"])
    assert before <= end <= after
    assert end - start == timedelta(days=7)
    starts = [at(point["start"]) for point in answer["series"]]
    assert starts[0] == start.replace(hour=0, minute=0, second=0, microsecond=0)
    assert all(later - earlier == timedelta(days=1) for earlier, later in pairwise(starts))
    assert starts[-1] <= end < starts[-1] + timedelta(days=1)
    assert {point["runs"] for point in answer["series"]} == {0}
    assert answer["totals"] == {
        "runs": 0,
        "by_status": by_status(),
        "cost_usd": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "p50_ms": None,
        "p95_ms": None,
    }
    assert (answer["agents"], answer["agent_days"], answer["top_failing"]) == ([], [], [])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-03-10T00:00:00Z", "to": "2025-03-10T00:00:00Z"}, "to"),
        ({"from": "2025-03-11T00:00:00Z", "to": "2025-03-10T00:00:00Z"}, "to"),
        ({"from": "2024-01-01T00:00:00Z", "to": "2025-03-10T00:00:00Z"}, "from"),
        (
            {"from": "2025-01-01T00:00:00Z", "to": "2025-03-10T00:00:00Z", "bucket": "hour"},
            "bucket",
        ),
        ({"bucket": "week"}, "bucket"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-13-01T00:00:00Z"}, "to"),
        ({"from": "0001-01-01T00:00:00+05:00"}, "from"),
        ({"to": "9999-12-31T23:59:59Z"}, "to"),
        ({"from": "1969-12-31T00:00:00Z", "to": "1970-01-02T00:00:00Z"}, "from"),
    ],
)
def test_a_bad_range_or_bucket_is_a_422_naming_it(
    tenant_a: Api, params: dict[str, str], field: str
) -> None:
    response = tenant_a.get("/v1/stats", params=params)
    assert response.status_code == 422, response.text
    assert error_fields(response) == [field]


def test_stats_need_credentials(client: TestClient) -> None:
    response = client.get("/v1/stats")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_every_property_of_the_answer_is_described(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    answer = document["paths"]["/v1/stats"]["get"]["responses"]["200"]["content"]
    assert answer["application/json"]["schema"] == {"$ref": "#/components/schemas/RunStats"}
    schemas = document["components"]["schemas"]
    names = ["RunStats", "Totals", "SeriesPoint", "AgentStats", "AgentDay", "FailingAgent"]
    assert list(schemas["RunStats"]["properties"]) == [
        "from",
        "to",
        "bucket",
        "totals",
        "series",
        "agents",
        "agent_days",
        "top_failing",
    ]
    undescribed = [
        f"{name}.{prop}"
        for name in names
        for prop, schema in schemas[name]["properties"].items()
        if not schema.get("description")
    ]
    assert undescribed == []


@pytest.mark.usefixtures("engine_env")
def test_runs_a_worker_ran_are_counted_by_status_cost_and_tokens(tenant_a: Api) -> None:
    budget = {"max_steps": 10, "max_cost_usd": 100.0}
    priced = agent_with(
        tenant_a, script({"text": "it is done"}, model="priced", limits=budget), "priced"
    )
    broken = script({"error": {"message": "no", "retryable": False}})
    failing = agent_with(tenant_a, broken, "failing")
    started = [
        run_agent(tenant_a, priced, "one"),
        run_agent(tenant_a, priced, "one two"),
        run_agent(tenant_a, failing),
    ]
    runs = [wait_for_run(tenant_a, run["id"]) for run in started]
    assert [run["status"] for run in runs] == ["succeeded", "succeeded", "failed"], [
        r["error"] for r in runs
    ]
    created = [at(run["created_at"]) for run in runs]
    start, end = (
        hour_of(min(created)) - timedelta(hours=2),
        hour_of(max(created)) + timedelta(hours=1),
    )

    answer = stats(tenant_a, **{"from": iso(start), "to": iso(end), "bucket": "hour"})

    expected = Counter((hour_of(c), run["status"]) for c, run in zip(created, runs, strict=True))
    for point in answer["series"]:
        hour = at(point["start"])
        assert point["by_status"] == by_status(
            **{status: count for (h, status), count in expected.items() if h == hour}
        )
    assert [point["runs"] for point in answer["series"][:2]] == [0, 0]
    totals = answer["totals"]
    assert totals["by_status"] == by_status(succeeded=2, failed=1)
    assert totals["cost_usd"] == pytest.approx(sum(run["cost_usd"] for run in runs))
    assert totals["cost_usd"] > 0
    assert totals["input_tokens"] == sum(run["usage"]["input_tokens"] for run in runs)
    assert totals["output_tokens"] == sum(run["usage"]["output_tokens"] for run in runs)
    agents = {agent["agent_name"]: agent for agent in answer["agents"]}
    assert (agents["priced"]["runs"], agents["priced"]["failed"]) == (2, 0)
    durations = sorted(
        (at(run["ended_at"]) - at(run["started_at"])) / timedelta(milliseconds=1)
        for run in runs[:2]
    )
    assert agents["priced"]["p50_ms"] == pytest.approx(sum(durations) / 2, abs=MS)
    assert [agent["agent_name"] for agent in answer["top_failing"]] == ["failing"]
    assert answer["top_failing"][0]["failure_rate"] == 1.0


@pytest.mark.usefixtures("engine_env")
def test_a_run_waiting_for_a_person_has_a_latency_well_under_its_wall_time(
    tenant_a: Api,
) -> None:
    gated = script(
        calc("6*7"),
        {"text": "42"},
        tools=[{"type": "builtin", "name": "calculator", "requires_approval": True}],
    )
    agent_id = agent_with(tenant_a, gated)
    run = run_agent(tenant_a, agent_id)
    wait_for_run(tenant_a, run["id"], until={"awaiting_approval"})
    (approval,) = tenant_a.ok(tenant_a.get(f"/v1/runs/{run['id']}/approvals"))["items"]
    time.sleep(1)  # a person reads the call before approving it
    decision = {"decision": "approve"}
    tenant_a.ok(tenant_a.post(f"/v1/runs/{run['id']}/approvals/{approval['id']}", json=decision))
    ended = wait_for_run(tenant_a, run["id"])
    assert ended["status"] == "succeeded"
    decided = tenant_a.ok(tenant_a.get(f"/v1/approvals/{approval['id']}"))

    answer = stats(tenant_a, agent_id=agent_id)

    wall_ms = (at(ended["ended_at"]) - at(ended["started_at"])) / timedelta(milliseconds=1)
    waited_ms = (at(decided["decided_at"]) - at(decided["requested_at"])) / timedelta(
        milliseconds=1
    )
    assert waited_ms >= 1000
    assert answer["totals"]["p50_ms"] == pytest.approx(wall_ms - waited_ms, abs=MS)
    assert answer["totals"]["p50_ms"] <= wall_ms - 1000 + MS
