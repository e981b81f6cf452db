"""Webhooks: subscriptions, signed deliveries of run and approval events from the outbox,
retries, the delivery log, a run's own `webhook` URL, and the guard on where they may go.

Deliveries are verified with the `standardwebhooks` package, not with our signer. This module
keeps a database of its own: a worker of another module on the shared one would send its
deliveries on the default retry schedule.
"""

import asyncio
import json
import os
import secrets
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select
from standardwebhooks import Webhook as StandardWebhook

from backend.main import create_app
from backend.settings import Settings
from core.db import AllTenants, make_engine, scoped_session
from core.migrate import upgrade
from core.models import Webhook
from core.models.common import utcnow
from core.secret_box import SecretBox, secret_box
from tests.conftest import fresh_postgres_database, make_settings, require_postgres
from tests.helpers import (
    Api,
    agent_with,
    calc,
    error_fields,
    run_agent,
    script,
    steps_of,
    wait_for_run,
)
from tests.private_engine import Engine, tenant_on
from tests.webhook_receiver import Received, WebhookReceiver, running_receiver
from worker.webhooks.sender import Claimed, Outcome, WebhookSender

# Retries within a test's patience; the default schedule spans a day.
SENDER_ENV = {"WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2", "WEBHOOK_POLL_SECONDS": "0.1"}
GATED_CALCULATOR = {"type": "builtin", "name": "calculator", "requires_approval": True}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('webhooks-sqlite') / 'test.db'}"
        upgrade(url)
        yield url
        return
    require_postgres()
    with fresh_postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def engine(
    database_url: str, temporal_address: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A private task queue; the API of these tests shares its data dir (and secrets.key)."""
    private = Engine(
        database_url, temporal_address, tmp_path_factory.mktemp("webhooks"), SENDER_ENV
    )
    try:
        yield private
    finally:
        private.stop()


@pytest.fixture(scope="module")
def worker(engine: Engine) -> Engine:
    """One worker (with its webhook sender) for the tests that need deliveries sent."""
    engine.start_worker()
    return engine


@pytest.fixture
def settings(database_url: str, engine: Engine) -> Settings:
    return make_settings(
        database_url,
        engine.directory,
        TEMPORAL_ADDRESS=engine.env["TEMPORAL_ADDRESS"],
        AGENT_RUNTIME_TASK_QUEUE=engine.env["AGENT_RUNTIME_TASK_QUEUE"],
        # The receiver listens on loopback.
        TOOL_ALLOW_PRIVATE_NETWORKS=True,
    )


@pytest.fixture(scope="module")
def quiet_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of the module's kind that no worker sends from: the tests on it drive a
    sender of their own, round by round."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('webhooks-quiet') / 'test.db'}"
        upgrade(url)
        yield url
        return
    with fresh_postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture
def by_hand(
    quiet_database: str, temporal_address: str, tmp_path: Path
) -> Iterator[tuple[Api, WebhookSender]]:
    """A tenant's API on the quiet database, and a sender there with a short timeout and
    retries far off (a failed attempt waits; nothing else sends)."""
    env = {"WEBHOOK_TIMEOUT_SECONDS": "1", "WEBHOOK_RETRY_SCHEDULE": "600,600"}
    sender_settings = make_settings(
        quiet_database, tmp_path, TOOL_ALLOW_PRIVATE_NETWORKS=True, **env
    )
    sender = WebhookSender.from_settings(make_engine(quiet_database), sender_settings)
    try:
        with tenant_on(
            Engine(quiet_database, temporal_address, tmp_path), quiet_database, tmp_path
        ) as api:
            yield api, sender
    finally:
        asyncio.run(sender.client.aclose())
        sender.engine.dispose()


@contextmanager
def hanging_endpoint() -> Iterator[str]:
    """A URL on 127.0.0.1 whose server takes connections and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver() as running:
        yield running


def subscribe(api: Api, url: str, events: list[str], **fields: Any) -> Any:
    return api.ok(api.post("/v1/webhooks", json={"url": url, "events": events, **fields}), 201)


def verified(request: Received, secret: str) -> Any:
    """The body, once the signature checks out (raises otherwise)."""
    return StandardWebhook(secret).verify(request.body, request.headers)


def deliveries(api: Api, webhook_id: str, **params: str) -> list[Any]:
    page = api.ok(api.get(f"/v1/webhooks/{webhook_id}/deliveries", params=params))
    return list(page["items"])


def settled(api: Api, webhook_id: str, delivery_id: str, timeout: float = 60) -> Any:
    """The delivery once it is no longer pending."""
    deadline = time.monotonic() + timeout
    while True:
        delivery = api.ok(api.get(f"/v1/webhooks/{webhook_id}/deliveries/{delivery_id}"))
        if delivery["status"] != "pending":
            return delivery
        assert time.monotonic() < deadline, delivery
        time.sleep(0.05)


def all_settled(api: Api, webhook_id: str, count: int, timeout: float = 60) -> list[Any]:
    """The webhook's `count` deliveries, once none is pending (newest first)."""
    deadline = time.monotonic() + timeout
    while True:
        items = deliveries(api, webhook_id)
        if len(items) >= count and all(item["status"] != "pending" for item in items):
            return items
        assert time.monotonic() < deadline, items
        time.sleep(0.05)


# Subscriptions ---------------------------------------------------------------------------------


def test_the_secret_is_shown_once_and_kept_encrypted(
    tenant_a: Api, app: FastAPI, receiver: WebhookReceiver
) -> None:
    created = subscribe(tenant_a, receiver.url(), ["run.completed"], description="ops")
    secret = created.pop("secret")
    assert secret.startswith("whsec_")
    assert StandardWebhook(secret)  # a secret the Standard Webhooks libraries take
    assert created["events"] == ["run.completed"]
    assert created["enabled"] is True
    assert created["created_by_name"] == "test key"
    shown = tenant_a.ok(tenant_a.get(f"/v1/webhooks/{created['id']}"))
    assert shown == created
    (listed,) = tenant_a.ok(tenant_a.get("/v1/webhooks"))["items"]
    assert listed == created
    with scoped_session(app.state.engine, AllTenants()) as session:
        stored = session.exec(select(Webhook)).one().secret_encrypted
    assert secret not in stored
    assert secret.removeprefix("whsec_") not in stored
    assert secret_box(app.state.settings).open(stored) == secret
    assert (Path(app.state.settings.data_dir) / "secrets.key").stat().st_mode & 0o777 == 0o600

    rotated = tenant_a.ok(tenant_a.post(f"/v1/webhooks/{created['id']}/rotate-secret"))
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != secret
    assert "secret" not in tenant_a.ok(tenant_a.get(f"/v1/webhooks/{created['id']}"))


def test_a_webhook_changes_and_goes(tenant_a: Api, receiver: WebhookReceiver) -> None:
    agent_id = agent_with(tenant_a, script({"text": "hi"}))
    created = subscribe(tenant_a, receiver.url(), ["*"])
    path = f"/v1/webhooks/{created['id']}"
    changed = tenant_a.ok(
        tenant_a.patch(
            path,
            json={"events": ["run.failed", "run.failed"], "agent_id": agent_id, "enabled": False},
        )
    )
    assert (changed["events"], changed["agent_id"], changed["enabled"]) == (
        ["run.failed"],
        agent_id,
        False,
    )
    assert changed["updated_at"] > created["updated_at"]
    cleared = tenant_a.ok(tenant_a.patch(path, json={"agent_id": None}))
    assert cleared["agent_id"] is None
    assert cleared["events"] == ["run.failed"]
    assert error_fields(tenant_a.patch(path, json={"url": None})) == ["url"]
    assert tenant_a.delete(path).status_code == 204
    assert tenant_a.get(path).status_code == 404


def test_events_and_agents_are_checked(tenant_a: Api, tenant_b: Api) -> None:
    url = "http://127.0.0.1:9/hook"
    unknown = tenant_a.post("/v1/webhooks", json={"url": url, "events": ["run.exploded"]})
    assert unknown.status_code == 422
    assert error_fields(unknown) == ["events"]
    assert "run.completed" in unknown.json()["error"]["message"]
    assert error_fields(tenant_a.post("/v1/webhooks", json={"url": url, "events": []})) == [
        "events"
    ]
    theirs = agent_with(tenant_b, script({"text": "hi"}))
    foreign = tenant_a.post("/v1/webhooks", json={"url": url, "events": ["*"], "agent_id": theirs})
    assert foreign.status_code == 422
    assert error_fields(foreign) == ["agent_id"]
    meta = tenant_a.ok(tenant_a.get("/v1/meta"))
    assert meta["webhook_events"] == [
        *("run.started", "run.completed", "run.failed", "run.timed_out", "run.cancelled"),
        *("approval.requested", "approval.decided"),
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/hook",
        "http://metadata.google.internal/hook",
        "http://user:pass@127.0.0.1/hook",
        "ftp://127.0.0.1/hook",
        "http://127.0.0.1:99999/hook",
        "http:///hook",
    ],
)
def test_urls_that_are_never_allowed(tenant_a: Api, url: str) -> None:
    """Even where private networks are allowed."""
    answer = tenant_a.post("/v1/webhooks", json={"url": url, "events": ["*"]})
    assert answer.status_code == 422, answer.text
    assert error_fields(answer) == ["url"]


