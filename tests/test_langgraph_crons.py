"""LangGraph's crons, driven by LangGraph's own SDK, served by our schedules (the engine's own
Schedules): create, search, count, update (pause), delete; fires are ordinary runs."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import NotFoundError, UnprocessableEntityError

from backend.settings import Settings
from tests.helpers import agent_with, script, wait_for_run
from tests.live_api import LiveStack, live_stack

pytestmark = pytest.mark.usefixtures("engine_env")
HELLO = {"messages": [{"role": "user", "content": "good morning"}]}


@pytest.fixture
def stack(settings: Settings) -> Iterator[LiveStack]:
    with live_stack(settings) as live:
        yield live


@contextlib.asynccontextmanager
async def sdk(stack: LiveStack, other: bool = False) -> AsyncIterator[Any]:
    api = stack.other if other else stack.tenant
    client = get_client(url=f"{stack.url}/langgraph", api_key=api.token)
    try:
        yield client
    finally:
        await client.aclose()


def test_a_cron_is_created_searched_paused_fired_and_deleted(stack: LiveStack) -> None:
    agent_id = agent_with(stack.tenant, script({"text": "Morning report."}), name="reporter")
    stack.tenant.ok(stack.tenant.put(f"/v1/agents/{agent_id}/aliases/prod", json={"version": 1}))

    async def scenario() -> tuple[Any, Any, Any, Any]:
        async with sdk(stack) as client:
            return await _scenario(client)

    async def _scenario(client: Any) -> tuple[Any, Any, Any, Any]:
        created = await client.crons.create(
            "reporter",
            schedule="0 9 * * mon-fri",
            timezone="Europe/Paris",
            input=HELLO,
            metadata={"team": "ops"},
            config={"configurable": {"version": "prod"}},
        )
        try:
            found = await client.crons.search(assistant_id="reporter")
            counted = await client.crons.count(assistant_id=agent_id)
            paused = await client.crons.update(created["cron_id"], enabled=False)
            disabled = await client.crons.search(enabled=False)
            enabled = await client.crons.search(enabled=True)
            assert (await client.crons.search(thread_id="thr_any")) == []
            assert [c["cron_id"] for c in disabled] == [created["cron_id"]]
            assert enabled == []
            assert (await client.crons.count(thread_id="thr_any")) == 0
            assert (await client.crons.search(enabled=False, offset=1)) == []
            return created, found, counted, paused
        except BaseException:
            await client.crons.delete(created["cron_id"])
            raise

    created, found, counted, paused = asyncio.run(scenario())
    cron_id = created["cron_id"]
    assert cron_id.startswith("sch_")
    assert (created["assistant_id"], created["schedule"], created["timezone"]) == (
        agent_id,
        "0 9 * * mon-fri",
        "Europe/Paris",
    )
    assert (created["enabled"], created["thread_id"], created["metadata"]) == (
        True,
        None,
        {"team": "ops"},
    )
    next_run = datetime.fromisoformat(created["next_run_date"])
    assert datetime.now(UTC) < next_run < datetime.now(UTC) + timedelta(days=4)
    assert next_run.astimezone().minute == 0
    assert created["payload"]["input"] == {
        "messages": [{"role": "user", "content": "good morning"}]
    }
    assert created["payload"]["config"] == {"configurable": {"version": "prod"}}
    assert [cron["cron_id"] for cron in found] == [cron_id]
    assert counted == 1
    assert (paused["enabled"], paused["next_run_date"]) == (False, None)
    # Counted by the rows alone: a pause is on the row as on the engine.
    counts = [
        stack.tenant.ok(stack.tenant.post("/langgraph/runs/crons/count", json=search))
        for search in ({"enabled": False}, {"enabled": True}, {})
    ]
    assert counts == [1, 0, 1]
    other = stack.other.ok(stack.other.post("/langgraph/runs/crons/count", json={}))
    assert other == 0  # another tenant's crons are not counted

    # The same resource on /v1: paused there too; a fire makes an ordinary run.
    schedule = stack.tenant.ok(stack.tenant.get(f"/v1/schedules/{cron_id}"))
    assert (schedule["paused"], schedule["cron"], schedule["version"]) == (
        True,
        "0 9 * * mon-fri",
        "prod",
    )
    stack.tenant.ok(stack.tenant.post(f"/v1/schedules/{cron_id}/trigger"), 202)
    runs: list[Any] = []
    deadline = datetime.now(UTC) + timedelta(seconds=60)
    while not runs and datetime.now(UTC) < deadline:
        runs = stack.tenant.ok(stack.tenant.get(f"/v1/schedules/{cron_id}/runs"))["items"]
    (run,) = runs
    ended = wait_for_run(stack.tenant, run["id"])
    assert (ended["output"], ended["alias"], ended["metadata"]["team"]) == (
        "Morning report.",
        "prod",
        "ops",
    )

    async def remove() -> list[Any]:
        async with sdk(stack) as client, sdk(stack, other=True) as theirs:
            with pytest.raises(NotFoundError):
                await theirs.crons.delete(cron_id)
            await client.crons.delete(cron_id)
            return list(await client.crons.search())

    assert asyncio.run(remove()) == []
    assert stack.tenant.get(f"/v1/schedules/{cron_id}").status_code == 404


def test_what_a_cron_cannot_be_is_a_422_naming_the_field(stack: LiveStack) -> None:
    agent_with(stack.tenant, script({"text": "hi"}), name="reporter")

    async def refusals() -> list[str]:
        async with sdk(stack) as client:
            return await _refusals(client)

    async def _refusals(client: Any) -> list[str]:
        attempts = [
            client.crons.create("reporter", schedule="99 * * * *", input=HELLO),
            client.crons.create(
                "reporter", schedule="* * * * *", input=HELLO, timezone="Mars/Base"
            ),
            client.crons.create(
                "reporter", schedule="* * * * *", input=HELLO, webhook="https://example.com/h"
            ),
            client.crons.create(
                "reporter",
                schedule="* * * * *",
                input={"messages": [{"role": "user", "content": "a"}, "b"]},
            ),
            client.crons.create_for_thread("thr_x", "reporter", schedule="* * * * *", input=HELLO),
        ]
        fields = []
        for attempt in attempts:
            with pytest.raises(UnprocessableEntityError) as refused:
                await attempt
            fields.append(refused.value.response.json()["error"]["details"][0]["field"])
        assert (await client.crons.search()) == []
        return fields

    assert asyncio.run(refusals()) == [
        "schedule",
        "timezone",
        "webhook",
        "input.messages",
        "thread_id",
    ]
