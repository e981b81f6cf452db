"""Live run events: the log (Redis stream or database table) and its SSE stream, end to end.

A real API process serves `GET /v1/runs/{id}/events`; a real worker publishes; the REST client
follows with its SSE reader, as the CLI and notebooks do.
"""

import asyncio
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from fastapi import FastAPI

from backend.auth import Authenticator, Principal
from backend.services import agents, runs
from backend.services.bootstrap import ensure_admin_key
from backend.services.run_follow import CREDENTIAL_ENDED
from backend.settings import Settings
from client import AgentRuntimeClient
from core.db import AllTenants, TenantScope, make_engine, scoped_session
from core.event_store import DatabaseEventLog, RedisEventLog
from core.events import EventLog, RunEvent
from core.models import AgentCreate, ApiKey, Role, RunCreate, Tenant, VersionCreate
from core.models.common import utcnow
from tests.conftest import POSTGRES_ADMIN_URL
from tests.helpers import Api, agent_with, calc, free_port, run_agent, script, wait_for_run
from tests.private_engine import Engine
from tests.stack import start_api, stop_process

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["database", "redis"])
def event_store(request: pytest.FixtureRequest) -> dict[str, str]:
    return {"REDIS_URL": REDIS_URL} if request.param == "redis" else {}


@dataclass
class LiveStack:
    url: str
    env: dict[str, str]
    directory: Path
    api_log: Path
    admin: Api
    tenant: Api
    api: Any = None

    def client(self, api: Api | None = None) -> AgentRuntimeClient:
        return AgentRuntimeClient(self.url, (api or self.tenant).token)

    def restart_api(self) -> None:
        stop_process(self.api)
        self.api = start_api(self.env, int(self.url.rsplit(":", 1)[1]), self.api_log)


@pytest.fixture
def stack(
    database_url: str, temporal_address: str, tmp_path: Path, event_store: dict[str, str]
) -> Iterator[LiveStack]:
    """A worker and an API process sharing a database, an event store and a data dir."""
    engine = Engine(
        database_url, temporal_address, tmp_path, {**event_store, "SSE_HEARTBEAT_SECONDS": "0.3"}
    )
    port = free_port()
    log = tmp_path / "api.log"
    api = None
    db = make_engine(database_url)
    try:
        engine.start_worker()
        api = start_api(engine.env, port, log)
        settings = Settings(**engine.env)  # type: ignore[arg-type]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            admin = Api(http, ensure_admin_key(db, settings.admin_key_file))
            tenant = admin.new_tenant_admin(f"events-{secrets.token_hex(3)}")
            live = LiveStack(f"http://127.0.0.1:{port}", engine.env, tmp_path, log, admin, tenant)
            live.api = api
            yield live
            api = live.api
    finally:
        if api is not None:
            stop_process(api)
        engine.stop()
        db.dispose()


def follow(stack: LiveStack, run_id: str, after: int = 0, api: Api | None = None) -> list[Any]:
    with stack.client(api) as client:
        return list(client.follow_events(run_id, after=after))


STREAMED = script(calc("6*7"), {"text": "The answer is forty two.", "chunk_delay_seconds": 0.05})


def test_a_run_streams_its_steps_tokens_and_ending_in_order(stack: LiveStack) -> None:
    run = run_agent(stack.tenant, agent_with(stack.tenant, STREAMED))
    events = follow(stack, run["id"])
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    kinds = [e["type"] for e in events if e["type"] != "model.delta"]
    assert kinds == [
        "run.status",
        "step.started",
        "step.completed",
        "step.started",
        "step.completed",
        "step.started",
        "step.completed",
        "run.completed",
    ]
    assert events[0]["status"] == "running"
    completed = [e for e in events if e["type"] == "step.completed"]
    assert [(e["seq"], e["kind"], e["status"]) for e in completed] == [
        (1, "model", "succeeded"),
        (2, "tool", "succeeded"),
        (3, "model", "succeeded"),
    ]
    assert completed[0]["summary"] == "calls calculator"
    assert "42" in completed[1]["summary"]
    assert completed[2]["usage"]["output_tokens"] > 0
    deltas = [e for e in events if e["type"] == "model.delta"]
    assert len(deltas) > 1  # streamed, not one block
    assert {(d["seq"], d["attempt"]) for d in deltas} == {(3, 1)}
    assert "".join(d["text"] for d in deltas) == "The answer is forty two."
    final = events[-1]
    assert (final["status"], final["output"]) == ("succeeded", "The answer is forty two.")
    assert final["usage"] == wait_for_run(stack.tenant, run["id"])["usage"]