def test_loopback_and_private_urls_need_private_networks_allowed(
    tenant_a: Api, settings: Settings
) -> None:
    strict = create_app(settings.model_copy(update={"tool_allow_private_networks": False}))
    try:
        with TestClient(strict) as client:
            api = Api(client, tenant_a.token)
            for url in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/"):
                answer = api.post("/v1/webhooks", json={"url": url, "events": ["*"]})
                assert answer.status_code == 422, url
                assert error_fields(answer) == ["url"]
                assert "TOOL_ALLOW_PRIVATE_NETWORKS" in answer.json()["error"]["message"]
            mine = subscribe(tenant_a, "http://127.0.0.1:8080/hook", ["*"])  # allowed there
            moved = api.patch(f"/v1/webhooks/{mine['id']}", json={"url": "http://10.0.0.1/"})
            assert moved.status_code == 422
            assert error_fields(moved) == ["url"]
    finally:
        strict.state.engine.dispose()


def test_another_tenants_webhooks_are_not_found(tenant_a: Api, tenant_b: Api) -> None:
    hook = subscribe(tenant_a, "http://127.0.0.1:9/hook", ["*"])
    ping = tenant_a.ok(tenant_a.post(f"/v1/webhooks/{hook['id']}/test"), 202)
    base = f"/v1/webhooks/{hook['id']}"
    delivery = f"{base}/deliveries/{ping['id']}"
    for answer in (
        tenant_b.get(base),
        tenant_b.patch(base, json={"enabled": False}),
        tenant_b.delete(base),
        tenant_b.post(f"{base}/rotate-secret"),
        tenant_b.post(f"{base}/test"),
        tenant_b.get(f"{base}/deliveries"),
        tenant_b.get(delivery),
        tenant_b.post(f"{delivery}/redeliver"),
    ):
        assert answer.status_code == 404, answer.request.url
    assert tenant_b.ok(tenant_b.get("/v1/webhooks"))["items"] == []
    other = subscribe(tenant_a, "http://127.0.0.1:9/other", ["*"])
    assert tenant_a.get(f"/v1/webhooks/{other['id']}/deliveries/{ping['id']}").status_code == 404


