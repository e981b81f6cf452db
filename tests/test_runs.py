"""Runs end to end: REST API -> Temporal dev server -> worker process -> database."""

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from backend.services.runs import _request_hash
from core.models import RunCreate
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
from tests.provider_doubles import chat_completion, chat_completions_double, openai_error

pytestmark = pytest.mark.usefixtures("engine_env")


def test_a_run_calls_the_model_and_the_tool_and_answers(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, script(calc("6*7"), {"text": "It is 42."}))
    started = run_agent(tenant_a, agent_id, "What is 6 times 7?")
    assert started["status"] == "queued"
    assert started["version"] == 1
    run = wait_for_run(tenant_a, started["id"])
    assert run["status"] == "succeeded", run
    assert run["output"] == "It is 42."
    steps = steps_of(tenant_a, run["id"])
    assert [(s["seq"], s["kind"], s["name"], s["status"]) for s in steps] == [
        (1, "model", "demo", "succeeded"),
        (2, "tool", "calculator", "succeeded"),
        (3, "model", "demo", "succeeded"),
    ]
    assert steps[1]["input"]["arguments"] == {"expression": "6*7"}
    assert steps[1]["output"]["content"]["result"] == 42
    assert all(s["attempt"] == 1 and s["ended_at"] for s in steps)
    assert run["usage"]["input_tokens"] == sum(s["usage"]["input_tokens"] for s in steps) > 0
    assert run["usage"]["output_tokens"] == sum(s["usage"]["output_tokens"] for s in steps) > 0
    assert run["started_at"] <= run["ended_at"]


def test_without_a_script_the_scripted_model_echoes(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, {"model": {"provider": "scripted"}})
    run = wait_for_run(tenant_a, run_agent(tenant_a, agent_id, "echo me")["id"])
    assert (run["status"], run["output"]) == ("succeeded", "echo me")


def test_runs_pin_the_version_asked_for(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "one"}))
    tenant_a.publish(agent_id, script({"text": "two"}))
    latest = wait_for_run(tenant_a, run_agent(tenant_a, agent_id)["id"])
    first = wait_for_run(tenant_a, run_agent(tenant_a, agent_id, version=1)["id"])
    assert (latest["version"], latest["output"]) == (2, "two")
    assert (first["version"], first["output"]) == (1, "one")
    missing = tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "x", "version": 9})
    assert missing.status_code == 422
    assert error_fields(missing) == ["version"]
    no_input = tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"version": 1})
    assert error_fields(no_input) == ["input"]
    bare = tenant_a.new_agent("no-versions")
    assert tenant_a.post(f"/v1/agents/{bare['id']}/runs", json={"input": "x"}).status_code == 409


def test_idempotency_key_gives_the_same_run(tenant_a: Api, tenant_b: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "done"}))
    url = f"/v1/agents/{agent_id}/runs"
    key = {"Idempotency-Key": "order-1234"}
    first = tenant_a.post(url, json={"input": "go"}, headers=key)
    again = tenant_a.post(url, json={"input": "go"}, headers=key)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["id"] == again.json()["id"]
    other_body = tenant_a.post(url, json={"input": "something else"}, headers=key)
    assert other_body.status_code == 422
    assert other_body.json()["error"]["code"] == "idempotency_key_reused"
    listed = tenant_a.ok(tenant_a.get("/v1/runs", params={"agent_id": agent_id}))["items"]
    assert [r["id"] for r in listed] == [first.json()["id"]]
    # The key belongs to tenant A: B may use the same key for its own run.
    b_agent = agent_with(tenant_b, script({"text": "b"}))
    b_run = tenant_b.post(f"/v1/agents/{b_agent}/runs", json={"input": "go"}, headers=key)
    assert b_run.status_code == 202
    assert b_run.json()["id"] != first.json()["id"]
    assert wait_for_run(tenant_a, first.json()["id"])["status"] == "succeeded"


