"""Release aliases: set, moved, audited; runs and thread turns resolve them once; weighted splits
keep each thread on one version; every step names the worker build that ran it."""

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from core.versions import pick_target
from tests.helpers import (
    Api,
    calc,
    error_fields,
    script,
    scripted_config,
    steps_of,
    wait_for_run,
)

GATED_CALCULATOR = {"type": "builtin", "name": "calculator", "requires_approval": True}


def versions_answering(api: Api, *answers: str, **config: Any) -> str:
    """An agent whose version N answers `answers[N-1]` (after a calculator call)."""
    agent = api.new_agent("release-bot")
    for answer in answers:
        api.publish(agent["id"], script(calc("6*7"), {"text": answer}, **config))
    return str(agent["id"])


def chat_versions(api: Api, *answers: str) -> str:
    """An agent whose version N answers `answers[N-1]` at every turn of a thread."""
    agent = api.new_agent("chat-bot")
    for answer in answers:
        model = {"provider": "scripted", "name": "demo"}
        parameters = {"script": [{"text": answer}], "repeat": True}
        api.publish(agent["id"], scripted_config(model={**model, "parameters": parameters}))
    return str(agent["id"])


def set_alias(api: Api, agent_id: str, name: str, **body: Any) -> Any:
    return api.ok(api.put(f"/v1/agents/{agent_id}/aliases/{name}", json=body))


def history(api: Api, agent_id: str, name: str) -> list[Any]:
    return list(api.ok(api.get(f"/v1/agents/{agent_id}/aliases/{name}/history"))["items"])


def test_an_alias_is_set_moved_deleted_and_every_move_audited(tenant_a: Api) -> None:
    agent_id = versions_answering(tenant_a, "one", "two", "three")
    created = set_alias(tenant_a, agent_id, "prod", version=1)
    assert (created["name"], created["version"], created["versions"]) == (
        "prod",
        1,
        [{"version": 1, "weight": 100}],
    )
    assert created["updated_by_name"] == "test key"
    set_alias(tenant_a, agent_id, "prod", version=1)  # no move: nothing recorded
    set_alias(tenant_a, agent_id, "prod", version=3)
    set_alias(tenant_a, agent_id, "staging", version=2)
    listed = tenant_a.ok(tenant_a.get(f"/v1/agents/{agent_id}/aliases"))["items"]
    assert [(a["name"], a["version"]) for a in listed] == [("prod", 3), ("staging", 2)]
    assert tenant_a.ok(tenant_a.get(f"/v1/agents/{agent_id}/aliases/prod"))["version"] == 3

    assert tenant_a.delete(f"/v1/agents/{agent_id}/aliases/prod").status_code == 204
    assert tenant_a.get(f"/v1/agents/{agent_id}/aliases/prod").status_code == 404
    moves = history(tenant_a, agent_id, "prod")
    assert [
        ([t["version"] for t in m["from_versions"]], [t["version"] for t in m["to_versions"]])
        for m in moves
    ] == [([3], []), ([1], [3]), ([], [1])]
    assert all(m["moved_by_name"] == "test key" for m in moves)
    assert moves[0]["moved_at"] >= moves[1]["moved_at"] >= moves[2]["moved_at"]
    # A deleted alias names nothing: a run through it is a 422 naming `version`.
    refused = tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi", "version": "prod"})
    assert (refused.status_code, error_fields(refused)) == (422, ["version"])


def test_bad_aliases_are_422s_naming_the_field(tenant_a: Api) -> None:
    agent_id = versions_answering(tenant_a, "one")
    url = f"/v1/agents/{agent_id}/aliases"
    cases = [
        ("Prod!", {"version": 1}, "name"),
        ("latest", {"version": 1}, "name"),
        ("prod", {"version": 9}, "version"),
        (
            "prod",
            {"versions": [{"version": 1, "weight": 50}, {"version": 2, "weight": 50}]},
            "versions.1.version",
        ),
        ("prod", {"version": 1, "versions": [{"version": 1, "weight": 1}]}, "body"),
        ("prod", {"versions": [{"version": 1, "weight": 0}]}, "versions.0.weight"),
        ("prod", {"version": 2**40}, "version"),
    ]
    for name, body, field in cases:
        response = tenant_a.put(f"{url}/{name}", json=body)
        assert response.status_code == 422, (name, body, response.text)
        assert error_fields(response) == [field], (name, body, response.text)
    bad_reference = tenant_a.post(
        f"/v1/agents/{agent_id}/runs", json={"input": "hi", "version": "Not An Alias"}
    )
    assert (bad_reference.status_code, error_fields(bad_reference)) == (422, ["version"])
    assert tenant_a.ok(tenant_a.get(url))["items"] == []


