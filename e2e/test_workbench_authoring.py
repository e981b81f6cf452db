"""Authoring in the workbench, on a desktop and on a 390 px phone: running a chosen version, the
editor's errors and parameter help, tool fields per kind, the word-level diff, an agent's charts,
the first-visit guide, and what a viewer is not offered."""

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from client import AgentRuntimeClient

SCREENS: dict[str, ViewportSize] = {
    "desktop": {"width": 1440, "height": 900},
    "phone": {"width": 390, "height": 844},
}
RUN_TIMEOUT = 60_000


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest, ui: Page) -> Page:
    ui.set_viewport_size(SCREENS[request.param])
    return ui


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def scripted(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": {
            "provider": "scripted",
            "name": "demo",
            "parameters": {"script": [{"text": text}]},
        },
        "system_prompt": "You are a test agent.",
        "limits": {"max_steps": 5},
        **extra,
    }


def agent_with_versions(client: AgentRuntimeClient, *texts: str) -> str:
    agent = client.create_agent(unique("authoring"))
    for text in texts:
        client.publish_version(agent["id"], scripted(text, notes=text))
    return str(agent["id"])


def sign_in_with(ui: Page, key: str) -> None:
    ui.goto("/agents")
    expect(ui.locator("#page-title")).to_have_text("Agents")
    viewport = ui.viewport_size
    if viewport is not None and viewport["width"] < 768:
        ui.locator("#nav-menu").click()  # on a phone, signing out is in the top bar's menu
    ui.locator("#sign-out").click()
    ui.wait_for_url(re.compile(r"/sign-in"))
    ui.locator("#api-key-input").fill(key)
    ui.locator("#sign-in-key").click()
    ui.wait_for_url(re.compile(r"/agents$"))


def test_run_it_on_an_old_version_preselects_that_version(
    screen: Page, admin: AgentRuntimeClient
) -> None:
    agent_id = agent_with_versions(admin, "one", "two", "three")
    screen.goto(f"/agents/{agent_id}/versions/1")
    screen.locator("#run-it").click()
    screen.wait_for_url(re.compile(r"version=1"))
    expect(screen.locator("#launch-version")).to_have_text("v1")


def test_the_launcher_is_prefilled_from_the_address(
    screen: Page, admin: AgentRuntimeClient
) -> None:
    agent_id = agent_with_versions(admin, "one", "two")
    context = '{"customer": "ACME"}'
    screen.goto(f"/agents/{agent_id}?tab=run&version=1&input=again%20please&context={context}")
    expect(screen.locator("#launch-version")).to_have_text("v1")
    expect(screen.locator("#launch-input")).to_have_value("again please")
    expect(screen.locator("#launch-context")).to_have_value(context)


def test_the_editor_shows_bad_json_and_the_apis_errors_at_once(
    screen: Page, admin: AgentRuntimeClient
) -> None:
    agent_id = agent_with_versions(admin, "one")
    screen.goto(f"/agents/{agent_id}/new-version")
    screen.locator("#field-metadata").fill("{not json")
    screen.locator("#field-max_steps").fill("-1")
    screen.locator("#field-parameters").fill('{"script": [], "bogus": 1}')
    screen.locator("#publish-version").click()
    expect(screen.locator("#error-metadata")).to_contain_text("not valid JSON")
    expect(screen.locator("#error-limits-max_steps")).to_contain_text("greater than or equal")
    expect(screen.locator(".parameter-error")).to_contain_text("bogus")
    assert len(admin.list_versions(agent_id)) == 1


def test_the_editor_documents_the_scripted_providers_parameters(
    screen: Page, admin: AgentRuntimeClient
) -> None:
    agent_id = agent_with_versions(admin, "one")
    screen.goto(f"/agents/{agent_id}/new-version")
    help_panel = screen.locator("#parameter-help")
    for option in ("script", "script[].delay_seconds", "script[].chunk_delay_seconds"):
        expect(help_panel.get_by_text(option, exact=True)).to_be_visible()
    expect(help_panel.get_by_text("script[].error", exact=True)).to_be_visible()


def test_a_calculator_tool_offers_no_allowed_hosts(screen: Page, admin: AgentRuntimeClient) -> None:
    agent_id = agent_with_versions(admin, "one")
    admin.publish_version(
        agent_id,
        scripted("two", tools=[{"type": "builtin", "name": "http_request"}]),
    )
    screen.goto(f"/agents/{agent_id}/new-version?from=1")
    screen.locator("#add-builtin-tool").click()
    row = screen.locator(".tool-row")
    expect(row).to_have_count(1)
    expect(row.get_by_role("combobox").nth(1)).to_have_text("calculator")
    expect(row.get_by_text("Allowed hosts")).to_have_count(0)
    screen.goto(f"/agents/{agent_id}/new-version?from=2")
    expect(screen.locator(".tool-row").get_by_text("Allowed hosts")).to_have_count(1)


