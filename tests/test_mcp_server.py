"""The API's MCP server (`/mcp`) driven by the `mcp` SDK's own client against the API over real
HTTP, a worker and Temporal, in both protocol eras (the 2026 per-request wire the client picks by
itself, and the handshake era's sessions): the tenant's agents as tools, a call answered with
the run's output and progress per step, a thread continued across calls, a failed run and bad
arguments as tool errors, a cancelled call that cancels its run, and the credentials it takes."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from backend.settings import Settings
from core.models.alias import ALIAS_HELP
from tests.helpers import Api, agent_with, calc, script, wait_for_run
from tests.live_api import LiveStack, live_stack

pytestmark = pytest.mark.usefixtures("engine_env")

MODES = ["auto", "legacy"]
INPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "input": {"type": "string"},
        "thread_id": {"type": "string"},
        "version": {"description": "a version number, 'latest' or an alias (e.g. 'prod')"},
    },
    "required": ["input"],
}


class Stack(LiveStack):
    @property
    def mcp(self) -> str:
        return f"{self.url}/mcp"


@pytest.fixture
def stack(settings: Settings) -> Iterator[Stack]:
    with live_stack(settings) as live:
        yield Stack(live.url, live.app, live.tenant, live.other)


@asynccontextmanager
async def connected(
    stack: Stack, api: Api, mode: str = "auto", bearer: bool = False
) -> AsyncIterator[Client]:
    """An MCP client of the API acting with `api`'s key (as `x-api-key`, or a bearer token)."""
    headers = {"Authorization": f"Bearer {api.token}"} if bearer else {"x-api-key": api.token}
    timeout = httpx2.Timeout(30, read=300)  # a call waits for its run on an open stream
    async with httpx2.AsyncClient(headers=headers, timeout=timeout) as http:
        transport = streamable_http_client(stack.mcp, http_client=http)
        async with Client(transport, mode=mode, cache=None) as client:
            yield client


def text_of(result: CallToolResult) -> str:
    (block,) = result.content
    assert isinstance(block, TextContent)
    return block.text


def test_the_tools_are_the_tenants_agents_that_can_run(stack: Stack) -> None:
    tenant = stack.tenant
    summarize = tenant.new_agent("summarize", description="Summarizes a text.")
    tenant.publish(summarize["id"], script({"text": "short"}))
    agent_with(tenant, script({"text": "hi"}), name="two words/ok")
    archived = agent_with(tenant, script({"text": "old"}), name="retired")
    tenant.ok(tenant.patch(f"/v1/agents/{archived}", json={"archived": True}))
    tenant.new_agent("draft")  # no version: it cannot run
    agent_with(stack.other, script({"text": "theirs"}), name="b-agent")

    async def listings() -> tuple[Any, Any, CallToolResult]:
        async with connected(stack, tenant, bearer=True) as client:
            ours = (await client.list_tools()).tools
        async with connected(stack, stack.other, mode="legacy") as client:
            theirs = (await client.list_tools()).tools
            reached = await client.call_tool("summarize", {"input": "x"})
        return ours, theirs, reached

    ours, theirs, reached = asyncio.run(listings())
    assert [(tool.name, tool.description) for tool in ours] == [
        ("summarize", "Summarizes a text."),
        ("two_words_ok", "Runs the agent 'two words/ok'."),
    ]
    assert all(tool.input_schema == INPUT_SCHEMA for tool in ours)
    # Another tenant sees none of these, and cannot call them.
    assert [tool.name for tool in theirs] == ["b-agent"]
    assert reached.is_error
    assert text_of(reached) == "Unknown tool: summarize"


