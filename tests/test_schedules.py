"""Schedules: runs fired by the engine's own Schedules, against a real engine and worker."""

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from sqlmodel import select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from backend.services.engine import RunEngine
from backend.services.run_starter import SCHEDULED_GRACE, RunStarter
from core.db import AllTenants, TenantScope, scoped_session
from core.models import Run, Schedule
from core.run_records import scheduled_run
from tests.helpers import Api, agent_with, error_fields, free_port, script
from tests.private_engine import Engine, tenant_on
from tests.stack import start_temporal, stop_process
from worker.schedule_workflow import ScheduledRunWorkflow

pytestmark = pytest.mark.usefixtures("engine_env")
T = TypeVar("T")
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}


def eventually(check: Callable[[], T | None], what: str, timeout: float = 45) -> T:
    """The first truthy value `check` gives before the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {timeout} s: {what}")
        time.sleep(0.2)


def engine_has(address: str, schedule_id: str) -> bool:
    async def describe() -> bool:
        client = await Client.connect(address)
        try:
            await client.get_schedule_handle(schedule_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    return asyncio.run(describe())


async def _delete_everywhere(address: str, schedule_ids: list[str]) -> None:
    client = await Client.connect(address)
    for schedule_id in schedule_ids:
        try:
            await client.get_schedule_handle(schedule_id).delete()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise


@pytest.fixture(autouse=True)
def no_schedule_left(app: FastAPI, temporal_address: str) -> Iterator[None]:
    """The engine outlives each test: its Schedules go with the test's rows."""
    yield
    with scoped_session(app.state.engine, AllTenants()) as session:
        ids = list(session.exec(select(Schedule.id)).all())
    asyncio.run(_delete_everywhere(temporal_address, ids))


def new_schedule(api: Api, agent_id: str, **fields: Any) -> Any:
    body = {"agent": agent_id, "input": "what time is it?", **fields}
    return api.ok(api.post("/v1/schedules", json=body), 201)


def runs_of(api: Api, schedule_id: str) -> list[Any]:
    page = api.ok(api.get(f"/v1/schedules/{schedule_id}/runs", params={"limit": 200}))
    return list(page["items"])


def ended_runs(api: Api, schedule_id: str, count: int) -> list[Any] | None:
    """The schedule's runs once at least `count` exist and all have ended."""
    runs = runs_of(api, schedule_id)
    if len(runs) >= count and all(run["status"] in TERMINAL for run in runs):
        return runs
    return None


