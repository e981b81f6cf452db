"""The pieces every page uses: badges, callouts, empty and loading states, cards, tables."""

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
