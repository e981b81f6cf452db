"""The run page, the runs list and the approvals inbox in a browser, on a desktop and a phone:
running again from a run, a cancelled step, live durations, searching runs, what an approval
shows, people by name, and what a viewer may not do."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, ViewportSize, expect

from client import AgentRuntimeClient
from tests.stack import DevStack

RUN_TIMEOUT = 60_000
CALCULATE = {
    "text": "Let me work that out.",
    "tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}],
}
GATED_CALCULATOR = {"type": "builtin", "name": "calculator", "requires_approval": True}
VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": {"width": 1440, "height": 900},
    "phone": {"width": 390, "height": 844},
}


@pytest.fixture(params=list(VIEWPORTS))
def screen(request: pytest.FixtureRequest, ui: Page) -> Page:
    ui.set_viewport_size(VIEWPORTS[request.param])
    return ui


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def agent_with(client: AgentRuntimeClient, *turns: dict[str, Any], gated: bool = False) -> str:
    agent = client.create_agent(unique("fixes"))
    client.publish_version(
        agent["id"],
        {
            "model": {
                "provider": "scripted",
                "name": "demo",
                "parameters": {"script": list(turns)},
            },
            "system_prompt": "You are a test agent.",
            "tools": [GATED_CALCULATOR] if gated else [],
            "limits": {"max_steps": 10},
        },
    )
    return str(agent["id"])


def seconds(locator: Locator) -> float:
    """A duration as the page writes it (`850 ms`, `7.2 s`, `1 min 3 s`), in seconds."""
    text = locator.inner_text().strip()
    if match := re.fullmatch(r"([\d.]+) ms", text):
        return float(match[1]) / 1000
    if match := re.fullmatch(r"([\d.]+) s", text):
        return float(match[1])
    if match := re.fullmatch(r"(\d+) min (\d+) s", text):
        return int(match[1]) * 60 + int(match[2])
    raise AssertionError(f"not a duration: {text!r}")


def sign_in_with_key(ui: Page, base_url: str, key: str) -> None:
    # Signed out, the embedded workbench does not sign its local admin in by itself.
    ui.context.add_cookies([{"name": "ar_signed_out", "value": "1", "url": base_url}])
    ui.goto("/sign-in?next=/runs")
    ui.locator("#api-key-input").fill(key)
    ui.locator("#sign-in-key").click()
    ui.wait_for_url(re.compile(r"/runs$"))


def test_run_again_opens_the_launcher_with_this_runs_input_context_and_version(
    screen: Page, admin: AgentRuntimeClient
) -> None:
    agent_id = agent_with(admin, {"text": "Done."})
    admin.publish_version(  # a newer version: running again keeps the run's own
        agent_id,
        {
            "model": {"provider": "scripted", "name": "demo"},
            "system_prompt": "Second.",
            "tools": [],
            "limits": {"max_steps": 10},
        },
    )
    run = admin.start_run(agent_id, "Refund order #42?", version=1, context={"tier": "gold"})
    admin.wait_for_run(run["id"], timeout=60)

    screen.goto(f"/runs/{run['id']}")
    expect(screen.locator("#run-status")).to_have_text("succeeded")
    expect(screen.locator("#steps-count")).to_have_text("1 step")
    # What the model step sent, opened from its card: instructions with the context, the input.
    screen.locator(".step-request-toggle").click()
    sent = screen.locator(".step-request")
    expect(sent).to_contain_text("You are a test agent.")
    expect(sent).to_contain_text('Context: {"tier": "gold"}')
    expect(sent).to_contain_text("user: Refund order #42?")
    screen.locator(".step-request-toggle").click()
    expect(sent).to_have_count(0)
    screen.locator("#run-again").click()
    screen.wait_for_url(re.compile(rf"/agents/{agent_id}\?"))
    query = {key: values[0] for key, values in parse_qs(urlsplit(screen.url).query).items()}
    assert query["version"] == "1"
    assert query["input"] == "Refund order #42?"
    assert query["context"].replace(" ", "").replace("\n", "") == '{"tier":"gold"}'
    expect(screen.locator("#launch-input")).to_have_value(
        "Refund order #42?"
    )  # the launcher reads it


def test_durations_advance_live_and_a_cancelled_step_shows_as_cancelled(
    screen: Page, admin: AgentRuntimeClient
) -> None:
    agent_id = agent_with(admin, {"text": "too late", "delay_seconds": 30})
    run = admin.start_run(agent_id, "Take your time.")
    screen.goto(f"/runs/{run['id']}")
    step = screen.locator('.step[data-seq="1"]')
    expect(step.locator(".step-status")).to_have_text("running", timeout=RUN_TIMEOUT)

    # No event comes while the model thinks: the durations advance by the clock alone.
    run_before = seconds(screen.locator("#run-duration"))
    step_before = seconds(step.locator(".step-duration"))
    screen.wait_for_timeout(2_500)
    assert seconds(screen.locator("#run-duration")) > run_before
    assert seconds(step.locator(".step-duration")) > step_before

    screen.locator("#cancel-run").click()
    expect(screen.locator("#run-status")).to_have_text("cancelled", timeout=RUN_TIMEOUT)
    expect(step.locator(".step-status")).to_have_text("cancelled")
    expect(step.get_by_text("the run was cancelled")).to_have_count(1)
    assert seconds(step.locator(".step-duration")) > step_before
    expect(screen.locator("#waterfall")).to_contain_text("#1 demo")


def test_runs_are_searched_by_input_and_day_and_sorted_from_the_link(
    screen: Page, admin: AgentRuntimeClient
) -> None:
    token = uuid.uuid4().hex[:8]
    agent_id = agent_with(admin, {"text": "Fine."})
    ids = []
    for text in (f"first {token}", f"second {token}", "unrelated"):
        run = admin.start_run(agent_id, text)
        admin.wait_for_run(run["id"], timeout=60)
        ids.append(run["id"])

    screen.goto("/runs")
    screen.locator("#runs-search").fill(token)
    screen.locator("#runs-search-submit").click()
    screen.wait_for_url(re.compile(rf"q={token}"))
    rows = screen.locator("#runs-table .run-link")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("href", f"/runs/{ids[1]}")  # newest first

    screen.locator("#runs-sort").click()
    screen.get_by_role("option", name="oldest").click()
    screen.wait_for_url(re.compile(r"sort=oldest"))
    expect(rows.first).to_have_attribute("href", f"/runs/{ids[0]}")

    link = screen.url
    screen.goto(link)  # the link alone reproduces the list
    expect(screen.locator("#runs-search")).to_have_value(token)
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("href", f"/runs/{ids[0]}")

    today = datetime.now(UTC).date()
    screen.goto(f"/runs?q={token}&from={today}&to={today}")
    expect(rows).to_have_count(2)
    expect(screen.locator("#runs-from")).to_have_value(str(today))
    tomorrow = today + timedelta(days=1)
    screen.goto(f"/runs?q={token}&from={tomorrow}")
    expect(screen.get_by_text("No runs match")).to_be_visible()
    expect(screen.locator("#runs-older")).to_be_disabled()


def test_the_inbox_shows_the_users_message_and_the_agents_steps(
    screen: Page, admin: AgentRuntimeClient
) -> None:
    agent_id = agent_with(admin, CALCULATE, {"text": "42."}, gated=True)
    question = f"What is 6 times 7? ({uuid.uuid4().hex[:6]})"
    run = admin.start_run(agent_id, question)
    admin.wait_for_run(run["id"], until={"awaiting_approval"}, timeout=60)

    screen.goto("/approvals")
    card = screen.locator(".approval-card", has_text=question)
    expect(card.locator(".approval-input")).to_have_text(question)
    expect(card.locator(".approval-model-text")).to_have_text("Let me work that out.")
    expect(card.locator(".approval-step")).to_have_text(["#1 demo: calls calculator"])
    expect(card.locator(".approval-run-link")).to_have_attribute("href", f"/runs/{run['id']}")
    card.locator(".approval-approve").click()
    expect(card).to_have_count(0)


def test_a_viewer_sees_people_by_name_and_no_action_it_may_not_take(
    screen: Page, admin: AgentRuntimeClient, stack: DevStack, base_url: str
) -> None:
    tenant = admin.create_tenant(unique("viewers"))
    developer_key = admin.create_api_key(tenant["id"], "release bot", role="developer")["key"]
    viewer_key = admin.create_api_key(tenant["id"], "auditor", role="viewer")["key"]
    with stack.client(developer_key) as developer:
        agent_id = agent_with(developer, CALCULATE, {"text": "42."}, gated=True)
        waiting = developer.start_run(agent_id, "What is 6 times 7?")
        developer.wait_for_run(waiting["id"], until={"awaiting_approval"}, timeout=60)

        sign_in_with_key(screen, base_url, viewer_key)
        expect(screen.locator("#identity-user")).to_have_text("auditor")
        screen.goto(f"/runs/{waiting['id']}")
        expect(screen.locator("#run-created-by")).to_have_text("release bot")
        for button in ("#cancel-run", ".approval-approve", ".approval-reject"):
            expect(screen.locator(button)).to_be_disabled()
            expect(screen.locator(".refused", has=screen.locator(button))).to_have_attribute(
                "title", re.compile("Only a developer or an admin can")
            )

        screen.goto("/approvals")
        card = screen.locator(".approval-card")
        expect(card.locator(".approval-approve")).to_be_disabled()
        expect(card.locator(".approval-reject")).to_be_disabled()

        approval = developer.list_approvals(run_id=waiting["id"])[0]
        developer.decide_approval(waiting["id"], approval["id"], "approve", "fine", None)
        developer.wait_for_run(waiting["id"], timeout=60)
        screen.goto(f"/runs/{waiting['id']}")
        expect(screen.locator("#run-status")).to_have_text("succeeded")
        expect(screen.locator(".decision-by")).to_have_text("by release bot — “fine”")
        run_again = screen.locator(".refused", has_text="Run again")
        expect(run_again).to_have_attribute(
            "title", "Only a developer or an admin can start a run."
        )
        expect(run_again.get_by_role("button")).to_be_disabled()
