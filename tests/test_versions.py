from typing import Any

import pytest
from fastapi import FastAPI

from core.db import TenantScope, scoped_session
from core.models import AgentVersion
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
        "model.parameters.script",
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


# Typed model parameters

BAD_PARAMETERS: list[tuple[str, dict[str, Any], str]] = [
    ("scripted", {"scrpt": []}, "model.parameters.scrpt"),
    ("scripted", {"script": [{"txt": "hi"}]}, "model.parameters.script.0.txt"),
    ("scripted", {"script": [{"text": 5}]}, "model.parameters.script.0.text"),
    ("scripted", {"script": [{"delay_seconds": "1"}]}, "model.parameters.script.0.delay_seconds"),
    (
        "scripted",
        {"script": [{"tool_calls": [{"arguments": {}}]}]},
        "model.parameters.script.0.tool_calls.0.name",
    ),
    (
        "scripted",
        {"script": [{"error": {"retryable": 1}}]},
        "model.parameters.script.0.error.retryable",
    ),
    ("openai", {"temprature": 0.2}, "model.parameters.temprature"),
    ("openai", {"temperature": "0.2"}, "model.parameters.temperature"),
    ("openai", {"temperature": True}, "model.parameters.temperature"),
    ("openai", {"temperature": 2.5}, "model.parameters.temperature"),
    ("openai", {"max_tokens": 1.5}, "model.parameters.max_tokens"),
    ("openai", {"stop": ["a", "b", "c", "d", "e"]}, "model.parameters.stop"),
    ("openai", {"messages": []}, "model.parameters.messages"),
    ("openai", {"extra_body": {"messages": []}}, "model.parameters.extra_body"),
    ("openai_compatible", {"base_url": "localhost:11434"}, "model.parameters.base_url"),
    ("anthropic", {"temperature": 1.5}, "model.parameters.temperature"),
    ("anthropic", {"api_key_env": "KEY"}, "model.parameters.api_key_env"),
]


@pytest.mark.parametrize(
    ("provider", "parameters", "field"),
    BAD_PARAMETERS,
    ids=[f"{provider}-{field}" for provider, _, field in BAD_PARAMETERS],
)
def test_model_parameters_are_typed_per_provider(
    tenant_a: Api, provider: str, parameters: dict[str, Any], field: str
) -> None:
    agent = tenant_a.new_agent()
    model = {"provider": provider, "name": "m", "parameters": parameters}
    response = tenant_a.post(
        f"/v1/agents/{agent['id']}/versions", json=scripted_config(model=model)
    )
    assert response.status_code == 422, response.text
    assert field in error_fields(response), response.json()
    assert tenant_a.ok(tenant_a.get(f"/v1/agents/{agent['id']}/versions"))["items"] == []


def test_a_config_with_several_bad_parameters_names_each(tenant_a: Api) -> None:
    agent = tenant_a.new_agent()
    model = {"provider": "openai", "name": "m", "parameters": {"seed": "7", "tmp": 1, "top": 2}}
    response = tenant_a.post(
        f"/v1/agents/{agent['id']}/versions", json=scripted_config(model=model)
    )
    assert response.status_code == 422
    assert sorted(error_fields(response)) == [
        "model.parameters.seed",
        "model.parameters.tmp",
        "model.parameters.top",
    ]


def test_parameters_are_kept_as_given(tenant_a: Api) -> None:
    """No defaults are added, `0` stays `0`: what was sent is what the version shows."""
    agent = tenant_a.new_agent()
    sent = {
        "base_url": "http://127.0.0.1:11434/v1",
        "temperature": 0,
        "top_p": 1.0,
        "stop": ["\n\n"],
        "extra_body": {"num_ctx": 8192},
    }
    model = {"provider": "openai_compatible", "name": "llama3.2", "parameters": sent}
    version = tenant_a.publish(agent["id"], scripted_config(model=model))
    assert version["model"]["parameters"] == sent
    assert type(version["model"]["parameters"]["temperature"]) is int
    script = [{"text": "hi", "usage": {"output_tokens": 3}}, {"error": {"message": "no"}}]
    scripted = {"provider": "scripted", "parameters": {"script": script}}
    version = tenant_a.publish(agent["id"], scripted_config(model=scripted))
    assert version["model"]["parameters"] == {"script": script}


