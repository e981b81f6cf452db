"""The workbench's shared pieces, for every page: `from app.components import card, shell`.

`shell` (the frame, navigation, headers), `widgets` (badges, callouts, cards, tables), `forms`
(labelled fields and their errors), `approval_card` (deciding a tool call), `run_rows` (a table
of runs), `tool_editor` (the version editor's tools), `mcp_server` (an MCP server entry: its
pinned tools, its settings in the editor), `secret_once` (a secret shown once, with a copy button).
"""

from app.components.approval_card import (
    ApprovalDrafts,
    approval_card,
    decision_arguments,
    decision_toast,
    submit_decision,
)
from app.components.forms import (
    AgentRenameDrafts,
    area_field,
    field_error,
    labelled,
    rename_agent_dialog,
    save_rename,
    text_field,
)
from app.components.mcp_server import mcp_settings, pinned_tool_list
from app.components.run_rows import run_rows
from app.components.secret_once import secret_once
from app.components.shell import (
    NAV,
    SIDEBAR_WIDTH,
    crumbs,
    identity,
    page_header,
    shell,
    sidebar,
)
from app.components.tool_editor import tool_editor, tools_card
from app.components.widgets import (
    NARROW_SCREEN,
    by_width,
    card,
    code_text,
    empty_state,
    error_callout,
    loading,
    refusable,
    section_title,
    stat,
    status_badge,
    table,
)

__all__ = [
    "NARROW_SCREEN",
    "NAV",
    "SIDEBAR_WIDTH",
    "AgentRenameDrafts",
    "ApprovalDrafts",
    "approval_card",
    "area_field",
    "by_width",
    "card",
    "code_text",
    "crumbs",
    "decision_arguments",
    "decision_toast",
    "empty_state",
    "error_callout",
    "field_error",
    "identity",
    "labelled",
    "loading",
    "mcp_settings",
    "page_header",
    "pinned_tool_list",
    "refusable",
    "rename_agent_dialog",
    "run_rows",
    "save_rename",
    "secret_once",
    "section_title",
    "shell",
    "sidebar",
    "stat",
    "status_badge",
    "submit_decision",
    "table",
    "text_field",
    "tool_editor",
    "tools_card",
]
