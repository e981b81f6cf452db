from typing import Any

import pytest

from tests.helpers import Api, error_fields, scripted_config


def test_versions_are_numbered_hashed_and_listed(tenant_a: Api) -> None:
    agent = tenant_a.new_agent()
    first = tenant_a.publish(agent["id"], {**scripted_config(), "notes": "first"})
    second = tenant_a.publish(agent["id"], scripted_config(system_prompt="Be brief."))
    assert (first["number"], second["number"]) == (1, 2)
    assert first["notes"] == "first"
    assert first["created_by"].startswith("key:")
    assert first["model"]["provider"] == "scripted"
    assert first["tools"][0]["name"] == "calculator"
    assert first["limits"]["max_steps"] == 10
    assert len(first["config_hash"]) == 64
    assert first["config_hash"] != second["config_hash"]

    same_again = tenant_a.publish(agent["id"], {**scripted_config(), "notes": "other notes"})
    assert same_again["number"] == 3
    assert same_again["config_hash"] == first["config_hash"]  # notes are not configuration

    listed = tenant_a.ok(tenant_a.get(f"/v1/agents/{agent['id']}/versions"))
    assert [v["number"] for v in listed["items"]] == [1, 2, 3]
    assert tenant_a.ok(tenant_a.get(f"/v1/agents/{agent['id']}/versions/2")) == second
    assert tenant_a.ok(tenant_a.get(f"/v1/agents/{agent['id']}"))["latest_version"] == 3
    assert tenant_a.get(f"/v1/agents/{agent['id']}/versions/9").status_code == 404


def test_hash_ignores_key_order_and_spelled_out_defaults(tenant_a: Api) -> None:
    agent = tenant_a.new_agent()
    terse = tenant_a.publish(agent["id"], {"model": {"provider": "scripted"}})
    spelled = tenant_a.publish(
        agent["id"],
        {
            "tools": [],
            "system_prompt": "",
            "model": {"parameters": {}, "name": "", "provider": "scripted"},
        },
    )
    assert terse["config_hash"] == spelled["config_hash"]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_versions_cannot_be_changed(tenant_a: Api, method: str) -> None:
    agent = tenant_a.new_agent()
    version = tenant_a.publish(agent["id"])
    url = f"/v1/agents/{agent['id']}/versions/1"
    response = getattr(tenant_a, method)(url, json=scripted_config(system_prompt="changed"))
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "version_immutable"
    assert tenant_a.ok(tenant_a.get(url)) == version


BAD_CONFIGS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown provider", {"model": {"provider": "acme-llm", "name": "x"}}, "model.provider"),
    ("no model", {"system_prompt": "hi"}, "model"),
    ("model name missing", {"model": {"provider": "openai"}}, "model.name"),
    ("negative limit", scripted_config(limits={"max_steps": -1}), "limits.max_steps"),
    ("negative cost", scripted_config(limits={"max_cost_usd": -0.5}), "limits.max_cost_usd"),
    ("unknown builtin", scripted_config(tools=[{"type": "builtin", "name": "rm"}]), "tools.0.name"),
    ("unknown tool type", scripted_config(tools=[{"type": "ftp", "name": "x"}]), "tools.0"),
    (
        "bad JSON schema",
        scripted_config(
            tools=[
                {
                    "type": "http",
                    "name": "crm",
                    "url": "https://crm.example/lookup",
                    "parameters": {"type": "object", "properties": {"id": {"type": "wat"}}},
                }
            ]
        ),
        "tools.0.parameters",
    ),
    (
        "duplicate tool",
        scripted_config(tools=[{"type": "builtin", "name": "calculator"}] * 2),
        "tools",
    ),
    ("unknown field", scripted_config(temperature=0.2), "temperature"),
    (
        "script not a list",
        {"model": {"provider": "scripted", "parameters": {"script": "hi"}}},
        "model.parameters",
    ),
]


@pytest.mark.parametrize(("case", "config", "field"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_configs_are_422_naming_the_field(
    tenant_a: Api, case: str, config: dict[str, Any], field: str
) -> None:
    agent = tenant_a.new_agent()
    response = tenant_a.post(f"/v1/agents/{agent['id']}/versions", json=config)
    assert response.status_code == 422, response.text
    assert field in error_fields(response), (case, response.json())
    assert response.json()["error"]["message"].startswith(field)
    # Nothing was half written.
    assert tenant_a.ok(tenant_a.get(f"/v1/agents/{agent['id']}/versions"))["items"] == []
    assert tenant_a.ok(tenant_a.get(f"/v1/agents/{agent['id']}"))["latest_version"] is None


def test_http_tool_secrets_are_references_not_values(tenant_a: Api) -> None:
    agent = tenant_a.new_agent()
    tool = {
        "type": "http",
        "name": "crm_lookup",
        "url": "https://crm.example/lookup",
        "headers": {"Authorization": {"secret": "CRM_TOKEN"}},
        "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
        "requires_approval": True,
    }
    version = tenant_a.publish(agent["id"], scripted_config(tools=[tool]))
    assert version["tools"][0]["headers"] == {"Authorization": {"secret": "CRM_TOKEN"}}
    assert version["tools"][0]["requires_approval"] is True


def test_archived_agents_take_no_new_versions(tenant_a: Api) -> None:
    agent = tenant_a.new_agent()
    tenant_a.patch(f"/v1/agents/{agent['id']}", json={"archived": True})
    response = tenant_a.post(f"/v1/agents/{agent['id']}/versions", json=scripted_config())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "agent_archived"
