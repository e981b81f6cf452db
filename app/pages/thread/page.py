"""A thread as a chat: the conversation as bubbles (the user's on the right, the agent's on the
left), tool calls folded under their call, the answer streaming in, approvals inline, and the
box to send the next message with the agent and version that answer it."""

import reflex as rx

from app.components import (
    approval_card,
    by_width,
    code_text,
    crumbs,
    empty_state,
    error_callout,
    field_error,
    loading,
    page_header,
    shell,
    status_badge,
)
from app.components.widgets import refusable
from app.pages.thread.state import ThreadState
from app.view import WRITER, ChatRow, who_may

BUBBLE_WIDTH = by_width("92%", "75%")


def _bubble(*children: rx.Component, mine: bool, **props: object) -> rx.Component:
    return rx.flex(
        rx.box(
            *children,
            max_width=BUBBLE_WIDTH,
            min_width="0",
            padding="8px 12px",
            border_radius=rx.cond(mine, "14px 14px 4px 14px", "14px 14px 14px 4px"),
            background=rx.cond(mine, rx.color("accent", 9), rx.color("gray", 3)),
            color=rx.cond(mine, "white", rx.color("gray", 12)),
        ),
        justify=rx.cond(mine, "end", "start"),
        width="100%",
        **props,
    )


def _said(*text: object, **props: object) -> rx.Component:
    return rx.text(*text, size="2", white_space="pre-wrap", overflow_wrap="anywhere", **props)


def _turn(row: ChatRow) -> rx.Component:
    line = rx.box(flex="1", height="1px", background=rx.color("gray", 5), min_width="12px")
    return rx.hstack(
        line,
        rx.text("Turn ", row.turn, size="1", color_scheme="gray"),
        rx.badge(row.version, variant="outline", class_name="chat-turn-version"),
        rx.link(row.run_short, href=f"/runs/{row.run_id}", size="1", class_name="chat-run-link"),
        status_badge(row.status, size="1", class_name="chat-turn-status"),
        line,
        align="center",
        width="100%",
        wrap="wrap",
        class_name="chat-turn",
        data_version=row.version,
    )


def _tool(row: ChatRow) -> rx.Component:
    """A tool call and its result, folded: the summary line shows the tool, opening it shows the
    arguments and what came back (no round trip: the browser's own `<details>`)."""
    return rx.box(
        rx.el.details(
            rx.el.summary(
                rx.hstack(
                    rx.icon("wrench", size=14),
                    rx.code(row.tool_name, size="1"),
                    rx.cond(
                        row.answered,
                        rx.cond(
                            row.is_error,
                            rx.badge("error", color_scheme="red", size="1"),
                            rx.badge("done", color_scheme="green", size="1"),
                        ),
                        rx.badge("waiting", color_scheme="amber", size="1"),
                    ),
                    align="center",
                    display="inline-flex",
                    spacing="2",
                ),
                cursor="pointer",
                class_name="chat-tool-summary",
            ),
            rx.vstack(
                rx.text("Arguments", size="1", color_scheme="gray"),
                code_text(row.arguments, max_height="200px", class_name="chat-tool-arguments"),
                rx.cond(
                    row.answered,
                    rx.vstack(
                        rx.text("Result", size="1", color_scheme="gray"),
                        code_text(row.result, max_height="240px", class_name="chat-tool-result"),
                        spacing="1",
                        width="100%",
                    ),
                ),
                spacing="1",
                width="100%",
                margin_top="6px",
            ),
        ),
        max_width=BUBBLE_WIDTH,
        min_width="0",
        padding="6px 12px",
        border_radius="10px",
        border=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        class_name="chat-tool",
    )


def chat_row(row: ChatRow) -> rx.Component:
    return rx.match(
        row.kind,
        ("turn", _turn(row)),
        ("user", _bubble(_said(row.text), mine=True, class_name="chat-bubble chat-user")),
        (
            "assistant",
            _bubble(_said(row.text), mine=False, class_name="chat-bubble chat-assistant"),
        ),
        ("tool", _tool(row)),
        rx.center(
            rx.text("System: ", row.text, size="1", color_scheme="gray"),
            width="100%",
            class_name="chat-system",
        ),
    )