def test_invalid_tool_arguments_go_back_to_the_model(tenant_a: Api) -> None:
    config = script(
        {"tool_calls": [{"name": "calculator", "arguments": {"expr": 1}}]},
        {"tool_calls": [{"name": "teleport", "arguments": {}}]},
        calc("1/0"),
        {"text": "I could not compute it."},
    )
    run = wait_for_run(tenant_a, run_agent(tenant_a, agent_with(tenant_a, config))["id"])
    assert run["status"] == "succeeded"
    steps = steps_of(tenant_a, run["id"])
    tool_steps = [s for s in steps if s["kind"] == "tool"]
    assert [s["status"] for s in tool_steps] == ["failed", "failed", "failed"]
    assert "expression" in tool_steps[0]["error"]["message"]
    assert "teleport" in tool_steps[1]["error"]["message"]
    assert "division by zero" in tool_steps[2]["error"]["message"]


@pytest.mark.parametrize(
    ("limits", "turns", "model", "code"),
    [
        ({"max_steps": 3}, [calc("1+1")] * 5, "demo", "max_steps_exceeded"),
        ({"max_tokens": 30}, [calc("1+1")] * 5, "demo", "max_tokens_exceeded"),
        ({"max_cost_usd": 0.5}, [calc("1+1")] * 5, "priced", "max_cost_exceeded"),
    ],
    ids=["steps", "tokens", "cost"],
)
def test_limits_end_the_run_with_a_clear_code(
    tenant_a: Api, limits: dict[str, Any], turns: list[Any], model: str, code: str
) -> None:
    config = script(*turns, model=model, limits=limits)
    run = wait_for_run(tenant_a, run_agent(tenant_a, agent_with(tenant_a, config))["id"])
    assert run["status"] == "failed"
    assert run["error"]["code"] == code
    steps = steps_of(tenant_a, run["id"])
    assert all(s["status"] != "running" for s in steps)
    if code == "max_steps_exceeded":
        assert len(steps) == 3
    if code == "max_cost_exceeded":
        assert run["cost_usd"] >= 0.5


def test_the_run_timeout_ends_it_as_timed_out(tenant_a: Api) -> None:
    config = script({"text": "too late", "delay_seconds": 30}, limits={"timeout_seconds": 2})
    run = wait_for_run(tenant_a, run_agent(tenant_a, agent_with(tenant_a, config))["id"])
    assert run["status"] == "timed_out"
    assert run["error"]["code"] == "run_timeout"
    (step,) = steps_of(tenant_a, run["id"])
    assert step["status"] == "failed"