def test_viewers_read_and_developers_write(tenant_a: Api) -> None:
    hook = subscribe(tenant_a, "http://127.0.0.1:9/hook", ["*"])
    viewer, developer = tenant_a.as_role("viewer"), tenant_a.as_role("developer")
    body = {"url": "http://127.0.0.1:9/v", "events": ["*"]}
    assert viewer.post("/v1/webhooks", json=body).status_code == 403
    assert viewer.post(f"/v1/webhooks/{hook['id']}/rotate-secret").status_code == 403
    assert viewer.post(f"/v1/webhooks/{hook['id']}/test").status_code == 403
    assert viewer.ok(viewer.get(f"/v1/webhooks/{hook['id']}"))["id"] == hook["id"]
    assert viewer.ok(viewer.get(f"/v1/webhooks/{hook['id']}/deliveries"))["items"] == []
    assert "secret" in developer.ok(developer.post("/v1/webhooks", json=body), 201)


# Deliveries ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("worker")
def test_a_finished_run_is_delivered_once_and_signed(
    tenant_a: Api, receiver: WebhookReceiver
) -> None:
    hook = subscribe(tenant_a, receiver.url(), ["run.completed"])
    agent_id = agent_with(tenant_a, script(calc("6*7"), {"text": "42"}))
    run = run_agent(tenant_a, agent_id)
    assert wait_for_run(tenant_a, run["id"])["status"] == "succeeded"
    (delivery,) = all_settled(tenant_a, hook["id"], 1)
    assert (delivery["status"], delivery["attempts"], delivery["event_type"]) == (
        "delivered",
        1,
        "run.completed",
    )
    assert delivery["last_status_code"] == 200
    assert delivery["next_attempt_at"] is None
    (request,) = receiver.received()
    body = verified(request, hook["secret"])
    assert body == delivery["payload"]
    assert request.headers["webhook-id"] == delivery["id"]
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("AgentRuntime-Webhooks/")
    assert body["type"] == "run.completed"
    data = body["data"]
    assert (data["run_id"], data["agent_id"], data["version"]) == (run["id"], agent_id, 1)
    assert (data["status"], data["output"], data["error"]) == ("succeeded", "42", None)
    assert data["usage"]["output_tokens"] > 0
    assert {"alias", "thread_id", "schedule_id", "cost_usd"} <= set(data)


