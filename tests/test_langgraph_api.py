"""The LangGraph-compatible API driven by LangGraph's own SDK (`langgraph-sdk`, async and sync)
against the API over real HTTP, a worker and Temporal: a conversation with a tool call streamed
in three modes, waits and joins, a dropped connection the SDK resumes by itself, cancel, an
interrupt answered with a `Command`, state and history, and another tenant's thread."""

import asyncio
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import messages_from_dict
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError
from langgraph_sdk.schema import Command, StreamPart

from backend.settings import Settings
from tests.helpers import Api, agent_with, calc, script, wait_for_run
from tests.live_api import LiveStack, Relay, live_stack

pytestmark = pytest.mark.usefixtures("engine_env")

MODES = ["values", "updates", "messages-tuple"]
# Turn 1 answers; turn 2 calls the calculator, then answers from its result.
CHAT = script(
    {"text": "Hello {last_user}, I am here to help you today.", "chunk_delay_seconds": 0.05},
    calc("6*7"),
    {"text": "It is 42 ({user_count} questions so far).", "chunk_delay_seconds": 0.05},
)
GATED = {"type": "builtin", "name": "calculator", "requires_approval": True}


class Stack(LiveStack):
    @property
    def base(self) -> str:
        return f"{self.url}/langgraph"


@pytest.fixture
def stack(settings: Settings) -> Iterator[Stack]:
    with live_stack(settings) as live:
        yield Stack(live.url, live.app, live.tenant, live.other)


def sdk(stack: Stack, api: Api | None = None, url: str | None = None) -> Any:
    return get_client(url=url or stack.base, api_key=(api or stack.tenant).token)


def collect(parts: list[StreamPart], event: str) -> list[Any]:
    return [part.data for part in parts if part.event == event]


def streamed_text(parts: list[StreamPart], message_id: str) -> str:
    return "".join(
        chunk["content"]
        for chunk, _meta in collect(parts, "messages")
        if chunk["id"] == message_id and chunk["type"] == "AIMessageChunk"
    )


async def _stream(client: Any, thread_id: str | None, **kwargs: Any) -> list[StreamPart]:
    return [part async for part in client.runs.stream(thread_id, **kwargs)]


def test_a_conversation_streams_values_updates_and_tokens(stack: Stack) -> None:
    agent_id = agent_with(stack.tenant, CHAT, name="chat")

    async def converse() -> tuple[list[StreamPart], list[StreamPart], Any, Any]:
        client = sdk(stack)
        (assistant,) = await client.assistants.search(graph_id="chat")
        assert (assistant["assistant_id"], assistant["version"]) == (agent_id, 1)
        assert (await client.assistants.get("chat"))["assistant_id"] == agent_id
        thread = await client.threads.create(metadata={"user": "ada"})
        first = await _stream(
            client,
            thread["thread_id"],
            assistant_id="chat",
            input={"messages": [{"role": "user", "content": "Ada"}]},
            stream_mode=MODES,
        )
        second = await _stream(
            client,
            thread["thread_id"],
            assistant_id=agent_id,
            input={"messages": [{"type": "human", "content": "What is six times seven?"}]},
            stream_mode=MODES,
        )
        state = await client.threads.get_state(thread["thread_id"])
        shown = await client.threads.get(thread["thread_id"])
        await client.aclose()
        return first, second, state, shown

    first, second, state, shown = asyncio.run(converse())
    run_id = first[0].data["run_id"]
    assert first[0].event == "metadata"
    assert first[-1].event == "end"
    final = collect(first, "values")[-1]["messages"]
    assert [(m["type"], m["content"]) for m in final] == [
        ("human", "Ada"),
        ("ai", "Hello Ada, I am here to help you today."),
    ]
    # The tokens streamed add up to the message, under the message's own id, once.
    assert streamed_text(first, final[1]["id"]) == "Hello Ada, I am here to help you today."
    assert len(collect(first, "messages")) > 2
    assert collect(first, "updates") == [{"model": {"messages": [final[1]]}}]
    assert final[1]["usage_metadata"]["output_tokens"] > 0

    messages = collect(second, "values")[-1]["messages"]
    assert [m["type"] for m in messages] == ["human", "ai", "human", "ai", "tool", "ai"]
    call = messages[3]["tool_calls"][0]
    assert (call["name"], call["args"]) == ("calculator", {"expression": "6*7"})
    assert (messages[4]["tool_call_id"], json.loads(messages[4]["content"])["result"]) == (
        call["id"],
        42,
    )
    assert messages[5]["content"] == "It is 42 (2 questions so far)."
    assert [next(iter(update)) for update in collect(second, "updates")] == [
        "model",
        "tools",
        "model",
    ]
    assert streamed_text(second, messages[5]["id"]) == messages[5]["content"]
    tool_results = [c for c, _meta in collect(second, "messages") if c["type"] == "tool"]
    assert [t["id"] for t in tool_results] == [messages[4]["id"]]
    # Every message parses as LangChain's own.
    parsed = messages_from_dict([{"type": m["type"], "data": m} for m in messages])
    assert [type(m).__name__ for m in parsed] == [
        *("HumanMessage", "AIMessage", "HumanMessage", "AIMessage", "ToolMessage", "AIMessage")
    ]
    assert state["values"]["messages"] == messages
    assert (state["next"], state["interrupts"]) == ([], [])
    assert (shown["status"], shown["metadata"], shown["values"]["messages"]) == (
        "idle",
        {"user": "ada"},
        messages,
    )
    assert run_id != second[0].data["run_id"]