def test_cancel_reaches_the_running_step(tenant_a: Api) -> None:
    config = script({"text": "never", "delay_seconds": 60})
    run = run_agent(tenant_a, agent_with(tenant_a, config))
    wait_for_run(tenant_a, run["id"], until={"running"})
    cancelling = tenant_a.ok(tenant_a.post(f"/v1/runs/{run['id']}/cancel"), 202)
    assert cancelling["status"] in {"cancelling", "cancelled"}
    ended = wait_for_run(tenant_a, run["id"], timeout=20)
    assert ended["status"] == "cancelled"
    assert [s["status"] for s in steps_of(tenant_a, run["id"])] == ["cancelled"]
    again = tenant_a.post(f"/v1/runs/{run['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "run_finished"


def test_non_retryable_errors_fail_the_run_with_an_actionable_message(tenant_a: Api) -> None:
    broken = script({"error": {"message": "the model refused the prompt", "retryable": False}})
    run = wait_for_run(tenant_a, run_agent(tenant_a, agent_with(tenant_a, broken, "broken"))["id"])
    assert run["status"] == "failed"
    assert run["error"]["message"] == "the model refused the prompt"
    (step,) = steps_of(tenant_a, run["id"])
    assert (step["status"], step["attempt"]) == ("failed", 1)

    no_key = scripted_config(model={"provider": "openai", "name": "gpt-4o-mini"})
    run = wait_for_run(tenant_a, run_agent(tenant_a, agent_with(tenant_a, no_key, "openai"))["id"])
    assert run["status"] == "failed"
    assert run["error"]["code"] == "provider_auth"
    assert "OPENAI_API_KEY" in run["error"]["message"]


def test_runs_of_another_tenant_are_invisible(tenant_a: Api, tenant_b: Api) -> None:
    run = run_agent(tenant_a, agent_with(tenant_a, script({"text": "mine"})))
    for response in (
        tenant_b.get(f"/v1/runs/{run['id']}"),
        tenant_b.get(f"/v1/runs/{run['id']}/steps"),
        tenant_b.post(f"/v1/runs/{run['id']}/cancel"),
    ):
        assert response.status_code == 404
    assert tenant_b.ok(tenant_b.get("/v1/runs"))["items"] == []
    assert wait_for_run(tenant_a, run["id"])["status"] == "succeeded"


def test_list_runs_filters_by_status_and_agent(tenant_a: Api) -> None:
    good = agent_with(tenant_a, script({"text": "ok"}), "good")
    bad = agent_with(tenant_a, script({"error": {"message": "no"}}), "bad")
    ok_run = wait_for_run(tenant_a, run_agent(tenant_a, good)["id"])
    failed_run = wait_for_run(tenant_a, run_agent(tenant_a, bad)["id"])
    by_status = tenant_a.ok(tenant_a.get("/v1/runs", params={"status": "failed"}))["items"]
    assert [r["id"] for r in by_status] == [failed_run["id"]]
    by_agent = tenant_a.ok(tenant_a.get("/v1/runs", params={"agent_id": good}))["items"]
    assert [r["id"] for r in by_agent] == [ok_run["id"]]
    assert tenant_a.get("/v1/runs", params={"status": "sleeping"}).status_code == 422


def test_a_long_run_continues_as_new_and_keeps_its_transcript(tenant_a: Api) -> None:
    """Steps-per-execution is 6 in tests: 25 steps span several workflow executions."""
    turns = [calc(f"{i}+1") for i in range(12)] + [{"text": "counted"}]
    config = script(*turns, limits={"max_steps": 100})
    run = wait_for_run(tenant_a, run_agent(tenant_a, agent_with(tenant_a, config))["id"])
    assert run["status"] == "succeeded", run
    steps = steps_of(tenant_a, run["id"])
    assert [s["seq"] for s in steps] == list(range(1, 26))
    assert steps[-2]["output"]["content"]["result"] == 12


def test_an_openai_compatible_model_through_the_worker(tenant_a: Api) -> None:
    """The real client code path against a local chat-completions server, with a 429 retried."""
    with chat_completions_double() as llm:
        llm.enqueue(429, openai_error("rate_limit_error", "slow down", "rate_limit_exceeded"))
        llm.enqueue(
            200, chat_completion(tool_calls=[("call_a", "calculator", {"expression": "3*3"})])
        )
        llm.enqueue(200, chat_completion("Three squared is 9.", prompt_tokens=40))
        config = scripted_config(
            model={
                "provider": "openai_compatible",
                "name": "local-llm",
                "parameters": {"base_url": llm.base_url, "temperature": 0},
            },
            system_prompt="Use the calculator.",
        )
        run = wait_for_run(
            tenant_a, run_agent(tenant_a, agent_with(tenant_a, config), "3*3?")["id"]
        )
        assert (run["status"], run["output"]) == ("succeeded", "Three squared is 9.")
        steps = steps_of(tenant_a, run["id"])
        assert [(s["kind"], s["attempt"]) for s in steps] == [
            ("model", 2),
            ("tool", 1),
            ("model", 1),
        ]
        assert steps[0]["usage"] == {"input_tokens": 11, "output_tokens": 7}
        assert run["usage"]["input_tokens"] == 11 + 40
        final_request = llm.requests[-1].body
        assert final_request["model"] == "local-llm"
        assert final_request["temperature"] == 0
        assert final_request["messages"][0] == {"role": "system", "content": "Use the calculator."}
        tool_message = final_request["messages"][-1]
        assert tool_message["role"] == "tool"
        assert tool_message["tool_call_id"] == "call_a"
        assert '"result": 9' in tool_message["content"]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ids_of(api: Api, **params: Any) -> list[str]:
    return [run["id"] for run in api.ok(api.get("/v1/runs", params=params))["items"]]


def every_page(api: Api, **params: Any) -> list[str]:
    """The ids of every run, one per page, following `next_cursor`."""
    ids: list[str] = []
    query = {**params, "limit": 1}
    while True:
        page = api.ok(api.get("/v1/runs", params=query))
        ids.extend(run["id"] for run in page["items"])
        if page["next_cursor"] is None:
            return ids
        query["cursor"] = page["next_cursor"]


def test_list_runs_searches_the_input_in_any_case(tenant_a: Api, tenant_b: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "ok"}))
    refund = run_agent(tenant_a, agent_id, "Where is my REFUND for order 42?")
    policy = run_agent(tenant_a, agent_id, "What is the refund policy?")
    sale = run_agent(tenant_a, agent_id, "Is 50% off_sale still on?")
    plain = run_agent(tenant_a, agent_id, "50 percent off sale")
    run_agent(tenant_b, agent_with(tenant_b, script({"text": "ok"})), "refund please")
    assert ids_of(tenant_a, q="Refund") == [policy["id"], refund["id"]]
    assert ids_of(tenant_a, q="refund", agent_id=agent_id, limit=1) == [policy["id"]]
    # % and _ are the characters themselves, not patterns.
    assert ids_of(tenant_a, q="50%") == [sale["id"]]
    assert ids_of(tenant_a, q="f_s") == [sale["id"]]
    assert ids_of(tenant_a, q="no such words") == []
    assert set(ids_of(tenant_a, q="")) == {refund["id"], policy["id"], sale["id"], plain["id"]}
    for bad in ("x" * 201, "refund\x00"):
        response = tenant_a.get("/v1/runs", params={"q": bad})
        assert response.status_code == 422, response.text
        assert error_fields(response) == ["q"]
    for run in (refund, policy, sale, plain):
        wait_for_run(tenant_a, run["id"])