def test_roles_and_tenancy(tenant_a: Api, tenant_b: Api) -> None:
    agent_id = versions_answering(tenant_a, "one")
    set_alias(tenant_a, agent_id, "prod", version=1)
    viewer = tenant_a.as_role("viewer")
    assert viewer.get(f"/v1/agents/{agent_id}/aliases/prod").status_code == 200
    assert viewer.put(f"/v1/agents/{agent_id}/aliases/prod", json={"version": 1}).status_code == 403
    assert viewer.delete(f"/v1/agents/{agent_id}/aliases/prod").status_code == 403
    developer = tenant_a.as_role("developer")
    assert (
        developer.put(f"/v1/agents/{agent_id}/aliases/dev", json={"version": 1}).status_code == 200
    )
    base = f"/v1/agents/{agent_id}/aliases"
    for method, url in (
        ("GET", base),
        ("GET", f"{base}/prod"),
        ("PUT", f"{base}/prod"),
        ("DELETE", f"{base}/prod"),
        ("GET", f"{base}/prod/history"),
    ):
        answer = tenant_b.request(method, url, json={"version": 1} if method == "PUT" else None)
        assert answer.status_code == 404, (method, url)


def test_a_weighted_split_is_stable_per_key_and_near_its_weights() -> None:
    targets = [{"version": 3, "weight": 90}, {"version": 4, "weight": 10}]
    picks = Counter(pick_target(targets, f"als_x:thread-{n}") for n in range(10_000))
    assert 800 <= picks[4] <= 1200, picks
    assert all(
        pick_target(targets, f"als_x:thread-{n}") == pick_target(targets, f"als_x:thread-{n}")
        for n in range(100)
    )
    assert {pick_target([{"version": 7, "weight": 1}], None) for _ in range(20)} == {7}


@pytest.mark.usefixtures("engine_env")
def test_a_run_keeps_the_version_its_alias_named_when_it_started(tenant_a: Api) -> None:
    gated = [GATED_CALCULATOR]
    agent_id = versions_answering(tenant_a, "one", "two", tools=gated)
    set_alias(tenant_a, agent_id, "prod", version=1)
    run = tenant_a.ok(
        tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi", "version": "prod"}), 202
    )
    assert (run["version"], run["alias"]) == (1, "prod")
    wait_for_run(tenant_a, run["id"], until={"awaiting_approval"})
    set_alias(tenant_a, agent_id, "prod", version=2)  # moved while the run waits
    (approval,) = tenant_a.ok(tenant_a.get(f"/v1/runs/{run['id']}/approvals"))["items"]
    decided = tenant_a.post(
        f"/v1/runs/{run['id']}/approvals/{approval['id']}", json={"decision": "approve"}
    )
    assert decided.status_code == 200, decided.text
    ended = wait_for_run(tenant_a, run["id"])
    assert (ended["status"], ended["output"], ended["version"], ended["alias"]) == (
        "succeeded",
        "one",
        1,
        "prod",
    )
    after_move = tenant_a.ok(
        tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi", "version": "prod"}), 202
    )
    assert (after_move["version"], after_move["alias"]) == (2, "prod")
    listed = tenant_a.ok(tenant_a.get(f"/v1/runs/{run['id']}"))
    assert (listed["version"], listed["alias"]) == (1, "prod")


@pytest.mark.usefixtures("engine_env")
def test_each_thread_turn_resolves_the_alias_anew_and_history_shows_it(tenant_a: Api) -> None:
    agent_id = chat_versions(tenant_a, "one", "two")
    set_alias(tenant_a, agent_id, "prod", version=1)
    thread = tenant_a.ok(tenant_a.post("/v1/threads", json={}), 201)
    url = f"/v1/threads/{thread['id']}/runs"
    first = tenant_a.ok(
        tenant_a.post(url, json={"agent": agent_id, "input": "a", "version": "prod"}), 202
    )
    assert wait_for_run(tenant_a, first["id"])["output"] == "one"
    set_alias(tenant_a, agent_id, "prod", version=2)
    second = tenant_a.ok(
        tenant_a.post(url, json={"agent": agent_id, "input": "b", "version": "prod"}), 202
    )
    assert wait_for_run(tenant_a, second["id"])["output"] == "two"
    third = tenant_a.ok(
        tenant_a.post(url, json={"agent": agent_id, "input": "c", "version": 1}), 202
    )
    wait_for_run(tenant_a, third["id"])
    turns = tenant_a.ok(tenant_a.get(f"/v1/threads/{thread['id']}/history"))
    assert [(t["version"], t["alias"]) for t in turns] == [(1, "prod"), (2, "prod"), (1, None)]