def test_resuming_with_the_last_id_gives_no_gap_and_no_duplicate(stack: LiveStack) -> None:
    run = run_agent(stack.tenant, agent_with(stack.tenant, STREAMED))
    seen: list[Any] = []
    with stack.client() as client:
        for event in client.follow_events(run["id"]):
            seen.append(event)
            if len(seen) == 3:
                break  # the client goes away mid-run
    with stack.client() as client:
        seen += list(client.follow_events(run["id"], after=seen[-1]["id"]))
    replay = follow(stack, run["id"])  # the finished run, replayed from the start
    assert seen == replay
    assert [e["id"] for e in seen] == list(range(1, len(seen) + 1))
    # Raw SSE: a browser's reconnect sends Last-Event-ID; the stream closes after the ending.
    response = httpx.get(
        f"{stack.url}/v1/runs/{run['id']}/events",
        headers={**stack.tenant.headers, "Last-Event-ID": str(len(replay) - 1)},
        timeout=10,
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    assert f"id: {len(replay)}" in response.text
    assert "event: run.completed" in response.text
    assert f"id: {len(replay) - 1}\r\n" not in response.text


def test_many_followers_see_the_same_events(stack: LiveStack) -> None:
    config = script(calc("1+1"), {"text": "two", "delay_seconds": 1})
    run = run_agent(stack.tenant, agent_with(stack.tenant, config))
    results: list[list[Any]] = [[] for _ in range(3)]

    def watch(index: int) -> None:
        results[index] = follow(stack, run["id"])

    threads = [threading.Thread(target=watch, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results[0]
    assert results[0] == results[1] == results[2]
    assert results[0][-1]["type"] == "run.completed"


def test_approvals_and_cancellation_appear_in_the_stream(stack: LiveStack) -> None:
    gated = {"type": "builtin", "name": "calculator", "requires_approval": True}
    config = script(calc("2+2"), {"text": "never", "delay_seconds": 30}, tools=[gated])
    tenant = stack.tenant
    run = run_agent(tenant, agent_with(tenant, config))
    wait_for_run(tenant, run["id"], until={"awaiting_approval"})
    (approval,) = tenant.ok(tenant.get(f"/v1/runs/{run['id']}/approvals"))["items"]
    url = f"/v1/runs/{run['id']}/approvals/{approval['id']}"
    tenant.ok(tenant.post(url, json={"decision": "approve", "comment": "ok"}))
    wait_for_run(tenant, run["id"], until={"running"})
    # The final model turn is slow: cancel it.
    with stack.client() as client:
        for event in client.follow_events(run["id"]):
            if event["type"] == "step.started" and event["seq"] == 3:
                break
    assert tenant.post(f"/v1/runs/{run['id']}/cancel").status_code == 202
    events = follow(stack, run["id"])
    kinds = [(e["type"], e.get("status")) for e in events if e["type"] != "model.delta"]
    assert kinds[:3] == [
        ("run.status", "running"),
        ("step.started", None),
        ("step.completed", "succeeded"),
    ]
    assert ("run.status", "awaiting_approval") in kinds
    requested = next(e for e in events if e["type"] == "approval.requested")
    assert (requested["approval_id"], requested["arguments"]) == (
        approval["id"],
        {"expression": "2+2"},
    )
    decided = next(e for e in events if e["type"] == "approval.decided")
    assert (decided["status"], decided["comment"]) == ("approved", "ok")
    # Who decided, as the approval's record names them: followers show it without a read.
    record = tenant.ok(tenant.get(f"/v1/approvals/{approval['id']}"))
    assert decided["decided_by_name"] == record["decided_by_name"]
    assert decided["decided_by_name"]
    assert kinds.index(("approval.requested", None)) < kinds.index(("approval.decided", "approved"))
    assert ("run.status", "cancelling") in kinds
    assert kinds[-1] == ("run.completed", "cancelled")
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))


def test_an_idle_stream_gets_heartbeats(stack: LiveStack) -> None:
    gated = {"type": "builtin", "name": "calculator", "requires_approval": True}
    config = script(calc("2+2"), {"text": "ok"}, tools=[gated])
    run = run_agent(stack.tenant, agent_with(stack.tenant, config))
    wait_for_run(stack.tenant, run["id"], until={"awaiting_approval"})  # nothing happens now
    url = f"{stack.url}/v1/runs/{run['id']}/events"
    lines: list[str] = []
    with httpx.stream("GET", url, headers=stack.tenant.headers, timeout=10) as response:
        began = time.monotonic()
        for line in response.iter_lines():
            lines.append(line)
            if sum(line.startswith(": ping") for line in lines) >= 2:
                break
            assert time.monotonic() - began < 5, lines
    assert any(line.startswith("event: approval.requested") for line in lines)


def test_an_api_restart_loses_nothing_a_client_cannot_resume(stack: LiveStack) -> None:
    config = script(calc("3*3"), {"text": "nine", "delay_seconds": 3})
    run = run_agent(stack.tenant, agent_with(stack.tenant, config))
    seen: list[Any] = []
    with stack.client() as client:
        for event in client.follow_events(run["id"]):
            seen.append(event)
            if event["type"] == "step.started" and event["seq"] == 3:
                break
    stack.restart_api()
    with stack.client() as client:
        seen += list(client.follow_events(run["id"], after=seen[-1]["id"]))
    assert [e["id"] for e in seen] == list(range(1, len(seen) + 1))
    assert seen[-1]["type"] == "run.completed"
    assert seen == follow(stack, run["id"])


def test_the_stream_is_the_callers_tenants_only(stack: LiveStack) -> None:
    run = run_agent(stack.tenant, agent_with(stack.tenant, script({"text": "hi"})))
    wait_for_run(stack.tenant, run["id"])
    other = stack.admin.new_tenant_admin(f"other-{secrets.token_hex(3)}")
    response = httpx.get(f"{stack.url}/v1/runs/{run['id']}/events", headers=other.headers)
    assert response.status_code == 404
    assert httpx.get(f"{stack.url}/v1/runs/{run['id']}/events").status_code == 401
    bad = httpx.get(
        f"{stack.url}/v1/runs/{run['id']}/events",
        headers={**stack.tenant.headers, "Last-Event-ID": "yesterday"},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "Last-Event-ID"


def test_a_finished_run_whose_log_is_gone_replays_from_its_steps(stack: LiveStack) -> None:
    run = run_agent(stack.tenant, agent_with(stack.tenant, script(calc("1"), {"text": "one"})))
    original = follow(stack, run["id"])
    if "REDIS_URL" in stack.env:
        redis.Redis.from_url(REDIS_URL).delete(f"run:{run['id']}")
        assert follow(stack, run["id"]) == original  # the database is the record
    db = make_engine(stack.env["DATABASE_URL"])
    with db.begin() as connection:
        connection.exec_driver_sql("DELETE FROM run_event")  # as a run from before the log
    db.dispose()
    replayed = follow(stack, run["id"])
    assert [e["type"] for e in replayed] == [
        *["step.started", "step.completed"] * 3,
        "run.completed",
    ]
    assert [e["id"] for e in replayed] == list(range(1, 8))
    originals = [e for e in original if e["type"] == "step.completed"]
    assert [e["summary"] for e in replayed if e["type"] == "step.completed"] == [
        e["summary"] for e in originals
    ]
    assert replayed[-1]["output"] == original[-1]["output"] == "one"


GATED = script(
    calc("2+2"),
    {"text": "ok"},
    tools=[{"type": "builtin", "name": "calculator", "requires_approval": True}],
)


def test_revoking_a_key_closes_its_open_streams(stack: LiveStack) -> None:
    tenant = stack.tenant
    assert tenant.tenant_id is not None
    run = run_agent(tenant, agent_with(tenant, GATED))
    wait_for_run(tenant, run["id"], until={"awaiting_approval"})  # the stream idles now
    viewer = tenant.new_key(tenant.tenant_id, "viewer", name="watcher")
    other = tenant.as_role("viewer")
    url = f"{stack.url}/v1/runs/{run['id']}/events"
    headers = {"Authorization": f"Bearer {viewer['key']}"}
    lines: list[str] = []
    # A stream that stayed open would end the test with a read timeout.
    with (
        httpx.stream("GET", url, headers=headers, timeout=10) as response,
        httpx.stream("GET", url, headers=other.headers, timeout=10) as unaffected,
    ):
        for line in response.iter_lines():
            lines.append(line)
            if line.startswith("event: approval.requested"):
                revoked = tenant.delete(f"/v1/tenants/{tenant.tenant_id}/api-keys/{viewer['id']}")
                assert revoked.status_code == 200
        other_lines = unaffected.iter_lines()
        while not next(other_lines).startswith("event: approval.requested"):
            pass
        assert sum(next(other_lines).startswith(": ping") for _ in range(20)) >= 2
    assert [line for line in lines if line][-1] == f": {CREDENTIAL_ENDED}"
    assert not any(line.startswith("event: approval.decided") for line in lines)
    refused = httpx.get(url, headers=headers, timeout=10)
    assert refused.status_code == 401


def test_a_streams_credential_check_sees_revocation_and_token_expiry(app: FastAPI) -> None:
    authenticator: Authenticator = app.state.authenticator
    admin_key = ensure_admin_key(app.state.engine, app.state.settings.admin_key_file)
    principal = authenticator.authenticate(admin_key, None)
    assert principal.key_id is not None
    assert authenticator.still_valid(principal)
    with scoped_session(app.state.engine, AllTenants()) as session:
        key = session.get(ApiKey, principal.key_id)
        assert key is not None
        key.revoked_at = utcnow()
        session.add(key)
        session.commit()
    assert not authenticator.still_valid(principal)
    token = Principal("oidc:someone", principal.tenant_id, Role.viewer)
    later, earlier = utcnow() + timedelta(minutes=5), utcnow() - timedelta(seconds=1)
    assert authenticator.still_valid(replace(token, expires_at=later))
    assert not authenticator.still_valid(replace(token, expires_at=earlier))


def test_an_open_stream_waits_out_a_database_outage(stack: LiveStack) -> None:
    database_url = stack.env["DATABASE_URL"]
    if not database_url.startswith("postgresql"):
        pytest.skip("the outage is made by refusing connections to the Postgres database")
    name = database_url.rsplit("/", 1)[1]
    tenant = stack.tenant
    run = run_agent(tenant, agent_with(tenant, GATED))
    wait_for_run(tenant, run["id"], until={"awaiting_approval"})
    lines: list[str] = []
    with httpx.stream(
        "GET", f"{stack.url}/v1/runs/{run['id']}/events", headers=tenant.headers, timeout=10
    ) as response:
        events = response.iter_lines()
        while not (line := next(events)).startswith("event: approval.requested"):
            lines.append(line)
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            try:
                outage_ends = time.monotonic() + 3
                pings = 0
                while time.monotonic() < outage_ends:
                    pings += next(events).startswith(": ping")
                assert pings >= 3  # the connection stayed open, heartbeats went on
            finally:
                admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        (approval,) = tenant.ok(tenant.get(f"/v1/runs/{run['id']}/approvals"))["items"]
        decided = tenant.post(
            f"/v1/runs/{run['id']}/approvals/{approval['id']}", json={"decision": "approve"}
        )
        assert decided.status_code == 200
        lines += list(events)  # on the same connection, until the stream closes after the end
    kinds = [line.split(": ", 1)[1] for line in lines if line.startswith("event: ")]
    assert "approval.decided" in kinds
    assert kinds[-1] == "run.completed"


def a_queued_run(database_url: str) -> tuple[str, str]:
    """(tenant id, run id) of a run row, made through the services."""
    engine = make_engine(database_url)
    try:
        with scoped_session(engine, AllTenants()) as session:
            tenant = Tenant(name=f"appenders-{secrets.token_hex(3)}")
            session.add(tenant)
            session.commit()
        with scoped_session(engine, TenantScope(tenant.id)) as session:
            agent = agents.create_agent(session, AgentCreate(name="a"), "test")
            config = VersionCreate.model_validate(script({"text": "x"}))
            agents.publish_version(session, agent.id, config, "test")
            run, _ = runs.create_run(session, agent.id, RunCreate(input="x"), "test", None)
            return tenant.id, run.id
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["database", "redis"])
@pytest.mark.usefixtures("app")  # its teardown empties the tables
def test_concurrent_appends_get_distinct_consecutive_ids(kind: str, database_url: str) -> None:
    """Workers and the API append to one run at once: ids stay unique, gapless and ordered."""
    tenant_id, run_id = a_queued_run(database_url)
    engine = make_engine(database_url)
    database = DatabaseEventLog(engine)
    log: EventLog = RedisEventLog(REDIS_URL, database) if kind == "redis" else database

    async def append_and_read() -> list[RunEvent]:
        try:
            batches = [[("step.started", {"batch": n, "i": i}) for i in range(3)] for n in range(8)]
            given = await asyncio.gather(*(log.append(tenant_id, run_id, b) for b in batches))
            for ids in given:  # a batch's events get consecutive ids
                assert ids == list(range(ids[0], ids[0] + 3))
            assert sorted(i for ids in given for i in ids) == list(range(1, 25))
            assert await log.wait(tenant_id, run_id, 24, 0.2) == []
            assert [e.id for e in await log.read(tenant_id, run_id, 20, 100)] == [21, 22, 23, 24]
            return await log.read(tenant_id, run_id, 0, 100)
        finally:
            if isinstance(log, RedisEventLog):
                await log.redis.delete(f"run:{run_id}")
            await log.close()

    try:
        events = asyncio.run(append_and_read())
    finally:
        engine.dispose()
    assert [e.id for e in events] == list(range(1, 25))
    assert [e.data["i"] for e in events] == [0, 1, 2] * 8


def test_a_tenant_opens_at_most_its_quota_of_streams(stack: LiveStack) -> None:
    tenant = stack.tenant
    run = run_agent(tenant, agent_with(tenant, GATED))
    wait_for_run(tenant, run["id"], until={"awaiting_approval"})  # the stream idles now
    quota = stack.admin.patch(
        f"/v1/tenants/{tenant.tenant_id}", json={"quotas": {"max_event_streams": 1}}
    )
    assert quota.status_code == 200, quota.text
    url = f"{stack.url}/v1/runs/{run['id']}/events"
    usage_url = f"/v1/tenants/{tenant.tenant_id}/usage"
    with httpx.stream("GET", url, headers=tenant.headers, timeout=10) as first:
        assert first.status_code == 200
        lines = first.iter_lines()
        while not next(lines).startswith("event: approval.requested"):
            pass
        refused = httpx.get(url, headers=tenant.headers, timeout=10)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["details"]["quota"] == "max_event_streams"
        assert int(refused.headers["Retry-After"]) >= 1
        assert tenant.ok(tenant.get(usage_url))["open_event_streams"] == 1
    # The closed stream no longer counts: another may open.
    deadline = time.monotonic() + 10
    while tenant.ok(tenant.get(usage_url))["open_event_streams"] and time.monotonic() < deadline:
        time.sleep(0.1)
    with httpx.stream("GET", url, headers=tenant.headers, timeout=10) as again:
        assert again.status_code == 200
