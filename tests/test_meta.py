"""`GET /v1/meta`: the API's vocabulary is the code's own, for every role."""

from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient

from core.models import ApprovalStatus, Role, RunStatus, StepKind, StepStatus
from core.models.agent_config import BUILTIN_TOOLS, TOOL_TYPES, HttpTool, Limits, ModelProvider
from core.models.limits import MAX_CONTEXT_BYTES, MAX_JSON_DEPTH
from core.models.run import TERMINAL_STATUSES
from tests.helpers import Api, scripted_config


def meta_of(api: Api) -> Any:
    return api.ok(api.get("/v1/meta"))


def test_run_statuses_are_the_enums_and_the_machines(tenant_a: Api) -> None:
    statuses = meta_of(tenant_a)["run_statuses"]
    assert statuses["all"] == [status.value for status in RunStatus]
    assert set(statuses["terminal"]) == TERMINAL_STATUSES
    assert set(statuses["active"]) | set(statuses["terminal"]) == set(statuses["all"])
    assert not set(statuses["active"]) & set(statuses["terminal"])


def test_kinds_statuses_and_roles_are_the_enums(tenant_a: Api) -> None:
    meta = meta_of(tenant_a)
    assert meta["step_kinds"] == [kind.value for kind in StepKind]
    assert meta["step_statuses"] == [status.value for status in StepStatus]
    assert meta["approval_statuses"] == [status.value for status in ApprovalStatus]
    assert meta["roles"] == ["admin", "developer", "viewer"]
    assert set(meta["roles"]) == {role.value for role in Role}


def test_providers_tools_and_methods_are_the_configurations(tenant_a: Api) -> None:
    meta = meta_of(tenant_a)
    assert meta["model_providers"] == list(get_args(ModelProvider))
    assert set(meta["tool_types"]) == TOOL_TYPES
    assert meta["http_methods"] == list(get_args(HttpTool.model_fields["method"].annotation))
    assert {tool["name"]: tool for tool in meta["builtin_tools"]} == {
        name: {"name": name, **tool} for name, tool in BUILTIN_TOOLS.items()
    }
    assert meta["limit_defaults"] == Limits().model_dump()


def test_what_meta_lists_the_api_accepts(tenant_a: Api) -> None:
    """Every provider, built-in tool and method meta names publishes (and nothing else does)."""
    meta = meta_of(tenant_a)
    agent = tenant_a.new_agent()
    for provider in meta["model_providers"]:
        model = {"provider": provider, "name": "m"}
        tenant_a.publish(agent["id"], scripted_config(model=model))
    tools = [{"type": "builtin", "name": tool["name"]} for tool in meta["builtin_tools"]]
    tools += [
        {"type": "http", "name": f"call_{method}", "url": "https://example.com", "method": method}
        for method in meta["http_methods"]
    ]
    tenant_a.publish(agent["id"], scripted_config(tools=tools))
    unknown = scripted_config(model={"provider": "elsewhere", "name": "m"})
    assert tenant_a.post(f"/v1/agents/{agent['id']}/versions", json=unknown).status_code == 422


def test_request_limits_are_the_ones_enforced(client: TestClient, tenant_a: Api) -> None:
    limits = meta_of(tenant_a)["request_limits"]
    assert limits["max_request_bytes"] == client.app.state.settings.max_request_bytes  # type: ignore[attr-defined]
    assert (limits["max_json_depth"], limits["max_context_bytes"]) == (
        MAX_JSON_DEPTH,
        MAX_CONTEXT_BYTES,
    )
    too_large = tenant_a.post("/v1/agents", content=b" " * (limits["max_request_bytes"] + 1))
    assert too_large.status_code == 413
    too_many = tenant_a.get("/v1/agents", params={"limit": limits["max_page_size"] + 1})
    assert too_many.status_code == 422
    assert tenant_a.get("/v1/agents", params={"limit": limits["max_page_size"]}).status_code == 200


@pytest.mark.parametrize("role", ["admin", "developer", "viewer"])
def test_every_role_reads_the_same_meta(admin: Api, tenant_a: Api, role: str) -> None:
    assert meta_of(tenant_a.as_role(role)) == meta_of(admin)


def test_meta_needs_credentials(client: TestClient) -> None:
    missing = client.get("/v1/meta")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"


def test_both_are_documented(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path, schema in (("/v1/me", "Caller"), ("/v1/meta", "Meta")):
        answer = document["paths"][path]["get"]["responses"]["200"]["content"]
        assert answer["application/json"]["schema"] == {"$ref": f"#/components/schemas/{schema}"}
        assert document["components"]["schemas"][schema]["description"]
    caller = document["components"]["schemas"]["Caller"]["properties"]
    assert "audit fields" in caller["subject"]["description"]