def test_list_runs_between_two_creation_times(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "ok"}))
    first, second, third = (run_agent(tenant_a, agent_id, f"run {n}") for n in range(3))
    middle = moment(second["created_at"])
    assert ids_of(tenant_a, created_after=middle.isoformat()) == [third["id"], second["id"]]
    assert ids_of(tenant_a, created_before=middle.isoformat()) == [first["id"]]
    both = {"created_after": middle.isoformat(), "created_before": third["created_at"]}
    assert ids_of(tenant_a, **both) == [second["id"]]
    # Without an offset a time is UTC; with one it is converted.
    naive = middle.astimezone(UTC).replace(tzinfo=None).isoformat()
    shifted = middle.astimezone(timezone(timedelta(hours=-5))).isoformat()
    assert ids_of(tenant_a, created_after=naive) == ids_of(tenant_a, created_after=shifted)
    assert ids_of(tenant_a, created_after=naive) == [third["id"], second["id"]]
    for field, value in (("created_after", "tuesday"), ("created_before", "2025-02-30T00:00:00")):
        response = tenant_a.get("/v1/runs", params={field: value})
        assert response.status_code == 422, response.text
        assert error_fields(response) == [field]
    for run in (first, second, third):
        wait_for_run(tenant_a, run["id"])


def test_list_runs_sorts_by_creation_duration_and_cost_and_pages_each_sort(
    tenant_a: Api,
) -> None:
    limits = {"max_steps": 10, "max_cost_usd": 100.0, "timeout_seconds": 600}
    runs = []
    # Distinct durations (the model's delay) and costs (words in the input, $0.10 each).
    for delay, text in ((0.6, "one"), (0.0, "one two three"), (0.3, "one two")):
        config = script({"text": "ok", "delay_seconds": delay}, model="priced", limits=limits)
        runs.append(
            wait_for_run(
                tenant_a, run_agent(tenant_a, agent_with(tenant_a, config, text), text)["id"]
            )
        )
    assert [run["status"] for run in runs] == ["succeeded"] * 3, runs
    unended = run_agent(tenant_a, agent_with(tenant_a, script({"text": "x", "delay_seconds": 60})))
    by_id = {run["id"]: run for run in runs}

    def duration(run_id: str) -> timedelta:
        run = by_id[run_id]
        return moment(run["ended_at"]) - moment(run["started_at"])

    created = [*by_id, unended["id"]]  # started one after the other
    by_duration = sorted(by_id, key=duration)
    by_cost = sorted(by_id, key=lambda run_id: by_id[run_id]["cost_usd"])
    assert len({by_id[run_id]["cost_usd"] for run_id in by_id}) == 3
    expected = {
        "created_at": created,
        "-created_at": created[::-1],
        # A run that has not ended comes last either way; it has cost nothing yet.
        "duration": [*by_duration, unended["id"]],
        "-duration": [*by_duration[::-1], unended["id"]],
        "cost": [unended["id"], *by_cost],
        "-cost": [*by_cost[::-1], unended["id"]],
    }
    for sort, order in expected.items():
        assert ids_of(tenant_a, sort=sort) == order, sort
        assert every_page(tenant_a, sort=sort) == order, sort
    assert ids_of(tenant_a) == expected["-created_at"]

    # A cursor pages only the sort it came from.
    page = tenant_a.ok(tenant_a.get("/v1/runs", params={"sort": "cost", "limit": 1}))
    for other in ("-cost", "duration", "-created_at"):
        response = tenant_a.get("/v1/runs", params={"sort": other, "cursor": page["next_cursor"]})
        assert response.status_code == 422, response.text
        assert error_fields(response) == ["cursor"]
    response = tenant_a.get("/v1/runs", params={"sort": "name"})
    assert response.status_code == 422
    assert error_fields(response) == ["sort"]
    tenant_a.ok(tenant_a.post(f"/v1/runs/{unended['id']}/cancel"), 202)
    assert wait_for_run(tenant_a, unended["id"])["status"] == "cancelled"