def test_an_interval_schedule_fires_runs_until_paused(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "tick"}))
    schedule = new_schedule(
        tenant_a, agent_id, interval_seconds=2, note="every two seconds", metadata={"team": "ops"}
    )
    sid = schedule["id"]
    assert sid.startswith("sch_")
    assert schedule["metadata"] == {"team": "ops"}
    assert (schedule["version"], schedule["overlap"], schedule["paused"]) == (
        "latest",
        "skip",
        False,
    )
    assert (schedule["interval_seconds"], schedule["cron"], schedule["timezone"]) == (
        2,
        None,
        "UTC",
    )
    assert 1 <= len(schedule["next_fire_times"]) <= 5
    assert schedule["next_fire_times"] == sorted(schedule["next_fire_times"])

    runs = eventually(lambda: ended_runs(tenant_a, sid, 2), "two runs of the schedule")
    for run in runs:
        assert (run["status"], run["output"], run["agent_id"]) == ("succeeded", "tick", agent_id)
        assert (run["schedule_id"], run["created_by"]) == (sid, f"schedule:{sid}")
        assert run["created_by_name"] == "test key"  # who made the schedule
        assert run["input"] == "what time is it?"
        assert datetime.fromisoformat(run["metadata"]["scheduled_at"]) <= datetime.now(UTC)
        assert run["metadata"]["team"] == "ops"
    listed = tenant_a.ok(tenant_a.get("/v1/runs", params={"schedule_id": sid, "limit": 200}))
    assert {run["id"] for run in runs} <= {run["id"] for run in listed["items"]}

    described = tenant_a.ok(tenant_a.get(f"/v1/schedules/{sid}"))
    assert described["fires"] >= 2
    recent = {fire["run_id"] for fire in described["recent_runs"]}
    assert {run["id"] for run in runs} & recent

    # Paused, it fires no more: the count holds over several intervals.
    paused = tenant_a.ok(tenant_a.post(f"/v1/schedules/{sid}/pause", json={"note": "quiet"}))
    assert (paused["paused"], paused["note"], paused["next_fire_times"]) == (True, "quiet", [])
    settled = eventually(lambda: ended_runs(tenant_a, sid, 0), "the last fire's run to end")
    time.sleep(6)  # three intervals
    assert len(runs_of(tenant_a, sid)) == len(settled)

    # A trigger fires at once, paused or not.
    accepted = tenant_a.ok(tenant_a.post(f"/v1/schedules/{sid}/trigger"), 202)
    assert (accepted["schedule_id"], accepted["action"]) == (sid, "trigger")
    triggered = eventually(lambda: ended_runs(tenant_a, sid, len(settled) + 1), "the triggered run")
    assert triggered[0]["status"] == "succeeded"

    # Unpaused, it fires again.
    unpaused = tenant_a.ok(tenant_a.post(f"/v1/schedules/{sid}/unpause"))
    assert (unpaused["paused"], unpaused["note"]) == (False, "quiet")
    assert unpaused["next_fire_times"]
    eventually(lambda: ended_runs(tenant_a, sid, len(triggered) + 2), "fires after unpausing")


