"""Test helpers: a caller holding a key, and sample bodies."""

from typing import Any

import httpx
from fastapi.testclient import TestClient

from cli.temporal_server import free_port as free_port  # tests take free ports from one place


class Api:
    """Calls the API as the holder of one bearer token."""

    def __init__(self, client: TestClient | httpx.Client, token: str, tenant_id: str | None = None):
        self.client = client
        self.token = token
        self.tenant_id = tenant_id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self.request("PATCH", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)

    def ok_text(self, url: str) -> str:
        response = self.get(url)
        assert response.status_code == 200, response.text
        return str(response.text)

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def new_tenant(self, name: str) -> Any:
        return self.ok(self.post("/v1/tenants", json={"name": name}), 201)

    def new_key(self, tenant_id: str, role: str = "admin", name: str = "test key") -> Any:
        return self.ok(
            self.post(f"/v1/tenants/{tenant_id}/api-keys", json={"name": name, "role": role}), 201
        )

    def new_tenant_admin(self, name: str) -> "Api":
        tenant = self.new_tenant(name)
        return Api(self.client, self.new_key(tenant["id"])["key"], tenant["id"])

    def as_role(self, role: str) -> "Api":
        assert self.tenant_id is not None
        return Api(self.client, self.new_key(self.tenant_id, role)["key"], self.tenant_id)

    def new_agent(self, name: str = "support-bot", **fields: Any) -> Any:
        return self.ok(self.post("/v1/agents", json={"name": name, **fields}), 201)

    def publish(self, agent_id: str, config: dict[str, Any] | None = None) -> Any:
        body = config if config is not None else scripted_config()
        return self.ok(self.post(f"/v1/agents/{agent_id}/versions", json=body), 201)


def scripted_config(**overrides: Any) -> Any:
    config: dict[str, Any] = {
        "model": {
            "provider": "scripted",
            "name": "demo",
            "parameters": {
                "script": [
                    {"tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}]},
                    {"text": "The answer is 42."},
                ]
            },
        },
        "system_prompt": "You are a careful assistant.",
        "tools": [{"type": "builtin", "name": "calculator"}],
        "limits": {
            "max_steps": 10,
            "max_tokens": 20000,
            "max_cost_usd": 1.0,
            "timeout_seconds": 600,
        },
    }
    config.update(overrides)
    return config


def error_fields(response: Any) -> list[str]:
    body = response.json()
    assert set(body) == {"error"}, body
    return [detail["field"] for detail in body["error"]["details"] or []]


TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}


def wait_for_run(api: Api, run_id: str, until: set[str] | None = None, timeout: float = 60) -> Any:
    """Poll the run until its status is in `until` (default: any ending)."""
    import time

    until = until or TERMINAL
    deadline = time.monotonic() + timeout
    while True:
        run = api.ok(api.get(f"/v1/runs/{run_id}"))
        if run["status"] in until:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run still {run['status']} after {timeout} s: {run}")
        time.sleep(0.1)


def agent_with(api: Api, config: dict[str, Any], name: str = "agent") -> str:
    agent = api.new_agent(name)
    api.publish(agent["id"], config)
    return str(agent["id"])


def run_agent(api: Api, agent_id: str, text: str = "hello", **body: Any) -> Any:
    return api.ok(api.post(f"/v1/agents/{agent_id}/runs", json={"input": text, **body}), 202)


def steps_of(api: Api, run_id: str) -> list[Any]:
    return list(api.ok(api.get(f"/v1/runs/{run_id}/steps", params={"limit": 200}))["items"])


def script(*turns: dict[str, Any], model: str = "demo", **config: Any) -> Any:
    """A scripted agent configuration with the calculator."""
    return scripted_config(
        model={"provider": "scripted", "name": model, "parameters": {"script": list(turns)}},
        **config,
    )


def calc(expression: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "calculator", "arguments": {"expression": expression}}]}
