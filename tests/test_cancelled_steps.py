"""A step a cancel cuts short: recorded `cancelled`, with its real start, ending after it.

Runs end to end (API, Temporal dev server, worker): the cancel reaches a slow model turn and a
slow HTTP tool while they run.
"""

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.helpers import Api, agent_with, run_agent, script, steps_of, wait_for_run
from tests.tool_endpoint import ToolEndpoint, running_tool_endpoint

pytestmark = pytest.mark.usefixtures("engine_env")


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def events_of(api: Api, run_id: str) -> list[Any]:
    """The ended run's events, as its stream replays them."""
    body = api.ok_text(f"/v1/runs/{run_id}/events")
    return [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:")]


def cancel(api: Api, run_id: str) -> datetime:
    """Cancel the run; when the cancel was sent."""
    sent = datetime.now(UTC)
    api.ok(api.post(f"/v1/runs/{run_id}/cancel"), 202)
    return sent


def assert_cut_short_by_the_cancel(api: Api, run_id: str, seq: int, cancel_sent: datetime) -> None:
    ended = wait_for_run(api, run_id, timeout=30)
    assert ended["status"] == "cancelled"
    step = steps_of(api, run_id)[seq - 1]
    assert (step["seq"], step["status"]) == (seq, "cancelled")
    started_at, ended_at = moment(step["started_at"]), moment(step["ended_at"])
    assert started_at < cancel_sent <= ended_at  # it had started before the cancel was sent
    assert step["error"] == {"code": "cancelled", "message": "the run was cancelled"}
    completed = [
        event
        for event in events_of(api, run_id)
        if event["type"] == "step.completed" and event["seq"] == seq
    ]
    assert len(completed) == 1  # recorded once
    assert completed[0]["status"] == "cancelled"
    assert completed[0]["error"] == step["error"]
    assert completed[0]["duration_ms"] > 0


def test_a_cancel_during_a_slow_model_turn_records_the_turn_cancelled(tenant_a: Api) -> None:
    run = run_agent(tenant_a, agent_with(tenant_a, script({"text": "never", "delay_seconds": 60})))
    wait_for_run(tenant_a, run["id"], until={"running"})  # its first model turn is under way
    sent = cancel(tenant_a, run["id"])
    assert_cut_short_by_the_cancel(tenant_a, run["id"], 1, sent)


def wait_for_call(endpoint: ToolEndpoint, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not endpoint.calls_to(path):
        if time.monotonic() > deadline:
            raise AssertionError(f"no call to {path} within {timeout} s")
        time.sleep(0.05)


def test_a_cancel_during_a_slow_tool_records_the_tool_step_cancelled(tenant_a: Api) -> None:
    with running_tool_endpoint() as endpoint:
        endpoint.slow_seconds = 20
        slow = {
            "type": "http",
            "name": "slow_lookup",
            "url": f"{endpoint.base_url}/slow",
            "parameters": {"type": "object"},
        }
        config = script(
            {"tool_calls": [{"name": "slow_lookup", "arguments": {}}]},
            {"text": "never"},
            tools=[slow],
        )
        run = run_agent(tenant_a, agent_with(tenant_a, config))
        wait_for_call(endpoint, "/slow")  # the tool step is waiting for the answer
        sent = cancel(tenant_a, run["id"])
        assert_cut_short_by_the_cancel(tenant_a, run["id"], 2, sent)
    model, _tool = steps_of(tenant_a, run["id"])
    assert model["status"] == "succeeded"