def test_a_backfill_fires_each_due_time_of_a_past_range(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "caught up"}))
    sid = new_schedule(tenant_a, agent_id, interval_seconds=60, paused=True)["id"]
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    # Both ends are due times: both are taken.
    start, end = base + timedelta(minutes=1), base + timedelta(minutes=3)
    url = f"/v1/schedules/{sid}/backfill"
    body = {"start": start.isoformat(), "end": end.isoformat()}
    accepted = tenant_a.ok(tenant_a.post(url, json=body), 202)
    assert (accepted["action"], accepted["start"], accepted["end"]) == (
        "backfill",
        start.isoformat().replace("+00:00", "Z"),
        end.isoformat().replace("+00:00", "Z"),
    )
    runs = eventually(lambda: ended_runs(tenant_a, sid, 3), "three backfilled runs")
    assert len(runs) == 3
    assert {run["status"] for run in runs} == {"succeeded"}
    due = sorted(datetime.fromisoformat(run["metadata"]["scheduled_at"]) for run in runs)
    assert due == [base + timedelta(minutes=n) for n in (1, 2, 3)]

    # A range of one instant takes the one fire due then.
    once = (base + timedelta(minutes=5)).isoformat()
    tenant_a.ok(tenant_a.post(url, json={"start": once, "end": once}), 202)
    runs = eventually(lambda: ended_runs(tenant_a, sid, 4), "the one backfilled fire")
    due = sorted(datetime.fromisoformat(run["metadata"]["scheduled_at"]) for run in runs)
    assert due == [base + timedelta(minutes=n) for n in (1, 2, 3, 5)]

    # A range the wrong way round, in the future, or of too many fires is refused.
    backwards = tenant_a.post(url, json={"start": body["end"], "end": body["start"]})
    assert (backwards.status_code, error_fields(backwards)) == (422, ["end"])
    ahead = {
        "start": start.isoformat(),
        "end": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    assert error_fields(tenant_a.post(url, json=ahead)) == ["end"]
    huge = {"start": (base - timedelta(days=2)).isoformat(), "end": end.isoformat()}
    too_many = tenant_a.post(url, json=huge)
    assert (too_many.status_code, error_fields(too_many)) == (422, ["start"])
    assert "1000" in too_many.json()["error"]["message"]


def replay_fires(address: str, schedule_id: str) -> int:
    """Replay the histories of the schedule's recent fires against the current code."""

    async def replay() -> int:
        client = await Client.connect(address)
        recent = (await client.get_schedule_handle(schedule_id).describe()).info.recent_actions
        replayer = Replayer(workflows=[ScheduledRunWorkflow])
        for action in recent:
            handle = client.get_workflow_handle(getattr(action.action, "workflow_id", ""))
            await handle.result()
            await replayer.replay_workflow(await handle.fetch_history())
        return len(recent)

    return asyncio.run(replay())


def test_an_alias_is_resolved_at_each_fire(tenant_a: Api, temporal_address: str) -> None:
    agent = tenant_a.new_agent("released")
    tenant_a.publish(agent["id"], script({"text": "one"}))
    tenant_a.publish(agent["id"], script({"text": "two"}))
    aliases = f"/v1/agents/{agent['id']}/aliases/prod"
    tenant_a.ok(tenant_a.put(aliases, json={"version": 1}))
    schedule = new_schedule(
        tenant_a, "released", version="prod", interval_seconds=3600, paused=True
    )
    assert (schedule["agent_id"], schedule["version"]) == (agent["id"], "prod")
    sid = schedule["id"]

    fired_at = time.monotonic()
    tenant_a.ok(tenant_a.post(f"/v1/schedules/{sid}/trigger"), 202)
    (first,) = eventually(lambda: ended_runs(tenant_a, sid, 1), "the first fire")
    assert (first["version"], first["alias"], first["output"]) == (1, "prod", "one")

    tenant_a.ok(tenant_a.put(aliases, json={"version": 2}))
    # A fire is named by its second: the next trigger must come in another one.
    time.sleep(max(0.0, 1.1 - (time.monotonic() - fired_at)))
    tenant_a.ok(tenant_a.post(f"/v1/schedules/{sid}/trigger"), 202)
    second, _first = eventually(lambda: ended_runs(tenant_a, sid, 2), "the second fire")
    assert (second["version"], second["alias"], second["output"]) == (2, "prod", "two")
    assert replay_fires(temporal_address, sid) == 2  # the fires' workflow is deterministic

    # A number stays a number.
    pinned = new_schedule(tenant_a, agent["id"], version=1, interval_seconds=60, paused=True)
    assert pinned["version"] == 1


def test_with_overlap_skip_a_fire_waits_for_the_run_before_it(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "slow", "delay_seconds": 2.5}))
    sid = new_schedule(tenant_a, agent_id, interval_seconds=1)["id"]
    runs = eventually(lambda: ended_runs(tenant_a, sid, 2), "two slow runs", timeout=60)
    tenant_a.ok(tenant_a.post(f"/v1/schedules/{sid}/pause"))
    oldest_first = sorted(runs, key=lambda run: run["created_at"])
    for earlier, later in itertools.pairwise(oldest_first):
        assert later["created_at"] >= earlier["ended_at"]  # never two at once


def fire_results(address: str, schedule_id: str, count: int) -> list[Any]:
    """What the schedule's latest `count` fires returned, once they have all ended."""

    async def results() -> list[Any]:
        client = await Client.connect(address)
        for _attempt in range(100):
            recent = (await client.get_schedule_handle(schedule_id).describe()).info.recent_actions
            if len(recent) >= count:
                ids = [getattr(action.action, "workflow_id", "") for action in recent[-count:]]
                return [await client.get_workflow_handle(i).result() for i in ids]
            await asyncio.sleep(0.2)
        raise AssertionError(f"schedule {schedule_id} did not fire {count} time(s)")

    return asyncio.run(results())


