"""Webhooks: URLs told of runs' and approvals' events, signed (Standard Webhooks). The list
(each on or off), the form that creates one, its secret shown once; a webhook's own page has
its deliveries."""

from typing import Any

import reflex as rx

from app.components import (
    by_width,
    confirm_delete,
    empty_state,
    error_callout,
    field_error,
    labelled,
    new_form,
    open_form_button,
    page_header,
    refusable,
    secret_once,
    shell,
    table,
    when_loaded,
    with_error,
)
from app.pages.webhooks.state import WebhooksState
from app.view import WRITER, WebhookRow, who_may


def _error(name: str) -> Any:
    return WebhooksState.new_errors.get(name, "")  # type: ignore[attr-defined]


def _event_choice(name: rx.Var[str]) -> rx.Component:
    return rx.checkbox(
        name,
        checked=WebhooksState.new_events.contains(name),
        on_change=lambda checked: WebhooksState.toggle_event(name, checked),
        disabled=WebhooksState.new_all,
        size="2",
        class_name="new-webhook-event",
        custom_attrs={"data-event": name},
    )


def webhook_form() -> rx.Component:
    return new_form(
        WebhooksState,
        "webhook",
        "webhook",
        labelled(
            "URL",
            with_error(
                rx.input(
                    value=WebhooksState.new_url,
                    on_change=WebhooksState.set_new_url,
                    placeholder="https://example.com/hooks/agent-runtime",
                    width="100%",
                    id="new-webhook-url",
                ),
                _error("url"),
                id="new-webhook-url-error",
            ),
            "Each delivery is a signed POST; a non-2xx answer is tried again later.",
        ),
        labelled(
            "Events",
            rx.vstack(
                rx.checkbox(
                    "Every event (*)",
                    checked=WebhooksState.new_all,
                    on_change=WebhooksState.set_new_all,
                    id="new-webhook-all",
                ),
                rx.grid(
                    rx.foreach(WebhooksState.webhook_events, _event_choice),
                    columns=by_width("1", "2"),
                    spacing="2",
                    width="100%",
                    padding_left="4px",
                ),
                field_error(_error("events"), id="new-webhook-events-error"),
                spacing="2",
                width="100%",
            ),
        ),
        rx.grid(
            labelled(
                "Agent",
                rx.select(
                    WebhooksState.agent_choices,
                    value=WebhooksState.new_agent_label,
                    on_change=WebhooksState.set_new_agent_label,
                    width="100%",
                    id="new-webhook-agent",
                ),
                "Only this agent's runs, or every agent's.",
            ),
            labelled(
                "Description (optional)",
                rx.input(
                    value=WebhooksState.new_description,
                    on_change=WebhooksState.set_new_description,
                    width="100%",
                    id="new-webhook-description",
                ),
            ),
            columns=by_width("1", "2"),
            spacing="3",
            width="100%",
        ),
    )


def _delete(row: WebhookRow, refused: bool) -> rx.Component:
    return confirm_delete(
        "webhook",
        "Its delivery log goes with it, and what is pending is not sent.",
        WebhooksState.delete(row.id),
        refused,
        in_row=True,
    )


def webhook_table() -> rx.Component:
    def row(webhook: WebhookRow) -> rx.Component:
        return rx.table.row(
            rx.table.cell(
                rx.vstack(
                    rx.link(
                        webhook.url,
                        href=f"/webhooks/{webhook.id}",
                        title=webhook.url,
                        size="2",
                        font_family="var(--code-font-family)",
                        # A long URL ends in an ellipsis: the other columns stay readable.
                        display="block",
                        max_width="360px",
                        overflow="hidden",
                        text_overflow="ellipsis",
                        class_name="webhook-link",
                    ),
                    rx.cond(
                        webhook.description != "",
                        rx.text(webhook.description, size="1", color_scheme="gray", trim="both"),
                    ),
                    spacing="1",
                )
            ),
            rx.table.cell(rx.text(webhook.events, size="2", class_name="webhook-events")),
            rx.table.cell(
                rx.cond(
                    webhook.agent_id != "",
                    rx.link(webhook.agent_name, href=f"/agents/{webhook.agent_id}", size="2"),
                    rx.text("every agent", size="2", color_scheme="gray"),
                )
            ),
            rx.table.cell(
                refusable(
                    WebhooksState.may_write,
                    who_may(WRITER, "turn a webhook on or off"),
                    lambda refused: rx.switch(
                        checked=webhook.enabled,
                        on_change=lambda on: WebhooksState.set_enabled(webhook.id, on),
                        disabled=True if refused else WebhooksState.busy == webhook.id,
                        class_name="webhook-enabled",
                    ),
                )
            ),
            rx.table.cell(rx.text(webhook.created, size="1", color_scheme="gray")),
            rx.table.cell(
                rx.hstack(
                    rx.link(
                        rx.button(rx.icon("list", size=14), "Deliveries", size="1", variant="soft"),
                        href=f"/webhooks/{webhook.id}",
                        class_name="webhook-deliveries",
                    ),
                    refusable(
                        WebhooksState.may_write,
                        who_may(WRITER, "delete a webhook"),
                        lambda refused: _delete(webhook, refused),
                    ),
                    spacing="2",
                    align="center",
                )
            ),
            align="center",
            class_name="webhook-row",
            custom_attrs={"data-webhook": webhook.id},
        )

    return table(
        ["URL", "Events", "Agent", "On", "Created (UTC)", ""],
        rx.table.body(rx.foreach(WebhooksState.webhooks, row)),
        min_width="900px",
        id="webhooks-table",
    )


def webhooks_page() -> rx.Component:
    return shell(
        page_header(
            "Webhooks",
            "URLs told when runs start and end and approvals are asked or decided: signed "
            "POSTs, tried again until they are taken.",
            open_form_button(
                WebhooksState, "New webhook", who_may(WRITER, "create a webhook"), id="new-webhook"
            ),
        ),
        error_callout(WebhooksState.error),
        secret_once(
            rx.text("The signing secret of ", rx.code(WebhooksState.created_url)),
            WebhooksState.created_secret,
            WebhooksState.forget_secret,
            id="webhook-secret",
        ),
        rx.cond(WebhooksState.form_open, webhook_form()),
        when_loaded(
            WebhooksState,
            rx.cond(
                WebhooksState.webhooks.length() > 0,
                rx.box(webhook_table(), width="100%"),
                empty_state(
                    "webhook",
                    "No webhooks",
                    "A webhook tells a URL of events: a run ending, an approval asked. "
                    "Create one to hear them.",
                ),
            ),
            "Loading webhooks…",
        ),
    )