@pytest.mark.usefixtures("worker")
def test_a_failing_endpoint_gets_retries_under_one_id(
    tenant_a: Api, receiver: WebhookReceiver
) -> None:
    hook = subscribe(tenant_a, receiver.url(), ["*"])
    receiver.fail_next(2)
    ping = tenant_a.ok(tenant_a.post(f"/v1/webhooks/{hook['id']}/test"), 202)
    assert (ping["event_type"], ping["status"], ping["attempts"]) == ("webhook.test", "pending", 0)
    delivery = settled(tenant_a, hook["id"], ping["id"])
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        3,
        200,
    )
    assert delivery["last_error"] is None
    assert delivery["delivered_at"] is not None
    requests = receiver.received()
    assert [r.headers["webhook-id"] for r in requests] == [ping["id"]] * 3
    assert all(verified(r, hook["secret"])["type"] == "webhook.test" for r in requests)


@pytest.mark.usefixtures("worker")
def test_an_endpoint_that_never_answers_well_fails_after_the_schedule(
    tenant_a: Api, receiver: WebhookReceiver
) -> None:
    hook = subscribe(tenant_a, receiver.url(), ["*"])
    receiver.fail_next(10, status=503)
    ping = tenant_a.ok(tenant_a.post(f"/v1/webhooks/{hook['id']}/test"), 202)
    failed = settled(tenant_a, hook["id"], ping["id"])
    # The first attempt and the schedule's three retries.
    assert (failed["status"], failed["attempts"], failed["last_status_code"]) == ("failed", 4, 503)
    assert failed["last_error"] == "HTTP 503"
    assert failed["next_attempt_at"] is None
    assert [d["id"] for d in deliveries(tenant_a, hook["id"], status="failed")] == [ping["id"]]
    assert deliveries(tenant_a, hook["id"], status="delivered") == []


