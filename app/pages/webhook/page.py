"""A webhook: where it points and what it hears, on or off, a test ping, a new secret (shown
once), delete; and its deliveries (event, status, attempts, last answer, next retry), each
sent again on demand, followed while some are pending."""

from typing import Any

import reflex as rx

from app.components import (
    busy_note,
    code_text,
    confirm_delete,
    crumbs,
    empty_state,
    error_callout,
    page_header,
    refusable,
    secret_once,
    section_title,
    shell,
    status_badge,
    table,
    toggle_button,
    when_loaded,
)
from app.pages.webhook.state import WebhookState
from app.view import WRITER, DeliveryRow, who_may

DELIVERY_COLUMNS = [
    *("Event", "Status", "Attempts", "Last answer", "Next retry (UTC)"),
    *("Created (UTC)", "Run", ""),
]


def _delivery_row(row: DeliveryRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(row.event, size="1", class_name="delivery-event")),
        rx.table.cell(status_badge(row.status, class_name="delivery-status")),
        rx.table.cell(rx.text(row.attempts, size="2", class_name="delivery-attempts")),
        rx.table.cell(
            rx.vstack(
                rx.text(row.status_code, size="2", class_name="delivery-code"),
                rx.cond(
                    row.error != "",
                    rx.text(row.error, size="1", color="var(--red-11)", trim="both"),
                ),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(row.next_retry, size="1", color_scheme="gray")),
        rx.table.cell(rx.text(row.created, size="1", color_scheme="gray")),
        rx.table.cell(
            rx.cond(
                row.run_id != "",
                rx.link("run", href=f"/runs/{row.run_id}", size="2"),
                rx.text("—", size="2", color_scheme="gray"),
            )
        ),
        rx.table.cell(
            rx.hstack(
                toggle_button(
                    "braces",
                    "Body",
                    WebhookState.shown_id == row.id,
                    WebhookState.show_payload(row.id),
                    class_name="delivery-body",
                ),
                refusable(
                    WebhookState.may_write,
                    who_may(WRITER, "send a delivery again"),
                    lambda refused: rx.button(
                        rx.icon("send", size=14),
                        "Redeliver",
                        size="1",
                        variant="soft",
                        on_click=WebhookState.redeliver(row.id),
                        loading=WebhookState.busy == row.id,
                        disabled=refused,
                        class_name="delivery-redeliver",
                    ),
                ),
                spacing="2",
            )
        ),
        align="center",
        class_name="delivery-row",
        custom_attrs={"data-delivery": row.id},
    )


def _actions(refused: bool) -> rx.Component:
    row: Any = WebhookState.webhook
    return rx.hstack(
        rx.hstack(
            rx.switch(
                checked=row.enabled,
                on_change=WebhookState.set_enabled,
                disabled=True if refused else WebhookState.busy == "enabled",
                id="webhook-enabled",
            ),
            rx.text(rx.cond(row.enabled, "On", "Off"), size="2"),
            align="center",
        ),
        rx.button(
            rx.icon("send", size=14),
            "Send test",
            variant="soft",
            on_click=WebhookState.send_test,
            loading=WebhookState.busy == "test",
            disabled=refused,
            id="webhook-test",
        ),
        rx.button(
            rx.icon("key-round", size=14),
            "New secret",
            variant="soft",
            color_scheme="gray",
            on_click=WebhookState.rotate,
            loading=WebhookState.busy == "rotate",
            disabled=refused,
            id="webhook-rotate",
        ),
        confirm_delete(
            "webhook",
            "Its delivery log goes with it, and what is pending is not sent.",
            WebhookState.delete,
            refused,
        ),
        spacing="2",
        align="center",
        wrap="wrap",
    )


def webhook_page() -> rx.Component:
    row: Any = WebhookState.webhook
    return shell(
        page_header(
            rx.text("Webhook ", rx.code(row.short_id, size="5", variant="ghost")),
            rx.vstack(
                rx.code(row.url, size="2", id="webhook-url"),
                rx.text(
                    row.events,
                    " · ",
                    rx.cond(row.agent_id != "", row.agent_name, "every agent"),
                    rx.cond(row.description != "", " · " + row.description, ""),
                    size="2",
                    color_scheme="gray",
                ),
                spacing="1",
            ),
            refusable(WebhookState.may_write, who_may(WRITER, "change a webhook"), _actions),
            breadcrumbs=crumbs(("Webhooks", "/webhooks"), (row.short_id, None)),
        ),
        error_callout(WebhookState.error),
        secret_once(
            "The new signing secret",
            WebhookState.secret,
            WebhookState.forget_secret,
            id="webhook-secret",
        ),
        when_loaded(
            WebhookState,
            rx.vstack(
                section_title(
                    "Deliveries",
                    busy_note(WebhookState.watching, "Following attempts…", id="deliveries-live"),
                    rx.select(
                        WebhookState.status_choices,
                        value=WebhookState.status_filter,
                        on_change=WebhookState.set_status_filter,
                        id="deliveries-status-filter",
                    ),
                ),
                rx.cond(
                    WebhookState.deliveries.length() > 0,
                    table(
                        DELIVERY_COLUMNS,
                        rx.table.body(rx.foreach(WebhookState.deliveries, _delivery_row)),
                        min_width="980px",
                        id="deliveries-table",
                    ),
                    empty_state(
                        "inbox",
                        "No deliveries",
                        "Events this webhook hears are delivered here; “Send test” sends a ping.",
                    ),
                ),
                rx.cond(
                    WebhookState.shown_id != "",
                    rx.vstack(
                        rx.text("Body of ", rx.code(WebhookState.shown_id), weight="medium"),
                        code_text(WebhookState.shown_payload, id="delivery-payload"),
                        spacing="1",
                        width="100%",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            "Loading the webhook…",
        ),
    )
