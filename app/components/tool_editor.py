"""The version editor's tools: a row per tool (which tool, whether it needs approval, and its
settings), and the card that lists them with a button to add each kind."""

from typing import Any

import reflex as rx

from app.components.forms import field_error, labelled
from app.components.mcp_server import headers_field, mcp_settings
from app.components.widgets import by_width, card, section_title
from app.editor import ToolRow

# The kinds of tool the editor adds, with their buttons' labels.
TOOL_KINDS = (("builtin", "Built-in tool"), ("http", "HTTP tool"), ("mcp", "MCP server"))


def tools_card(state: Any) -> rx.Component:
    """The editor's tools: `state` is the editor's, with `tools`, `errors` and `add_tool`."""
    return card(
        section_title(
            "Tools",
            *[
                rx.button(
                    rx.icon("plus", size=14),
                    label,
                    variant="soft",
                    size="1",
                    on_click=state.add_tool(kind),
                    id=f"add-{kind}-tool",
                )
                for kind, label in TOOL_KINDS
            ],
        ),
        field_error(state.errors.get("tools", "")),
        rx.cond(
            state.tools.length() > 0,
            rx.vstack(
                rx.foreach(state.tools, lambda row, index: tool_editor(state, row, index)),
                spacing="3",
                width="100%",
                margin_top="8px",
            ),
            rx.text("No tools: the model can only answer.", size="2", color_scheme="gray"),
        ),
    )


def tool_editor(state: Any, row: ToolRow, index: rx.Var[int]) -> rx.Component:
    """One tool of the version editor: a built-in (allowed hosts, for one that makes requests),
    an HTTP tool (method, URL, schema, headers) or an MCP server (`mcp_settings`); `state` is
    the editor's, with `set_tool`, `remove_tool` and `refresh_tools`."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                # The kinds of tool this editor has widgets for (meta's `tool_types` may add more).
                rx.select(
                    [kind for kind, _ in TOOL_KINDS],
                    value=row.type,
                    on_change=lambda v: state.set_tool(index, "type", v),
                    size="2",
                ),
                rx.cond(
                    row.type == "builtin",
                    rx.select(
                        state.builtin_tools,
                        value=row.name,
                        on_change=lambda v: state.set_tool(index, "name", v),
                        size="2",
                    ),
                    rx.input(
                        value=row.name,
                        placeholder=rx.cond(row.type == "mcp", "server-name", "tool_name"),
                        on_change=lambda v: state.set_tool(index, "name", v),
                        size="2",
                    ),
                ),
                rx.hstack(
                    rx.switch(
                        checked=row.requires_approval,
                        on_change=lambda v: state.set_tool(index, "requires_approval", v),
                    ),
                    rx.text("Needs approval", size="2"),
                    align="center",
                ),
                rx.spacer(),
                rx.icon_button(
                    rx.icon("trash-2", size=14),
                    variant="ghost",
                    color_scheme="red",
                    on_click=state.remove_tool(index),
                    title="Remove this tool",
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            field_error(row.name_error),
            rx.match(
                row.type,
                ("mcp", mcp_settings(state, row, index)),
                (
                    "builtin",
                    rx.flex(
                        rx.cond(
                            row.takes_hosts,
                            labelled(
                                "Allowed hosts (comma-separated)",
                                rx.input(
                                    value=row.allowed_hosts,
                                    placeholder="api.example.com",
                                    on_change=lambda v: state.set_tool(index, "allowed_hosts", v),
                                    width="100%",
                                    class_name="tool-allowed-hosts",
                                ),
                            ),
                            rx.spacer(),
                        ),
                        labelled(
                            "Approval timeout (s)",
                            rx.input(
                                value=row.approval_timeout_seconds,
                                on_change=lambda v: state.set_tool(
                                    index, "approval_timeout_seconds", v
                                ),
                                width="100%",
                            ),
                            width=by_width("100%", "200px"),
                            flex_shrink="0",
                        ),
                        direction=by_width("column", "row"),
                        spacing="3",
                        width="100%",
                    ),
                ),
                rx.vstack(
                    rx.hstack(
                        rx.select(
                            state.http_methods,
                            value=row.method,
                            on_change=lambda v: state.set_tool(index, "method", v),
                        ),
                        rx.input(
                            value=row.url,
                            placeholder="https://api.example.com/things/{id}",
                            on_change=lambda v: state.set_tool(index, "url", v),
                            flex="1",
                            min_width="200px",
                        ),
                        rx.input(
                            value=row.timeout_seconds,
                            on_change=lambda v: state.set_tool(index, "timeout_seconds", v),
                            width="90px",
                            title="Timeout (seconds)",
                        ),
                        width="100%",
                        wrap="wrap",
                    ),
                    field_error(row.url_error),
                    rx.input(
                        value=row.description,
                        placeholder="What the tool does (the model reads this)",
                        on_change=lambda v: state.set_tool(index, "description", v),
                        width="100%",
                    ),
                    rx.grid(
                        labelled(
                            "Parameters (JSON schema)",
                            rx.vstack(
                                rx.text_area(
                                    value=row.parameters,
                                    on_change=lambda v: state.set_tool(index, "parameters", v),
                                    rows="7",
                                    width="100%",
                                    font_family="var(--code-font-family)",
                                    font_size="12px",
                                    class_name="tool-parameters",
                                ),
                                field_error(
                                    row.parameters_error, class_name="tool-parameters-error"
                                ),
                                width="100%",
                                spacing="1",
                            ),
                        ),
                        headers_field(state, row, index, rows="7"),
                        columns=by_width("1", "2"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.hstack(
                        rx.checkbox(
                            "Accepts an Idempotency-Key (safe to retry)",
                            checked=row.accepts_idempotency_key,
                            on_change=lambda v: state.set_tool(index, "accepts_idempotency_key", v),
                        ),
                        rx.spacer(),
                        rx.text("Approval timeout (s)", size="2"),
                        rx.input(
                            value=row.approval_timeout_seconds,
                            on_change=lambda v: state.set_tool(
                                index, "approval_timeout_seconds", v
                            ),
                            width="110px",
                        ),
                        align="center",
                        width="100%",
                        wrap="wrap",
                    ),
                    spacing="2",
                    width="100%",
                ),
            ),
            field_error(row.other_error),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="tool-row",
    )