@pytest.mark.parametrize("mode", MODES)
def test_a_call_answers_with_the_runs_output_and_reports_its_steps(stack: Stack, mode: str) -> None:
    agent_id = agent_with(stack.tenant, script(calc("6*7"), {"text": "It is 42."}), name="calc")
    reported: list[tuple[float, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append((progress, message))

    async def call() -> CallToolResult:
        async with connected(stack, stack.tenant, mode) as client:
            return await client.call_tool(
                "calc", {"input": "six times seven?"}, progress_callback=on_progress
            )

    result = asyncio.run(call())
    assert not result.is_error
    assert text_of(result) == "It is 42."
    structured = result.structured_content
    assert structured is not None
    run = stack.tenant.ok(stack.tenant.get(f"/v1/runs/{structured['run_id']}"))
    assert (run["agent_id"], run["status"], run["input"]) == (
        agent_id,
        "succeeded",
        "six times seven?",
    )
    assert structured == {
        "run_id": run["id"],
        "status": "succeeded",
        "output": "It is 42.",
        "usage": run["usage"],
        "cost_usd": run["cost_usd"],
    }
    # One notification per finished step: the model, the calculator, the model.
    assert [done for done, _message in reported] == [1, 2, 3]
    assert reported[1][1] == "step 2 (tool calculator) succeeded"


def test_calls_with_a_thread_id_continue_its_conversation(stack: Stack) -> None:
    chat = script({"text": "Hello {last_user}."}, {"text": "{last_user} makes {user_count}."})
    agent_with(stack.tenant, chat, name="chat")
    thread = stack.tenant.ok(stack.tenant.post("/v1/threads", json={}), 201)

    async def converse() -> list[CallToolResult]:
        async with connected(stack, stack.tenant) as client:
            return [
                await client.call_tool("chat", {"input": text, "thread_id": thread["id"]})
                for text in ("Ada", "Bob")
            ]

    first, second = asyncio.run(converse())
    assert (text_of(first), text_of(second)) == ("Hello Ada.", "Bob makes 2.")
    runs = stack.tenant.ok(stack.tenant.get(f"/v1/threads/{thread['id']}/runs"))
    assert [run["id"] for run in runs] == [
        (result.structured_content or {})["run_id"] for result in (first, second)
    ]


def test_a_failed_run_is_a_tool_error(stack: Stack) -> None:
    failing = script({"error": {"message": "the model is down", "code": "model_down"}})
    agent_with(stack.tenant, failing, name="broken")

    async def call() -> CallToolResult:
        async with connected(stack, stack.tenant) as client:
            return await client.call_tool("broken", {"input": "hello", "version": 1})

    result = asyncio.run(call())
    assert result.is_error
    assert text_of(result) == "the run ended failed: the model is down"
    structured = result.structured_content or {}
    assert (structured["status"], structured["output"]) == ("failed", None)
    assert structured["error"]["code"] == "model_down"
    run = stack.tenant.ok(stack.tenant.get(f"/v1/runs/{structured['run_id']}"))
    assert run["status"] == "failed"


@pytest.mark.parametrize("mode", MODES)
def test_a_cancelled_call_cancels_its_run(stack: Stack, mode: str) -> None:
    agent_id = agent_with(stack.tenant, script({"text": "x", "delay_seconds": 30}), name="sleepy")

    def running_run() -> Any:
        for _attempt in range(300):
            runs = stack.tenant.ok(stack.tenant.get("/v1/runs", params={"agent_id": agent_id}))
            if runs["items"] and runs["items"][0]["status"] == "running":
                return runs["items"][0]
            time.sleep(0.1)
        raise AssertionError("the call started no run")

    async def call_then_cancel() -> Any:
        async with connected(stack, stack.tenant, mode) as client:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(client.call_tool, "sleepy", {"input": "take your time"})
                run = await asyncio.to_thread(running_run)
                tasks.cancel_scope.cancel()
            return run

    run = asyncio.run(call_then_cancel())
    assert wait_for_run(stack.tenant, run["id"], timeout=20)["status"] == "cancelled"


def test_bad_arguments_and_roles_are_tool_errors(stack: Stack) -> None:
    agent_with(stack.tenant, script({"text": "fine"}), name="fine")
    viewer = stack.tenant.as_role("viewer")
    calls: dict[str, tuple[str, dict[str, Any]]] = {
        "nothing": ("fine", {}),
        "a number": ("fine", {"input": 5}),
        "unknown": ("fine", {"input": "x", "colour": "red"}),
        "no such version": ("fine", {"input": "x", "version": 9}),
        "a bad version": ("fine", {"input": "x", "version": "Two!"}),
        "no such alias": ("fine", {"input": "x", "version": "prod"}),
        "a bad thread id": ("fine", {"input": "x", "thread_id": 7}),
        "no such thread": ("fine", {"input": "x", "thread_id": "thr_missing"}),
        "no such tool": ("missing", {"input": "x"}),
    }

    async def attempts() -> tuple[dict[str, CallToolResult], list[str], CallToolResult]:
        async with connected(stack, stack.tenant) as client:
            results = {what: await client.call_tool(*call) for what, call in calls.items()}
        async with connected(stack, viewer) as client:
            listed = [tool.name for tool in (await client.list_tools()).tools]
            refused = await client.call_tool("fine", {"input": "x"})
        return results, listed, refused

    results, listed, refused = asyncio.run(attempts())
    assert all(result.is_error for result in results.values())
    messages = {what: text_of(result) for what, result in results.items()}
    assert messages == {
        "nothing": "input: Field required",
        "a number": "input: a string",
        "unknown": "unknown arguments: colour (it takes input, thread_id, version)",
        "no such version": "version: the agent has no version 9",
        "a bad version": "version: Value error, " + ALIAS_HELP,
        "no such alias": "version: the agent has no alias 'prod'",
        "a bad thread id": "thread_id: a string",
        "no such thread": "thread 'thr_missing' not found",
        "no such tool": "Unknown tool: missing",
    }
    # A viewer sees the tools, but running an agent needs a developer.
    assert listed == ["fine"]
    assert refused.is_error
    assert text_of(refused) == "running an agent needs the developer role; you have viewer"
    assert stack.tenant.ok(stack.tenant.get("/v1/runs"))["items"] == []


def test_credentials_are_checked_before_mcp(stack: Stack) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    accept = {"Accept": "application/json, text/event-stream"}
    with httpx.Client(base_url=stack.url, timeout=30) as http:
        missing = http.post("/mcp", json=initialize, headers=accept)
        wrong = http.post("/mcp", json=initialize, headers={**accept, "x-api-key": "ark_x_y"})
        opened = http.post(
            "/mcp", json=initialize, headers={**accept, "x-api-key": stack.tenant.token}
        )
        session = {"Mcp-Session-Id": opened.headers["Mcp-Session-Id"]}
        listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        # Another caller presenting the session's id is told there is no such session.
        borrowed = http.post(
            "/mcp",
            json=listing,
            headers={**accept, **session, "x-api-key": stack.other.token},
        )
        closed = http.delete("/mcp", headers={**session, "x-api-key": stack.tenant.token})
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "unauthorized"
    assert wrong.status_code == 401
    assert opened.status_code == 200
    assert borrowed.status_code == 404
    assert closed.status_code == 200
