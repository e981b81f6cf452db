"""Human approval of tool calls: a durable wait, decided through the REST API."""

import time
from typing import Any

import pytest

from tests.helpers import (
    Api,
    agent_with,
    calc,
    error_fields,
    run_agent,
    script,
    scripted_config,
    steps_of,
    wait_for_run,
)
from tests.provider_doubles import chat_completion, chat_completions_double

pytestmark = pytest.mark.usefixtures("engine_env")

GATED_CALCULATOR = {"type": "builtin", "name": "calculator", "requires_approval": True}


def gated(*turns: dict[str, Any], **config: Any) -> Any:
    return script(*turns, tools=[GATED_CALCULATOR], **config)


def waiting_approval(api: Api, run_id: str) -> Any:
    """Once the run waits, its one pending approval."""
    wait_for_run(api, run_id, until={"awaiting_approval"})
    (approval,) = api.ok(api.get(f"/v1/runs/{run_id}/approvals"))["items"]
    assert approval["status"] == "pending"
    return approval


def approvals_of(api: Api, run_id: str, count: int) -> list[Any]:
    """The run's approvals, once it has asked for `count` of them."""
    deadline = time.monotonic() + 30
    while True:
        items: list[Any] = api.ok(api.get(f"/v1/runs/{run_id}/approvals"))["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.1)


def decide(api: Api, approval: Any, decision: str, **body: Any) -> Any:
    url = f"/v1/runs/{approval['run_id']}/approvals/{approval['id']}"
    return api.post(url, json={"decision": decision, **body})


def inbox(api: Api) -> list[str]:
    items = api.ok(api.get("/v1/approvals", params={"status": "pending"}))["items"]
    return [item["id"] for item in items]


def test_a_gated_call_waits_until_approved_and_runs_with_the_edited_arguments(
    tenant_a: Api, tenant_b: Api
) -> None:
    agent_id = agent_with(tenant_a, gated(calc("6*7"), {"text": "done"}))
    run = run_agent(tenant_a, agent_id)
    approval = waiting_approval(tenant_a, run["id"])
    assert (approval["tool_name"], approval["arguments"]) == ("calculator", {"expression": "6*7"})
    assert (approval["step_seq"], approval["agent_id"]) == (2, agent_id)
    assert approval["requested_at"] < approval["expires_at"]
    assert [s["kind"] for s in steps_of(tenant_a, run["id"])] == ["model"]  # nothing ran yet
    assert approval["id"] in inbox(tenant_a)

    # Other tenants see nothing of it; viewers may look but not decide.
    assert inbox(tenant_b) == []
    assert decide(tenant_b, approval, "approve").status_code == 404
    assert tenant_b.get(f"/v1/approvals/{approval['id']}").status_code == 404
    viewer = tenant_a.as_role("viewer")
    assert approval["id"] in inbox(viewer)
    assert decide(viewer, approval, "approve").status_code == 403

    # Edited arguments are validated against the tool's schema, and only approvals edit.
    bad = decide(tenant_a, approval, "approve", arguments={"expression": 5})
    assert (bad.status_code, error_fields(bad)) == (422, ["arguments.expression"])
    reject_with_edit = decide(tenant_a, approval, "reject", arguments={"expression": "1"})
    assert (reject_with_edit.status_code, error_fields(reject_with_edit)) == (422, ["arguments"])
    assert decide(tenant_a, approval, "maybe").status_code == 422

    approved = tenant_a.ok(decide(tenant_a, approval, "approve", arguments={"expression": "6*8"}))
    assert approved["status"] == "approved"
    assert (
        approved["decided_by"] == tenant_a.ok(tenant_a.get("/v1/runs/" + run["id"]))["created_by"]
    )
    assert approved["decided_at"]
    assert approved["edited_arguments"] == {"expression": "6*8"}
    second = decide(tenant_a, approval, "reject", comment="changed my mind")
    assert (second.status_code, second.json()["error"]["code"]) == (409, "approval_decided")
    assert decide(tenant_a, approval, "approve").status_code == 200  # the same decision again

    finished = wait_for_run(tenant_a, run["id"])
    assert (finished["status"], finished["output"]) == ("succeeded", "done")
    tool_step = steps_of(tenant_a, run["id"])[1]
    assert tool_step["output"]["content"]["result"] == 48
    assert tool_step["input"]["arguments"] == {"expression": "6*8"}
    assert tool_step["input"]["proposed_arguments"] == {"expression": "6*7"}
    assert approval["id"] not in inbox(tenant_a)


def test_a_rejection_reaches_the_model_as_the_tool_result(tenant_a: Api) -> None:
    with chat_completions_double() as llm:
        llm.enqueue(
            200, chat_completion(tool_calls=[("call_1", "calculator", {"expression": "1"})])
        )
        llm.enqueue(200, chat_completion("Understood, I will not calculate."))
        config = scripted_config(
            model={
                "provider": "openai_compatible",
                "name": "local-llm",
                "parameters": {"base_url": llm.base_url},
            },
            tools=[GATED_CALCULATOR],
        )
        run = run_agent(tenant_a, agent_with(tenant_a, config))
        approval = waiting_approval(tenant_a, run["id"])
        tenant_a.ok(decide(tenant_a, approval, "reject", comment="Not with that number."))
        finished = wait_for_run(tenant_a, run["id"])
        assert finished["status"] == "succeeded", finished
        tool_message = next(m for m in llm.requests[-1].body["messages"] if m["role"] == "tool")
        assert "Not with that number." in tool_message["content"]
        assert tool_message["tool_call_id"] == "call_1"
    tool_step = steps_of(tenant_a, run["id"])[1]
    assert (tool_step["status"], tool_step["error"]["code"]) == ("failed", "approval_rejected")
    assert tool_step["output"] is None


def test_an_unanswered_approval_expires_and_the_model_is_told(tenant_a: Api) -> None:
    expiring = {**GATED_CALCULATOR, "approval_timeout_seconds": 1}
    agent_id = agent_with(tenant_a, script(calc("2+2"), {"text": "gave up"}, tools=[expiring]))
    run = run_agent(tenant_a, agent_id)
    finished = wait_for_run(tenant_a, run["id"], timeout=30)
    assert (finished["status"], finished["output"]) == ("succeeded", "gave up")
    (approval,) = tenant_a.ok(tenant_a.get(f"/v1/runs/{run['id']}/approvals"))["items"]
    assert approval["status"] == "expired"
    assert steps_of(tenant_a, run["id"])[1]["error"]["code"] == "approval_expired"
    late = decide(tenant_a, approval, "approve")
    assert late.status_code == 409


def test_cancelling_a_waiting_run_ends_it_cancelled(tenant_a: Api) -> None:
    run = run_agent(tenant_a, agent_with(tenant_a, gated(calc("1"), {"text": "never"})))
    approval = waiting_approval(tenant_a, run["id"])
    assert tenant_a.post(f"/v1/runs/{run['id']}/cancel").status_code == 202
    finished = wait_for_run(tenant_a, run["id"])
    assert finished["status"] == "cancelled"
    (closed,) = tenant_a.ok(tenant_a.get(f"/v1/runs/{run['id']}/approvals"))["items"]
    assert closed["status"] == "cancelled"
    assert decide(tenant_a, approval, "approve").status_code == 409
    assert approval["id"] not in inbox(tenant_a)


def test_waiting_for_a_person_does_not_count_against_the_run_timeout(tenant_a: Api) -> None:
    config = gated(calc("3*3"), {"text": "nine"}, limits={"timeout_seconds": 2, "max_steps": 10})
    run = run_agent(tenant_a, agent_with(tenant_a, config))
    approval = waiting_approval(tenant_a, run["id"])
    time.sleep(3)  # longer than the run's own timeout
    assert tenant_a.ok(tenant_a.get(f"/v1/runs/{run['id']}"))["status"] == "awaiting_approval"
    tenant_a.ok(decide(tenant_a, approval, "approve"))
    finished = wait_for_run(tenant_a, run["id"])
    assert (finished["status"], finished["output"]) == ("succeeded", "nine")


def test_two_gated_calls_in_one_turn_are_decided_one_by_one(tenant_a: Api) -> None:
    both = {
        "tool_calls": [
            {"name": "calculator", "arguments": {"expression": "1+1"}},
            {"name": "calculator", "arguments": {"expression": "2+2"}},
        ]
    }
    run = run_agent(tenant_a, agent_with(tenant_a, gated(both, {"text": "ok"})))
    first = waiting_approval(tenant_a, run["id"])
    assert first["arguments"] == {"expression": "1+1"}
    tenant_a.ok(decide(tenant_a, first, "reject"))
    second = approvals_of(tenant_a, run["id"], count=2)[1]
    assert (second["arguments"], second["status"]) == ({"expression": "2+2"}, "pending")
    tenant_a.ok(decide(tenant_a, second, "approve"))
    assert wait_for_run(tenant_a, run["id"])["status"] == "succeeded"
    steps = steps_of(tenant_a, run["id"])
    assert [(s["seq"], s["status"]) for s in steps] == [
        (1, "succeeded"),
        (2, "failed"),
        (3, "succeeded"),
        (4, "succeeded"),
    ]
    assert steps[2]["output"]["content"]["result"] == 4


def test_a_call_with_invalid_arguments_fails_without_asking_anyone(tenant_a: Api) -> None:
    misfire = {"tool_calls": [{"name": "calculator", "arguments": {"expr": "1"}}]}
    run = run_agent(tenant_a, agent_with(tenant_a, gated(misfire, {"text": "oops"})))
    finished = wait_for_run(tenant_a, run["id"])
    assert finished["status"] == "succeeded"
    assert tenant_a.ok(tenant_a.get(f"/v1/runs/{run['id']}/approvals"))["items"] == []
    tool_step = steps_of(tenant_a, run["id"])[1]
    assert "expression" in tool_step["error"]["message"]