@pytest.mark.usefixtures("worker")
def test_a_delivery_is_redelivered_under_its_id(tenant_a: Api, receiver: WebhookReceiver) -> None:
    hook = subscribe(tenant_a, receiver.url(), ["*"])
    ping = tenant_a.ok(tenant_a.post(f"/v1/webhooks/{hook['id']}/test"), 202)
    assert settled(tenant_a, hook["id"], ping["id"])["status"] == "delivered"
    path = f"/v1/webhooks/{hook['id']}/deliveries/{ping['id']}/redeliver"
    again = tenant_a.ok(tenant_a.post(path), 202)
    assert (again["id"], again["status"]) == (ping["id"], "pending")
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == ping["id"]
    assert verified(second, hook["secret"]) == verified(first, hook["secret"])
    delivered = settled(tenant_a, hook["id"], ping["id"])
    assert (delivered["status"], delivered["attempts"]) == ("delivered", 2)
    assert [d["id"] for d in deliveries(tenant_a, hook["id"], status="delivered")] == [ping["id"]]
    assert tenant_a.post(path.replace(ping["id"], "msg_nope")).status_code == 404


@pytest.mark.usefixtures("worker")
def test_approvals_asked_for_and_decided_are_delivered(
    tenant_a: Api, receiver: WebhookReceiver
) -> None:
    hook = subscribe(tenant_a, receiver.url(), ["approval.requested", "approval.decided"])
    agent_id = agent_with(tenant_a, script(calc("2+2"), {"text": "4"}, tools=[GATED_CALCULATOR]))
    run = run_agent(tenant_a, agent_id)
    wait_for_run(tenant_a, run["id"], until={"awaiting_approval"})
    (asked,) = receiver.wait_for(1)
    body = verified(asked, hook["secret"])
    assert body["type"] == "approval.requested"
    data = body["data"]
    assert (data["run_id"], data["agent_id"], data["tool_name"]) == (
        run["id"],
        agent_id,
        "calculator",
    )
    assert (data["arguments"], data["status"]) == ({"expression": "2+2"}, "pending")
    decided = tenant_a.post(
        f"/v1/runs/{run['id']}/approvals/{data['approval_id']}", json={"decision": "approve"}
    )
    tenant_a.ok(decided)
    assert wait_for_run(tenant_a, run["id"])["status"] == "succeeded"
    _, answer = receiver.wait_for(2)
    told = verified(answer, hook["secret"])
    assert told["type"] == "approval.decided"
    assert (told["data"]["approval_id"], told["data"]["status"]) == (
        data["approval_id"],
        "approved",
    )
    assert told["data"]["decided_by_name"] == "test key"
    assert len(all_settled(tenant_a, hook["id"], 2)) == 2  # nothing else was subscribed to


@pytest.mark.usefixtures("worker")
def test_a_webhook_of_one_agent_hears_only_its_runs(
    tenant_a: Api, tenant_b: Api, receiver: WebhookReceiver
) -> None:
    mine = agent_with(tenant_a, script({"text": "mine"}), name="mine")
    other = agent_with(tenant_a, script({"text": "other"}), name="other")
    theirs = agent_with(tenant_b, script({"text": "theirs"}), name="theirs")
    hook = subscribe(tenant_a, receiver.url("/mine"), ["*"], agent_id=mine)
    everything = subscribe(tenant_a, receiver.url("/all"), ["run.started", "run.completed"])
    off = subscribe(tenant_a, receiver.url("/off"), ["*"], enabled=False)
    other_run = run_agent(tenant_a, other)
    their_run = run_agent(tenant_b, theirs)
    wait_for_run(tenant_a, other_run["id"])
    wait_for_run(tenant_b, their_run["id"])
    my_run = run_agent(tenant_a, mine)
    wait_for_run(tenant_a, my_run["id"])
    heard = all_settled(tenant_a, hook["id"], 2)
    assert sorted((d["event_type"], d["run_id"]) for d in heard) == [
        ("run.completed", my_run["id"]),
        ("run.started", my_run["id"]),
    ]
    assert {d["run_id"] for d in all_settled(tenant_a, everything["id"], 4)} == {
        my_run["id"],
        other_run["id"],
    }
    assert deliveries(tenant_a, off["id"]) == []
    assert receiver.received("/off") == []
    bodies = [verified(r, hook["secret"]) for r in receiver.wait_for(2, "/mine")]
    (started,) = [body for body in bodies if body["type"] == "run.started"]
    assert started["data"]["status"] == "running"


