"""Threads in a browser: "Chat" on a version's page opens a new conversation; three turns (the
version switched between them) with a gated tool call approved inline after a reload mid-run;
the threads list and its filters; the chat view on a phone."""

import re
from typing import Any

from playwright.sync_api import Page, expect

from client import AgentRuntimeClient
from e2e.test_workbench import CALCULATE, GATED_CALCULATOR, RUN_TIMEOUT, scripted, unique

PHONE_WIDTH = 390


def script(version: str) -> list[dict[str, Any]]:
    """The turns of a thread's model calls, counted across its runs: each version says who
    it is, so the page shows which one answered."""
    return [
        {"text": f"{version} heard: {{last_user}}", "chunk_delay_seconds": 0.02},
        CALCULATE,
        {"text": f"{version} says it is 42."},
        {
            "text": f"{version} heard {{user_count}} messages: {{user_messages}}",
            "chunk_delay_seconds": 0.25,
        },
    ]


def two_version_agent(client: AgentRuntimeClient) -> tuple[str, str]:
    agent = client.create_agent(unique("chat"))
    for version in ("v1", "v2"):
        client.publish_version(agent["id"], scripted(*script(version), tools=[GATED_CALCULATOR]))
    return str(agent["id"]), str(agent["name"])


def send(ui: Page, text: str, version: str | None = None) -> None:
    if version is not None:
        ui.locator("#chat-version").click()
        ui.get_by_role("option", name=version, exact=True).click()
        expect(ui.locator("#chat-version")).to_have_text(version)
    ui.locator("#chat-input").fill(text)
    ui.locator("#chat-send").click()


def test_a_three_turn_chat_with_an_approval_and_a_reload(
    ui: Page, admin: AgentRuntimeClient
) -> None:
    agent_id, agent_name = two_version_agent(admin)
    ui.goto(f"/agents/{agent_id}/versions/1")
    ui.locator("#chat-with-version").click()
    ui.wait_for_url(re.compile(r"/threads/thr_\w+\?version=1$"))
    thread_id = ui.url.split("/threads/", 1)[1].split("?", 1)[0]
    expect(ui.locator("#chat-version")).to_have_text("1")  # the version page's, preselected
    expect(ui.locator("#chat-agent")).to_have_text(agent_name)
    expect(ui.locator("#thread-metadata")).to_have_text(f"agent={agent_name}")
    assistant = ui.locator(".chat-assistant")

    # Turn 1, on version 1.
    send(ui, "Hello there")
    expect(ui.locator(".chat-user")).to_have_text(["Hello there"])
    expect(assistant).to_have_text(["v1 heard: Hello there"], timeout=RUN_TIMEOUT)
    expect(ui.locator("#thread-status")).to_have_text("idle")
    expect(ui.locator("#chat-cancel")).to_have_count(0)

    # Turn 2, switched to version 2: a gated tool call waits for a decision.
    send(ui, "What is 6 times 7?", version="2")
    card = ui.locator(".approval-card")
    expect(card).to_be_visible(timeout=RUN_TIMEOUT)
    expect(ui.locator("#thread-status")).to_have_text("interrupted")
    expect(ui.locator(".chat-tool")).to_contain_text("waiting")
    expect(ui.locator("#chat-cancel")).to_be_visible()
    expect(ui.locator("#chat-send")).to_be_disabled()

    # A reload in the middle of the run shows it again and follows it.
    ui.reload()
    expect(card).to_be_visible()
    expect(card.locator(".approval-arguments textarea")).to_have_value(re.compile(r'"6\*7"'))
    expect(ui.locator("#chat-cancel")).to_be_visible()
    expect(ui.locator("#chat-live")).to_contain_text("Waiting for a decision")
    card.locator(".approval-approve").click()
    expect(assistant.last).to_have_text("v2 says it is 42.", timeout=RUN_TIMEOUT)
    expect(card).to_have_count(0)
    expect(ui.locator("#thread-status")).to_have_text("idle")

    # The tool call is folded under its call: its result shows once opened.
    tool = ui.locator(".chat-tool")
    expect(tool).to_have_count(1)
    expect(tool).to_contain_text("calculator")
    expect(tool.locator(".chat-tool-result")).to_be_hidden()
    tool.locator(".chat-tool-summary").click()
    expect(tool.locator(".chat-tool-result")).to_be_visible()
    expect(tool.locator(".chat-tool-result")).to_contain_text("42")

    # Turn 3, on the latest version: the answer streams in, then joins the conversation.
    send(ui, "Thanks!", version="latest")
    answer = "v2 heard 3 messages: Hello there | What is 6 times 7? | Thanks!"
    expect(ui.locator("#chat-live")).to_contain_text("v2 heard", timeout=RUN_TIMEOUT)
    expect(assistant.last).to_have_text(answer, timeout=RUN_TIMEOUT)
    expect(ui.locator("#chat-live")).to_have_count(0)
    expect(ui.locator(".chat-user")).to_have_text(["Hello there", "What is 6 times 7?", "Thanks!"])
    expect(ui.locator(".chat-turn-version")).to_have_text(["v1", "v2", "v2"])
    expect(ui.locator(".chat-turn-status")).to_have_text(["succeeded"] * 3)

    # The threads list: this thread, idle after three runs; the filters keep or drop it.
    ui.goto("/threads")
    row = ui.locator(".thread-row", has=ui.locator(f'[data-thread="{thread_id}"]'))
    expect(row.locator(".thread-status")).to_have_text("idle")
    expect(row.locator(".thread-runs")).to_have_text("3")
    expect(row.locator(".thread-agent")).to_have_text(agent_name)
    expect(row.locator(".thread-metadata")).to_have_text(f"agent={agent_name}")
    ui.locator("#threads-agent-filter").click()
    ui.get_by_role("option", name=agent_name, exact=True).click()
    ui.wait_for_url(re.compile(rf"agent={agent_id}"))
    expect(ui.locator(".thread-row")).to_have_count(1)
    ui.locator("#threads-status-filter").click()
    ui.get_by_role("option", name="busy", exact=True).click()
    ui.wait_for_url(re.compile(r"status=busy"))
    expect(ui.get_by_text("No threads match")).to_be_visible()
    ui.goto("/threads")
    ui.locator(f'[data-thread="{thread_id}"]').click()
    ui.wait_for_url(re.compile(rf"/threads/{thread_id}$"))
    expect(assistant).to_have_count(3)


