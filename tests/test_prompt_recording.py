"""Every prompt recorded: a model step's resolved request is exactly what the provider received.

Driven through the worker's real OpenAI and Anthropic SDK code paths against local protocol
doubles, on a thread (two runs, a tool call, a system message): the double's request bodies are
compared with each step's `request`, converted to the wire by the provider's own conversion.
"""

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Api, agent_with, scripted_config, steps_of, wait_for_run
from tests.private_engine import Engine, tenant_on
from tests.provider_doubles import (
    anthropic_message,
    anthropic_messages_double,
    chat_completion,
    chat_completions_double,
)
from worker.providers import anthropic_messages, openai_chat
from worker.types import Message, ToolCall


def neutral(request: dict[str, Any]) -> list[Message]:
    return [
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


def as_wire(request: dict[str, Any]) -> list[Any]:
    return list(openai_chat._messages(request["system_prompt"], neutral(request)))


def two_turns(api: Api, agent_id: str) -> tuple[str, list[dict[str, Any]]]:
    """A thread: a tool call and an answer (with context), then a system and a user message.
    Returns the thread id and its two runs."""
    thread = api.ok(api.post("/v1/threads", json={}), 201)
    path = f"/v1/threads/{thread['id']}/runs"
    first = api.ok(
        api.post(path, json={"agent": agent_id, "input": "3*3?", "context": {"a": 1}}), 202
    )
    assert wait_for_run(api, first["id"])["status"] == "succeeded"
    said = [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "bye"},
    ]
    second = api.ok(api.post(path, json={"agent": agent_id, "input": said}), 202)
    assert wait_for_run(api, second["id"])["output"] == "Goodbye."
    return thread["id"], [first, second]


def resolved_requests(api: Api, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        api.ok(api.get(f"/v1/runs/{run['id']}/steps/{step['seq']}"))["request"]
        for run in runs
        for step in steps_of(api, run["id"])
        if step["kind"] == "model"
    ]


def test_anthropic_steps_resolve_to_what_the_messages_api_was_sent(
    database_url: str, temporal_address: str, tmp_path: Path
) -> None:
    with anthropic_messages_double() as llm:
        llm.enqueue(
            200,
            anthropic_message(
                {
                    "type": "tool_use",
                    "id": "tu_1",
                    "name": "calculator",
                    "input": {"expression": "3*3"},
                }
            ),
        )
        llm.enqueue(200, anthropic_message({"type": "text", "text": "Nine."}))
        llm.enqueue(200, anthropic_message({"type": "text", "text": "Goodbye."}))
        provider = {"ANTHROPIC_BASE_URL": llm.base_url, "ANTHROPIC_API_KEY": "test-key"}
        engine = Engine(database_url, temporal_address, tmp_path, extra_env=provider)
        try:
            engine.start_worker()
            with tenant_on(engine, database_url, tmp_path) as tenant:
                config = scripted_config(
                    model={"provider": "anthropic", "name": "claude-test"},
                    system_prompt="Use the calculator.",
                )
                _thread, runs = two_turns(tenant, agent_with(tenant, config))
                requests = resolved_requests(tenant, runs)
        finally:
            engine.stop()
    assert len(requests) == len(llm.requests) == 3
    for request, received in zip(requests, llm.requests, strict=True):
        assert anthropic_messages._messages(neutral(request)) == received.body["messages"]
        assert request["system_prompt"] == received.body["system"]
        assert [tool["name"] for tool in request["tools"]] == [
            tool["name"] for tool in received.body["tools"]
        ]


@pytest.mark.usefixtures("engine_env")
def test_each_model_step_resolves_to_what_the_provider_was_sent(tenant_a: Api) -> None:
    with chat_completions_double() as llm:
        calls: list[tuple[str, str, dict[str, Any] | str]] = [
            ("call_a", "calculator", {"expression": "3*3"})
        ]
        llm.enqueue(200, chat_completion(tool_calls=calls))
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
        thread_id, runs = two_turns(tenant_a, agent_with(tenant_a, config, name="recorded"))
        requests = resolved_requests(tenant_a, runs)
    assert len(requests) == len(llm.requests) == 3
    for request, received in zip(requests, llm.requests, strict=True):
        assert as_wire(request) == received.body["messages"]
        offered = [tool["function"] for tool in received.body["tools"]]
        assert [(t["name"], t["parameters"]) for t in offered] == [
            (t["name"], t["parameters"]) for t in request["tools"]
        ]
        assert request["parameters"]["temperature"] == received.body["temperature"] == 0
    # The step stores references, not the conversation: its input stays small.
    listed = steps_of(tenant_a, runs[1]["id"])[0]["input"]
    assert listed["prompt"] == {"thread_id": thread_id, "steps_before": 0, "dropped": 0}
    assert requests[-1]["system_prompt"].endswith("Answer in one word.")
    assert [m["run_id"] for m in requests[-1]["messages"]][:4] == [runs[0]["id"]] * 4
