"""The version editor's MCP server rows (`{"type": "mcp", ...}` in a version's `tools`).

A row edits the entry's name, transport, URL, headers, `include` patterns, approval and
timeouts; what it has no widget for (`command` and `env` of a stdio server, the `tools` pinned
at publish) is carried as the editor carries any field. The pinned tools are shown, named as
the model is offered them; "Refresh tools" drops them, so the next publish pins what the
server lists then (a version that gives them keeps them: what was reviewed is what runs).
"""

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from app.view import mcp_server, patterns, pinned_tools

if TYPE_CHECKING:  # app.editor builds its rows with these functions
    from app.editor import ToolRow

# A new MCP server row: the API's default timeout for its calls.
MCP_TIMEOUT_SECONDS = "60"


def mcp_row(row: "ToolRow", tool: dict[str, Any]) -> "ToolRow":
    """The row of `tool` with what only an MCP entry fills in, and the tools it pins shown."""
    if tool.get("type") == "mcp":
        row.transport = str(tool.get("transport") or "streamable_http")
        row.include = ", ".join(str(pattern) for pattern in tool.get("include") or [])
        approval = tool.get("requires_approval")
        # Patterns are published again as the version gave them, until the switch is toggled.
        row.approval_patterns = json.dumps(approval) if isinstance(approval, list) else ""
    return with_pinned(row)


def mcp_config(row: "ToolRow") -> dict[str, Any]:
    """What an MCP row publishes of its own (its headers and timeout are published as an HTTP
    tool's are)."""
    config: dict[str, Any] = {"transport": row.transport}
    if row.url.strip() or row.transport != "stdio":
        config["url"] = row.url.strip()
    if patterns(row.include):
        config["include"] = patterns(row.include)
    if row.approval_patterns:
        config["requires_approval"] = json.loads(row.approval_patterns)
    return config


def with_pinned(row: "ToolRow") -> "ToolRow":
    """The row with the tools it pins shown as its name, `include` and approval say now (and
    the command of a stdio server); a row of another type shows none."""
    mcp = row.type == "mcp"
    carried = json.loads(row.carried or "{}") if mcp else {}
    approval = json.loads(row.approval_patterns or "null") or row.requires_approval
    entry = {**carried, "name": row.name.strip(), "include": patterns(row.include)}
    row.pinned = pinned_tools({**entry, "requires_approval": approval}) if mcp else []
    row.has_pinned = mcp and carried.get("tools") is not None
    stdio = mcp and row.transport == "stdio"
    row.command = mcp_server({**entry, "transport": "stdio"}) if stdio else ""
    return row


def unpinned(row: "ToolRow") -> "ToolRow":
    """The row without the tools it pinned ("Refresh tools"), so that publishing lists the
    server's tools and pins those."""
    carried = json.loads(row.carried or "{}")
    carried.pop("tools", None)
    return with_pinned(dataclasses.replace(row, carried=json.dumps(carried, ensure_ascii=False)))
