"""Threads end to end: conversations across runs through the REST API, a worker and Temporal."""

import json
import time
from typing import Any

import pytest

from core.objectstore.base import ObjectNotFoundError
from tests.helpers import Api, agent_with, calc, error_fields, script, steps_of, wait_for_run

pytestmark = pytest.mark.usefixtures("engine_env")

# Each turn answers from the conversation so far: what the model was sent shows in the answer.
ECHO_CONVERSATION = script(
    {"text": "1: {user_messages}"},
    calc("6*7"),
    {"text": "2: {user_messages} ({user_count})"},
    {"text": "3: {last_user}"},
)


def new_thread(api: Api, **body: Any) -> Any:
    return api.ok(api.post("/v1/threads", json=body), 201)


def turn(api: Api, thread_id: str, agent: str, text: Any, **body: Any) -> Any:
    answer = api.post(f"/v1/threads/{thread_id}/runs", json={"agent": agent, "input": text, **body})
    return api.ok(answer, 202)


def test_a_conversation_continues_across_runs(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, ECHO_CONVERSATION, name="chat")
    thread = new_thread(tenant_a, metadata={"user": "ada"})
    assert (thread["status"], thread["runs"], thread["agent_id"]) == ("idle", 0, None)

    first = wait_for_run(tenant_a, turn(tenant_a, thread["id"], "chat", "hello")["id"])
    assert (first["status"], first["output"], first["thread_id"]) == (
        "succeeded",
        "1: hello",
        thread["id"],
    )
    # The second run sees the first's input and answer, then calls a tool and answers.
    second = wait_for_run(
        tenant_a, turn(tenant_a, thread["id"], agent_id, "six times seven?")["id"]
    )
    assert second["output"] == "2: hello | six times seven? (2)"
    assert [s["kind"] for s in steps_of(tenant_a, second["id"])] == ["model", "tool", "model"]
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "bye"}]
    third = wait_for_run(tenant_a, turn(tenant_a, thread["id"], "chat", messages)["id"])
    assert third["output"] == "3: bye"

    state = tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}/state"))
    assert state["status"] == "idle"
    assert [(m["role"], m["run_id"]) for m in state["messages"]] == [
        ("user", first["id"]),
        ("assistant", first["id"]),
        ("user", second["id"]),
        ("assistant", second["id"]),
        ("tool", second["id"]),
        ("assistant", second["id"]),
        ("system", third["id"]),
        ("user", third["id"]),
        ("assistant", third["id"]),
    ]
    tool_call = state["messages"][3]["tool_calls"][0]
    assert (tool_call["name"], state["messages"][4]["tool_call_id"]) == (
        "calculator",
        tool_call["id"],
    )
    assert json.loads(state["messages"][4]["content"])["result"] == 42
    assert [m["step_seq"] for m in state["messages"][:2]] == [None, 1]

    history = tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}/history"))
    assert [(h["run_id"], h["version"], h["status"], len(h["messages"])) for h in history] == [
        (first["id"], 1, "succeeded", 2),
        (second["id"], 1, "succeeded", 4),
        (third["id"], 1, "succeeded", 3),
    ]
    assert history[1]["usage"] == second["usage"]

    shown = tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}"))
    assert (shown["runs"], shown["agent_id"], shown["status"]) == (3, agent_id, "idle")
    listed = tenant_a.ok(tenant_a.get("/v1/threads", params={"metadata": '{"user": "ada"}'}))
    assert [t["id"] for t in listed["items"]] == [thread["id"]]
    assert (
        tenant_a.ok(tenant_a.get("/v1/threads", params={"metadata": '{"user": "bob"}'}))["items"]
        == []
    )


def test_a_client_chosen_id_and_if_exists(tenant_a: Api, tenant_b: Api) -> None:
    created = new_thread(tenant_a, thread_id="6f1c2a9e-0b7d-4a51-9e55-1f0c2d3b4a5e")
    assert created["id"] == "6f1c2a9e-0b7d-4a51-9e55-1f0c2d3b4a5e"
    again = tenant_a.post("/v1/threads", json={"thread_id": created["id"]})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "thread_exists")
    returned = tenant_a.post(
        "/v1/threads", json={"thread_id": created["id"], "if_exists": "return"}
    )
    assert (returned.status_code, returned.json()["id"]) == (200, created["id"])
    # Another tenant sees nothing of it.
    assert tenant_b.get(f"/v1/threads/{created['id']}").status_code == 404
    body = {"agent": "x", "input": "hi"}
    assert tenant_b.post(f"/v1/threads/{created['id']}/runs", json=body).status_code == 404
    assert tenant_b.delete(f"/v1/threads/{created['id']}").status_code == 404
    assert tenant_b.ok(tenant_b.get("/v1/threads"))["items"] == []


