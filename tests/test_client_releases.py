"""The client's release calls against the real API over HTTP: aliases (set, split, move, history,
delete, a run through one), schedules (create, pause, trigger, backfill, runs) and webhooks
(create with the secret once, rotate, test ping, deliveries, redeliver); another tenant's are
not found. And the CLI built on them: `aliases set | list`, `schedules list`."""

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError
from typer.testing import CliRunner, Result

from backend.settings import Settings
from cli.main import app
from client import AgentRuntimeClient, ApiError
from tests.helpers import agent_with, script
from tests.live_api import LiveStack, live_stack
from tests.webhook_receiver import WebhookReceiver, running_receiver

pytestmark = pytest.mark.usefixtures("engine_env")


@pytest.fixture
def stack(settings: Settings) -> Iterator[LiveStack]:
    # The webhook receiver listens on loopback.
    with live_stack(settings.model_copy(update={"tool_allow_private_networks": True})) as live:
        yield live


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def sdk(stack: LiveStack) -> Iterator[AgentRuntimeClient]:
    with AgentRuntimeClient(stack.url, stack.tenant.token) as client:
        yield client


@pytest.fixture
def other(stack: LiveStack) -> Iterator[AgentRuntimeClient]:
    with AgentRuntimeClient(stack.url, stack.other.token) as client:
        yield client


def three_versions(stack: LiveStack) -> str:
    agent_id = agent_with(stack.tenant, script({"text": "v1 answers."}), name="releases")
    for number in (2, 3):
        stack.tenant.publish(agent_id, script({"text": f"v{number} answers."}))
    return agent_id