def test_a_fire_that_cannot_run_is_skipped_with_its_reason(
    admin: Api, tenant_a: Api, temporal_address: str
) -> None:
    agent_id = agent_with(tenant_a, script({"text": "never"}))
    sid = new_schedule(tenant_a, agent_id, interval_seconds=3600, paused=True)["id"]
    tenant_a.ok(tenant_a.patch(f"/v1/agents/{agent_id}", json={"archived": True}))
    fired_at = time.monotonic()
    tenant_a.ok(tenant_a.post(f"/v1/schedules/{sid}/trigger"), 202)
    (archived,) = fire_results(temporal_address, sid, 1)
    assert (archived["status"], archived["skipped"]) == ("skipped", "the agent is archived")

    tenant_a.ok(tenant_a.patch(f"/v1/agents/{agent_id}", json={"archived": False}))
    quotas = {"quotas": {"max_concurrent_runs": 0}}
    admin.ok(admin.patch(f"/v1/tenants/{tenant_a.tenant_id}", json=quotas))
    time.sleep(max(0.0, 1.1 - (time.monotonic() - fired_at)))  # fires are named by second
    tenant_a.ok(tenant_a.post(f"/v1/schedules/{sid}/trigger"), 202)
    _archived, refused = fire_results(temporal_address, sid, 2)
    assert refused["status"] == "skipped"
    assert "max_concurrent_runs" in refused["skipped"]
    assert runs_of(tenant_a, sid) == []
    described = tenant_a.ok(tenant_a.get(f"/v1/schedules/{sid}"))
    assert described["fires"] == 2
    assert [fire["run_id"] for fire in described["recent_runs"]] == [None, None]


def test_a_repeated_fire_makes_one_run(app: FastAPI, tenant_a: Api) -> None:
    """Activities run at least once: the fire's run is found again, never made twice."""
    agent_id = agent_with(tenant_a, script({"text": "once"}))
    sid = new_schedule(tenant_a, agent_id, interval_seconds=3600, paused=True)["id"]
    assert tenant_a.tenant_id is not None
    fires = [f"{sid}-fire", f"{sid}-fire", f"{sid}-other"]
    with scoped_session(app.state.engine, TenantScope(tenant_a.tenant_id)) as session:
        made = [scheduled_run(session, sid, fire, None) for fire in fires]
    ids = [run.id if isinstance(run, Run) else run for run in made]
    assert all(run_id.startswith("run_") for run_id in ids), ids
    assert ids[0] == ids[1] != ids[2]
    assert {run["id"] for run in runs_of(tenant_a, sid)} == set(ids)


def test_bad_timing_is_a_422_naming_the_field_and_saves_nothing(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "never"}))
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"cron": "every day"}, ["cron"]),
        ({"cron": "61 * * * *"}, ["cron"]),  # the engine's own parser refuses it
        ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, ["timezone"]),
        ({"cron": "0 9 * * *", "interval_seconds": 60}, ["cron", "interval_seconds"]),
        ({}, ["cron", "interval_seconds"]),
        ({"interval_seconds": 0}, ["interval_seconds"]),
        ({"interval_seconds": 60, "catchup_window_seconds": 5}, ["catchup_window_seconds"]),
        ({"interval_seconds": 60, "overlap": "sometimes"}, ["overlap"]),
        (
            {"interval_seconds": 60, "start_at": "2030-01-02T00:00:00Z", "end_at": "2030-01-01"},
            ["end_at"],
        ),
        ({"interval_seconds": 60, "version": "nope"}, ["version"]),
        ({"interval_seconds": 60, "version": 7}, ["version"]),
        ({"interval_seconds": 60, "agent": "nobody"}, ["agent"]),
    ]
    for fields, named in cases:
        response = tenant_a.post("/v1/schedules", json={"agent": agent_id, "input": "x", **fields})
        assert (response.status_code, error_fields(response)) == (422, named), (
            fields,
            response.text,
        )
    engine_refusal = tenant_a.post(
        "/v1/schedules", json={"agent": agent_id, "input": "x", "cron": "61 * * * *"}
    )
    assert "Minute" in engine_refusal.json()["error"]["message"]
    assert tenant_a.ok(tenant_a.get("/v1/schedules"))["items"] == []