def test_bad_input_names_the_field(tenant_a: Api) -> None:
    agent_with(tenant_a, script({"text": "ok"}), name="chat")
    thread = new_thread(tenant_a)
    path = f"/v1/threads/{thread['id']}/runs"
    for body, field in [
        ({"agent": "chat", "input": []}, "input"),
        ({"agent": "chat", "input": [{"role": "wizard", "content": "x"}]}, "input"),
        ({"agent": "chat", "input": [{"role": "system", "content": "only"}]}, "input"),
        ({"agent": "chat", "input": "hi", "multitask_strategy": "later"}, "multitask_strategy"),
        ({"agent": "chat", "input": "hi", "version": "1"}, "version"),
        ({"agent": "nobody", "input": "hi"}, "agent"),
        ({"agent": "chat", "input": "hi", "version": 7}, "version"),
    ]:
        answer = tenant_a.post(path, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert any(name.startswith(field) for name in error_fields(answer)), (body, answer.text)
    for body, field in [
        ({"thread_id": "no spaces"}, "thread_id"),
        ({"ttl_seconds": 0}, "ttl_seconds"),
        ({"metadata": []}, "metadata"),
    ]:
        answer = tenant_a.post("/v1/threads", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert error_fields(answer) == [field]
    assert tenant_a.get("/v1/threads", params={"metadata": "[1]"}).status_code == 422
    assert tenant_a.get("/v1/threads", params={"cursor": "bm9wZQ"}).status_code == 422
    assert (
        tenant_a.post(
            "/v1/threads/thr_missing/runs", json={"agent": "chat", "input": "hi"}
        ).status_code
        == 404
    )
    assert (
        tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}"))["runs"] == 0
    )  # none half written


SLOW = script({"text": "slow", "delay_seconds": 3}, {"text": "next: {user_messages}"})


def test_reject_is_a_409_naming_the_active_run(tenant_a: Api) -> None:
    agent_with(tenant_a, SLOW, name="chat")
    thread = new_thread(tenant_a)
    active = turn(tenant_a, thread["id"], "chat", "one")
    refused = tenant_a.post(
        f"/v1/threads/{thread['id']}/runs", json={"agent": "chat", "input": "two"}
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["details"] == {"active_run_id": active["id"]}
    assert tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}"))["status"] == "busy"
    busy_delete = tenant_a.delete(f"/v1/threads/{thread['id']}")
    assert (busy_delete.status_code, busy_delete.json()["error"]["code"]) == (409, "thread_busy")
    wait_for_run(tenant_a, active["id"])


def test_enqueue_runs_after_the_active_run_in_order(tenant_a: Api) -> None:
    agent_with(
        tenant_a,
        script(
            {"text": "a", "delay_seconds": 2},
            {"text": "b: {user_messages}"},
            {"text": "c: {user_messages}"},
        ),
        name="chat",
    )
    thread = new_thread(tenant_a)
    first = turn(tenant_a, thread["id"], "chat", "one")
    second = turn(tenant_a, thread["id"], "chat", "two", multitask_strategy="enqueue")
    third = turn(tenant_a, thread["id"], "chat", "three", multitask_strategy="enqueue")
    assert tenant_a.ok(tenant_a.get(f"/v1/runs/{third['id']}"))["status"] == "queued"
    done = [wait_for_run(tenant_a, run["id"]) for run in (first, second, third)]
    assert [run["output"] for run in done] == ["a", "b: one | two", "c: one | two | three"]
    # Each started only after the one before it ended.
    assert done[0]["ended_at"] <= done[1]["started_at"]
    assert done[1]["ended_at"] <= done[2]["started_at"]


@pytest.mark.parametrize("strategy", ["interrupt", "rollback"])
def test_interrupt_keeps_the_cancelled_runs_steps_and_rollback_drops_them(
    tenant_a: Api, strategy: str
) -> None:
    # A turn is picked by how many answers the conversation holds: the second turn answers
    # the interrupted run (then cut short) and, after `interrupt`, the new run; after
    # `rollback` the new run starts the script again.
    agent_with(
        tenant_a,
        script(calc("1+1"), {"text": "now: {user_messages}", "delay_seconds": 4}),
        name="chat",
    )
    thread = new_thread(tenant_a)
    active = turn(tenant_a, thread["id"], "chat", "first")
    deadline = time.monotonic() + 30
    while len(steps_of(tenant_a, active["id"])) < 2:  # its tool call is done
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(1)  # and its second model call under way (4 s long)
    second = turn(tenant_a, thread["id"], "chat", "second", multitask_strategy=strategy)
    cancelled = wait_for_run(tenant_a, active["id"])
    assert cancelled["status"] == "cancelled"
    answered = wait_for_run(tenant_a, second["id"])
    assert answered["status"] == "succeeded", answered
    history = tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}/history"))
    assert [h["rolled_back"] for h in history] == [strategy == "rollback", False]
    roles = [
        m["role"]
        for m in tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}/state"))["messages"]
    ]
    if strategy == "interrupt":
        # The interrupted run's input, tool call and result stay; its cut-short model call does not.
        assert answered["output"] == "now: first | second"
        assert roles == ["user", "assistant", "tool", "user", "assistant"]
    else:
        assert answered["output"] == "now: second"
        assert roles == ["user", "assistant", "tool", "assistant"]


