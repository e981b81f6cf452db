"""An MCP server entry: the tools it pinned (the version page and the editor), and its settings
in a tool row of the version editor."""

from typing import Any

import reflex as rx

from app.components.forms import field_error, labelled
from app.components.widgets import by_width
from app.editor import ToolRow
from app.view import PinnedTool


def _pinned_tool(tool: PinnedTool) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.code(tool.name, size="1", class_name="pinned-tool-name"),
            rx.cond(
                tool.requires_approval,
                rx.badge("needs approval", color_scheme="amber", size="1"),
            ),
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            tool.description != "",
            rx.text(tool.description, size="1", color_scheme="gray", overflow_wrap="anywhere"),
        ),
        spacing="1",
        width="100%",
        class_name="pinned-tool",
    )


def pinned_tool_list(tools: Any, empty: Any = "No tools pinned.", **props: Any) -> rx.Component:
    """The tools an MCP entry pinned, each as the model sees it (`<entry>__<tool>`) with what
    the server says it does."""
    return rx.cond(
        tools.length() > 0,
        rx.vstack(
            rx.foreach(tools, _pinned_tool),
            spacing="2",
            width="100%",
            padding_left="12px",
            border_left=f"2px solid {rx.color('gray', 5)}",
            **props,
        ),
        rx.text(empty, size="1", color_scheme="gray"),
    )


def headers_field(state: Any, row: ToolRow, index: rx.Var[int], rows: str) -> rx.Component:
    """A tool's headers as JSON, where `{"secret": "ENV_NAME"}` values name secrets."""
    return labelled(
        'Headers (JSON; secrets as {"secret": "ENV_NAME"})',
        rx.vstack(
            rx.text_area(
                value=row.headers,
                on_change=lambda v: state.set_tool(index, "headers", v),
                rows=rows,
                width="100%",
                font_family="var(--code-font-family)",
                font_size="12px",
            ),
            field_error(row.headers_error),
            width="100%",
            spacing="1",
        ),
    )


def _input(state: Any, row: ToolRow, index: rx.Var[int], name: str, **props: Any) -> rx.Component:
    return rx.input(
        value=getattr(row, name),
        on_change=lambda v: state.set_tool(index, name, v),
        **props,
    )


def mcp_settings(state: Any, row: ToolRow, index: rx.Var[int]) -> rx.Component:
    """An MCP server row's settings (its name and approval switch are the row's own): how the
    server is reached, the headers sent to it, which of its tools are offered, the timeouts,
    and the tools the version pinned, with "Refresh tools"."""
    return rx.vstack(
        rx.hstack(
            rx.select(
                ["streamable_http", "stdio"],
                value=row.transport,
                on_change=lambda v: state.set_tool(index, "transport", v),
                class_name="mcp-transport",
            ),
            rx.cond(
                row.transport == "stdio",
                rx.code(row.command, size="1", flex="1", overflow_wrap="anywhere"),
                _input(
                    state,
                    row,
                    index,
                    "url",
                    placeholder="https://mcp.example.com/mcp",
                    flex="1",
                    min_width="200px",
                    class_name="mcp-url",
                ),
            ),
            _input(state, row, index, "timeout_seconds", width="90px", title="Timeout (seconds)"),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        rx.cond(
            row.transport == "stdio",
            rx.text(
                "A stdio server's command and environment are kept as the version gives them.",
                size="1",
                color_scheme="gray",
            ),
        ),
        field_error(row.url_error),
        rx.grid(
            labelled(
                "Include (comma-separated tool patterns; empty: all)",
                _input(
                    state,
                    row,
                    index,
                    "include",
                    placeholder="search_*, get_issue",
                    width="100%",
                    class_name="mcp-include",
                ),
            ),
            headers_field(state, row, index, rows="3"),
            columns=by_width("1", "2"),
            spacing="3",
            width="100%",
        ),
        rx.hstack(
            rx.cond(
                row.approval_patterns != "",
                rx.text(
                    "Approval: the version's patterns ",
                    rx.code(row.approval_patterns, size="1"),
                    " (toggling the switch decides for every tool)",
                    size="1",
                    color_scheme="gray",
                ),
            ),
            rx.spacer(),
            rx.text("Approval timeout (s)", size="2"),
            _input(state, row, index, "approval_timeout_seconds", width="110px"),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        rx.hstack(
            rx.text("Pinned tools", size="2", weight="medium"),
            rx.spacer(),
            rx.cond(
                row.has_pinned,
                rx.text(
                    "Refresh drops them: the next publish pins what the server lists then.",
                    size="1",
                    color_scheme="gray",
                ),
            ),
            rx.button(
                rx.icon("refresh-cw", size=12),
                "Refresh tools",
                variant="soft",
                size="1",
                disabled=~row.has_pinned,
                on_click=state.refresh_tools(index),
                class_name="mcp-refresh-tools",
            ),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        pinned_tool_list(
            row.pinned,
            rx.cond(
                row.has_pinned,
                "None of the pinned tools matches the include patterns.",
                "None pinned yet: publishing lists the server's tools and pins them.",
            ),
            class_name="mcp-pinned-tools",
        ),
        spacing="2",
        width="100%",
    )
