"""The workbench on a phone (390 x 844 CSS pixels, touch, as a phone's browser lays it out): every
page fits the screen's width with its content using that width, tables scroll sideways inside
their own box, the navigation opens from the top bar's menu, and a phone user follows a run and
approves its tool call."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from client import AgentRuntimeClient
from e2e.test_workbench import CALCULATE, GATED_CALCULATOR, RUN_TIMEOUT, agent_with, scripted

PHONE_WIDTH = 390
PHONE = {
    "viewport": {"width": PHONE_WIDTH, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 3,
}
# The page's own content (inside the shell's padding) takes nearly the whole screen.
CONTENT_MIN_WIDTH = 350
LOOKUP_TOOL = {
    "type": "http",
    "name": "lookup_order",
    "description": "Find an order by its id.",
    "url": "https://orders.example.com/v1/orders/{order_id}/details",
    "method": "GET",
    "parameters": {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
    "headers": {"Authorization": {"secret": "ORDERS_TOKEN"}},
}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """Every test here runs in a phone-sized browser (the `ui` fixture's page)."""
    return {**browser_context_args, **PHONE}


def assert_fits_the_phone(ui: Page, content: str = "#page-content") -> None:
    """Nothing sticks out sideways, and the page's content is as wide as the phone allows."""
    scroll_width = ui.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH, f"{ui.url}: the page is {scroll_width} px wide"
    box = ui.locator(content).bounding_box()
    assert box is not None, f"{ui.url}: no {content}"
    assert box["width"] >= CONTENT_MIN_WIDTH, f"{ui.url}: {content} is {box['width']} px wide"


def assert_dialog_fits(ui: Page, opener: str) -> None:
    ui.locator(opener).click()
    dialog = ui.get_by_role("dialog")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None
    assert 0 <= box["x"] <= box["x"] + box["width"] <= PHONE_WIDTH, f"{opener}: {box}"
    assert ui.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    ui.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def scrolls_sideways(ui: Page, table: str) -> bool:
    """Whether the table's own scroll area (not the page) is wider than what it shows."""
    return bool(
        ui.locator(f"{table} .rt-ScrollAreaViewport").evaluate(
            "box => box.scrollWidth > box.clientWidth"
        )
    )


def test_every_page_fits_a_phone(ui: Page, admin: AgentRuntimeClient) -> None:
    config = scripted(CALCULATE, {"text": "42."}, tools=[GATED_CALCULATOR, LOOKUP_TOOL])
    agent_id = agent_with(admin, config)
    admin.publish_version(agent_id, {**config, "system_prompt": "Be brief, use the tools."})
    waiting = admin.start_run(agent_id, "What is 6 times 7? " * 8)
    admin.wait_for_run(waiting["id"], until={"awaiting_approval"}, timeout=60)
    decided = admin.start_run(agent_id, "And again?")
    admin.wait_for_run(decided["id"], until={"awaiting_approval"}, timeout=60)
    (approval,) = admin.list_approvals(run_id=decided["id"])
    admin.decide_approval(decided["id"], approval["id"], "approve", "fine on a phone")
    admin.wait_for_run(decided["id"], timeout=60)

    pages = [
        ("/agents", "#agents-table"),
        (f"/agents/{agent_id}?tab=run", "#start-run"),
        (f"/agents/{agent_id}?tab=versions", "#versions-table"),
        (f"/agents/{agent_id}?tab=charts", "#agent-charts"),
        (f"/agents/{agent_id}/versions/1", "#version-model"),
        (f"/agents/{agent_id}/new-version?from=2", ".tool-row >> nth=1"),  # the HTTP tool
        (f"/agents/{agent_id}/diff", "#diff-table"),
        ("/runs", "#runs-table"),
        (f"/runs/{waiting['id']}", ".approval-card"),
        (f"/runs/{decided['id']}", "#run-output"),
        ("/approvals", ".approval-card"),
        ("/approvals?status=approved", ".rt-TableRoot"),
        ("/settings", "#keys-table"),
    ]
    for path, shown in pages:
        ui.goto(path)
        expect(ui.locator(shown).first).to_be_visible()
        assert_fits_the_phone(ui)

    ui.goto("/agents")
    expect(ui.locator("#agents-table")).to_be_visible()
    assert_dialog_fits(ui, "#new-agent")
    ui.goto(f"/agents/{agent_id}?tab=run")
    expect(ui.locator("#start-run")).to_be_visible()
    assert_dialog_fits(ui, "#rename-agent")

    ui.goto("/runs")
    expect(ui.locator("#runs-table .run-link").first).to_be_visible()
    assert scrolls_sideways(ui, "#runs-table"), "the runs table is squeezed, not scrolled"
    ui.goto(f"/agents/{agent_id}/diff")
    diff = ui.locator("#diff-table")
    expect(diff).to_be_visible()
    assert diff.evaluate("box => box.scrollWidth > box.clientWidth")

    # Signed out, the sign-in page: reached through the top bar's menu.
    ui.goto("/agents")
    expect(ui.locator("#sign-out")).to_be_hidden()
    ui.locator("#nav-menu").click()
    ui.locator("#sign-out").click()
    ui.wait_for_url(re.compile(r"/sign-in"))
    expect(ui.locator("#sign-in-key")).to_be_visible()
    assert_fits_the_phone(ui, "#sign-in-card")


def test_the_menu_opens_the_navigation(ui: Page, admin: AgentRuntimeClient) -> None:
    ui.goto("/agents")
    expect(ui.locator("#page-title")).to_have_text("Agents")
    expect(ui.locator("#nav-runs")).to_be_hidden()
    ui.locator("#nav-menu").click()
    expect(ui.locator("#identity-user")).to_have_text("local admin")
    ui.locator("#nav-runs").click()
    ui.wait_for_url(re.compile(r"/runs$"))
    expect(ui.locator("#page-title")).to_have_text("Runs")
    expect(ui.locator("#nav-runs")).to_be_hidden()  # the menu closed on the way
    assert_fits_the_phone(ui)


def test_a_phone_user_follows_a_run_and_approves_its_tool_call(
    ui: Page, admin: AgentRuntimeClient
) -> None:
    config = scripted(CALCULATE, {"text": "6 times 7 is 42."}, tools=[GATED_CALCULATOR])
    agent_id = agent_with(admin, config)

    ui.goto(f"/agents/{agent_id}?tab=run")
    ui.locator("#launch-input").fill("What is 6 times 7?")
    ui.locator("#start-run").click()
    ui.wait_for_url(re.compile(r"/runs/run_\w+$"))

    card = ui.locator(".approval-card")
    expect(card).to_be_visible(timeout=RUN_TIMEOUT)
    expect(ui.locator("#run-status")).to_have_text("awaiting approval")
    expect(ui.locator("#pending-approvals-menu-badge")).to_be_visible()
    assert_fits_the_phone(ui)
    approve = card.locator(".approval-approve")
    approve.scroll_into_view_if_needed()
    box = approve.bounding_box()
    assert box is not None
    assert 0 <= box["x"] <= box["x"] + box["width"] <= PHONE_WIDTH
    approve.tap()

    expect(ui.locator("#run-status")).to_have_text("succeeded", timeout=RUN_TIMEOUT)
    expect(ui.locator("#run-output")).to_have_text("6 times 7 is 42.")
    expect(ui.locator(".decision-status")).to_have_text("approved")
    expect(ui.locator('.step[data-seq="2"] .step-result')).to_contain_text("42")
    expect(card).to_have_count(0)
    assert_fits_the_phone(ui)