def test_cron_in_a_time_zone_and_changes_reach_the_engine(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "morning"}))
    schedule = new_schedule(tenant_a, agent_id, cron="0 9 * * *", timezone="Asia/Tokyo")
    sid = schedule["id"]
    times = [datetime.fromisoformat(t) for t in schedule["next_fire_times"]]
    assert len(times) == 5
    assert {(t.hour, t.minute) for t in times} == {(0, 0)}  # 09:00 in Tokyo is midnight UTC
    assert {b - a for a, b in itertools.pairwise(times)} == {timedelta(days=1)}

    moved = tenant_a.ok(tenant_a.patch(f"/v1/schedules/{sid}", json={"cron": "30 9 * * *"}))
    assert {datetime.fromisoformat(t).minute for t in moved["next_fire_times"]} == {30}
    url = f"/v1/schedules/{sid}"
    hourly = tenant_a.ok(
        tenant_a.patch(url, json={"interval_seconds": 3600, "overlap": "allow_all"})
    )
    assert (hourly["cron"], hourly["interval_seconds"], hourly["overlap"]) == (
        None,
        3600,
        "allow_all",
    )
    stamps = [datetime.fromisoformat(t) for t in hourly["next_fire_times"]]
    assert {b - a for a, b in itertools.pairwise(stamps)} == {timedelta(hours=1)}
    paused = tenant_a.ok(tenant_a.patch(url, json={"paused": True, "note": "later"}))
    assert (paused["paused"], paused["note"], paused["next_fire_times"]) == (True, "later", [])

    # Refused changes change nothing.
    for fields, named in [
        ({"timezone": None}, ["timezone"]),
        ({"cron": "61 * * * *"}, ["cron"]),
        ({"interval_seconds": None}, ["cron", "interval_seconds"]),
        ({"version": "nope"}, ["version"]),
        ({"agent": agent_id}, ["agent"]),
    ]:
        response = tenant_a.patch(url, json=fields)
        assert (response.status_code, error_fields(response)) == (422, named), fields
    kept = tenant_a.ok(tenant_a.get(url))
    assert (kept["interval_seconds"], kept["cron"], kept["paused"]) == (3600, None, True)


def test_schedules_are_tenant_scoped_and_viewers_only_read(tenant_a: Api, tenant_b: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "mine"}))
    sid = new_schedule(tenant_a, agent_id, interval_seconds=3600, paused=True)["id"]
    other = agent_with(tenant_a, script({"text": "other"}), name="other")
    new_schedule(tenant_a, other, interval_seconds=3600, paused=True)
    mine = tenant_a.ok(tenant_a.get("/v1/schedules", params={"agent_id": agent_id}))["items"]
    assert [item["id"] for item in mine] == [sid]
    assert len(tenant_a.ok(tenant_a.get("/v1/schedules"))["items"]) == 2

    calls = [
        ("GET", f"/v1/schedules/{sid}", None),
        ("PATCH", f"/v1/schedules/{sid}", {"note": "x"}),
        ("POST", f"/v1/schedules/{sid}/pause", None),
        ("POST", f"/v1/schedules/{sid}/unpause", None),
        ("POST", f"/v1/schedules/{sid}/trigger", None),
        ("POST", f"/v1/schedules/{sid}/backfill", {"start": "2026-01-01", "end": "2026-01-02"}),
        ("GET", f"/v1/schedules/{sid}/runs", None),
        ("DELETE", f"/v1/schedules/{sid}", None),
    ]
    for method, url, body in calls:
        assert tenant_b.request(method, url, json=body).status_code == 404, (method, url)
    assert tenant_b.ok(tenant_b.get("/v1/schedules"))["items"] == []
    refused = tenant_b.post(
        "/v1/schedules", json={"agent": agent_id, "input": "x", "cron": "0 * * * *"}
    )
    assert error_fields(refused) == ["agent"]  # another tenant's agent is no agent

    viewer = tenant_a.as_role("viewer")
    assert viewer.ok(viewer.get(f"/v1/schedules/{sid}"))["id"] == sid
    assert viewer.ok(viewer.get(f"/v1/schedules/{sid}/runs"))["items"] == []
    for method, url, body in calls[1:6] + calls[7:]:
        assert viewer.request(method, url, json=body).status_code == 403, (method, url)
    created = viewer.post(
        "/v1/schedules", json={"agent": agent_id, "input": "x", "cron": "0 * * * *"}
    )
    assert created.status_code == 403


