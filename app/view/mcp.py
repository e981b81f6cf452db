"""An MCP server entry of a version (`{"type": "mcp", ...}`) as the pages show it: where its
server is, and the tools it pinned at publish, named as the model is offered them."""

import fnmatch
import hashlib
import re
import shlex
from dataclasses import dataclass
from typing import Any

# The API's rule (core.models.mcp_tools.namespaced): what every provider accepts in a tool name.
_TOOL_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
MAX_TOOL_NAME = 64
SEPARATOR = "__"


def namespaced(entry: str, tool: str) -> str:
    """`<entry>__<tool>`, as the model sees a pinned tool (a name over 64 characters keeps its
    start and a short hash of the whole)."""
    name = f"{entry}{SEPARATOR}{_TOOL_NAME_CHARS.sub('_', tool)}"
    if len(name) <= MAX_TOOL_NAME:
        return name
    digest = hashlib.sha256(f"{entry}/{tool}".encode()).hexdigest()[:8]
    return f"{name[: MAX_TOOL_NAME - 9]}_{digest}"


@dataclass
class PinnedTool:
    """One tool an MCP entry pinned: its name as the model sees it, what the server said, and
    whether a call waits for a person's approval."""

    name: str = ""
    description: str = ""
    requires_approval: bool = False


def patterns(text: str) -> list[str]:
    """Comma-separated tool name patterns (`search_*, get_issue`) as a list."""
    return [part.strip() for part in text.split(",") if part.strip()]


def pinned_tools(entry: dict[str, Any]) -> list[PinnedTool]:
    """The tools the entry pinned that the model is offered (those matching its `include`; all
    if it has none), in the order the server listed them. None pinned: an empty list."""
    include = [str(pattern) for pattern in entry.get("include") or []]
    approval = entry.get("requires_approval")
    gated = [str(pattern) for pattern in approval] if isinstance(approval, list) else []
    shown: list[PinnedTool] = []
    for tool in entry.get("tools") or []:
        if not isinstance(tool, dict):
            continue
        name = str(tool.get("name") or "")
        if include and not any(fnmatch.fnmatchcase(name, pattern) for pattern in include):
            continue
        shown.append(
            PinnedTool(
                name=namespaced(str(entry.get("name") or ""), name),
                description=str(tool.get("description") or ""),
                requires_approval=approval is True
                or any(fnmatch.fnmatchcase(name, pattern) for pattern in gated),
            )
        )
    return shown


def mcp_server(entry: dict[str, Any]) -> str:
    """Where the entry's server is: its URL, or the command a stdio server is started with."""
    if entry.get("transport") == "stdio":
        command = [str(part) for part in entry.get("command") or []]
        return f"stdio: {shlex.join(command)}" if command else "stdio (no command)"
    return str(entry.get("url") or "")