def eventually(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60) -> Any:
    """What `read()` answers once `done` holds of it (polled until `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if done(found):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.1)


def refused(call: Callable[[], Any], status: int) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    assert caught.value.status == status, caught.value
    return caught.value


def targets(alias: dict[str, object]) -> list[tuple[int, int]]:
    versions = alias["versions"]
    assert isinstance(versions, list)
    return [(target["version"], target["weight"]) for target in versions]


def test_aliases_are_set_split_moved_audited_and_deleted(
    stack: LiveStack, sdk: AgentRuntimeClient, other: AgentRuntimeClient
) -> None:
    agent_id = three_versions(stack)
    assert sdk.list_aliases(agent_id) == []

    prod = sdk.set_alias(agent_id, "prod", 2)
    assert (prod["name"], prod["agent_id"], prod["version"]) == ("prod", agent_id, 2)
    assert targets(prod) == [(2, 100)]
    assert prod["updated_by_name"]
    canary = sdk.set_alias(
        agent_id, "canary", versions=[{"version": 2, "weight": 90}, {"version": 3, "weight": 10}]
    )
    assert canary["version"] is None
    assert targets(canary) == [(2, 90), (3, 10)]
    assert [a["name"] for a in sdk.list_aliases(agent_id)] == ["canary", "prod"]

    sdk.set_alias(agent_id, "prod", 3)
    sdk.set_alias(agent_id, "prod", 3)  # already there: no move recorded
    assert sdk.get_alias(agent_id, "prod")["version"] == 3
    history = sdk.alias_history(agent_id, "prod")
    assert [(targets({"versions": m["from_versions"]}), m["to_versions"]) for m in history] == [
        ([(2, 100)], [{"version": 3, "weight": 100}]),
        ([], [{"version": 2, "weight": 100}]),
    ]
    assert all(move["moved_by"] and move["moved_at"] for move in history)

    # A run through the alias records it, and the version it resolved to.
    run = sdk.start_run(agent_id, "hello", version="prod")
    assert (run["alias"], run["version"]) == ("prod", 3)
    assert sdk.wait_for_run(run["id"], timeout=60)["status"] == "succeeded"

    # Bad input names the field; another tenant does not see the agent at all.
    with pytest.raises(ApiError) as missing:
        sdk.set_alias(agent_id, "prod", 9)
    assert missing.value.status == 422
    assert missing.value.details[0]["field"] == "version"
    with pytest.raises(ApiError) as neither:
        sdk.set_alias(agent_id, "prod")
    assert neither.value.status == 422
    with pytest.raises(ApiError) as reserved:
        sdk.set_alias(agent_id, "latest", 1)
    assert reserved.value.status == 422
    for call in (
        lambda: other.list_aliases(agent_id),
        lambda: other.get_alias(agent_id, "prod"),
        lambda: other.set_alias(agent_id, "prod", 1),
        lambda: other.delete_alias(agent_id, "prod"),
    ):
        with pytest.raises(ApiError) as hidden:
            call()
        assert hidden.value.status == 404

    sdk.delete_alias(agent_id, "prod")
    with pytest.raises(ApiError) as gone:
        sdk.get_alias(agent_id, "prod")
    assert gone.value.status == 404
    assert sdk.alias_history(agent_id, "prod")[0]["to_versions"] == []  # the history stays
    assert [a["name"] for a in sdk.list_aliases(agent_id)] == ["canary"]


def test_schedules_fire_pause_trigger_backfill_and_list_their_runs(
    stack: LiveStack, sdk: AgentRuntimeClient, other: AgentRuntimeClient
) -> None:
    agent_id = agent_with(stack.tenant, script({"text": "tick."}), name="ticker")
    hourly = sdk.create_schedule(
        agent="ticker", input="Tick.", interval_seconds=3600, note="hourly ticks"
    )
    schedule_id = hourly["id"]
    assert (hourly["agent_id"], hourly["version"], hourly["paused"]) == (agent_id, "latest", False)
    assert (hourly["interval_seconds"], hourly["cron"], hourly["timezone"]) == (3600, None, "UTC")
    assert hourly["fires"] == 0
    assert 1 <= len(hourly["next_fire_times"]) <= 5
    assert [s["id"] for s in sdk.list_schedules(agent_id=agent_id)] == [schedule_id]
    assert sdk.list_schedules(agent_id="agt_none") == []

    paused = sdk.pause_schedule(schedule_id, note="quiet")
    assert (paused["paused"], paused["next_fire_times"], paused["note"]) == (True, [], "quiet")
    assert sdk.unpause_schedule(schedule_id)["paused"] is False

    # Trigger now: one run, of this schedule.
    assert sdk.trigger_schedule(schedule_id)["action"] == "trigger"
    (run,) = eventually(lambda: sdk.schedule_runs(schedule_id), lambda runs: len(runs) == 1)
    assert (run["schedule_id"], run["created_by"]) == (schedule_id, f"schedule:{schedule_id}")
    assert sdk.wait_for_run(run["id"], timeout=60)["status"] == "succeeded"
    assert [r["id"] for r in sdk.list_runs(agent_id=agent_id)] == [run["id"]]

    # A backfill of three past hours fires at least twice more, at once.
    now = datetime.now(UTC)
    taken = sdk.backfill_schedule(schedule_id, now - timedelta(hours=3), now - timedelta(minutes=1))
    assert taken["action"] == "backfill"
    runs = eventually(lambda: sdk.schedule_runs(schedule_id), lambda runs: len(runs) >= 3)
    assert all(r["schedule_id"] == schedule_id for r in runs)
    page = sdk.schedule_runs_page(schedule_id, limit=1)
    assert len(page["items"]) == 1
    assert page["next_cursor"]
    assert eventually(lambda: sdk.get_schedule(schedule_id), lambda s: s["fires"] >= 3)

    # A change of when: the cron replaces the interval.
    weekdays = sdk.update_schedule(schedule_id, cron="0 9 * * mon-fri", timezone="Europe/Paris")
    assert (weekdays["cron"], weekdays["interval_seconds"]) == ("0 9 * * mon-fri", None)
    assert weekdays["timezone"] == "Europe/Paris"

    # Bad input names the field; another tenant finds nothing.
    bad: list[tuple[dict[str, Any], str]] = [
        ({"cron": "every day"}, "cron"),
        ({"interval_seconds": 60, "timezone": "Mars/Base"}, "timezone"),
    ]
    for fields, named in bad:
        with pytest.raises(ApiError) as caught:
            sdk.create_schedule(agent="ticker", input="x", **fields)
        assert caught.value.status == 422
        assert named in [detail["field"] for detail in caught.value.details]
    assert other.list_schedules() == []
    for call in (
        lambda: other.get_schedule(schedule_id),
        lambda: other.pause_schedule(schedule_id),
        lambda: other.trigger_schedule(schedule_id),
        lambda: other.schedule_runs(schedule_id),
        lambda: other.delete_schedule(schedule_id),
    ):
        refused(call, 404)

    sdk.delete_schedule(schedule_id)
    refused(lambda: sdk.get_schedule(schedule_id), 404)
    assert sdk.get_run(run["id"])["schedule_id"] == schedule_id  # its runs stay


def test_webhooks_sign_deliver_rotate_and_redeliver(
    stack: LiveStack,
    sdk: AgentRuntimeClient,
    other: AgentRuntimeClient,
    receiver: WebhookReceiver,
) -> None:
    created = sdk.create_webhook(receiver.url(), ["*"], description="every event")
    webhook_id, secret = created["id"], created["secret"]
    assert secret.startswith("whsec_")
    assert (created["events"], created["enabled"], created["agent_id"]) == (["*"], True, None)
    assert "secret" not in sdk.get_webhook(webhook_id)
    assert [(w["id"], "secret" in w) for w in sdk.list_webhooks()] == [(webhook_id, False)]

    def delivered(delivery_id: str) -> dict[str, Any]:
        return dict(
            eventually(
                lambda: sdk.get_delivery(webhook_id, delivery_id),
                lambda d: d["status"] == "delivered",
            )
        )

    ping = sdk.test_webhook(webhook_id)
    assert (ping["event_type"], ping["webhook_id"], ping["run_id"]) == (
        "webhook.test",
        webhook_id,
        None,
    )
    done = delivered(ping["id"])
    assert (done["attempts"], done["last_status_code"]) == (1, 200)
    (request,) = receiver.wait_for(1)
    assert request.headers["webhook-id"] == ping["id"]
    assert StandardWebhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"

    # A new secret signs the next delivery; the old one no longer verifies it.
    rotated = sdk.rotate_webhook_secret(webhook_id)["secret"]
    assert rotated.startswith("whsec_")
    assert rotated != secret
    second = sdk.test_webhook(webhook_id)
    delivered(second["id"])
    request = receiver.wait_for(2)[1]
    assert StandardWebhook(rotated).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError, match="signature"):
        StandardWebhook(secret).verify(request.body, request.headers)

    # Redelivered under the same id, one attempt more.
    again = sdk.redeliver(webhook_id, ping["id"])
    assert again["id"] == ping["id"]
    assert delivered(ping["id"])["attempts"] == 2
    assert [r.headers["webhook-id"] for r in receiver.wait_for(3)][-1] == ping["id"]
    log = sdk.list_deliveries(webhook_id)
    assert [d["id"] for d in log] == [second["id"], ping["id"]]  # newest first
    assert len(sdk.list_deliveries(webhook_id, status="delivered")) == 2
    assert sdk.list_deliveries(webhook_id, status="failed") == []
    assert sdk.deliveries_page(webhook_id, limit=1)["next_cursor"]

    off = sdk.update_webhook(webhook_id, enabled=False, description="paused")
    assert (off["enabled"], off["description"]) == (False, "paused")
    error = refused(lambda: sdk.create_webhook(receiver.url(), ["run.exploded"]), 422)
    assert "events" in str(error.details)
    assert other.list_webhooks() == []
    for call in (
        lambda: other.get_webhook(webhook_id),
        lambda: other.test_webhook(webhook_id),
        lambda: other.list_deliveries(webhook_id),
        lambda: other.redeliver(webhook_id, ping["id"]),
        lambda: other.delete_webhook(webhook_id),
    ):
        refused(call, 404)
    sdk.delete_webhook(webhook_id)
    refused(lambda: sdk.get_webhook(webhook_id), 404)


def test_the_cli_sets_and_lists_aliases_and_lists_schedules(
    stack: LiveStack, sdk: AgentRuntimeClient
) -> None:
    agent_id = three_versions(stack)

    def cli(*args: str) -> Result:
        given = [*args, "--url", stack.url, "--token", stack.tenant.token]
        return CliRunner().invoke(app, given, env={"COLUMNS": "200", "TERM": "dumb"})

    first = cli("aliases", "set", "releases", "prod", "2")
    assert first.exit_code == 0, first.output
    assert "prod → v2" in first.output
    moved = cli("aliases", "set", agent_id, "prod", "3")
    assert "prod → v3" in moved.output
    assert "(was v2)" in moved.output
    assert sdk.get_alias(agent_id, "prod")["version"] == 3
    listed = cli("aliases", "list", "releases")
    assert listed.exit_code == 0, listed.output
    assert re.search(r"prod\s+v3\s+", listed.output), listed.output
    shown = json.loads(cli("aliases", "list", "releases", "--json").output)
    assert [(a["name"], a["version"]) for a in shown] == [("prod", 3)]
    for bad, said in (
        (("aliases", "set", "releases", "prod", "9"), "version"),
        (("aliases", "set", "releases", "Prod!", "1"), "name"),
        (("aliases", "list", "nobody"), "no agent is named"),
    ):
        refused = cli(*bad)
        assert refused.exit_code == 2, refused.output
        assert said in refused.output

    assert "No schedules yet." in cli("schedules", "list").output
    schedule = sdk.create_schedule(agent=agent_id, input="x", cron="0 9 * * *", version="prod")
    rows = cli("schedules", "list", "--agent", "releases")
    assert rows.exit_code == 0, rows.output
    (line,) = [line for line in rows.output.splitlines() if schedule["id"] in line]
    assert "releases" in line
    assert "prod" in line
    assert "cron 0 9 * * * (UTC)" in line
    assert "active" in line
    sdk.delete_schedule(schedule["id"])