def test_deleting_a_schedule_or_its_agent_removes_the_engines_schedule(
    tenant_a: Api, temporal_address: str
) -> None:
    agent_id = agent_with(tenant_a, script({"text": "bye"}))
    sid = new_schedule(tenant_a, agent_id, interval_seconds=3600)["id"]
    assert engine_has(temporal_address, sid)
    tenant_a.ok(tenant_a.delete(f"/v1/schedules/{sid}"), 204)
    assert tenant_a.get(f"/v1/schedules/{sid}").status_code == 404
    assert not engine_has(temporal_address, sid)

    doomed = tenant_a.new_agent("doomed")
    tenant_a.publish(doomed["id"], script({"text": "never"}))
    first = new_schedule(tenant_a, doomed["id"], cron="0 0 * * *")["id"]
    second = new_schedule(tenant_a, doomed["id"], interval_seconds=3600, paused=True)["id"]
    tenant_a.ok(tenant_a.delete(f"/v1/agents/{doomed['id']}"), 204)
    for gone in (first, second):
        assert tenant_a.get(f"/v1/schedules/{gone}").status_code == 404
        assert not engine_has(temporal_address, gone)


def saved_schedule(app: FastAPI, tenant: Api, agent_id: str, **fields: Any) -> str:
    """A schedule row as a create saves it once the engine took its Schedule."""
    assert tenant.tenant_id is not None
    with scoped_session(app.state.engine, TenantScope(tenant.tenant_id)) as session:
        row = Schedule(tenant_id=tenant.tenant_id, agent_id=agent_id, created_by="test", **fields)
        session.add(row)
        session.commit()
        return row.id


def test_with_the_engine_away_writes_are_a_503_and_reads_show_the_rows(
    app: FastAPI, database_url: str, tmp_path: Path
) -> None:
    away = Engine(database_url, f"127.0.0.1:{free_port()}", tmp_path)
    with tenant_on(away, database_url, tmp_path) as tenant:
        agent_id = agent_with(tenant, script({"text": "never"}))
        body = {"agent": agent_id, "input": "x", "interval_seconds": 60}
        refused = tenant.post("/v1/schedules", json=body)
        assert (refused.status_code, refused.json()["error"]["code"]) == (503, "engine_unavailable")
        assert refused.headers["Retry-After"]
        assert tenant.ok(tenant.get("/v1/schedules"))["items"] == []

        # Rows saved while the engine was there are read without it, saying so.
        sid = saved_schedule(app, tenant, agent_id, interval_seconds=60, paused=True)
        (listed,) = tenant.ok(tenant.get("/v1/schedules"))["items"]
        described = tenant.ok(tenant.get(f"/v1/schedules/{sid}"))
        for schedule in (listed, described):
            assert (schedule["id"], schedule["interval_seconds"], schedule["paused"]) == (
                sid,
                60,
                True,
            )
            assert (schedule["engine_reachable"], schedule["fires"]) == (False, 0)
            assert (schedule["next_fire_times"], schedule["recent_runs"]) == ([], [])
        writes = [
            ("PATCH", f"/v1/schedules/{sid}", {"note": "x"}),
            ("POST", f"/v1/schedules/{sid}/unpause", None),
            ("POST", f"/v1/schedules/{sid}/trigger", None),
            ("DELETE", f"/v1/schedules/{sid}", None),
        ]
        for method, url, json in writes:
            answer = tenant.request(method, url, json=json)
            assert answer.status_code == 503, (method, url, answer.text)
        kept = tenant.ok(tenant.get(f"/v1/schedules/{sid}"))
        assert (kept["paused"], kept["note"]) == (True, "")