def test_wait_join_history_and_the_sync_client(stack: Stack) -> None:
    agent_with(stack.tenant, CHAT, name="chat")
    client: Any = get_sync_client(url=stack.base, api_key=stack.tenant.token)
    thread = client.threads.create()
    answer = client.runs.wait(
        thread["thread_id"],
        "chat",
        input={"messages": [{"role": "user", "content": "Bob"}]},
        metadata={"source": "test"},
    )
    assert [m["content"] for m in answer["messages"]] == [
        "Bob",
        "Hello Bob, I am here to help you today.",
    ]
    run = client.runs.create(
        thread["thread_id"],
        "chat",
        input={"messages": [{"role": "user", "content": "Six times seven?"}]},
        config={"configurable": {"version": 1}},
    )
    assert run["status"] in ("pending", "running")
    joined = client.runs.join(thread["thread_id"], run["run_id"])
    assert joined["messages"][-1]["content"] == "It is 42 (2 questions so far)."
    listed = client.runs.list(thread["thread_id"])
    assert (listed[0]["run_id"], listed[0]["status"]) == (run["run_id"], "success")
    assert listed[1]["metadata"] == {"source": "test"}
    assert client.runs.get(thread["thread_id"], run["run_id"])["status"] == "success"
    history = client.threads.get_history(thread["thread_id"])
    assert [len(h["values"]["messages"]) for h in history] == [6, 2]
    assert history[0]["checkpoint"]["checkpoint_id"] == run["run_id"]
    assert history[0]["parent_checkpoint"]["checkpoint_id"] == listed[1]["run_id"]
    older = client.threads.get_history(thread["thread_id"], before=history[0]["checkpoint"])
    assert [h["checkpoint"]["checkpoint_id"] for h in older] == [listed[1]["run_id"]]
    # A stateless run: a thread of its own.
    alone = client.runs.wait(None, "chat", input={"messages": [{"role": "user", "content": "Cy"}]})
    assert alone["messages"][-1]["content"] == "Hello Cy, I am here to help you today."
    found = client.threads.search(metadata={"user": "nobody"})
    assert found == []
    assert client.threads.count() == 2
    assert client.assistants.get_schemas("chat")["input_schema"]["required"] == ["messages"]
    versions = client.assistants.get_versions("chat")
    assert [(v["version"], v["config"]) for v in versions] == [
        (1, {"configurable": {"version": 1}})
    ]
    client.close()