def test_schedule_keys_are_not_a_callers_and_old_requests_replay(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "done"}))
    url = f"/v1/agents/{agent_id}/runs"
    taken = tenant_a.post(
        url, json={"input": "go"}, headers={"Idempotency-Key": "schedule:sch_x:sch_x-2026"}
    )
    assert (taken.status_code, error_fields(taken)) == (422, ["Idempotency-Key"])
    # A body without the fields added since hashes as it did before them.
    body = RunCreate(input="go")
    before = {"agent_id": agent_id, "version": "latest", "input": "go", "context": {}}
    canonical = json.dumps(before, sort_keys=True, separators=(",", ":"))
    assert _request_hash(agent_id, body) == hashlib.sha256(canonical.encode()).hexdigest()


def test_a_runs_own_webhook_is_checked_and_shown_without_its_query(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "done"}))
    url = f"/v1/agents/{agent_id}/runs"
    for bad in ("http://example.com:99999/", "http://[::1/", "ftp://example.com/", "x" * 3000):
        refused = tenant_a.post(url, json={"input": "go", "webhook": bad})
        assert (refused.status_code, error_fields(refused)) == (422, ["webhook"]), bad
    metadata = tenant_a.post(url, json={"input": "go", "webhook": "http://169.254.169.254/x"})
    assert (metadata.status_code, error_fields(metadata)) == (422, ["webhook"])
    run = tenant_a.ok(
        tenant_a.post(
            url, json={"input": "go", "webhook": "https://example.com/hooks?token=s3cret#x"}
        ),
        202,
    )
    assert run["webhook"] == "https://example.com/hooks"
    assert "s3cret" not in tenant_a.ok_text(f"/v1/runs/{run['id']}")
    wait_for_run(tenant_a, run["id"])
