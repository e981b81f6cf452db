"""The workbench's frame (sidebar, header) and the pieces every page uses."""

from typing import Any

import reflex as rx

from app.state import SessionState
from app.view import STATUS_COLORS

SIDEBAR_WIDTH = "232px"
NAV = (
    ("Agents", "/agents", "bot"),
    ("Runs", "/runs", "activity"),
    ("Approvals", "/approvals", "shield-check"),
    ("Settings", "/settings", "settings"),
)


def _nav_item(label: str, href: str, icon: str) -> rx.Component:
    path = SessionState.router.url.path
    active = path.startswith(href)
    badge = (
        rx.cond(
            SessionState.pending_approvals > 0,
            rx.badge(
                SessionState.pending_approvals,
                color_scheme="amber",
                variant="solid",
                radius="full",
                id="pending-approvals-badge",
            ),
        )
        if href == "/approvals"
        else rx.fragment()
    )
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=18),
            rx.text(label, size="2", weight="medium"),
            rx.spacer(),
            badge,
            align="center",
            width="100%",
            padding_x="12px",
            padding_y="8px",
            border_radius="8px",
            background=rx.cond(active, rx.color("accent", 4), "transparent"),
            color=rx.cond(active, rx.color("accent", 12), rx.color("gray", 12)),
            _hover={"background": rx.color("accent", 3)},
        ),
        href=href,
        underline="none",
        width="100%",
        id=f"nav-{label.lower()}",
    )


def identity() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.avatar(fallback=SessionState.user.to(str)[:2].upper(), size="2", radius="full"),
            rx.vstack(
                rx.text(
                    SessionState.user, size="2", weight="bold", id="identity-user", trim="both"
                ),
                rx.text(
                    rx.cond(SessionState.role != "", SessionState.role, "member"),
                    " · tenant ",
                    rx.text.strong(SessionState.tenant_name, id="identity-tenant"),
                    size="1",
                    color_scheme="gray",
                ),
                rx.cond(
                    SessionState.platform_admin,
                    rx.badge("platform admin", color_scheme="purple", size="1"),
                ),
                spacing="1",
                min_width="0",
                overflow="hidden",
            ),
            align="center",
            width="100%",
        ),
        rx.cond(
            SessionState.platform_admin & (SessionState.tenant_options.length() > 1),
            rx.select(
                SessionState.tenant_options,
                value=SessionState.acting_tenant,
                on_change=SessionState.switch_tenant,
                size="1",
                width="100%",
                id="tenant-switch",
            ),
        ),
        rx.button(
            rx.icon("log-out", size=14),
            "Sign out",
            on_click=SessionState.sign_out,
            variant="ghost",
            size="1",
            color_scheme="gray",
            id="sign-out",
        ),
        spacing="2",
        width="100%",
        padding="12px",
        border_top=f"1px solid {rx.color('gray', 5)}",
    )


def sidebar() -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.hstack(
                rx.center(
                    rx.icon("workflow", size=18, color="white"),
                    width="30px",
                    height="30px",
                    border_radius="8px",
                    background=rx.color("accent", 9),
                ),
                rx.vstack(
                    rx.text("Agent Runtime", size="3", weight="bold"),
                    rx.text("Workbench", size="1", color_scheme="gray"),
                    spacing="0",
                ),
                align="center",
            ),
            href="/agents",
            underline="none",
            color=rx.color("gray", 12),
            padding="16px 12px",
        ),
        rx.vstack(*[_nav_item(*item) for item in NAV], spacing="1", width="100%", padding="8px"),
        rx.spacer(),
        rx.cond(SessionState.user != "", identity()),
        width=SIDEBAR_WIDTH,
        min_width=SIDEBAR_WIDTH,
        height="100vh",
        position="sticky",
        top="0",
        spacing="0",
    )


def shell(*children: rx.Component) -> rx.Component:
    """The frame of every signed-in page."""
    return rx.hstack(
        rx.box(
            sidebar(),
            align_self="stretch",
            background=rx.color("gray", 2),
            border_right=f"1px solid {rx.color('gray', 5)}",
        ),
        rx.box(
            rx.vstack(*children, spacing="5", width="100%", max_width="1240px", margin_x="auto"),
            flex="1",
            min_width="0",
            padding="28px 36px 64px",
        ),
        spacing="0",
        align="start",
        width="100%",
        min_height="100vh",
        background=rx.color("gray", 1),
    )


def crumbs(*parts: tuple[Any, str | None]) -> rx.Component:
    items: list[rx.Component] = []
    for index, (label, href) in enumerate(parts):
        if index:
            items.append(rx.icon("chevron-right", size=14, color=rx.color("gray", 9)))
        items.append(
            rx.link(label, href=href, size="2", color_scheme="gray")
            if href
            else rx.text(label, size="2", color_scheme="gray")
        )
    return rx.hstack(*items, align="center", spacing="1")


def page_header(
    title: Any,
    subtitle: Any = None,
    *actions: rx.Component,
    breadcrumbs: rx.Component | None = None,
    badge: rx.Component | None = None,
) -> rx.Component:
    return rx.vstack(
        breadcrumbs or rx.fragment(),
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    rx.heading(title, size="7", id="page-title"),
                    badge or rx.fragment(),
                    align="center",
                ),
                rx.text(subtitle, size="2", color_scheme="gray") if subtitle is not None else "",
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            rx.hstack(*actions, spacing="2", align="center"),
            width="100%",
            align="end",
        ),
        spacing="2",
        width="100%",
    )


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


def field_error(message: Any, **props: Any) -> rx.Component:
    return rx.cond(
        message != "",
        rx.text(
            rx.icon("circle-alert", size=12, display="inline", margin_right="4px"),
            message,
            color_scheme="red",
            size="1",
            **props,
        ),
    )


def labelled(label: str, control: rx.Component, hint: str = "", **props: Any) -> rx.Component:
    props.setdefault("width", "100%")
    return rx.vstack(
        rx.text(label, size="2", weight="medium") if label else rx.fragment(),
        control,
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        spacing="1",
        **props,
    )


def stat(label: str, value: Any, **props: Any) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", weight="medium"),
        rx.text(value, size="3", weight="bold", **props),
        spacing="1",
        min_width="110px",
    )


def table(headers: list[str], body: rx.Component, **props: Any) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        body,
        variant="surface",
        size="2",
        width="100%",
        **props,
    )


def rename_agent_dialog(state: Any) -> rx.Component:
    """Rename an agent or change its description; `state` holds the `edit_*` fields."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename agent"),
            rx.vstack(
                labelled(
                    "Name",
                    rx.input(
                        value=state.edit_name,
                        on_change=state.set_edit_name,
                        width="100%",
                        id="rename-agent-name",
                    ),
                ),
                labelled(
                    "Description",
                    rx.text_area(
                        value=state.edit_description,
                        on_change=state.set_edit_description,
                        width="100%",
                    ),
                ),
                field_error(state.edit_error),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save", on_click=state.save_edit, id="rename-agent-submit"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                margin_top="12px",
            ),
            max_width="480px",
        ),
        open=state.edit_open,
        on_open_change=state.set_edit_open,
    )