@pytest.mark.usefixtures("worker")
def test_a_runs_own_webhook_hears_its_ending(tenant_a: Api, receiver: WebhookReceiver) -> None:
    agent_id = agent_with(tenant_a, script({"text": "done"}), name="told")
    run = run_agent(tenant_a, agent_id, webhook=receiver.url("/run"))
    assert run["webhook"] == receiver.url("/run")
    assert wait_for_run(tenant_a, run["id"])["status"] == "succeeded"
    (request,) = receiver.wait_for(1, "/run")
    # Unsigned, as LangGraph's are: only its creator knows the URL.
    assert "webhook-signature" not in request.headers
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["webhook-timestamp"].isdigit()
    body = json.loads(request.body)
    assert (body["type"], body["data"]["run_id"], body["data"]["output"]) == (
        "run.completed",
        run["id"],
        "done",
    )

    # LangGraph's SDK sends `webhook` on a run too.
    thread = tenant_a.ok(tenant_a.post("/langgraph/threads", json={}))
    started = tenant_a.post(
        f"/langgraph/threads/{thread['thread_id']}/runs",
        json={
            "assistant_id": "told",
            "input": {"messages": [{"type": "human", "content": "hi"}]},
            "webhook": receiver.url("/langgraph"),
        },
    )
    langgraph_run = tenant_a.ok(started)
    (told,) = receiver.wait_for(1, "/langgraph")
    body = json.loads(told.body)
    assert (body["type"], body["data"]["run_id"]) == ("run.completed", langgraph_run["run_id"])
    assert body["data"]["thread_id"] == thread["thread_id"]
    refused = tenant_a.post(
        f"/langgraph/threads/{thread['thread_id']}/runs",
        json={"assistant_id": "told", "input": {"messages": ["hi"]}, "webhook": "not a url"},
    )
    assert refused.status_code == 422
    assert error_fields(refused) == ["webhook"]


def test_an_endpoint_that_hangs_does_not_hold_up_the_others(
    by_hand: tuple[Api, WebhookSender], receiver: WebhookReceiver
) -> None:
    """More hanging attempts in a batch than the HTTP client's default pool has connections:
    the healthy delivery behind them is still sent at its first attempt."""
    api, sender = by_hand
    with hanging_endpoint() as url:
        stuck = subscribe(api, url, ["*"])
        for _ in range(12):
            api.ok(api.post(f"/v1/webhooks/{stuck['id']}/test"), 202)
        healthy = subscribe(api, receiver.url(), ["*"])
        # Claimed last (the oldest are due first): it waits behind the hanging ones.
        ping = api.ok(api.post(f"/v1/webhooks/{healthy['id']}/test"), 202)
        assert asyncio.run(sender.drain_once()) == 13
    heard = api.ok(api.get(f"/v1/webhooks/{healthy['id']}/deliveries/{ping['id']}"))
    assert (heard["status"], heard["attempts"], heard["last_status_code"]) == (
        "delivered",
        1,
        200,
    )
    assert receiver.received()[0].headers["webhook-id"] == ping["id"]
    hung = deliveries(api, stuck["id"])
    assert len(hung) == 12
    assert {(d["status"], d["attempts"], d["last_error"]) for d in hung} == {
        ("pending", 1, "no answer within 1 s")
    }