# Content hashes an earlier release computed, with the configuration it stored.
EARLIER_RELEASE_HASHES = {
    "8bf0aab866c30c8c5970881b42b541c6f6ace1a10eb1544ec3398ee58056b8d6": scripted_config(),
    "05b31418a2044e63dcc778d4c7b4f013409645143dda2e05584a3e83a724d90b": {
        "model": {
            "provider": "openai_compatible",
            "name": "llama3.2",
            "parameters": {
                "base_url": "http://127.0.0.1:11434/v1",
                "temperature": 0.2,
                "max_tokens": 500,
            },
        }
    },
}
LIMITS = {
    "max_steps": 20,
    "max_tokens": 100000,
    "max_cost_usd": None,
    "timeout_seconds": 600,
    "approval_timeout_seconds": 86400,
}
# As an earlier release stored them: untyped parameters, some that no type admits now.
STORED_BY_AN_EARLIER_RELEASE: dict[str, dict[str, Any]] = {
    "ab80cd6cc5ae1936fa096a1530ebb4fa2c204214ac802c11cd57f0491ac21224": {
        "model": {
            "provider": "scripted",
            "name": "demo",
            "parameters": {
                "script": [
                    {"text": "Hello.", "delay_seconds": 0.5, "note": "legacy"},
                    {"tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}]},
                    "not a turn",
                ],
                "seed": 3,
            },
        },
        "system_prompt": "Be brief.",
        "tools": [
            {
                "type": "builtin",
                "name": "calculator",
                "requires_approval": False,
                "approval_timeout_seconds": None,
                "allowed_hosts": [],
            }
        ],
        "limits": LIMITS,
        "metadata": {},
    },
    "ad8f9e53cb724664c5c0f55786f14a26eafc0d7715ef0c7bb9f5fa76735a704a": {
        "model": {
            "provider": "openai",
            "name": "gpt-4o-mini",
            "parameters": {
                "temperature": 0,
                "top_p": 1.0,
                "logprobs": True,
                "api_key_env": "TEAM_KEY",
                "max_tokens": "plenty",
            },
        },
        "system_prompt": "",
        "tools": [],
        "limits": {**LIMITS, "max_steps": 5},
        "metadata": {},
    },
}


def test_configurations_hash_as_an_earlier_release_hashed_them(tenant_a: Api) -> None:
    agent = tenant_a.new_agent()
    for expected, config in EARLIER_RELEASE_HASHES.items():
        assert tenant_a.publish(agent["id"], config)["config_hash"] == expected


def test_a_version_an_earlier_release_stored_loads_and_hashes_the_same(
    app: FastAPI, tenant_a: Api
) -> None:
    """Parameters no type admits now still load, read back as written, with the same hash;
    publishing them again is what is refused."""
    assert tenant_a.tenant_id is not None
    agent = tenant_a.new_agent()
    with scoped_session(app.state.engine, TenantScope(tenant_a.tenant_id)) as session:
        for number, (config_hash, config) in enumerate(STORED_BY_AN_EARLIER_RELEASE.items(), 1):
            stored = AgentVersion(
                agent_id=agent["id"],
                number=number,
                config=config,
                config_hash=config_hash,
                created_by="key:old",
            )
            session.add(stored)
            session.commit()
            assert stored.agent_config().content_hash() == config_hash
    listed = tenant_a.ok(tenant_a.get(f"/v1/agents/{agent['id']}/versions"))["items"]
    for version, (config_hash, config) in zip(
        listed, STORED_BY_AN_EARLIER_RELEASE.items(), strict=True
    ):
        read = tenant_a.ok(tenant_a.get(f"/v1/agents/{agent['id']}/versions/{version['number']}"))
        assert read == version
        assert {key: read[key] for key in config} == config
        assert read["config_hash"] == config_hash
    again = {key: listed[1][key] for key in STORED_BY_AN_EARLIER_RELEASE[listed[1]["config_hash"]]}
    refused = tenant_a.post(f"/v1/agents/{agent['id']}/versions", json=again)
    assert refused.status_code == 422
    assert set(error_fields(refused)) == {
        "model.parameters.logprobs",
        "model.parameters.api_key_env",
        "model.parameters.max_tokens",
    }


def test_meta_serves_each_providers_parameter_schema_as_publishing_enforces_it(
    tenant_a: Api,
) -> None:
    meta = tenant_a.ok(tenant_a.get("/v1/meta"))
    schemas = meta["provider_parameters"]
    assert list(schemas) == meta["model_providers"]
    turn = schemas["scripted"]["$defs"]["ScriptTurn"]["properties"]
    assert set(turn) == {
        "text",
        "tool_calls",
        "delay_seconds",
        "chunk_delay_seconds",
        "error",
        "usage",
    }
    assert all(field["description"] for field in turn.values())
    agent = tenant_a.new_agent()
    for provider, schema in schemas.items():
        assert schema["additionalProperties"] is False
        assert all(field["description"] for field in schema["properties"].values())

        def refused(parameters: dict[str, Any], provider: str = provider) -> list[str]:
            model = {"provider": provider, "name": "m", "parameters": parameters}
            response = tenant_a.post(
                f"/v1/agents/{agent['id']}/versions", json=scripted_config(model=model)
            )
            assert response.status_code == 422, (provider, parameters)
            return error_fields(response)

        assert refused({"not_in_the_schema": 1}) == ["model.parameters.not_in_the_schema"]
        numbers = [
            name
            for name, field in schema["properties"].items()
            if {"type": "number"}.items() <= (field.get("anyOf") or [field])[0].items()
        ]
        for name in numbers:
            assert refused({name: "1"}) == [f"model.parameters.{name}"]
        assert numbers or provider == "scripted"
