"""Every prompt recorded: a model step's resolved request is exactly what the provider received.

Driven through the worker's real OpenAI SDK code path against a local chat-completions double,
on a thread (two runs, a tool call, a system message): the double's request bodies are compared
with each step's `request`, converted to the wire by the provider's own conversion.
"""

from typing import Any

import pytest

from tests.helpers import Api, agent_with, scripted_config, steps_of, wait_for_run
from tests.provider_doubles import chat_completion, chat_completions_double
from worker.providers.openai_chat import _messages
from worker.types import Message, ToolCall

pytestmark = pytest.mark.usefixtures("engine_env")


def as_wire(request: dict[str, Any]) -> list[Any]:
    messages = [
        Message(
            m["role"],
            m["content"],
            [ToolCall(c["id"], c["name"], c["arguments"]) for c in m["tool_calls"]],
            tool_call_id=m["tool_call_id"],
            name=m["name"],
            is_error=m["is_error"],
        )
        for m in request["messages"]
    ]
    return list(_messages(request["system_prompt"], messages))


def test_each_model_step_resolves_to_what_the_provider_was_sent(tenant_a: Api) -> None:
    with chat_completions_double() as llm:
        llm.enqueue(
            200, chat_completion(tool_calls=[("call_a", "calculator", {"expression": "3*3"})])
        )
        llm.enqueue(200, chat_completion("Nine."))
        llm.enqueue(200, chat_completion("Goodbye."))
        config = scripted_config(
            model={
                "provider": "openai_compatible",
                "name": "local-llm",
                "parameters": {"base_url": llm.base_url, "temperature": 0},
            },
            system_prompt="Use the calculator.",
        )
        agent_id = agent_with(tenant_a, config, name="recorded")
        thread = tenant_a.ok(tenant_a.post("/v1/threads", json={}), 201)
        path = f"/v1/threads/{thread['id']}/runs"
        first = tenant_a.ok(
            tenant_a.post(path, json={"agent": agent_id, "input": "3*3?", "context": {"a": 1}}),
            202,
        )
        assert wait_for_run(tenant_a, first["id"])["status"] == "succeeded"
        said = [
            {"role": "system", "content": "Answer in one word."},
            {"role": "user", "content": "bye"},
        ]
        second = tenant_a.ok(tenant_a.post(path, json={"agent": agent_id, "input": said}), 202)
        assert wait_for_run(tenant_a, second["id"])["output"] == "Goodbye."

        model_steps = [
            (run["id"], step["seq"])
            for run in (first, second)
            for step in steps_of(tenant_a, run["id"])
            if step["kind"] == "model"
        ]
        assert len(model_steps) == len(llm.requests) == 3
        for (run_id, seq), received in zip(model_steps, llm.requests, strict=True):
            step = tenant_a.ok(tenant_a.get(f"/v1/runs/{run_id}/steps/{seq}"))
            request = step["request"]
            assert as_wire(request) == received.body["messages"], (run_id, seq)
            assert [tool["function"]["name"] for tool in received.body["tools"]] == [
                tool["name"] for tool in request["tools"]
            ]
            assert [tool["function"]["parameters"] for tool in received.body["tools"]] == [
                tool["parameters"] for tool in request["tools"]
            ]
            assert request["parameters"]["temperature"] == received.body["temperature"] == 0
        # The step stores references, not the conversation: its input stays small.
        listed = steps_of(tenant_a, second["id"])[0]["input"]
        assert listed["prompt"] == {"thread_id": thread["id"], "steps_before": 0, "dropped": 0}
        last = tenant_a.ok(tenant_a.get(f"/v1/runs/{second['id']}/steps/1"))["request"]
        assert last["system_prompt"].endswith("Answer in one word.")
        assert [m["run_id"] for m in last["messages"]][:4] == [first["id"]] * 4