def backdate(app: FastAPI, run_id: str, age: timedelta) -> None:
    with scoped_session(app.state.engine, AllTenants()) as session:
        run = session.get(Run, run_id)
        assert run is not None
        run.created_at = datetime.now(UTC) - age
        session.add(run)
        session.commit()


def test_the_run_starter_leaves_a_fires_run_to_its_fire_for_longer(
    app: FastAPI, database_url: str, tmp_path: Path
) -> None:
    """The fire starts its run's workflow as its child (so the overlap policy holds): the
    starter takes that run only once the fire is surely gone."""
    unreachable = f"127.0.0.1:{free_port()}"  # nothing the test makes starts on its own
    with tenant_on(Engine(database_url, unreachable, tmp_path), database_url, tmp_path) as tenant:
        agent_id = agent_with(tenant, script({"text": "never"}))
        ordinary = tenant.ok(tenant.post(f"/v1/agents/{agent_id}/runs", json={"input": "x"}), 202)
        sid = saved_schedule(app, tenant, agent_id, interval_seconds=3600)
        assert tenant.tenant_id is not None
        with scoped_session(app.state.engine, TenantScope(tenant.tenant_id)) as session:
            fired = scheduled_run(session, sid, f"{sid}-fire", None)
        assert isinstance(fired, Run)
        for run_id in (ordinary["id"], fired.id):
            backdate(app, run_id, timedelta(minutes=1))
        starter = RunStarter(app.state.engine, RunEngine(unreachable), 6, 5.0)

        def pending() -> set[str]:
            return {run_input.run_id for run_input in starter._pending()}

        waiting = pending()
        assert ordinary["id"] in waiting
        assert fired.id not in waiting
        backdate(app, fired.id, SCHEDULED_GRACE + timedelta(minutes=1))
        assert {ordinary["id"], fired.id} <= pending()


def created_once_the_engine_answers(api: Api, body: dict[str, Any]) -> Any:
    """The new schedule, or None while a just-started engine still answers 503 (a client
    asks again then, as the answer's Retry-After says)."""
    answer = api.post("/v1/schedules", json=body)
    if answer.status_code == 503:
        return None
    return api.ok(answer, 201)


def test_a_schedule_survives_an_engine_restart(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    temporal_dir = tmp_path / "temporal"
    server = start_temporal(temporal_dir, port)
    engine = Engine(database_url, f"127.0.0.1:{port}", tmp_path)
    try:
        with tenant_on(engine, database_url, tmp_path) as tenant:
            engine.start_worker()
            agent_id = agent_with(tenant, script({"text": "still here"}))
            sid = eventually(
                lambda: created_once_the_engine_answers(
                    tenant, {"agent": agent_id, "input": "hi", "interval_seconds": 2}
                ),
                "the new engine accepting a schedule",
            )["id"]
            before = eventually(lambda: ended_runs(tenant, sid, 1), "a fire before the restart")
            stop_process(server)
            server = start_temporal(temporal_dir, port)
            restarted = datetime.now(UTC)

            def fired_since() -> Any:
                runs = ended_runs(tenant, sid, len(before) + 1) or []
                return [r for r in runs if datetime.fromisoformat(r["created_at"]) > restarted]

            (after, *_rest) = eventually(fired_since, "a fire after the restart", timeout=60)
            assert (after["status"], after["output"]) == ("succeeded", "still here")
            described = tenant.ok(tenant.get(f"/v1/schedules/{sid}"))
            assert described["fires"] > len(before)
            assert described["next_fire_times"]
            tenant.ok(tenant.delete(f"/v1/schedules/{sid}"), 204)
    finally:
        engine.stop()
        stop_process(server)
