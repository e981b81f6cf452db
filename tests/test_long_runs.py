"""A run of 1,000 steps: history stays bounded per execution thanks to continue-as-new."""

import asyncio
from pathlib import Path

import pytest
from temporalio.client import Client

from backend.settings import Settings
from tests.conftest import make_settings
from tests.helpers import Api, agent_with, calc, run_agent, script, steps_of, wait_for_run

STEPS_PER_EXECUTION = 200


@pytest.fixture
def settings(database_url: str, tmp_path: Path, engine_env: dict[str, str]) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        TEMPORAL_ADDRESS=engine_env["TEMPORAL_ADDRESS"],
        AGENT_RUNTIME_TASK_QUEUE=engine_env["AGENT_RUNTIME_TASK_QUEUE"],
        RUN_STEPS_PER_EXECUTION=STEPS_PER_EXECUTION,
    )


async def execution_sizes(address: str, run_id: str) -> list[int]:
    client = await Client.connect(address)
    sizes = []
    async for execution in client.list_workflows(f"WorkflowId = '{run_id}'"):
        handle = client.get_workflow_handle(run_id, run_id=execution.run_id)
        sizes.append(len((await handle.fetch_history()).events))
    return sizes


def test_a_thousand_steps(tenant_a: Api, temporal_address: str) -> None:
    turns = [calc(f"{i}*2") for i in range(500)] + [{"text": "all done"}]
    config = script(*turns, limits={"max_steps": 1001, "max_tokens": 10**9})
    run = wait_for_run(
        tenant_a, run_agent(tenant_a, agent_with(tenant_a, config))["id"], timeout=600
    )
    assert (run["status"], run["output"]) == ("succeeded", "all done"), run
    assert [s["seq"] for s in steps_of(tenant_a, run["id"])][:3] == [1, 2, 3]
    first_page = tenant_a.ok(tenant_a.get(f"/v1/runs/{run['id']}/steps", params={"limit": 200}))
    last = tenant_a.ok(
        tenant_a.get(
            f"/v1/runs/{run['id']}/steps",
            params={"limit": 200, "cursor": first_page["next_cursor"]},
        )
    )
    assert [s["seq"] for s in last["items"]][:2] == [201, 202]
    sizes = asyncio.run(execution_sizes(temporal_address, run["id"]))
    assert len(sizes) == -(-1001 // STEPS_PER_EXECUTION)
    # Each step adds a bounded number of events; no execution grows with the run's length.
    assert max(sizes) < STEPS_PER_EXECUTION * 8, sizes
