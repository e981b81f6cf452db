"""The dashboard in a browser, against the real embedded stack: a tenant's runs counted by agent
and status, charts that say what they lack, on a desktop and on a 390 px phone screen."""

import re
import uuid
from typing import Any

from playwright.sync_api import Page, ViewportSize, expect

from client import AgentRuntimeClient
from tests.stack import DevStack

PHONE: ViewportSize = {"width": 390, "height": 844}


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def scripted_agent(client: AgentRuntimeClient, turn: dict[str, Any]) -> str:
    agent = client.create_agent(unique("dash"))
    config = {
        "model": {"provider": "scripted", "name": "demo", "parameters": {"script": [turn]}},
        "system_prompt": "You are a test agent.",
        "limits": {"max_steps": 3},
    }
    client.publish_version(agent["id"], config)
    return str(agent["id"])


def sign_in_with_key(ui: Page, base_url: str, key: str, tenant: str) -> None:
    # Signed out, the embedded workbench does not sign its local admin in by itself.
    ui.context.add_cookies([{"name": "ar_signed_out", "value": "1", "url": base_url}])
    ui.goto("/sign-in?next=/dashboard")
    ui.locator("#api-key-input").fill(key)
    ui.locator("#sign-in-key").click()
    ui.wait_for_url(re.compile(r"/dashboard$"))
    expect(ui.locator("#identity-tenant")).to_have_text(tenant)


def test_the_dashboard_counts_a_tenants_runs_by_agent(
    ui: Page, admin: AgentRuntimeClient, stack: DevStack, base_url: str
) -> None:
    tenant = admin.create_tenant(unique("dashboard"))
    key = admin.create_api_key(tenant["id"], "e2e", role="admin")["key"]
    sign_in_with_key(ui, base_url, key, tenant["name"])
    expect(ui.locator("#dashboard-empty")).to_contain_text("No runs in this range yet")

    with stack.client(key) as client:
        good = scripted_agent(client, {"text": "All done."})
        bad = scripted_agent(client, {"error": {"message": "scripted outage", "retryable": False}})
        runs = [client.start_run(agent, "go") for agent in (good, good, bad)]
        ended = [client.wait_for_run(run["id"], timeout=60)["status"] for run in runs]
    assert ended == ["succeeded", "succeeded", "failed"]

    ui.locator("#dashboard-refresh").click()
    expect(ui.locator("#total-runs")).to_have_text("3")
    expect(ui.locator("#total-success-rate")).to_have_text("67%")
    fine = ui.locator(f'.agent-stat[data-agent-id="{good}"]')
    expect(fine.locator(".agent-runs")).to_have_text("2")
    expect(fine.locator(".agent-failed")).to_have_text("0")
    broken = ui.locator(f'.agent-stat[data-agent-id="{bad}"]')
    expect(broken.locator(".agent-runs")).to_have_text("1")
    expect(broken.locator(".agent-failed")).to_have_text("1 (100%)")
    failing = ui.locator(f'.failing-agent[data-agent-id="{bad}"]')
    expect(failing).to_contain_text("100%")
    expect(failing.locator("a")).to_have_attribute("href", f"/agents/{bad}")
    expect(ui.locator(".failing-agent")).to_have_count(1)

    # Bars for the statuses that happened; the scripted model costs nothing, which is said.
    runs_chart = ui.locator("#chart-runs")
    expect(runs_chart.locator(".recharts-legend-item")).to_have_count(2)
    expect(runs_chart.locator(".recharts-bar-rectangle").first).to_be_visible()
    expect(ui.locator("#chart-cost")).to_contain_text("No cost recorded in this range.")
    expect(ui.locator("#chart-tokens .recharts-bar-rectangle").first).to_be_visible()
    expect(ui.locator("#chart-latency")).to_contain_text("approvals")
    expect(ui.locator("#chart-latency .recharts-line-dot").first).to_be_visible()

    ui.locator("#dashboard-range").get_by_role("radio", name="24h").click()
    ui.wait_for_url(re.compile(r"/dashboard\?range=24h$"))
    expect(ui.locator("#total-runs")).to_have_text("3")
    expect(ui.locator("#chart-runs")).to_contain_text("Runs by status")

    ui.set_viewport_size(PHONE)
    ui.reload()
    expect(ui.locator("#total-runs")).to_have_text("3")
    expect(ui.locator("#chart-tokens .recharts-bar-rectangle").first).to_be_visible()
    expect(ui.locator(f'.agent-stat[data-agent-id="{good}"]')).to_be_attached()
    width = ui.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"
