"""Audit fields carry a name people can read beside the subject: who created, who decided."""

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.helpers import Api, agent_with, calc, run_agent, script, wait_for_run

GATED = {"type": "builtin", "name": "calculator", "requires_approval": True}


def ci_bot(admin: Api, tenant: Api) -> Api:
    """An admin key of the tenant named `ci-bot`."""
    assert tenant.tenant_id is not None
    key = admin.new_key(tenant.tenant_id, "admin", name="ci-bot")
    return Api(tenant.client, key["key"], tenant.tenant_id)


@pytest.mark.usefixtures("engine_env")
def test_what_a_key_creates_and_decides_is_named_after_the_key(admin: Api, tenant_a: Api) -> None:
    bot = ci_bot(admin, tenant_a)
    agent_id = agent_with(bot, script(calc("1+1"), {"text": "two"}, tools=[GATED]))
    run = run_agent(bot, agent_id)
    wait_for_run(bot, run["id"], until={"awaiting_approval"})
    (approval,) = bot.ok(bot.get(f"/v1/runs/{run['id']}/approvals"))["items"]
    assert (approval["decided_by"], approval["decided_by_name"]) == (None, None)
    decided = bot.ok(
        bot.post(f"/v1/runs/{run['id']}/approvals/{approval['id']}", json={"decision": "approve"})
    )
    assert wait_for_run(bot, run["id"])["status"] == "succeeded"

    records = {
        "agent": bot.ok(bot.get(f"/v1/agents/{agent_id}")),
        "version": bot.ok(bot.get(f"/v1/agents/{agent_id}/versions/1")),
        "run": bot.ok(bot.get(f"/v1/runs/{run['id']}")),
        "listed run": bot.ok(bot.get("/v1/runs"))["items"][0],
        "key": bot.new_key(tenant_a.tenant_id or "", "viewer", name="made-by-the-bot"),
    }
    for what, record in records.items():
        assert (record["created_by"], record["created_by_name"]) == ("key:ci-bot", "ci-bot"), what
    assert (decided["decided_by"], decided["decided_by_name"]) == ("key:ci-bot", "ci-bot")
    read_back = bot.ok(bot.get(f"/v1/approvals/{approval['id']}"))
    assert read_back["decided_by_name"] == "ci-bot"


def test_rows_without_a_recorded_name_show_the_subjects_name(
    app: FastAPI, admin: Api, tenant_a: Api
) -> None:
    """Rows written before names were recorded: the subject's part after its colon."""
    bot = ci_bot(admin, tenant_a)
    agent = bot.new_agent("older")
    version = bot.publish(agent["id"])
    with app.state.engine.begin() as connection:
        connection.execute(text("UPDATE agent SET created_by_name = NULL"))
        connection.execute(text("UPDATE agent_version SET created_by_name = NULL"))
        assert connection.execute(text("SELECT created_by_name FROM agent")).scalars().all() == [
            None
        ]
    assert bot.ok(bot.get(f"/v1/agents/{agent['id']}"))["created_by_name"] == "ci-bot"
    url = f"/v1/agents/{agent['id']}/versions/{version['number']}"
    assert bot.ok(bot.get(url))["created_by_name"] == "ci-bot"
    (listed,) = bot.ok(bot.get(f"/v1/agents/{agent['id']}/versions"))["items"]
    assert listed["created_by_name"] == "ci-bot"