def test_the_diff_marks_changed_words_and_hides_unchanged_lines(
    screen: Page, admin: AgentRuntimeClient
) -> None:
    agent_id = agent_with_versions(admin, "hello there", "hello world")
    screen.goto(f"/agents/{agent_id}/diff?left=1&right=2")
    # Changed in two lines (the script's text and the notes), and only that word of each.
    expect(screen.locator(".diff-word").filter(has_text="world")).to_have_count(2)
    expect(screen.locator(".diff-word").filter(has_text="hello")).to_have_count(0)
    expect(screen.locator(".diff-skipped")).to_have_count(0)
    screen.locator("#diff-changes-only").click()
    expect(screen.locator(".diff-skipped").first).to_contain_text("unchanged line")
    expect(screen.locator("#diff-summary")).to_contain_text("unchanged hidden")
    expect(screen.locator(".diff-equal")).to_have_count(0)


def test_the_agents_charts_come_from_its_stats(screen: Page, admin: AgentRuntimeClient) -> None:
    agent_id = agent_with_versions(admin, "charted")
    run = admin.start_run(agent_id, "go")
    admin.wait_for_run(run["id"], timeout=RUN_TIMEOUT / 1000)
    screen.goto(f"/agents/{agent_id}?tab=charts")
    charts = screen.locator("#agent-charts")
    expect(charts).to_be_visible()
    expect(charts.locator(".recharts-surface").first).to_be_visible()
    # Every run of this agent cost $0: the cost axis says nothing else.
    expect(charts).not_to_contain_text("$4")


def test_a_new_tenant_sees_a_guide_until_it_is_dismissed(
    screen: Page, admin: AgentRuntimeClient
) -> None:
    tenant = admin.create_tenant(unique("newcomer"))
    key = admin.create_api_key(tenant["id"], "e2e", role="admin")["key"]
    sign_in_with(screen, key)
    guide = screen.locator("#getting-started")
    # This tenant has no demo agent: the guide says how to try one without an API key.
    expect(guide).to_contain_text("scripted")
    expect(guide.locator("#guide-demo-link")).to_have_count(0)
    expect(guide.locator("#guide-docs-link")).to_have_attribute("href", re.compile(r"/docs$"))
    with AgentRuntimeClient(str(admin.http.base_url), key) as newcomer:
        demo = newcomer.create_agent("demo-calculator")
    screen.reload()
    expect(guide.locator("#guide-demo-link")).to_have_attribute(
        "href", re.compile(rf"/agents/{demo['id']}\?tab=run$")
    )
    screen.locator("#dismiss-guide").click()
    expect(guide).to_have_count(0)
    screen.reload()
    expect(screen.locator("#page-title")).to_have_text("Agents")
    expect(guide).to_have_count(0)


def test_no_guide_once_the_tenant_has_runs(screen: Page, admin: AgentRuntimeClient) -> None:
    agent_id = agent_with_versions(admin, "ran")
    admin.wait_for_run(admin.start_run(agent_id, "go")["id"], timeout=RUN_TIMEOUT / 1000)
    screen.goto("/agents")
    expect(screen.locator("#agents-table")).to_be_visible()
    expect(screen.locator("#getting-started")).to_have_count(0)


def test_a_viewer_is_not_offered_what_its_role_may_not_do(
    screen: Page, admin: AgentRuntimeClient
) -> None:
    agent_id = agent_with_versions(admin, "one")
    me = admin.me()
    key = admin.create_api_key(me["tenant_id"], unique("viewer"), role="viewer")["key"]
    sign_in_with(screen, key)
    expect(screen.locator("#new-agent")).to_be_disabled()
    expect(screen.locator(".agent-actions")).to_have_count(0)
    screen.goto(f"/agents/{agent_id}")
    expect(screen.locator("#start-run")).to_be_disabled()
    expect(screen.locator("#rename-agent")).to_be_disabled()
    expect(screen.locator("#archive-agent")).to_be_disabled()
    refused = screen.locator(".refused").filter(has=screen.locator("#start-run"))
    expect(refused).to_have_attribute("title", re.compile("developer"))
    # Who created the agent, by name or bare subject, never with its `key:` prefix.
    expect(screen.locator("#agent-created-by")).to_have_text(re.compile(r"^(?!key:|oidc:).+"))
    screen.goto(f"/agents/{agent_id}/versions/1")
    expect(screen.locator("#run-it")).to_be_disabled()
    expect(screen.locator("#new-version-from")).to_be_disabled()
    screen.goto(f"/agents/{agent_id}/new-version")
    expect(screen.locator("#publish-version")).to_be_disabled()
