"""The workbench's shared pieces, for every page: `from app.components import card, shell`.

`shell` (the frame, navigation, headers), `widgets` (badges, callouts, cards, tables, a delete
confirmed first), `forms` (labelled fields and their errors, a form's buttons), `approval_card`
(deciding a tool call), `run_rows` (a table of runs), `tool_editor` (the version editor's
tools), `mcp_server` (an MCP server entry: its pinned tools, its settings in the editor),
`secret_once` (a secret shown once, with a copy button), `pause_toggle` (a schedule's Pause or
Unpause), `schedule_fields` (a schedule form's cron or interval).
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
    form_actions,
    labelled,
    new_form,
    open_form_button,
    rename_agent_dialog,
    save_rename,
    text_field,
    with_error,
)
from app.components.mcp_server import mcp_settings, pinned_tool_list
from app.components.pause_toggle import pause_toggle
from app.components.run_rows import run_rows
from app.components.schedule_fields import timing_fields
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
    busy_note,
    by_width,
    card,
    code_text,
    confirm_delete,
    confirm_dialog,
    empty_state,
    error_callout,
    loading,
    refusable,
    section_title,
    stat,
    status_badge,
    table,
    toggle_button,
    when_loaded,
)

__all__ = [
    "NARROW_SCREEN",
    "NAV",
    "SIDEBAR_WIDTH",
    "AgentRenameDrafts",
    "ApprovalDrafts",
    "approval_card",
    "area_field",
    "busy_note",
    "by_width",
    "card",
    "code_text",
    "confirm_delete",
    "confirm_dialog",
    "crumbs",
    "decision_arguments",
    "decision_toast",
    "empty_state",
    "error_callout",
    "field_error",
    "form_actions",
    "identity",
    "labelled",
    "loading",
    "mcp_settings",
    "new_form",
    "open_form_button",
    "page_header",
    "pause_toggle",
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
    "timing_fields",
    "toggle_button",
    "tool_editor",
    "tools_card",
    "when_loaded",
    "with_error",
]
