"""The pieces every page uses: badges, callouts, empty and loading states, cards, tables, a
delete confirmed first, a toggle and a busy note."""

from collections.abc import Callable
from typing import Any

import reflex as rx

from app.view import STATUS_COLORS

# Screens narrower than Reflex's `sm` breakpoint (48em, 768 px): phones.
NARROW_SCREEN = "@media screen and (max-width: 47.99em)"


def by_width(narrow: Any, wide: Any) -> Any:
    """A responsive value: `narrow` on a phone, `wide` from 768 px up (Reflex's and Radix's
    `sm` breakpoint). For style props and for Radix props such as a grid's `columns`."""
    return rx.breakpoints(initial=narrow, sm=wide)


def status_badge(status: Any, **props: Any) -> rx.Component:
    return rx.badge(
        status.to(str).replace("_", " ") if isinstance(status, rx.Var) else status,
        color_scheme=rx.match(
            status,
            *[(name, color) for name, color in STATUS_COLORS.items()],
            "gray",
        ),
        variant="soft",
        radius="full",
        **props,
    )


def error_callout(message: Any, **props: Any) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle-alert", color_scheme="red", width="100%", **props),
    )


def empty_state(
    icon: str, title: str, text: Any, action: rx.Component | None = None, **props: Any
) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(
                rx.icon(icon, size=26, color=rx.color("accent", 10)),
                width="56px",
                height="56px",
                border_radius="16px",
                background=rx.color("accent", 3),
            ),
            rx.text(title, size="4", weight="bold"),
            rx.text(text, size="2", color_scheme="gray", text_align="center", max_width="420px"),
            action or rx.fragment(),
            align="center",
            spacing="3",
        ),
        width="100%",
        padding="48px 16px",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px",
        background=rx.color("gray", 2),
        **props,
    )


def loading(label: str = "Loading…") -> rx.Component:
    return rx.center(
        rx.hstack(rx.spinner(size="3"), rx.text(label, color_scheme="gray", size="2")),
        width="100%",
        padding="48px",
    )


def when_loaded(state: Any, content: rx.Component, label: str = "Loading…") -> rx.Component:
    """`content` once the page's `state` (a `PageState`) has read what it shows: `label` while it
    reads, nothing where that failed (the page's error says why)."""
    return rx.cond(~state.loaded, loading(label), rx.cond(state.failed, rx.fragment(), content))


def busy_note(shown: Any, text: str, **props: Any) -> rx.Component:
    """A spinner and `text` while `shown`: the page follows something that goes on."""
    return rx.cond(
        shown,
        rx.hstack(rx.spinner(size="1"), rx.text(text, size="2"), align="center", **props),
    )


def toggle_button(icon: str, label: str, pressed: Any, on_click: Any, **props: Any) -> rx.Component:
    """A small gray button that shows something below (a history, a body): solid while it does."""
    return rx.button(
        rx.icon(icon, size=14),
        label,
        size="1",
        variant=rx.cond(pressed, "solid", "soft"),
        color_scheme="gray",
        on_click=on_click,
        **props,
    )


def card(*children: Any, **props: Any) -> rx.Component:
    props.setdefault("width", "100%")
    return rx.card(*children, size="2", **props)


def section_title(text: Any, *extra: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.heading(text, size="4"),
        rx.spacer(),
        *extra,
        align="center",
        width="100%",
        wrap="wrap",
    )


def code_text(text: Any, max_height: str = "320px", **props: Any) -> rx.Component:
    """Preformatted text (JSON, tool results), scrollable when long."""
    return rx.el.pre(
        text,
        style={
            "font_family": "var(--code-font-family)",
            "font_size": "12px",
            "line_height": "1.5",
            "white_space": "pre-wrap",
            "word_break": "break-word",
            "margin": "0",
            "padding": "10px 12px",
            "border_radius": "8px",
            "background": rx.color("gray", 3),
            "max_height": max_height,
            "overflow": "auto",
            "width": "100%",
            "box_sizing": "border-box",
        },
        **props,
    )


def stat(label: str, value: Any, **props: Any) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", weight="medium"),
        rx.text(value, size="3", weight="bold", **props),
        spacing="1",
        min_width="110px",
    )


def table(
    headers: list[str], body: rx.Component, min_width: str = "640px", **props: Any
) -> rx.Component:
    """A table that keeps its columns readable on a narrow screen: narrower than `min_width`,
    it scrolls sideways inside its own box (Radix's table scroll area), not the page. Links,
    badges and codes (names, ids, statuses) stay on one line."""
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        body,
        variant="surface",
        size="2",
        width="100%",
        max_width="100%",
        style={
            "& .rt-TableRootTable": {"min_width": min_width},
            "& .rt-TableCell :is(a, .rt-Badge, .rt-Code)": {
                "white_space": "nowrap",
                "overflow_wrap": "normal",
            },
        },
        **props,
    )


def refusable(allowed: Any, reason: str, action: Callable[[bool], rx.Component]) -> rx.Component:
    """`action(False)` where the caller's role allows it; else `action(True)`, disabled, with a
    tooltip saying who may (the API would refuse it anyway)."""
    return rx.cond(
        allowed,
        action(False),
        rx.tooltip(
            rx.box(action(True), title=reason, display="inline-block", class_name="refused"),
            content=reason,
        ),
    )


def confirm_dialog(
    trigger: rx.Component,
    title: Any,
    description: str,
    on_confirm: Any,
    confirm_label: str = "Delete",
    **confirm_props: Any,
) -> rx.Component:
    """`trigger` opens a question (`title`, `description`) whose red `confirm_label` button
    does `on_confirm`; "Keep it" closes it. `confirm_props` (an id, a class) mark that button."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        confirm_label, color_scheme="red", on_click=on_confirm, **confirm_props
                    )
                ),
                justify="end",
                margin_top="16px",
            ),
        ),
    )


def confirm_delete(
    thing: str,
    description: str,
    on_confirm: Any,
    refused: Any,
    *,
    in_row: bool = False,
    title: Any = None,
) -> rx.Component:
    """Delete a `thing`, asked again first ("Delete this <thing>?", or `title`). In a table's
    row (`in_row`) a small trash button, class `<thing>-delete`; on the thing's own page a
    "Delete" button, id `<thing>-delete`. The confirming button is `<thing>-delete-confirm`."""
    mark = {"class_name" if in_row else "id": f"{thing}-delete"}
    trigger = (
        rx.icon_button(
            rx.icon("trash-2", size=14),
            size="1",
            variant="soft",
            color_scheme="red",
            disabled=refused,
            aria_label=f"Delete the {thing}",
            **mark,
        )
        if in_row
        else rx.button(
            rx.icon("trash-2", size=14),
            "Delete",
            variant="soft",
            color_scheme="red",
            disabled=refused,
            **mark,
        )
    )
    return confirm_dialog(
        trigger,
        f"Delete this {thing}?" if title is None else title,
        description,
        on_confirm,
        **{key: f"{value}-confirm" for key, value in mark.items()},
    )