def test_deleting_a_thread_removes_its_runs_and_payloads(tenant_a: Api, app: Any) -> None:
    # An answer larger than the worker's inline limit: the step's output is in the object store.
    agent_with(tenant_a, script({"text": "x" * 70_000}), name="chat")
    thread = new_thread(tenant_a)
    run = wait_for_run(tenant_a, turn(tenant_a, thread["id"], "chat", "hi")["id"])
    assert run["status"] == "succeeded"
    key = steps_of(tenant_a, run["id"])[0]["output"]["$ref"]
    store = app.state.object_store
    assert store.stat(key).size > 70_000
    assert tenant_a.delete(f"/v1/threads/{thread['id']}").status_code == 204
    assert tenant_a.get(f"/v1/threads/{thread['id']}").status_code == 404
    assert tenant_a.get(f"/v1/runs/{run['id']}").status_code == 404
    assert tenant_a.get(f"/v1/runs/{run['id']}/steps").status_code == 404
    with pytest.raises(ObjectNotFoundError):
        store.stat(key)
    gone = tenant_a.post(f"/v1/threads/{thread['id']}/runs", json={"agent": "chat", "input": "hi"})
    assert gone.status_code == 404


def test_a_thread_past_its_time_to_live_is_deleted_once_idle(tenant_a: Api, app: Any) -> None:
    from backend.services.thread_sweeper import ThreadSweeper

    agent_with(tenant_a, script({"text": "ok"}), name="chat")
    short = new_thread(tenant_a, ttl_seconds=1)
    kept = new_thread(tenant_a, ttl_seconds=3600)
    wait_for_run(tenant_a, turn(tenant_a, short["id"], "chat", "hi")["id"])
    sweeper = ThreadSweeper(app.state.engine, app.state.object_store, app.state.event_log, 60)
    time.sleep(1.2)
    assert sweeper.sweep() == 1
    assert tenant_a.get(f"/v1/threads/{short['id']}").status_code == 404
    assert tenant_a.get(f"/v1/threads/{kept['id']}").status_code == 200
    patched = tenant_a.ok(
        tenant_a.patch(f"/v1/threads/{kept['id']}", json={"ttl_seconds": 5, "metadata": {"a": "b"}})
    )
    assert (patched["ttl_seconds"], patched["metadata"]) == (5, {"a": "b"})


def test_a_viewer_reads_threads_but_adds_nothing(tenant_a: Api) -> None:
    thread = new_thread(tenant_a)
    viewer = tenant_a.as_role("viewer")
    assert viewer.get(f"/v1/threads/{thread['id']}").status_code == 200
    assert viewer.get(f"/v1/threads/{thread['id']}/state").status_code == 200
    assert viewer.post("/v1/threads", json={}).status_code == 403
    assert (
        viewer.post(
            f"/v1/threads/{thread['id']}/runs", json={"agent": "a", "input": "x"}
        ).status_code
        == 403
    )
    assert viewer.delete(f"/v1/threads/{thread['id']}").status_code == 403