def test_a_delivery_being_sent_is_not_redelivered(
    by_hand: tuple[Api, WebhookSender], receiver: WebhookReceiver
) -> None:
    """Redelivery waits for the attempt under way; an attempt that outlived its claim does not
    overwrite what a later one recorded."""
    api, sender = by_hand
    hook = subscribe(api, receiver.url(), ["*"])
    ping = api.ok(api.post(f"/v1/webhooks/{hook['id']}/test"), 202)
    path = f"/v1/webhooks/{hook['id']}/deliveries/{ping['id']}"

    (first,) = sender._claim()
    busy = api.post(f"{path}/redeliver")
    assert busy.status_code == 409, busy.text
    assert busy.json()["error"]["code"] == "delivery_in_flight"
    assert ping["id"] in busy.json()["error"]["message"]
    sender._settle(first, Outcome(503, "HTTP 503"))
    waiting = api.ok(api.get(path))
    assert (waiting["status"], waiting["attempts"], waiting["last_error"]) == (
        "pending",
        1,
        "HTTP 503",
    )

    # A retry waiting its turn is hurried; the attempt already recorded cannot be again.
    hurried = api.ok(api.post(f"{path}/redeliver"), 202)
    assert hurried["next_attempt_at"] < waiting["next_attempt_at"]
    (second,) = sender._claim()
    assert api.post(f"{path}/redeliver").status_code == 409
    sender._settle(first, Outcome(200, None))
    assert api.ok(api.get(path))["status"] == "pending"
    sender._settle(second, Outcome(200, None))
    delivered = api.ok(api.get(path))
    assert (delivered["status"], delivered["attempts"], delivered["last_status_code"]) == (
        "delivered",
        2,
        200,
    )
    again = api.ok(api.post(f"{path}/redeliver"), 202)
    assert (again["status"], again["attempts"]) == ("pending", 2)
    assert [item.id for item in sender._claim()] == [ping["id"]]  # due again


# Durability ------------------------------------------------------------------------------------


def test_a_killed_worker_still_delivers_the_ending_once(
    database_url: str, temporal_address: str, engine: Engine
) -> None:
    """Kill -9 in the run's last step: the new worker finishes the run, and its ending is
    delivered exactly once (the delivery was written with the event, not after it)."""
    # The same data dir as the module's worker, whose sender may send this run's deliveries.
    private = Engine(database_url, temporal_address, engine.directory, SENDER_ENV)
    try:
        with (
            running_receiver() as receiver,
            tenant_on(private, database_url, engine.directory) as api,
        ):
            hook = subscribe(api, receiver.url(), ["run.completed"])
            first = private.start_worker()
            agent_id = agent_with(
                api, script(calc("2+2"), {"text": "four", "delay_seconds": 4}), name="slow"
            )
            run = run_agent(api, agent_id)
            deadline = time.monotonic() + 60
            while not any(
                s["seq"] == 2 and s["status"] == "succeeded" for s in steps_of(api, run["id"])
            ):
                assert time.monotonic() < deadline, steps_of(api, run["id"])
                time.sleep(0.05)
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            private.start_worker()
            assert wait_for_run(api, run["id"], timeout=90)["output"] == "four"
            (delivery,) = all_settled(api, hook["id"], 1)
            assert (delivery["event_type"], delivery["status"]) == ("run.completed", "delivered")
            (request,) = receiver.received()
            assert verified(request, hook["secret"])["data"]["run_id"] == run["id"]
    finally:
        private.stop()


def test_the_sender_checks_the_address_again_when_it_sends(receiver: WebhookReceiver) -> None:
    """A name may resolve elsewhere than when the webhook was made: each attempt is checked."""
    box = SecretBox(Fernet.generate_key())

    async def attempt(url: str, sealed: str | None) -> Outcome:
        sender = WebhookSender(
            make_engine("sqlite://"), box, retry_delays=(), allow_private_networks=False
        )
        try:
            claimed = Claimed("msg_1", url, "webhook.test", {}, 0, sealed, utcnow())
            return await sender._attempt(claimed)
        finally:
            await sender.client.aclose()

    refused = asyncio.run(attempt(receiver.url("/hook?token=tok3n"), box.seal("whsec_AAAA")))
    assert refused.status_code is None
    assert "not a public address" in str(refused.error)
    assert "tok3n" not in str(refused.error)
    assert receiver.received() == []
    # A secret sealed under another key (SECRETS_KEY changed) is not used, nor shown.
    foreign = SecretBox(Fernet.generate_key()).seal("whsec_AAAA")
    unsigned = asyncio.run(attempt(receiver.url(), foreign))
    assert str(unsigned.error).startswith("cannot sign")
    assert "whsec_" not in str(unsigned.error)


def test_secrets_key_is_a_fernet_key() -> None:
    with pytest.raises(ValueError, match="SECRETS_KEY") as raised:
        Settings(SECRETS_KEY="not-a-key-" + secrets.token_hex(8))
    assert "not-a-key" not in str(raised.value)  # a bad key is not repeated in the error
