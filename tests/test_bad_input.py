"""Bad input gets a 4xx naming the field, never a 5xx: the same answer on SQLite and Postgres."""

import base64
import json
from typing import Any

import pytest

from core.models.limits import DB_INT_MAX, MAX_JSON_DEPTH
from tests.helpers import Api, agent_with, error_fields, scripted_config

MIB = 1024 * 1024


@pytest.fixture
def agent_id(tenant_a: Api) -> str:
    return agent_with(tenant_a, scripted_config())


def assert_invalid(response: Any, field: str, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error_fields(response), error
    return error


def raw_json(api: Api, url: str, text: str) -> Any:
    """A body as written, for what `json=` cannot send (NaN, depth, big numbers)."""
    return api.post(url, content=text.encode(), headers={"Content-Type": "application/json"})


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_body_past_the_request_limit_is_413(tenant_a: Api, agent_id: str) -> None:
    big = {"input": "hi", "context": {"blob": "x" * (2 * MIB)}}
    for url, body in [
        (f"/v1/agents/{agent_id}/runs", big),
        (f"/v1/agents/{agent_id}/versions", scripted_config(metadata={"blob": "x" * 2 * MIB})),
    ]:
        response = tenant_a.post(url, json=body)
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "request_too_large"
    streamed = tenant_a.post(
        f"/v1/agents/{agent_id}/runs", content=(b"x" * 65536 for _ in range(40))
    )
    assert streamed.status_code == 413
    assert tenant_a.ok(tenant_a.get("/v1/runs"))["items"] == []


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("context", {"input": "hi", "context": {"blob": "x" * 100_000}}),
    ],
)
def test_a_run_context_past_its_cap_is_422(
    tenant_a: Api, agent_id: str, field: str, body: dict[str, Any]
) -> None:
    assert_invalid(tenant_a.post(f"/v1/agents/{agent_id}/runs", json=body), field)


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("metadata", {"metadata": {"blob": "x" * 20_000}}),
        (
            "model.parameters",
            {"model": {"provider": "scripted", "parameters": {"blob": "x" * 300_000}}},
        ),
        (
            "tools.0.parameters",
            {
                "tools": [
                    {
                        "type": "http",
                        "name": "lookup",
                        "url": "https://example.com/lookup",
                        "parameters": {"type": "object", "description": "x" * 70_000},
                    }
                ]
            },
        ),
    ],
)
def test_free_form_configuration_past_its_cap_is_422(
    tenant_a: Api, agent_id: str, field: str, overrides: dict[str, Any]
) -> None:
    response = tenant_a.post(f"/v1/agents/{agent_id}/versions", json=scripted_config(**overrides))
    assert_invalid(response, field)


TAMPERED_CURSORS = [[1], {"id": "x"}, 10**30, 2**40, True, 1.5, "x\u0000", None]


