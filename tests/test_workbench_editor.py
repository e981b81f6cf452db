"""The workbench's "New version from this": the editor's own events (`EditorState.load` on
`/agents/<id>/new-version?from=<n>`, then `publish`) carry every field of the version they
start from, those the form has no widget for included (an MCP server's pinned tools, a stdio
server's command and environment)."""

import asyncio
import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from reflex.istate.data import ReflexURL

from app import api
from app.pages.editor_page import EditorState
from backend.services.meta import meta
from backend.settings import Settings
from client import AgentRuntimeClient
from tests.helpers import Api

META = meta(Settings()).model_dump(mode="json")

EVERY_FIELD_SET: dict[str, Any] = {
    "model": {
        "provider": "openai_compatible",
        "name": "local-model",
        "parameters": {"base_url": "http://127.0.0.1:1/v1", "temperature": 0.3, "top_p": 0.9},
    },
    "system_prompt": "Be brief.\nAnd kind.",
    "tools": [
        {
            "type": "builtin",
            "name": "http_request",
            "requires_approval": True,
            "approval_timeout_seconds": 90,
            "allowed_hosts": ["api.example.com", "docs.example.com"],
        },
        {
            "type": "http",
            "name": "lookup",
            "description": "Find a thing by id.",
            "parameters": {
                "type": "object",
                "properties": {"id": {"type": "string"}},
                "required": ["id"],
            },
            "url": "https://api.example.com/things/{id}",
            "method": "GET",
            "headers": {"Authorization": {"secret": "LOOKUP_TOKEN"}, "X-Team": "support"},
            "timeout_seconds": 5.5,
            "requires_approval": True,
            "approval_timeout_seconds": 30,
            "accepts_idempotency_key": True,
        },
        {
            "type": "mcp",
            "name": "github",
            "transport": "streamable_http",
            "url": "https://mcp.example.com/mcp",
            "headers": {"Authorization": {"secret": "GITHUB_MCP_TOKEN"}},
            "include": ["search_*", "create_*"],
            "requires_approval": ["create_*"],
            "approval_timeout_seconds": 600,
            "timeout_seconds": 45.0,
            "tools": [
                {
                    "name": "search_issues",
                    "description": "Search the issues of a repository.",
                    "input_schema": {
                        "type": "object",
                        "properties": {"query": {"type": "string"}},
                        "required": ["query"],
                    },
                    "read_only": True,
                    "idempotent": True,
                },
                {
                    "name": "create_issue",
                    "description": "Open an issue.",
                    "input_schema": {"type": "object", "properties": {"title": {"type": "string"}}},
                    "read_only": False,
                    "idempotent": False,
                },
            ],
        },
        {
            "type": "mcp",
            "name": "local",
            "transport": "stdio",
            "command": ["python", "-m", "my_server", "--verbose"],
            "env": {"API_TOKEN": {"secret": "LOCAL_TOKEN"}, "MODE": "test"},
            "requires_approval": True,
            "timeout_seconds": 60.0,
            "tools": [{"name": "stats", "description": "How stressed am I?"}],
        },
    ],
    "limits": {
        "max_steps": 7,
        "max_tokens": 1234,
        "max_cost_usd": 0.25,
        "timeout_seconds": 99,
        "approval_timeout_seconds": 3600,
    },
    "metadata": {"team": "support", "tags": ["a", "b"]},
}


@pytest.fixture
def sessions() -> Iterator[list[str]]:
    """Workbench sessions a test signs in; dropped after it."""
    made: list[str] = []
    yield made
    for session_id in made:
        api.SESSIONS.drop(session_id)


async def drain(events: Any) -> None:
    """Run an event handler that yields (its updates to the browser) to its end."""
    async for _ in events:
        pass


def new_version_from(
    sessions: list[str], client: Any, agent_id: str, number: int, **edits: str
) -> Any:
    """Open the editor from version `number` as the button does, type `edits`, publish.

    Returns the editor's state (typed Any: Reflex types its event handlers as EventNamespace;
    called on a state, they run)."""
    session = api.Session(token="unused", method="api_key", user="tester")
    session._client = client
    sessions.append(api.SESSIONS.create(session))
    editor: Any = EditorState(_reflex_internal_init=True)  # type: ignore[call-arg]
    editor.session_cookie = sessions[-1]
    url = f"http://workbench/agents/{agent_id}/new-version?from={number}"
    editor.router = dataclasses.replace(editor.router, url=ReflexURL(url))

    async def press() -> None:
        await drain(editor.load())
        for name, value in edits.items():
            editor.set_field(name, value)
        await drain(editor.publish())

    asyncio.run(press())
    assert editor.error == "", editor.error
    return editor


def workbench_client(app: FastAPI, api_caller: Api) -> AgentRuntimeClient:
    """The workbench's REST client, reaching this test's API in process."""
    client = AgentRuntimeClient("http://testserver", api_caller.token)
    client.http.close()
    # Starlette's TestClient is an httpx client over the app, though not typed as httpx's own.
    client.http = TestClient(app, headers=api_caller.headers)  # type: ignore[assignment]
    return client