def test_approvals_on_a_thread_and_a_cancel_while_one_waits(tenant_a: Api) -> None:
    gated = script(
        calc("6*7"),
        {"text": "42: {user_count}"},
        calc("1+1"),
        {"text": "unused"},
        tools=[{"type": "builtin", "name": "calculator", "requires_approval": True}],
    )
    agent_with(tenant_a, gated, name="chat")
    thread = new_thread(tenant_a)
    first = turn(tenant_a, thread["id"], "chat", "six times seven?")
    wait_for_run(tenant_a, first["id"], until={"awaiting_approval"})
    assert tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}"))["status"] == "interrupted"
    (approval,) = tenant_a.ok(tenant_a.get(f"/v1/runs/{first['id']}/approvals"))["items"]
    decided = tenant_a.post(
        f"/v1/runs/{first['id']}/approvals/{approval['id']}", json={"decision": "approve"}
    )
    assert decided.status_code == 200, decided.text
    assert wait_for_run(tenant_a, first["id"])["output"] == "42: 1"

    second = turn(tenant_a, thread["id"], "chat", "and one plus one?")
    wait_for_run(tenant_a, second["id"], until={"awaiting_approval"})
    assert tenant_a.post(f"/v1/runs/{second['id']}/cancel").status_code == 202
    assert wait_for_run(tenant_a, second["id"])["status"] == "cancelled"
    messages = tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}/state"))["messages"]
    # The call that never ran is answered once, with an error, so a provider accepts the thread.
    asked = messages[-2]["tool_calls"][0]
    tools = [m for m in messages if m["role"] == "tool" and m["run_id"] == second["id"]]
    assert [(m["tool_call_id"], m["is_error"]) for m in tools] == [(asked["id"], True)]
    assert tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}"))["status"] == "idle"


def test_a_context_window_drops_the_oldest_turns_whole_and_says_so(tenant_a: Api) -> None:
    config = script({"text": "saw: {user_messages}"}, context_window={"max_input_tokens": 60})
    config["model"]["parameters"]["repeat"] = True
    agent_with(tenant_a, config, name="chat")
    thread = new_thread(tenant_a)
    said = [f"turn {n} " + "x" * 80 for n in range(1, 4)] + ["huge " + "y" * 2000]
    answers = []
    for text in said:
        run = wait_for_run(tenant_a, turn(tenant_a, thread["id"], "chat", text)["id"])
        assert run["status"] == "succeeded", run  # even a turn larger than the window runs
        answers.append(run)
    # Each turn alone fits; with the one before it does not, so only the newest is sent.
    assert [run["output"] for run in answers] == [f"saw: {text}" for text in said]
    for run, dropped in zip(answers, (0, 2, 4, 6), strict=True):
        step = tenant_a.ok(tenant_a.get(f"/v1/runs/{run['id']}/steps/1"))
        assert step["input"]["prompt"]["dropped"] == dropped
        assert step["request"]["dropped"] == dropped
        assert [m["content"] for m in step["request"]["messages"]] == [run["input"]]
    # The thread itself keeps everything.
    state = tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}/state"))
    assert len(state["messages"]) == 8
    bad = script({"text": "x"}, context_window={"max_input_tokens": 0})
    published = tenant_a.post(f"/v1/agents/{answers[0]['agent_id']}/versions", json=bad)
    assert published.status_code == 422
    assert error_fields(published) == ["context_window.max_input_tokens"]


def test_a_run_over_its_limit_fails_and_the_thread_goes_on(tenant_a: Api) -> None:
    # Two steps allowed: the first run's tool call uses both, so its answer is over the limit.
    looping = script(calc("1+1"), {"text": "after: {user_count}"}, limits={"max_steps": 2})
    agent_with(tenant_a, looping, name="chat")
    thread = new_thread(tenant_a)
    failed = wait_for_run(tenant_a, turn(tenant_a, thread["id"], "chat", "loop")["id"])
    assert (failed["status"], failed["error"]["code"]) == ("failed", "max_steps_exceeded")
    assert tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}"))["status"] == "error"
    # The next turn sees the failed one's input and its completed steps, and answers.
    after = wait_for_run(tenant_a, turn(tenant_a, thread["id"], "chat", "again")["id"])
    assert after["status"] == "succeeded", after
    assert after["output"] == "after: 2"
    assert tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}"))["status"] == "idle"