def _live() -> rx.Component:
    """The run under way: the text its model streams now, or that it is working."""
    return rx.cond(
        ThreadState.active,
        _bubble(
            rx.cond(
                ThreadState.live_text != "",
                _said(ThreadState.live_text, rx.text.span("▍", class_name="cursor")),
                rx.hstack(
                    rx.spinner(size="1"),
                    rx.text(
                        rx.cond(
                            ThreadState.run_status == "awaiting_approval",
                            "Waiting for a decision…",
                            "Working…",
                        ),
                        size="2",
                        color_scheme="gray",
                    ),
                    align="center",
                ),
            ),
            mine=False,
            id="chat-live",
        ),
    )


def _composer() -> rx.Component:
    busy = ThreadState.active | ThreadState.sending | ~ThreadState.may_write
    return rx.form(
        rx.vstack(
            rx.text_area(
                value=ThreadState.draft,
                on_change=ThreadState.set_draft,
                placeholder=rx.cond(
                    ThreadState.active, "Wait for the answer, or cancel the run…", "Your message…"
                ),
                rows="3",
                width="100%",
                name="message",
                id="chat-input",
            ),
            field_error(ThreadState.send_error, id="chat-send-error"),
            rx.hstack(
                rx.select(
                    ThreadState.agent_labels,
                    value=ThreadState.agent_label,
                    on_change=ThreadState.set_agent_label,
                    placeholder="Agent",
                    id="chat-agent",
                ),
                rx.hstack(
                    rx.text("Version", size="2", color_scheme="gray"),
                    rx.select(
                        ThreadState.version_options,
                        value=ThreadState.version_choice,
                        on_change=ThreadState.set_version_choice,
                        id="chat-version",
                    ),
                    align="center",
                    spacing="2",
                ),
                rx.spacer(),
                refusable(
                    ThreadState.may_write,
                    who_may(WRITER, "send a message"),
                    lambda refused: rx.button(
                        rx.icon("send", size=14),
                        "Send",
                        type="submit",
                        loading=ThreadState.sending,
                        disabled=True if refused else busy,
                        id="chat-send",
                    ),
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=ThreadState.send,
        width="100%",
        id="chat-composer",
    )


def _conversation() -> rx.Component:
    return rx.vstack(
        rx.cond(
            ThreadState.rows.length() > 0,
            rx.vstack(
                rx.foreach(ThreadState.rows, chat_row),
                spacing="3",
                width="100%",
                id="chat-messages",
            ),
            rx.cond(
                ~ThreadState.active,
                empty_state(
                    "messages-square", "No messages yet", "Say something below to start the chat."
                ),
            ),
        ),
        _live(),
        rx.cond(
            ThreadState.live_note != "",
            rx.callout(ThreadState.live_note, color_scheme="amber", icon="wifi-off", width="100%"),
        ),
        rx.cond(
            (ThreadState.run_error != "") & ~ThreadState.active,
            rx.callout(
                ThreadState.run_error,
                color_scheme="red",
                icon="circle-x",
                width="100%",
                id="chat-run-error",
            ),
        ),
        rx.foreach(
            ThreadState.pending,
            lambda a: approval_card(a, ThreadState, ThreadState.may_write),
        ),
        spacing="3",
        width="100%",
    )


def _cancel_button() -> rx.Component:
    return rx.cond(
        ThreadState.active,
        refusable(
            ThreadState.may_write,
            who_may(WRITER, "cancel a run"),
            lambda refused: rx.button(
                rx.icon("circle-stop", size=14),
                "Cancel run",
                color_scheme="red",
                variant="soft",
                on_click=ThreadState.cancel,
                loading=ThreadState.cancelling,
                disabled=True if refused else ThreadState.run_status == "cancelling",
                id="chat-cancel",
            ),
        ),
    )


def thread_page() -> rx.Component:
    return shell(
        page_header(
            rx.text("Thread ", rx.code(ThreadState.thread_id, size="5", variant="ghost")),
            rx.hstack(
                status_badge(ThreadState.status, id="thread-status"),
                rx.cond(
                    ThreadState.live,
                    rx.badge("live", color_scheme="grass", id="chat-live-indicator"),
                ),
                rx.text(
                    ThreadState.metadata,
                    size="1",
                    color_scheme="gray",
                    overflow_wrap="anywhere",
                    min_width="0",
                    id="thread-metadata",
                ),
                align="center",
                wrap="wrap",
            ),
            _cancel_button(),
            breadcrumbs=crumbs(("Threads", "/threads"), ("Chat", None)),
        ),
        error_callout(ThreadState.error),
        rx.cond(
            ~ThreadState.loaded,
            loading("Loading the conversation…"),
            rx.cond(
                ThreadState.failed,
                rx.fragment(),
                rx.vstack(
                    _conversation(),
                    rx.card(_composer(), width="100%"),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )
