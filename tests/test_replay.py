"""The workflow stays deterministic: recorded histories must replay against the current code.

A change that would break runs already in flight fails here. To add a history after an intended,
compatible change: `RECORD_HISTORIES=1 make pytest ARGS=tests/test_replay.py`.
"""

import asyncio
import os
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from tests.helpers import Api, agent_with, calc, run_agent, script, wait_for_run
from worker.workflows import AgentRunWorkflow

HISTORIES = Path(__file__).parent / "histories"
GATED = {"type": "builtin", "name": "calculator", "requires_approval": True}


def replay(history: WorkflowHistory) -> None:
    asyncio.run(Replayer(workflows=[AgentRunWorkflow]).replay_workflow(history))


async def _fetch(address: str, workflow_id: str) -> list[WorkflowHistory]:
    """Every execution of the run: continue-as-new starts a new one with the same id."""
    client = await Client.connect(address)
    histories = []
    async for execution in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        handle = client.get_workflow_handle(workflow_id, run_id=execution.run_id)
        histories.append(await handle.fetch_history())
    return histories


def test_recorded_histories_replay() -> None:
    files = sorted(HISTORIES.glob("*.json"))
    assert files, "no recorded histories"
    for path in files:
        replay(WorkflowHistory.from_json(path.stem, path.read_text()))


@pytest.mark.usefixtures("engine_env")
def test_fresh_histories_replay(tenant_a: Api, temporal_address: str) -> None:
    """Success, tool errors, continue-as-new, a limit, cancellation, a timeout and an approved
    call all replay."""
    long_run = [calc("1+1")] * 4 + [{"tool_calls": [{"name": "calculator", "arguments": {}}]}]
    cases = {
        "succeeded": script(*long_run, {"text": "done"}),
        "limited": script(*[calc("1")] * 5, limits={"max_steps": 3}),
        "timed-out": script({"text": "late", "delay_seconds": 20}, limits={"timeout_seconds": 1}),
        "cancelled": script({"text": "never", "delay_seconds": 30}),
        "approved": script(calc("2*3"), {"text": "six"}, tools=[GATED]),
    }
    run_ids = {}
    for name, config in cases.items():
        run = run_agent(tenant_a, agent_with(tenant_a, config, name))
        if name == "cancelled":
            wait_for_run(tenant_a, run["id"], until={"running"})
            tenant_a.post(f"/v1/runs/{run['id']}/cancel")
        if name == "approved":
            wait_for_run(tenant_a, run["id"], until={"awaiting_approval"})
            (approval,) = tenant_a.get(f"/v1/runs/{run['id']}/approvals").json()["items"]
            url = f"/v1/runs/{run['id']}/approvals/{approval['id']}"
            tenant_a.ok(tenant_a.post(url, json={"decision": "approve"}))
        wait_for_run(tenant_a, run["id"])
        run_ids[name] = run["id"]
    for name, run_id in run_ids.items():
        histories = asyncio.run(_fetch(temporal_address, run_id))
        assert histories, name
        if name == "succeeded":
            assert len(histories) > 1  # continued as new (6 steps per execution in tests)
        for index, history in enumerate(histories):
            replay(history)
            if os.environ.get("RECORD_HISTORIES") == "1":
                (HISTORIES / f"{name}-{index}.json").write_text(history.to_json())