def test_the_chat_view_fits_a_phone(ui: Page, admin: AgentRuntimeClient) -> None:
    agent = admin.create_agent(unique("chat-phone"))
    long_word = "x" * 120  # no spaces: it must wrap, not widen the page
    turns: list[dict[str, Any]] = [
        {"text": f"Here: {long_word} {{last_user}}"},
        CALCULATE,
        {"text": "42."},
    ]
    admin.publish_version(agent["id"], scripted(*turns, tools=[GATED_CALCULATOR]))
    thread = admin.create_thread(metadata={"agent": agent["name"], "note": long_word})
    first = admin.start_thread_run(thread["id"], agent["id"], f"Say {long_word}")
    admin.wait_for_run(first["id"], timeout=60)
    waiting = admin.start_thread_run(thread["id"], agent["id"], "What is 6 times 7?")
    admin.wait_for_run(waiting["id"], until={"awaiting_approval"}, timeout=60)

    ui.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    ui.goto(f"/threads/{thread['id']}")
    expect(ui.locator(".approval-card")).to_be_visible()
    expect(ui.locator(".chat-assistant")).to_have_count(1)
    ui.locator(".chat-tool-summary").click()
    expect(ui.locator(".chat-tool-arguments")).to_be_visible()
    expect(ui.locator("#chat-send")).to_be_visible()
    width = ui.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the chat view is {width} px wide"

    # Cancelled while it waits: the call it never ran is answered with an error.
    ui.locator("#chat-cancel").click()
    expect(ui.locator(".chat-turn-status").last).to_have_text("cancelled", timeout=RUN_TIMEOUT)
    expect(ui.locator("#thread-status")).to_have_text("idle")
    expect(ui.locator(".approval-card")).to_have_count(0)
    expect(ui.locator(".chat-tool")).to_contain_text("error")
    expect(ui.locator("#chat-send")).to_be_visible()

    ui.goto("/threads")
    expect(ui.locator(f'[data-thread="{thread["id"]}"]')).to_be_visible()
    width = ui.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the threads list is {width} px wide"