def test_a_dropped_connection_resumes_without_gap_or_duplicate(stack: Stack) -> None:
    """The SDK reconnects by itself (to `Location`, with `Last-Event-ID`) when the connection
    drops mid-stream; `join_stream` with a part id resumes after it too."""
    slow = script({"text": " ".join(f"word{n}" for n in range(40)), "chunk_delay_seconds": 0.05})
    agent_with(stack.tenant, slow, name="slow")
    port = int(stack.url.rsplit(":", 1)[1])
    relay = Relay(port)
    relay.start()
    try:

        async def through_a_drop() -> tuple[list[StreamPart], list[StreamPart]]:
            client = sdk(stack, url=f"{relay.url}/langgraph")
            thread = await client.threads.create()
            parts: list[StreamPart] = []
            async for part in client.runs.stream(
                thread["thread_id"],
                "slow",
                input={"messages": [{"role": "user", "content": "talk"}]},
                stream_mode=MODES,
            ):
                parts.append(part)
                if len(collect(parts, "messages")) == 5:
                    relay.drop()  # the SDK sees the connection reset and reconnects
            run_id = parts[0].data["run_id"]
            middle = next(p for p in parts if p.event == "messages")
            rejoined = [
                part
                async for part in client.runs.join_stream(
                    thread["thread_id"], run_id, stream_mode=MODES, last_event_id=middle.id
                )
            ]
            await client.aclose()
            return parts, rejoined

        parts, rejoined = asyncio.run(through_a_drop())
    finally:
        relay.stop()
    full = " ".join(f"word{n}" for n in range(40))
    final = collect(parts, "values")[-1]["messages"][-1]
    assert final["content"] == full
    assert streamed_text(parts, final["id"]) == full
    ids = [part.id for part in parts]
    assert len(ids) == len(set(ids))
    assert parts[-1].event == "end"
    # Rejoined after the first token: everything after it, nothing before.
    first_chunk = collect(parts, "messages")[0][0]["content"]
    assert first_chunk + streamed_text(rejoined, final["id"]) == full
    assert [p.id for p in rejoined] == ids[ids.index(rejoined[0].id) :]


def test_cancel_and_interrupts_resumed_by_a_command(stack: Stack) -> None:
    gated = script(calc("6*7"), {"text": "Done: 42."}, tools=[GATED])
    agent_with(stack.tenant, gated, name="gated")
    agent_with(stack.tenant, script({"text": "slow", "delay_seconds": 30}), name="sleepy")

    async def interrupted() -> tuple[Any, ...]:
        client = sdk(stack)
        thread = await client.threads.create()
        tid = thread["thread_id"]
        stopped = await _stream(
            client,
            tid,
            assistant_id="gated",
            input={"messages": [{"role": "user", "content": "compute"}]},
            stream_mode=["values", "updates"],
        )
        waiting_thread = await client.threads.get(tid)
        waiting_state = await client.threads.get_state(tid)
        resumed = await _stream(
            client,
            tid,
            assistant_id="gated",
            command=Command(resume={"decision": "approve", "comment": "fine"}),
            stream_mode=["values", "updates"],
        )
        with pytest.raises(ConflictError):
            await client.runs.create(tid, "gated", command=Command(resume={"decision": "approve"}))
        sleepy = await client.threads.create()
        run = await client.runs.create(
            sleepy["thread_id"], "sleepy", input={"messages": [{"role": "user", "content": "x"}]}
        )
        await client.runs.cancel(sleepy["thread_id"], run["run_id"], wait=True)
        cancelled = await client.runs.get(sleepy["thread_id"], run["run_id"])
        # A stream whose client goes away cancels its run when asked to (`on_disconnect`).
        left = await client.threads.create()
        stream = client.runs.stream(
            left["thread_id"],
            "sleepy",
            input={"messages": ["x"]},
            on_disconnect="cancel",
        )
        async with contextlib.aclosing(stream) as parts:
            async for part in parts:
                assert part.event == "metadata"
                abandoned = part.data["run_id"]
                break
        await client.aclose()
        return stopped, waiting_thread, waiting_state, resumed, cancelled, abandoned

    stopped, waiting_thread, waiting_state, resumed, cancelled, abandoned = asyncio.run(
        interrupted()
    )
    assert wait_for_run(stack.tenant, abandoned)["status"] == "cancelled"
    (interrupt,) = collect(stopped, "updates")[-1]["__interrupt__"]
    assert interrupt == collect(stopped, "values")[-1]["__interrupt__"][0]
    assert stopped[-1].event == "end"
    value = interrupt["value"]
    assert (value["tool_call"]["name"], value["tool_call"]["args"], value["decisions"]) == (
        "calculator",
        {"expression": "6*7"},
        ["approve", "reject"],
    )
    assert waiting_thread["status"] == "interrupted"
    assert list(waiting_thread["interrupts"].values()) == [[interrupt]]
    assert (waiting_state["next"], waiting_state["interrupts"]) == (["tools"], [interrupt])
    # The resumed run is the interrupted one; its stream goes on to the end.
    assert resumed[0].data["run_id"] == stopped[0].data["run_id"]
    final = collect(resumed, "values")[-1]["messages"]
    assert [m["type"] for m in final] == ["human", "ai", "tool", "ai"]
    assert final[-1]["content"] == "Done: 42."
    assert [next(iter(u)) for u in collect(resumed, "updates")] == ["tools", "model"]
    assert resumed[-1].event == "end"
    assert cancelled["status"] == "interrupted"
    run = wait_for_run(stack.tenant, cancelled["run_id"])
    assert run["status"] == "cancelled"


