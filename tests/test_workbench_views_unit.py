"""The workbench's pure view rules for runs, steps, approvals, people and MCP servers' pinned
tools. No browser, no Reflex."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from app.view import (
    STATUS_COLORS,
    RunSearch,
    approval_view,
    duration,
    may,
    mcp_server,
    person,
    pinned_tools,
    plural,
    rerun_link,
    run_search,
    seconds_between,
    tool_view,
    who_may,
    with_conversation,
)
from app.view.charts import waterfall
from app.view.run_rows import request_text
from app.view.runs import step_view
from core.models.mcp_tools import namespaced

ME = ("key:ci bot", "ci bot")


def test_plurals() -> None:
    assert [plural(n, "step") for n in (0, 1, 2)] == ["0 steps", "1 step", "2 steps"]
    assert plural(1, "reply", "replies") == "1 reply"
    assert plural(3, "reply", "replies") == "3 replies"


def test_a_duration_is_never_negative() -> None:
    assert duration(-0.25) == "0 ms"
    assert duration(-90) == "0 ms"
    assert seconds_between("2026-01-01T00:00:05Z", "2026-01-01T00:00:01Z") == 0.0
    assert duration(seconds_between("2026-01-01T00:00:01Z", "2026-01-01T00:00:08.2Z")) == "7.2 s"


def test_a_person_is_you_their_name_or_their_subject_without_its_prefix() -> None:
    assert person("key:ci bot", ME, "ci bot") == "you"
    assert person("key:key_01a2b3", ME, "release bot") == "release bot"
    assert person("key:key_01a2b3", ME) == "key_01a2b3"
    assert person("oidc:00u1abc", None) == "00u1abc"
    assert person("local admin", None) == "local admin"
    assert person(None, ME) == ""


def test_a_cancelled_status_has_its_own_colour() -> None:
    assert STATUS_COLORS["cancelled"] not in {STATUS_COLORS["failed"], STATUS_COLORS["queued"]}


def test_roles_rank_viewer_developer_admin() -> None:
    assert not may("viewer", "developer")
    assert may("developer", "developer")
    assert may("admin", "developer")
    assert not may("developer", "admin")
    assert not may("", "viewer")  # an unknown role may do nothing
    assert may("viewer", "admin", platform_admin=True)
    assert who_may("developer", "cancel a run") == "Only a developer or an admin can cancel a run."
    assert who_may("admin", "manage API keys") == "Only an admin can manage API keys."


def test_a_search_reads_a_link_and_writes_it_back() -> None:
    query = {"q": " refund ", "from": "2026-01-02", "to": "2026-01-31", "sort": "slowest"}
    search = run_search(query)
    assert search == RunSearch(text="refund", start="2026-01-02", end="2026-01-31", sort="slowest")
    link = urlsplit(search.link())
    assert link.path == "/runs"
    assert run_search({key: values[0] for key, values in parse_qs(link.query).items()}) == search
    assert search.api_parameters() == {
        "agent_id": None,
        "status": None,
        "q": "refund",
        "created_after": "2026-01-02T00:00:00Z",
        "created_before": "2026-02-01T00:00:00Z",  # the last day counts whole
        "sort": "-duration",
    }


def test_a_search_leaves_out_what_a_link_cannot_mean() -> None:
    search = run_search({"from": "yesterday", "to": "2026-02-30", "sort": "random", "q": ""})
    assert search == RunSearch()
    assert search.link() == "/runs"
    assert search.api_parameters()["sort"] == "-created_at"
    costly = RunSearch(agent="agt_1", status="failed", sort="costliest")
    assert costly.link() == "/runs?agent=agt_1&status=failed&sort=costliest"
    assert RunSearch(sort="oldest").api_parameters()["sort"] == "created_at"


def test_run_again_links_to_the_launcher_with_the_runs_input_context_and_version() -> None:
    run = {
        "agent_id": "agt_1",
        "version": 3,
        "input": "What is 6 & 7? ünïcode",
        "context": {"tier": 2},
    }
    link = urlsplit(rerun_link(run))
    assert link.path == "/agents/agt_1"
    query = {key: values[0] for key, values in parse_qs(link.query).items()}
    assert query["tab"] == "run"
    assert query["version"] == "3"
    assert query["input"] == "What is 6 & 7? ünïcode"
    assert query["context"] == '{\n  "tier": 2\n}'
    bare = parse_qs(urlsplit(rerun_link({**run, "context": {}})).query)
    assert "context" not in bare


def cancelled_step() -> dict[str, object]:
    return {
        "seq": 2,
        "kind": "tool",
        "name": "http_get",
        "status": "cancelled",
        "input": {"arguments": {"url": "https://example.com"}},
        "output": None,
        "error": {"code": "cancelled", "message": "the run was cancelled"},
        "started_at": "2026-01-01T00:00:02Z",
        "ended_at": "2026-01-01T00:00:06.5Z",
    }


def test_a_cancelled_step_keeps_its_duration_and_its_waterfall_bar() -> None:
    view = step_view(cancelled_step())
    assert (view.status, view.duration) == ("cancelled", "4.5 s")
    run = {"started_at": "2026-01-01T00:00:00Z"}
    bars = waterfall(run, [view], [], now=datetime(2026, 1, 1, 0, 1, tzinfo=UTC))
    assert [(bar.label, bar.offset, bar.tool) for bar in bars] == [("#2 http_get", 2.0, 4.5)]


def test_an_approval_shows_what_led_to_it() -> None:
    approval = approval_view(
        {
            "id": "apr_1",
            "run_id": "run_1",
            "step_seq": 2,
            "tool_name": "calculator",
            "arguments": {"expression": "6*7"},
            "decided_by": "key:key_01a2",
            "decided_by_name": "ops lead",
        }
    )
    assert approval.decided_by == "ops lead"
    steps = [
        {
            "seq": 1,
            "kind": "model",
            "name": "demo",
            "status": "succeeded",
            "output": {
                "text": "Let me calculate that.",
                "tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}],
            },
        },
        {"seq": 2, "kind": "tool", "name": "calculator", "status": "running", "input": {}},
    ]
    shown = with_conversation(approval, {"input": "What is 6 times 7?"}, steps)
    assert shown.run_input == "What is 6 times 7?"
    assert shown.model_text == "Let me calculate that."
    assert shown.steps_before == ["#1 demo: calls calculator"]


def test_a_model_steps_request_reads_as_text() -> None:
    request = {
        "system_prompt": "Be brief.",
        "dropped": 2,
        "messages": [
            {"role": "user", "content": "6*7?", "tool_calls": []},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "c1", "name": "calculator", "arguments": {"x": "6*7"}}],
            },
            {"role": "tool", "content": "42", "name": "calculator", "is_error": False},
        ],
        "tools": [{"name": "calculator"}],
        "parameters": {"temperature": 0},
    }
    assert request_text(request).splitlines() == [
        "Instructions:",
        "Be brief.",
        "",
        "(2 older messages left out by the context window)",
        "",
        "user: 6*7?",
        "assistant:",
        '  -> calculator({"x": "6*7"})',
        "tool calculator: 42",
        "",
        "Tools offered: calculator",
        'Parameters: {"temperature": 0}',
    ]
    assert "recorded no request" in request_text(None)


GITHUB = {
    "type": "mcp",
    "name": "github",
    "transport": "streamable_http",
    "url": "https://mcp.example.com/mcp",
    "include": ["search_*", "create_*"],
    "requires_approval": ["create_*"],
    "tools": [
        {"name": "search_issues", "description": "Search issues.", "input_schema": {}},
        {"name": "create_issue", "description": "Open an issue."},
        {"name": "delete_repo", "description": "Not included."},
        {"name": "get.issue v2"},
    ],
}


def test_an_mcp_servers_pinned_tools_are_listed_as_the_model_sees_them() -> None:
    shown = pinned_tools(GITHUB)
    assert [(tool.name, tool.description, tool.requires_approval) for tool in shown] == [
        ("github__search_issues", "Search issues.", False),
        ("github__create_issue", "Open an issue.", True),
    ]
    everything = pinned_tools({**GITHUB, "include": [], "requires_approval": True})
    assert [tool.name for tool in everything] == [
        "github__search_issues",
        "github__create_issue",
        "github__delete_repo",
        "github__get_issue_v2",
    ]
    assert all(tool.requires_approval for tool in everything)
    assert pinned_tools({**GITHUB, "tools": None}) == []
    # The API's own rule, a name too long for a provider included.
    for entry, tool in [("github", "get.issue v2"), ("a-server", "x" * 80)]:
        named = pinned_tools({"name": entry, "tools": [{"name": tool}]})
        assert [t.name for t in named] == [namespaced(entry, tool)]
    assert len(namespaced("a-server", "x" * 80)) == 64


def test_a_version_page_shows_an_mcp_servers_server_and_pinned_tools() -> None:
    view = tool_view(GITHUB)
    assert view.detail == "MCP server https://mcp.example.com/mcp"
    assert [tool.name for tool in view.pinned] == ["github__search_issues", "github__create_issue"]
    assert view.requires_approval  # some of its tools wait for approval
    stdio = {"type": "mcp", "name": "local", "transport": "stdio", "command": ["uv", "run", "a b"]}
    assert mcp_server(stdio) == "stdio: uv run 'a b'"
    assert tool_view({"type": "http", "name": "x", "url": "https://a.example"}).pinned == []
