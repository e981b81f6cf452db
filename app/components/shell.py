"""The workbench's frame: the sidebar (navigation, who is signed in), page headers, crumbs.

Below 768 px (a phone) the sidebar folds into a top bar: its menu button opens the navigation
and the identity under it, and the page takes the whole width. One navigation serves both: the
menu button is the label of a hidden checkbox whose state CSS reads, so the menu needs no round
trip to the server and no element is rendered twice.
"""

from typing import Any

import reflex as rx

from app.components.widgets import NARROW_SCREEN, by_width
from app.state import SessionState

SIDEBAR_WIDTH = "232px"
NAV = (
    ("Dashboard", "/dashboard", "layout-dashboard"),
    ("Agents", "/agents", "bot"),
    ("Runs", "/runs", "activity"),
    ("Threads", "/threads", "messages-square"),
    ("Schedules", "/schedules", "calendar-clock"),
    ("Webhooks", "/webhooks", "webhook"),
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


def _brand() -> rx.Component:
    return rx.link(
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
        padding=by_width("10px 12px", "16px 12px"),
    )


def _menu_button() -> rx.Component:
    """The top bar's menu button (narrow screens only): the label of `#nav-toggle`."""
    return rx.el.label(
        rx.cond(
            SessionState.pending_approvals > 0,
            rx.badge(
                SessionState.pending_approvals,
                color_scheme="amber",
                variant="solid",
                radius="full",
                id="pending-approvals-menu-badge",
            ),
        ),
        rx.icon("menu", size=22),
        html_for="nav-toggle",
        id="nav-menu",
        display=by_width("flex", "none"),
        align_items="center",
        gap="8px",
        padding="8px",
        margin_right="4px",
        border_radius="8px",
        cursor="pointer",
        _hover={"background": rx.color("accent", 3)},
    )


def sidebar() -> rx.Component:
    """The navigation: a sidebar on wide screens, a top bar with a menu on narrow ones."""
    return rx.vstack(
        rx.hstack(_brand(), rx.spacer(), _menu_button(), align="center", width="100%"),
        # Out of sight but focusable on a phone, so the keyboard opens the menu too.
        rx.el.input(
            type="checkbox",
            id="nav-toggle",
            class_name="nav-toggle",
            aria_label="Menu",
            display=by_width("block", "none"),
            position="absolute",
            width="1px",
            height="1px",
            opacity="0",
        ),
        rx.vstack(
            rx.vstack(
                *[_nav_item(*item) for item in NAV], spacing="1", width="100%", padding="8px"
            ),
            rx.spacer(),
            rx.cond(SessionState.user != "", identity()),
            class_name="nav-panel",
            spacing="0",
            width="100%",
            flex="1",
        ),
        width=by_width("100%", SIDEBAR_WIDTH),
        min_width=by_width("0", SIDEBAR_WIDTH),
        height=by_width("auto", "100vh"),
        position="sticky",
        top="0",
        spacing="0",
        style={
            NARROW_SCREEN: {
                "& .nav-panel": {"display": "none"},
                "& .nav-toggle:checked ~ .nav-panel": {"display": "flex"},
            }
        },
    )


def shell(*children: rx.Component) -> rx.Component:
    """The frame of every signed-in page."""
    return rx.flex(
        rx.box(
            sidebar(),
            align_self="stretch",
            background=rx.color("gray", 2),
            border_right=by_width("none", f"1px solid {rx.color('gray', 5)}"),
            border_bottom=by_width(f"1px solid {rx.color('gray', 5)}", "none"),
            # On a phone the top bar stays in view, above the page's content.
            position=by_width("sticky", "static"),
            top="0",
            z_index="10",
        ),
        rx.box(
            rx.vstack(
                *children,
                spacing="5",
                width="100%",
                max_width="1240px",
                margin_x="auto",
                id="page-content",
            ),
            flex="1",
            min_width="0",
            width="100%",
            padding=by_width("16px 12px 48px", "28px 36px 64px"),
        ),
        direction=by_width("column", "row"),
        align="start",
        width="100%",
        min_height="100vh",
        background=rx.color("gray", 1),
        # Ids, keys and hashes have no spaces: they break where they must, not overflow.
        style={"& .rt-Code": {"overflow_wrap": "anywhere"}},
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
    return rx.hstack(*items, align="center", spacing="1", wrap="wrap")


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
                    rx.heading(
                        title,
                        size=by_width("6", "7"),
                        id="page-title",
                        overflow_wrap="anywhere",
                        min_width="0",
                    ),
                    badge or rx.fragment(),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(subtitle, size="2", color_scheme="gray") if subtitle is not None else "",
                spacing="1",
                min_width="0",
                max_width="100%",
            ),
            rx.spacer(),
            rx.hstack(*actions, spacing="2", align="center", wrap="wrap"),
            width="100%",
            align="end",
            wrap="wrap",
        ),
        spacing="2",
        width="100%",
    )