def test_tenancy_keys_and_bad_input(stack: Stack) -> None:
    agent_with(stack.tenant, CHAT, name="chat")

    async def probe() -> None:
        ours, theirs = sdk(stack), sdk(stack, stack.other)
        thread = await ours.threads.create()
        tid = thread["thread_id"]
        for call in (
            theirs.threads.get(tid),
            theirs.threads.get_state(tid),
            theirs.runs.list(tid),
            theirs.assistants.get("chat"),
        ):
            with pytest.raises(NotFoundError):
                await call
        with pytest.raises(NotFoundError):
            await _stream(theirs, tid, assistant_id="chat", input={"messages": ["hi"]})
        assert await theirs.assistants.search() == []
        assert await theirs.threads.search() == []
        assert await theirs.threads.count() == 0
        with pytest.raises(ConflictError):
            await ours.threads.create(thread_id=tid)
        assert (await ours.threads.create(thread_id=tid, if_exists="do_nothing"))[
            "thread_id"
        ] == tid
        with pytest.raises(UnprocessableEntityError):
            await ours.runs.create(
                tid, "chat", input={"messages": [{"type": "ai", "content": "x"}]}
            )
        await ours.aclose()
        await theirs.aclose()

    asyncio.run(probe())
    http = stack.tenant.client
    tid = stack.tenant.ok(stack.tenant.post("/v1/threads", json={}), 201)["id"]
    path = f"/langgraph/threads/{tid}/runs"
    key = {"x-api-key": stack.tenant.token}
    for body, field in [
        (
            {"assistant_id": "chat", "input": {"messages": [{"type": "ai", "content": "x"}]}},
            "input.messages.0",
        ),
        ({"assistant_id": "chat", "input": {"messages": []}}, "input.messages"),
        ({"assistant_id": "chat", "input": {"other": 1}}, "input.other"),
        ({"assistant_id": "chat"}, "input"),
        (
            {"assistant_id": "chat", "input": {"messages": ["hi"]}, "interrupt_before": ["tools"]},
            "interrupt_before",
        ),
        (
            {
                "assistant_id": "chat",
                "input": {"messages": ["hi"]},
                "config": {"configurable": {"version": 9}},
            },
            "version",
        ),
        (
            {"assistant_id": "chat", "input": {"messages": ["hi"]}, "stream_mode": "debug"},
            "stream_mode",
        ),
        ({"assistant_id": "nobody", "input": {"messages": ["hi"]}}, "agent"),
    ]:
        answer = http.post(path, json=body, headers=key)
        assert answer.status_code == 422, (body, answer.text)
        fields = [d["field"] for d in answer.json()["error"]["details"]]
        assert any(field in f for f in fields), (field, answer.text)
    bad_id = http.get(f"{path}/run_x/stream", headers={**key, "Last-Event-ID": "nonsense"})
    assert bad_id.status_code in (404, 422)
    assert http.get("/langgraph/threads/x", headers={"x-api-key": "ark_wrong"}).status_code == 401
    assert http.get("/langgraph/threads/x").status_code == 401