def test_a_tampered_cursor_is_422_on_every_list(tenant_a: Api, agent_id: str) -> None:
    run = tenant_a.ok(tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"}), 202)
    # Each list pages by ids or names (text) or by numbers: a key of the other kind is tampered.
    by_text = [
        "/v1/agents",
        "/v1/runs",
        f"/v1/runs/{run['id']}/artifacts",
        "/v1/approvals",
        "/v1/tenants",
        f"/v1/tenants/{tenant_a.tenant_id}/api-keys",
    ]
    by_number = [
        f"/v1/agents/{agent_id}/versions",
        f"/v1/runs/{run['id']}/steps",
        f"/v1/runs/{run['id']}/approvals",
    ]
    crafted = [cursor_of(value) for value in TAMPERED_CURSORS] + ["not base64 !", "A" * 1000]
    for urls, wrong_kind in ((by_text, cursor_of(7)), (by_number, cursor_of("abc"))):
        for url in urls:
            for cursor in [*crafted, wrong_kind]:
                assert_invalid(tenant_a.get(url, params={"cursor": cursor}), "cursor")


def test_integers_past_the_database_range_in_paths_are_422(tenant_a: Api, agent_id: str) -> None:
    run = tenant_a.ok(tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"}), 202)
    for number in (DB_INT_MAX + 1, 2**63, 2**64):
        assert_invalid(tenant_a.get(f"/v1/agents/{agent_id}/versions/{number}"), "number")
        assert_invalid(tenant_a.get(f"/v1/runs/{run['id']}/steps/{number}"), "seq")
        assert_invalid(tenant_a.get(f"/v1/runs/{run['id']}/steps/{number}/output"), "seq")
        events = tenant_a.get(f"/v1/runs/{run['id']}/events", params={"after": number})
        assert_invalid(events, "after")
        resumed = tenant_a.get(
            f"/v1/runs/{run['id']}/events", headers={"Last-Event-ID": str(number)}
        )
        assert_invalid(resumed, "Last-Event-ID")
    assert tenant_a.get(f"/v1/agents/{agent_id}/versions/{DB_INT_MAX}").status_code == 404


def test_integers_past_their_range_in_bodies_are_422(tenant_a: Api, agent_id: str) -> None:
    runs = f"/v1/agents/{agent_id}/runs"
    for version in (DB_INT_MAX + 1, 2**63, 2**64):
        assert_invalid(tenant_a.post(runs, json={"input": "hi", "version": version}), "version")
    assert_invalid(tenant_a.post(runs, json={"input": "hi", "context": {"n": 2**64}}), "context.n")
    versions = f"/v1/agents/{agent_id}/versions"
    too_many = scripted_config(limits={"max_tokens": 2**64})
    assert_invalid(tenant_a.post(versions, json=too_many), "limits.max_tokens")
    assert_invalid(
        raw_json(tenant_a, runs, '{"input": "hi", "version": 1' + "0" * 400 + "}"), "version"
    )


def test_json_nested_too_deep_is_422(tenant_a: Api, agent_id: str) -> None:
    runs = f"/v1/agents/{agent_id}/runs"
    for depth in (MAX_JSON_DEPTH + 1, 900, 100_000):
        nested = "[" * depth + "]" * depth
        response = raw_json(tenant_a, runs, f'{{"input": "hi", "context": {{"deep": {nested}}}}}')
        assert response.status_code == 422, response.text
        (field,) = error_fields(response)
        assert field == "body" or field.startswith("context.deep"), field
    shallow = "[" * 10 + "]" * 10
    accepted = raw_json(tenant_a, runs, f'{{"input": "hi", "context": {{"ok": {shallow}}}}}')
    assert accepted.status_code == 202, accepted.text


def test_nul_characters_are_422_wherever_they_are(tenant_a: Api, agent_id: str) -> None:
    run = tenant_a.ok(tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"}), 202)
    assert_invalid(tenant_a.get("/v1/agents/agt%00x"), "agent_id")
    assert_invalid(tenant_a.get("/v1/runs/run%00x/steps"), "run_id")
    assert_invalid(tenant_a.get(f"/v1/runs/{run['id']}/artifacts/report%00.txt"), "name")
    assert_invalid(tenant_a.get("/v1/agents", params={"q": "bot\x00"}), "q")
    assert_invalid(tenant_a.get("/v1/runs", params={"agent_id": "\x00"}), "agent_id")
    assert_invalid(tenant_a.get("/v1/agents", headers={"X-Tenant-Id": "t\x00"}), "X-Tenant-Id")
    runs = f"/v1/agents/{agent_id}/runs"
    keyed = tenant_a.post(runs, json={"input": "hi"}, headers={"Idempotency-Key": "k\x00"})
    assert_invalid(keyed, "Idempotency-Key")
    assert_invalid(tenant_a.post("/v1/agents", json={"name": "bot\x00"}), "name")
    assert_invalid(tenant_a.post(runs, json={"input": "a\x00b"}), "input")
    assert_invalid(
        tenant_a.post(runs, json={"input": "hi", "context": {"k\x00": 1}}), "context.k\x00"
    )
    assert_invalid(
        tenant_a.post(runs, json={"input": "hi", "context": {"l": ["\x00"]}}), "context.l.0"
    )
    notes = scripted_config(notes="draft\x00")
    assert_invalid(tenant_a.post(f"/v1/agents/{agent_id}/versions", json=notes), "notes")
    assert len(tenant_a.ok(tenant_a.get("/v1/runs"))["items"]) == 1


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_422(tenant_a: Api, agent_id: str, number: str) -> None:
    runs = f"/v1/agents/{agent_id}/runs"
    context = raw_json(tenant_a, runs, f'{{"input": "hi", "context": {{"x": {number}}}}}')
    assert_invalid(context, "context.x")
    config = json.dumps(scripted_config()).replace(
        '"max_cost_usd": 1.0', f'"max_cost_usd": {number}'
    )
    assert number in config
    limits = raw_json(tenant_a, f"/v1/agents/{agent_id}/versions", config)
    assert_invalid(limits, "limits.max_cost_usd")


def test_an_empty_idempotency_key_is_422_and_spoils_nothing(tenant_a: Api, agent_id: str) -> None:
    runs = f"/v1/agents/{agent_id}/runs"
    for _attempt in range(2):
        empty = tenant_a.post(runs, json={"input": "hi"}, headers={"Idempotency-Key": ""})
        assert_invalid(empty, "Idempotency-Key")
    assert tenant_a.ok(tenant_a.get("/v1/runs"))["items"] == []
    plain = tenant_a.post(runs, json={"input": "hi"})
    assert plain.status_code == 202, plain.text
    keyed = tenant_a.post(runs, json={"input": "hi"}, headers={"Idempotency-Key": "k1"})
    again = tenant_a.post(runs, json={"input": "hi"}, headers={"Idempotency-Key": "k1"})
    assert (keyed.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == keyed.json()["id"]
    assert len(tenant_a.ok(tenant_a.get("/v1/runs"))["items"]) == 2


def test_booleans_are_no_integers_and_integers_no_booleans(tenant_a: Api, agent_id: str) -> None:
    runs = f"/v1/agents/{agent_id}/runs"
    for version in (True, False, "1", 1.0):
        assert_invalid(tenant_a.post(runs, json={"input": "hi", "version": version}), "version")
    assert tenant_a.ok(tenant_a.get("/v1/runs"))["items"] == []
    versions = f"/v1/agents/{agent_id}/versions"
    cases = [
        ("limits.max_steps", scripted_config(limits={"max_steps": True})),
        ("limits.max_tokens", scripted_config(limits={"max_tokens": "100"})),
        ("limits.max_cost_usd", scripted_config(limits={"max_cost_usd": True})),
        (
            "tools.0.requires_approval",
            scripted_config(
                tools=[{"type": "builtin", "name": "calculator", "requires_approval": 1}]
            ),
        ),
        (
            "tools.0.approval_timeout_seconds",
            scripted_config(
                tools=[{"type": "builtin", "name": "calculator", "approval_timeout_seconds": True}]
            ),
        ),
    ]
    for field, config in cases:
        assert_invalid(tenant_a.post(versions, json=config), field)
    for archived in (1, "yes", "true"):
        patch = tenant_a.patch(f"/v1/agents/{agent_id}", json={"archived": archived})
        assert_invalid(patch, "archived")
    assert tenant_a.ok(tenant_a.get(f"/v1/agents/{agent_id}"))["archived"] is False


def http_tool(headers: dict[str, Any]) -> dict[str, Any]:
    tool = {"type": "http", "name": "lookup", "url": "https://example.com/x", "headers": headers}
    return dict(scripted_config(tools=[tool]))


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({"X-Foo": "a\r\nX-Injected: 1"}, "tools.0.headers.X-Foo"),
        ({"X-Foo": "a\nb"}, "tools.0.headers.X-Foo"),
        ({"X-Foo": "a\x00b"}, "tools.0.headers.X-Foo"),
        ({"X-Foo": "bell\x07"}, "tools.0.headers.X-Foo"),
        ({"X-Foo\r\nX-Injected": "1"}, "tools.0.headers.X-Foo\r\nX-Injected"),
        ({"X Foo": "1"}, "tools.0.headers.X Foo"),
        ({"": "1"}, "tools.0.headers."),
    ],
)
def test_control_characters_in_tool_headers_are_422(
    tenant_a: Api, agent_id: str, headers: dict[str, Any], field: str
) -> None:
    response = tenant_a.post(f"/v1/agents/{agent_id}/versions", json=http_tool(headers))
    assert_invalid(response, field)


def test_tool_headers_may_hold_tabs_and_secrets(tenant_a: Api, agent_id: str) -> None:
    headers = {"X-Foo": "a\tb", "Authorization": {"secret": "LOOKUP_TOKEN"}}
    version = tenant_a.publish(agent_id, http_tool(headers))
    assert version["tools"][0]["headers"] == headers