def test_a_version_with_every_field_set_is_published_again_unchanged(
    app: FastAPI, tenant_a: Api, sessions: list[str]
) -> None:
    agent = tenant_a.new_agent()
    first = tenant_a.publish(agent["id"], EVERY_FIELD_SET)
    with workbench_client(app, tenant_a) as client:
        new_version_from(sessions, client, agent["id"], first["number"], notes="same again")
    second = tenant_a.ok(tenant_a.get(f"/v1/agents/{agent['id']}/versions/2"))
    assert second["config_hash"] == first["config_hash"]
    assert second["notes"] == "same again"
    record = {"number", "id", "config_hash", "notes", "created_at"}
    assert {k: v for k, v in second.items() if k not in record} == {
        k: v for k, v in first.items() if k not in record
    }


class RecordingClient:
    """Answers what the editor reads with one version; keeps what it publishes."""

    def __init__(self, version: dict[str, Any]) -> None:
        self.version = version
        self.published: list[dict[str, Any]] = []

    def meta(self) -> dict[str, Any]:
        return copy.deepcopy(META)

    def get_agent(self, agent_id: str) -> dict[str, Any]:
        return {"id": agent_id, "name": "agent", "latest_version": self.version["number"]}

    def get_version(self, _agent_id: str, number: int) -> dict[str, Any]:
        assert number == self.version["number"]
        return copy.deepcopy(self.version)

    def publish_version(self, _agent_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self.published.append(body)
        return {"number": self.version["number"] + 1}

    def close(self) -> None:
        pass


def test_fields_the_form_does_not_show_survive_new_version_from_this(
    sessions: list[str],
) -> None:
    """Fields the API may gain after this workbench was built: in the model, a tool, the limits
    and the configuration itself."""
    unknown = copy.deepcopy(EVERY_FIELD_SET)
    unknown["model"]["region"] = "eu-west"
    unknown["tools"][0]["retries"] = {"attempts": 3}
    unknown["tools"][1]["cache_seconds"] = 60
    unknown["limits"]["max_tool_calls"] = 5
    unknown["memory"] = {"kind": "window", "turns": 4}
    record = {
        "id": "ver_1",
        "agent_id": "agt_1",
        "number": 4,
        "config_hash": "0" * 64,
        "notes": "the old notes",
        "created_by": "key:someone",
        "created_at": "2026-01-01T00:00:00Z",
    }
    recording = RecordingClient({**record, **unknown})

    new_version_from(sessions, recording, "agt_1", 4, system_prompt="Be briefer.")
    assert recording.published == [{**unknown, "system_prompt": "Be briefer.", "notes": ""}]


def test_a_tool_turned_into_another_kind_carries_nothing_of_the_old_one(
    sessions: list[str],
) -> None:
    version = {"number": 1, **copy.deepcopy(EVERY_FIELD_SET)}
    version["tools"][1]["cache_seconds"] = 60
    recording = RecordingClient(version)
    state = new_version_from(sessions, recording, "agt_1", 1)
    state.set_tool(1, "type", "builtin")
    assert state.tools[1].name == META["builtin_tools"][0]["name"]
    asyncio.run(drain(state.publish()))
    assert recording.published[-1]["tools"][1] == {
        "type": "builtin",
        "name": state.tools[1].name,
        "requires_approval": True,
        "approval_timeout_seconds": 30,
    }


def open_editor(sessions: list[str], client: Any, agent_id: str, number: int) -> Any:
    """The editor as "New version from this" opens it on version `number`."""
    session = api.Session(token="unused", method="api_key", user="tester")
    session._client = client
    sessions.append(api.SESSIONS.create(session))
    editor: Any = EditorState(_reflex_internal_init=True)  # type: ignore[call-arg]
    editor.session_cookie = sessions[-1]
    url = f"http://workbench/agents/{agent_id}/new-version?from={number}"
    editor.router = dataclasses.replace(editor.router, url=ReflexURL(url))
    asyncio.run(drain(editor.load()))
    return editor


def test_bad_json_and_the_apis_field_errors_show_together_and_nothing_is_published(
    app: FastAPI, tenant_a: Api, sessions: list[str]
) -> None:
    agent = tenant_a.new_agent()
    first = tenant_a.publish(agent["id"], EVERY_FIELD_SET)
    with workbench_client(app, tenant_a) as client:
        editor = open_editor(sessions, client, agent["id"], first["number"])
        editor.set_field("metadata", "{not json")
        editor.set_field("parameters", '{"temperature": 0.3, "bogus": 1}')
        editor.set_field("max_steps", "0")
        editor.set_tool(1, "headers", "[")
        asyncio.run(drain(editor.publish()))
    assert editor.errors["metadata"].startswith("not valid JSON")
    assert "model.parameters.bogus" in editor.errors
    assert "limits.max_steps" in editor.errors
    assert editor.tools[1].headers_error.startswith("not valid JSON")
    assert editor.parameter_problems == [f"bogus: {editor.errors['model.parameters.bogus']}"]
    assert tenant_a.get(f"/v1/agents/{agent['id']}/versions/2").status_code == 404


def test_the_editor_documents_the_chosen_providers_parameters(
    app: FastAPI, tenant_a: Api, sessions: list[str]
) -> None:
    agent = tenant_a.new_agent()
    first = tenant_a.publish(agent["id"], EVERY_FIELD_SET)
    with workbench_client(app, tenant_a) as client:
        editor = open_editor(sessions, client, agent["id"], first["number"])
    names = {row.name for row in editor.parameter_rows}
    assert "temperature" in names
    editor.set_field("provider", "scripted")
    names = {row.name for row in editor.parameter_rows}
    assert {"script", "script[].delay_seconds", "script[].chunk_delay_seconds"} <= names


def mcp_version(**entry: Any) -> dict[str, Any]:
    """A version whose only tool is EVERY_FIELD_SET's MCP server (with `entry` on top)."""
    github = {**copy.deepcopy(EVERY_FIELD_SET["tools"][2]), **entry}
    return {"number": 3, **copy.deepcopy(EVERY_FIELD_SET), "tools": [github]}


def test_an_mcp_server_shows_its_pinned_tools_and_publishes_them_as_reviewed(
    sessions: list[str],
) -> None:
    version = mcp_version()
    recording = RecordingClient(version)
    editor = new_version_from(sessions, recording, "agt_1", 3)
    row = editor.tools[0]
    assert (row.type, row.name, row.url) == ("mcp", "github", "https://mcp.example.com/mcp")
    assert row.include == "search_*, create_*"
    assert row.requires_approval
    assert row.has_pinned
    assert [(tool.name, tool.description, tool.requires_approval) for tool in row.pinned] == [
        ("github__search_issues", "Search the issues of a repository.", False),
        ("github__create_issue", "Open an issue.", True),
    ]
    # The same tools, include patterns, headers (a secret's name only), approval patterns.
    assert recording.published[-1]["tools"] == version["tools"]

    editor.set_tool(0, "include", " search_*,, get_* ")
    assert [tool.name for tool in editor.tools[0].pinned] == ["github__search_issues"]
    asyncio.run(drain(editor.publish()))
    assert recording.published[-1]["tools"][0] == {
        **version["tools"][0],
        "include": ["search_*", "get_*"],
    }


def test_refresh_tools_leaves_the_pinning_to_the_next_publish(sessions: list[str]) -> None:
    version = mcp_version()
    recording = RecordingClient(version)
    editor = open_editor(sessions, recording, "agt_1", 3)
    editor.refresh_tools(0)
    row = editor.tools[0]
    assert (row.pinned, row.has_pinned) == ([], False)
    asyncio.run(drain(editor.publish()))
    assert editor.error == "", editor.error
    published = recording.published[-1]["tools"][0]
    assert published == {k: v for k, v in version["tools"][0].items() if k != "tools"}


def test_the_approval_switch_replaces_an_mcp_servers_patterns(sessions: list[str]) -> None:
    recording = RecordingClient(mcp_version())
    editor = open_editor(sessions, recording, "agt_1", 3)
    editor.set_tool(0, "requires_approval", False)
    assert [tool.requires_approval for tool in editor.tools[0].pinned] == [False, False]
    asyncio.run(drain(editor.publish()))
    assert "requires_approval" not in recording.published[-1]["tools"][0]
    editor.set_tool(0, "requires_approval", True)
    asyncio.run(drain(editor.publish()))
    assert recording.published[-1]["tools"][0]["requires_approval"] is True


def test_a_stdio_server_keeps_its_command_and_environment(sessions: list[str]) -> None:
    version = {"number": 3, **copy.deepcopy(EVERY_FIELD_SET)}
    recording = RecordingClient(version)
    editor = new_version_from(sessions, recording, "agt_1", 3)
    row = editor.tools[3]
    assert (row.transport, row.url) == ("stdio", "")
    assert row.command == "stdio: python -m my_server --verbose"
    assert [tool.name for tool in row.pinned] == ["local__stats"]
    assert recording.published[-1]["tools"][3] == version["tools"][3]


def test_a_new_mcp_server_is_pinned_when_published(sessions: list[str]) -> None:
    recording = RecordingClient({"number": 1, **copy.deepcopy(EVERY_FIELD_SET), "tools": []})
    editor = open_editor(sessions, recording, "agt_1", 1)
    editor.add_tool("mcp")
    editor.set_tool(0, "name", "docs")
    editor.set_tool(0, "url", "https://docs.example.com/mcp")
    editor.set_tool(0, "headers", '{"X-Api-Key": {"secret": "DOCS_KEY"}}')
    row = editor.tools[0]
    assert (row.pinned, row.has_pinned) == ([], False)
    asyncio.run(drain(editor.publish()))
    assert recording.published[-1]["tools"] == [
        {
            "type": "mcp",
            "name": "docs",
            "transport": "streamable_http",
            "url": "https://docs.example.com/mcp",
            "headers": {"X-Api-Key": {"secret": "DOCS_KEY"}},
            "timeout_seconds": 60.0,
        }
    ]