@pytest.mark.usefixtures("engine_env")
def test_a_weighted_split_over_100_threads(tenant_a: Api) -> None:
    agent_id = chat_versions(tenant_a, "one", "two")
    split = [{"version": 1, "weight": 90}, {"version": 2, "weight": 10}]
    assert set_alias(tenant_a, agent_id, "canary", versions=split)["version"] is None
    first_turns: dict[str, Any] = {}
    for n in range(100):
        thread = tenant_a.ok(tenant_a.post("/v1/threads", json={}), 201)
        first_turns[thread["id"]] = tenant_a.ok(
            tenant_a.post(
                f"/v1/threads/{thread['id']}/runs",
                json={"agent": agent_id, "input": f"n{n}", "version": "canary"},
            ),
            202,
        )
    counts = Counter(run["version"] for run in first_turns.values())
    # 100 draws at p = 0.1: outside 1..25 happens less than once in a million.
    assert 1 <= counts[2] <= 25, counts
    assert counts[1] + counts[2] == 100
    assert {run["alias"] for run in first_turns.values()} == {"canary"}
    # A thread's later turns keep its version while the weights stay.
    for thread_id, first in list(first_turns.items())[:10]:
        later = tenant_a.ok(
            tenant_a.post(
                f"/v1/threads/{thread_id}/runs",
                json={
                    "agent": agent_id,
                    "input": "again",
                    "version": "canary",
                    "multitask_strategy": "enqueue",
                },
            ),
            202,
        )
        assert later["version"] == first["version"]
        assert wait_for_run(tenant_a, later["id"])["output"] == ["one", "two"][later["version"] - 1]
    for run in first_turns.values():
        wait_for_run(tenant_a, run["id"])


@pytest.mark.usefixtures("engine_env")
def test_every_step_names_the_worker_build_that_ran_it(tenant_a: Api) -> None:
    agent_id = versions_answering(tenant_a, "one")
    run = tenant_a.ok(tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"}), 202)
    wait_for_run(tenant_a, run["id"])
    builds = {step["worker_build"] for step in steps_of(tenant_a, run["id"])}
    (build,) = builds
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{12}", build), build
    one = tenant_a.ok(tenant_a.get(f"/v1/runs/{run['id']}/steps/1"))
    assert one["worker_build"] == build


def test_worker_build_id_is_the_configured_one_or_a_digest_of_the_code() -> None:
    from worker.main import worker_build_id
    from worker.settings import WorkerSettings

    assert worker_build_id(WorkerSettings(WORKER_BUILD_ID="release-2026.12")) == "release-2026.12"
    derived = worker_build_id(WorkerSettings())
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{12}", derived)
    assert worker_build_id(WorkerSettings()) == derived


def test_moves_at_once_are_audited_one_after_another(tenant_a: Api) -> None:
    agent_id = versions_answering(tenant_a, *(f"v{n}" for n in range(1, 7)))
    set_alias(tenant_a, agent_id, "prod", version=1)  # the app's validators built once
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(
            pool.map(
                lambda n: (
                    tenant_a.put(
                        f"/v1/agents/{agent_id}/aliases/prod", json={"version": n}
                    ).status_code
                ),
                range(2, 7),
            )
        )
    assert answers == [200] * 5
    moves = list(reversed(history(tenant_a, agent_id, "prod")))
    chain = [
        ([t["version"] for t in m["from_versions"]], [t["version"] for t in m["to_versions"]])
        for m in moves
    ]
    # Each move starts where the one before it ended: none read a stale alias.
    assert all(chain[i][0] == chain[i - 1][1] for i in range(1, len(chain))), chain
    assert len(chain) == 6
    final = tenant_a.ok(tenant_a.get(f"/v1/agents/{agent_id}/aliases/prod"))["version"]
    assert [final] == chain[-1][1]
