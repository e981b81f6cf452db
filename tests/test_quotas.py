"""Tenant quotas: set by platform admins, enforced with 429 and Retry-After, usage reported."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.settings import Settings
from tests.conftest import settings_for_test
from tests.helpers import Api, agent_with, calc, free_port, script, steps_of, wait_for_run

QUICK = script({"text": "ok"})


def set_quotas(admin: Api, tenant: Api, **quotas: Any) -> Any:
    return admin.ok(admin.patch(f"/v1/tenants/{tenant.tenant_id}", json={"quotas": quotas}))


def quota_refusal(response: Any, quota: str) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"]["quota"]) == ("quota_exceeded", quota)
    assert int(response.headers["Retry-After"]) >= 1
    return dict(error)


def test_platform_admins_set_quotas_and_tenants_read_them(admin: Api, tenant_a: Api) -> None:
    url = f"/v1/tenants/{tenant_a.tenant_id}"
    assert tenant_a.ok(tenant_a.get(url))["quotas"]["max_concurrent_runs"] is None
    updated = set_quotas(admin, tenant_a, max_concurrent_runs=3, runs_per_minute=10)
    assert (updated["quotas"]["max_concurrent_runs"], updated["quotas"]["runs_per_minute"]) == (
        3,
        10,
    )
    # Quotas not given stay; null makes one unlimited.
    again = set_quotas(admin, tenant_a, runs_per_minute=None, max_cost_usd_per_day=2.5)
    assert again["quotas"]["max_concurrent_runs"] == 3
    assert again["quotas"]["runs_per_minute"] is None
    assert again["quotas"]["max_cost_usd_per_day"] == 2.5
    assert tenant_a.ok(tenant_a.get(url))["quotas"] == again["quotas"]
    refused = tenant_a.patch(url, json={"quotas": {"max_concurrent_runs": 1000}})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("quotas", "field"),
    [
        ({"max_concurrent_runs": -1}, "quotas.max_concurrent_runs"),
        ({"max_concurrent_runs": True}, "quotas.max_concurrent_runs"),
        ({"runs_per_minute": "5"}, "quotas.runs_per_minute"),
        ({"max_tokens_per_day": 2**70}, "quotas.max_tokens_per_day"),
        ({"max_runs": 5}, "quotas.max_runs"),
    ],
)
def test_bad_quotas_are_422_naming_the_field(
    admin: Api, tenant_a: Api, quotas: dict[str, Any], field: str
) -> None:
    response = admin.patch(f"/v1/tenants/{tenant_a.tenant_id}", json={"quotas": quotas})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == field


@pytest.fixture
def settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    # Without an engine answering, runs stay queued, so they stay active.
    return settings_for_test(
        database_url, tmp_path, request, TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}"
    )


def test_concurrent_runs_beyond_the_quota_get_429(admin: Api, tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, QUICK)
    set_quotas(admin, tenant_a, max_concurrent_runs=2)
    for _ in range(2):
        assert tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"}).status_code == 202
    refused = tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"})
    error = quota_refusal(refused, "max_concurrent_runs")
    assert (error["details"]["limit"], error["details"]["used"]) == (2, 2)
    assert len(tenant_a.ok(tenant_a.get("/v1/runs"))["items"]) == 2  # nothing half-written
    usage = tenant_a.ok(tenant_a.get(f"/v1/tenants/{tenant_a.tenant_id}/usage"))
    assert (usage["active_runs"], usage["runs_last_minute"]) == (2, 2)
    assert usage["quotas"]["max_concurrent_runs"] == 2


def test_quotas_of_one_tenant_leave_others_alone(admin: Api, tenant_a: Api, tenant_b: Api) -> None:
    set_quotas(admin, tenant_a, max_concurrent_runs=0)
    agent_b = agent_with(tenant_b, QUICK)
    assert tenant_b.post(f"/v1/agents/{agent_b}/runs", json={"input": "hi"}).status_code == 202
    agent_a = agent_with(tenant_a, QUICK)
    quota_refusal(
        tenant_a.post(f"/v1/agents/{agent_a}/runs", json={"input": "hi"}), "max_concurrent_runs"
    )
    refused = tenant_a.get(f"/v1/tenants/{tenant_b.tenant_id}/usage")
    assert refused.status_code == 404


def test_runs_per_minute(admin: Api, tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, QUICK)
    set_quotas(admin, tenant_a, runs_per_minute=3)
    for _ in range(3):
        assert tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "x"}).status_code == 202
    refused = tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "x"})
    quota_refusal(refused, "runs_per_minute")
    assert int(refused.headers["Retry-After"]) <= 60
    # A repeated Idempotency-Key is the same run, not a new one: never refused for the rate.
    set_quotas(admin, tenant_a, runs_per_minute=None)
    key = {"Idempotency-Key": "once"}
    first = tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "x"}, headers=key)
    set_quotas(admin, tenant_a, runs_per_minute=1)
    again = tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "x"}, headers=key)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])


def test_the_quota_holds_across_api_processes(
    admin: Api, tenant_a: Api, settings: Settings
) -> None:
    """Two apps (as two API processes, each with its own connection pool) admit at once."""
    agent_id = agent_with(tenant_a, QUICK)
    set_quotas(admin, tenant_a, max_concurrent_runs=3)
    second: FastAPI = create_app(settings)
    try:
        with TestClient(second) as other_client:
            callers = [tenant_a, Api(other_client, tenant_a.token, tenant_a.tenant_id)]
            for caller in callers:
                # One request each first, refused (no input), so no two threads build a
                # route's request validators at once (pydantic warns when they race).
                refused = caller.post(f"/v1/agents/{agent_id}/runs", json={})
                assert refused.status_code == 422

            def start(index: int) -> int:
                caller = callers[index % 2]
                response = caller.post(f"/v1/agents/{agent_id}/runs", json={"input": "x"})
                return int(response.status_code)

            with ThreadPoolExecutor(max_workers=8) as pool:
                answers = list(pool.map(start, range(16)))
    finally:
        second.state.engine.dispose()
    assert sorted(answers) == [202] * 3 + [429] * 13
    assert len(tenant_a.ok(tenant_a.get("/v1/runs"))["items"]) == 3


def test_the_daily_token_budget_stops_model_calls_and_new_runs(
    engine_env: dict[str, str], admin: Api, tenant_a: Api
) -> None:
    # The first model call is allowed (nothing spent yet) and spends more than the budget;
    # the next model call of the same run is refused: the run fails with the quota's code.
    agent_id = agent_with(tenant_a, script(calc("1+1"), {"text": "two"}))
    set_quotas(admin, tenant_a, max_tokens_per_day=5)
    run = tenant_a.ok(tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"}), 202)
    finished = wait_for_run(tenant_a, run["id"])
    assert (finished["status"], finished["error"]["code"]) == ("failed", "tenant_quota_exceeded")
    assert "max_tokens_per_day" in finished["error"]["message"]
    kinds = [(s["kind"], s["status"]) for s in steps_of(tenant_a, run["id"])]
    assert kinds[:2] == [("model", "succeeded"), ("tool", "succeeded")]
    usage = tenant_a.ok(tenant_a.get(f"/v1/tenants/{tenant_a.tenant_id}/usage"))
    assert usage["tokens_today"] > 5
    refused = tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"})
    quota_refusal(refused, "max_tokens_per_day")
    # Raising the budget lets runs through again.
    set_quotas(admin, tenant_a, max_tokens_per_day=None)
    again = tenant_a.ok(tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"}), 202)
    assert wait_for_run(tenant_a, again["id"])["status"] == "succeeded"
