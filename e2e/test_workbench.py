"""The workbench in a browser, against the real embedded stack: what a user who never touches
curl does, end to end."""

import json
import re
import uuid
from typing import Any

from playwright.sync_api import Page, expect

from client import AgentRuntimeClient

RUN_TIMEOUT = 60_000
CALCULATE = {"tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}]}
GATED_CALCULATOR = {"type": "builtin", "name": "calculator", "requires_approval": True}


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def scripted(*turns: dict[str, Any], tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "model": {"provider": "scripted", "name": "demo", "parameters": {"script": list(turns)}},
        "system_prompt": "You are a test agent.",
        "tools": tools or [],
        "limits": {"max_steps": 10},
    }


def agent_with(client: AgentRuntimeClient, config: dict[str, Any]) -> str:
    agent = client.create_agent(unique("e2e"))
    client.publish_version(agent["id"], config)
    return str(agent["id"])


def start_run_in_ui(ui: Page, agent_id: str, text: str) -> str:
    ui.goto(f"/agents/{agent_id}?tab=run")
    ui.locator("#launch-input").fill(text)
    ui.locator("#start-run").click()
    ui.wait_for_url(re.compile(r"/runs/run_\w+$"))
    return ui.url.rsplit("/", 1)[1]


def test_author_publish_run_and_approve(ui: Page) -> None:
    """Create an agent, publish a gated calculator version, run it, watch it, approve the call."""
    ui.goto("/agents")
    expect(ui.locator("#identity-user")).to_have_text("local admin")
    expect(ui.locator("#identity-tenant")).to_have_text("default")

    name = unique("calc")
    ui.locator("#new-agent").click()
    ui.locator("#create-agent-name").fill(name)
    ui.locator("#create-agent-description").fill("Multiplies, with a person in the loop.")
    ui.locator("#create-agent-submit").click()
    ui.wait_for_url(re.compile(r"/agents/agt_\w+\?tab=versions$"))
    expect(ui.locator("#page-title")).to_have_text(name)

    ui.locator("#new-version").click()
    ui.wait_for_url(re.compile(r"/new-version$"))
    script = [CALCULATE, {"text": "6 times 7 is 42.", "chunk_delay_seconds": 0.05}]
    ui.locator("#field-parameters").fill(json.dumps({"script": script}, indent=2))
    ui.locator("#field-system_prompt").fill("Use the calculator.")
    ui.locator("#add-builtin-tool").click()
    tool = ui.locator(".tool-row")
    expect(tool).to_have_count(1)
    tool.get_by_role("switch").click()
    ui.locator("#field-notes").fill("first version, from the browser")
    ui.locator("#publish-version").click()
    ui.wait_for_url(re.compile(r"/versions/1$"))
    expect(ui.locator("#page-title")).to_have_text("Version 1")
    expect(ui.get_by_text("needs approval")).to_be_visible()

    ui.get_by_role("button", name="Run it").click()
    # "Run it" on a version's page runs that version.
    ui.wait_for_url(re.compile(r"\?tab=run&version=1$"))
    ui.locator("#launch-input").fill("What is 6 times 7?")
    ui.locator("#start-run").click()
    ui.wait_for_url(re.compile(r"/runs/run_\w+$"))

    # Live: the model's step and then the approval appear without a reload.
    card = ui.locator(".approval-card")
    expect(card).to_be_visible(timeout=RUN_TIMEOUT)
    expect(ui.locator("#run-status")).to_have_text("awaiting approval")
    expect(ui.locator('.step[data-seq="1"]')).to_contain_text("calls calculator")
    expect(card.locator(".approval-arguments textarea")).to_have_value(re.compile(r'"6\*7"'))
    expect(ui.locator("#pending-approvals-badge")).to_be_visible()

    card.locator(".approval-approve").click()
    expect(ui.locator("#run-status")).to_have_text("succeeded", timeout=RUN_TIMEOUT)
    expect(ui.locator("#run-output")).to_have_text("6 times 7 is 42.")
    tool_step = ui.locator('.step[data-seq="2"]')
    expect(tool_step).to_contain_text("calculator")
    expect(tool_step.locator(".step-result")).to_contain_text("42")
    expect(ui.locator('.step[data-seq="3"] .step-text')).to_have_text("6 times 7 is 42.")
    expect(ui.locator(".decision-status")).to_have_text("approved")
    expect(ui.locator("#waterfall")).to_contain_text("approval")


def test_reject_from_the_inbox(ui: Page, admin: AgentRuntimeClient) -> None:
    config = scripted(CALCULATE, {"text": "Understood: no calculation."}, tools=[GATED_CALCULATOR])
    agent_id = agent_with(admin, config)
    agent_name = admin.get_agent(agent_id)["name"]
    run = admin.start_run(agent_id, "What is 6 times 7?")
    admin.wait_for_run(run["id"], until={"awaiting_approval"}, timeout=60)

    ui.goto("/approvals")
    card = ui.locator(".approval-card", has_text=agent_name)
    expect(card).to_be_visible()
    card.locator(".approval-comment textarea").fill("Not today.")
    card.locator(".approval-reject").click()
    expect(card).to_have_count(0)

    ui.goto(f"/runs/{run['id']}")
    expect(ui.locator("#run-status")).to_have_text("succeeded", timeout=RUN_TIMEOUT)
    expect(ui.locator("#run-output")).to_have_text("Understood: no calculation.")
    expect(ui.locator(".decision-status")).to_have_text("rejected")
    expect(ui.locator(".step-error", has_text="Not today.")).to_be_visible()
    expect(ui.locator("em", has_text="Not today.")).to_be_visible()


def test_cancel_a_running_run(ui: Page, admin: AgentRuntimeClient) -> None:
    agent_id = agent_with(admin, scripted({"text": "late", "delay_seconds": 30}))
    start_run_in_ui(ui, agent_id, "take your time")
    expect(ui.locator("#run-status")).to_have_text("running", timeout=RUN_TIMEOUT)
    expect(ui.locator("#live-indicator")).to_be_visible()
    ui.locator("#cancel-run").click()
    expect(ui.locator("#run-status")).to_have_text("cancelled", timeout=RUN_TIMEOUT)
    expect(ui.locator("#cancel-run")).to_have_count(0)
    expect(ui.locator("#live-indicator")).to_have_count(0)


def test_validation_errors_show_next_to_their_fields(ui: Page, admin: AgentRuntimeClient) -> None:
    agent = admin.create_agent(unique("invalid"))
    ui.goto(f"/agents/{agent['id']}/new-version")
    ui.locator("#field-max_steps").fill("-1")
    ui.locator("#add-http-tool").click()
    tool = ui.locator(".tool-row")
    tool.get_by_placeholder("tool_name").fill("lookup")
    tool.get_by_placeholder("https://api.example.com/things/{id}").fill("https://example.com/x")
    tool.locator(".tool-parameters textarea").fill('{"type": "nope"}')
    ui.locator("#publish-version").click()

    error = ui.locator("#error-limits-max_steps")
    expect(error).to_contain_text("greater than or equal to 1")
    expect(tool.locator(".tool-parameters-error")).to_contain_text("not a valid JSON schema")
    expect(ui.locator("#editor-error")).to_be_visible()
    assert admin.list_versions(agent["id"]) == []

    ui.locator("#field-max_steps").fill("5")
    expect(error).to_have_count(0)


def test_another_tenant_sees_none_of_these_agents(ui: Page, admin: AgentRuntimeClient) -> None:
    mine = admin.create_agent(unique("default-only"))
    tenant = admin.create_tenant(unique("other"))
    key = admin.create_api_key(tenant["id"], "e2e", role="admin")["key"]

    ui.goto("/agents")
    expect(ui.get_by_text(mine["name"])).to_be_visible()
    ui.locator("#sign-out").click()
    ui.wait_for_url(re.compile(r"/sign-in"))
    ui.locator("#api-key-input").fill(key)
    ui.locator("#sign-in-key").click()
    ui.wait_for_url(re.compile(r"/agents$"))
    expect(ui.locator("#identity-tenant")).to_have_text(tenant["name"])
    expect(ui.get_by_text("No agents yet")).to_be_visible()
    expect(ui.get_by_text(mine["name"])).to_have_count(0)

    ui.goto(f"/agents/{mine['id']}")
    expect(ui.get_by_text("not found")).to_be_visible()

    ui.locator("#sign-out").click()
    ui.wait_for_url(re.compile(r"/sign-in"))
    ui.locator("#api-key-input").fill("ark_0000000000000000_nope")
    ui.locator("#sign-in-key").click()
    expect(ui.locator("#sign-in-error")).to_contain_text("not valid")


def test_a_reload_mid_run_keeps_following(ui: Page, admin: AgentRuntimeClient) -> None:
    config = scripted(CALCULATE, {"text": "Done after the reload."}, tools=[GATED_CALCULATOR])
    agent_id = agent_with(admin, config)
    run_id = start_run_in_ui(ui, agent_id, "go")
    expect(ui.locator(".approval-card")).to_be_visible(timeout=RUN_TIMEOUT)

    ui.reload()
    expect(ui.locator(".approval-card")).to_be_visible()
    expect(ui.locator("#live-indicator")).to_be_visible()
    (approval,) = admin.list_approvals(run_id=run_id)
    admin.decide_approval(run_id, approval["id"], "approve")  # not from this page

    expect(ui.locator("#run-status")).to_have_text("succeeded", timeout=RUN_TIMEOUT)
    expect(ui.locator("#run-output")).to_have_text("Done after the reload.")
    expect(ui.locator(".step")).to_have_count(3)
    expect(ui.locator(".approval-card")).to_have_count(0)


def test_artifacts_download_through_the_workbench(ui: Page, admin: AgentRuntimeClient) -> None:
    write = {
        "tool_calls": [
            {"name": "artifact_write", "arguments": {"name": "report.txt", "content": "all good"}}
        ]
    }
    config = scripted(
        write, {"text": "Saved."}, tools=[{"type": "builtin", "name": "artifact_write"}]
    )
    agent_id = agent_with(admin, config)
    run = admin.start_run(agent_id, "write it down")
    admin.wait_for_run(run["id"], timeout=60)

    ui.goto(f"/runs/{run['id']}")
    link = ui.locator(".artifact-link", has_text="report.txt")
    expect(link).to_be_visible()
    with ui.expect_download() as download:
        link.click()
    path = download.value.path()
    assert path.read_text() == "all good"


def test_model_text_streams_as_it_is_written(ui: Page, admin: AgentRuntimeClient) -> None:
    words = "one two three four five six seven eight nine ten"
    agent_id = agent_with(admin, scripted({"text": words, "chunk_delay_seconds": 0.4}))
    start_run_in_ui(ui, agent_id, "count")
    text = ui.locator('.step[data-seq="1"] .step-text')
    expect(text).to_contain_text("two", timeout=RUN_TIMEOUT)
    expect(ui.locator("#run-status")).to_have_text("running")
    assert "ten" not in text.inner_text()  # seen mid-answer, before the step completed
    expect(ui.locator("#run-output")).to_have_text(words, timeout=RUN_TIMEOUT)
    expect(text).to_have_text(words)


def test_rename_an_agent_from_its_page(ui: Page, admin: AgentRuntimeClient) -> None:
    agent_id = agent_with(admin, scripted({"text": "hi"}))
    new_name = unique("renamed")
    ui.goto(f"/agents/{agent_id}")
    ui.get_by_role("button", name="Rename").click()
    ui.locator("#rename-agent-name").fill(new_name)
    ui.locator("#rename-agent-submit").click()
    expect(ui.locator("#page-title")).to_have_text(new_name)
    assert admin.get_agent(agent_id)["name"] == new_name


def test_rename_an_agent_from_the_list(ui: Page, admin: AgentRuntimeClient) -> None:
    name = unique("listed")
    agent_id = str(admin.create_agent(name)["id"])
    new_name = unique("renamed-in-list")
    ui.goto("/agents")
    ui.locator("#agent-search").fill(name)
    expect(ui.locator("#agents-table tbody tr")).to_have_count(1)
    ui.locator("#agents-table tbody tr .agent-actions").click()
    ui.get_by_role("menuitem", name="Rename…").click()
    ui.locator("#rename-agent-name").fill(new_name)
    ui.locator("#rename-agent-submit").click()
    expect(ui.locator("#rename-agent-name")).to_be_hidden()
    ui.locator("#agent-search").fill(new_name)
    expect(ui.locator("#agents-table")).to_contain_text(new_name)
    assert admin.get_agent(agent_id)["name"] == new_name


def test_new_version_from_this_keeps_every_field(ui: Page, admin: AgentRuntimeClient) -> None:
    """Every field set away from its default, published again from the browser unchanged."""
    config = {
        "model": {
            "provider": "openai_compatible",
            "name": "local-model",
            "parameters": {"base_url": "http://127.0.0.1:1/v1", "temperature": 0.3},
        },
        "system_prompt": "Be brief.",
        "tools": [
            {
                "type": "builtin",
                "name": "http_request",
                "allowed_hosts": ["api.example.com"],
                "requires_approval": True,
                "approval_timeout_seconds": 90,
            },
            {
                "type": "http",
                "name": "lookup",
                "url": "https://api.example.com/things",
                "method": "GET",
                "headers": {"Authorization": {"secret": "LOOKUP_TOKEN"}},
                "timeout_seconds": 5.5,
                "accepts_idempotency_key": True,
            },
        ],
        "limits": {"max_steps": 7, "max_cost_usd": 0.25, "approval_timeout_seconds": 3600},
        "metadata": {"team": "support"},
    }
    agent_id = agent_with(admin, config)
    first = admin.get_version(agent_id, 1)

    ui.goto(f"/agents/{agent_id}/versions/1")
    ui.get_by_role("button", name="New version from this").click()
    ui.wait_for_url(re.compile(r"/new-version\?from=1$"))
    expect(ui.locator(".tool-row")).to_have_count(2)
    ui.locator("#field-notes").fill("the same, from the browser")
    ui.locator("#publish-version").click()
    ui.wait_for_url(re.compile(r"/versions/2$"))

    second = admin.get_version(agent_id, 2)
    assert second["config_hash"] == first["config_hash"]
    assert second["notes"] == "the same, from the browser"
