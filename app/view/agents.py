"""Agents and their versions as the pages list them, and the diff of two versions."""

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from app.view.format import NONE, person, plural, pretty, when
from app.view.mcp import PinnedTool, mcp_server, pinned_tools

# What the API adds to a version; the rest is the configuration it pins.
VERSION_RECORD_FIELDS = frozenset(
    {"id", "agent_id", "number", "config_hash", "created_by", "created_by_name", "created_at"}
)


@dataclass
class AgentRow:
    id: str = ""
    name: str = ""
    description: str = ""
    archived: bool = False
    latest_version: str = NONE
    created_by: str = ""
    updated: str = ""


def agent_row(agent: dict[str, Any], me: tuple[str, str] | None = None) -> AgentRow:
    latest = agent.get("latest_version")
    return AgentRow(
        id=agent["id"],
        name=agent["name"],
        description=agent.get("description") or "",
        archived=bool(agent.get("archived")),
        latest_version=f"v{latest}" if latest else NONE,
        created_by=person(agent.get("created_by"), me, agent.get("created_by_name")),
        updated=when(agent.get("updated_at")),
    )


def agent_pairs(agents: list[dict[str, Any]]) -> list[list[str]]:
    """The agents as [id, name] pairs, by name: what a page's agent select chooses from."""
    return [[a["id"], a["name"]] for a in sorted(agents, key=lambda a: a["name"])]


@dataclass
class VersionRow:
    number: int = 0
    label: str = ""
    config_hash: str = ""
    created: str = ""
    author: str = ""
    notes: str = ""
    model: str = ""
    tools: str = ""
    # The agent's aliases naming it, by name.
    aliases: list[str] = field(default_factory=list)


def version_row(
    version: dict[str, Any], me: tuple[str, str] | None = None, aliases: list[str] | None = None
) -> VersionRow:
    model = version.get("model") or {}
    tools = [str(tool.get("name")) for tool in version.get("tools") or []]
    return VersionRow(
        number=int(version["number"]),
        label=f"v{version['number']}",
        config_hash=str(version.get("config_hash", ""))[:12],
        created=when(version.get("created_at")),
        author=person(version.get("created_by"), me, version.get("created_by_name")),
        notes=str(version.get("notes") or ""),
        model=f"{model.get('provider', '?')}:{model.get('name') or 'default'}",
        tools=", ".join(tools) if tools else "no tools",
        aliases=list(aliases or []),
    )


@dataclass
class ToolView:
    name: str = ""
    type: str = ""
    requires_approval: bool = False
    detail: str = ""
    config: str = ""
    # An MCP server entry's tools, pinned at publish, as the model is offered them.
    pinned: list[PinnedTool] = field(default_factory=list)


def _detail(tool: dict[str, Any]) -> str:
    if tool["type"] == "http":
        return f"{tool.get('method', 'POST')} {tool.get('url')}"
    if tool["type"] == "mcp":
        return f"MCP server {mcp_server(tool)}"
    return "built-in tool"


def tool_view(tool: dict[str, Any]) -> ToolView:
    """A tool of a version: what it is, where an HTTP tool goes or an MCP server is (and the
    tools it pinned), and its whole configuration."""
    return ToolView(
        name=str(tool["name"]),
        type=str(tool["type"]),
        requires_approval=bool(tool.get("requires_approval")),
        detail=_detail(tool),
        config=pretty(tool),
        pinned=pinned_tools(tool) if tool["type"] == "mcp" else [],
    )


def version_config(version: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in version.items() if key not in VERSION_RECORD_FIELDS}


@dataclass
class DiffPart:
    """A stretch of a line: changed (highlighted) or the same on both sides."""

    text: str = ""
    changed: bool = False


@dataclass
class DiffRow:
    left_number: str = ""
    left: str = ""
    right_number: str = ""
    right: str = ""
    kind: str = "equal"  # equal, changed, added, removed; skipped: unchanged lines left out
    # The line in stretches, the words that differ from the other side's marked changed.
    left_parts: list[DiffPart] = field(default_factory=list)
    right_parts: list[DiffPart] = field(default_factory=list)
    hidden: int = 0  # of a skipped row: how many unchanged lines it stands for


# Words, runs of spaces and single punctuation marks: what a changed line is compared by.
_WORDS = re.compile(r"\w+|\s+|[^\w\s]")


def _joined(parts: list[DiffPart]) -> list[DiffPart]:
    merged: list[DiffPart] = []
    for part in parts:
        if merged and merged[-1].changed == part.changed:
            merged[-1] = DiffPart(merged[-1].text + part.text, part.changed)
        elif part.text:
            merged.append(part)
    return merged


def word_diff(left: str, right: str) -> tuple[list[DiffPart], list[DiffPart]]:
    """Both lines in stretches, the words that differ between them marked changed."""
    a, b = _WORDS.findall(left), _WORDS.findall(right)
    left_parts: list[DiffPart] = []
    right_parts: list[DiffPart] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        same = tag == "equal"
        left_parts.append(DiffPart("".join(a[i1:i2]), not same))
        right_parts.append(DiffPart("".join(b[j1:j2]), not same))
    return _joined(left_parts), _joined(right_parts)


def _whole(line: str, changed: bool) -> list[DiffPart]:
    return [DiffPart(line, changed)] if line else []


def diff_rows(left: dict[str, Any], right: dict[str, Any]) -> list[DiffRow]:
    """Two configurations as JSON lines, aligned side by side."""
    a = pretty(version_config(left)).splitlines()
    b = pretty(version_config(right)).splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(
                DiffRow(
                    str(i + 1),
                    a[i],
                    str(j + 1),
                    b[j],
                    "equal",
                    _whole(a[i], False),
                    _whole(b[j], False),
                )
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            has_left, has_right = i < i2, j < j2
            kind = "changed" if has_left and has_right else ("removed" if has_left else "added")
            left_line, right_line = a[i] if has_left else "", b[j] if has_right else ""
            if kind == "changed":
                left_parts, right_parts = word_diff(left_line, right_line)
            else:
                left_parts, right_parts = _whole(left_line, True), _whole(right_line, True)
            rows.append(
                DiffRow(
                    str(i + 1) if has_left else "",
                    left_line,
                    str(j + 1) if has_right else "",
                    right_line,
                    kind,
                    left_parts,
                    right_parts,
                )
            )
    return rows


def changes_only(rows: list[DiffRow]) -> list[DiffRow]:
    """The changed rows; each run of unchanged ones becomes one row saying how many it hides."""
    shown: list[DiffRow] = []
    for row in rows:
        if row.kind != "equal":
            shown.append(row)
        elif shown and shown[-1].kind == "skipped":
            shown[-1].hidden += 1
        else:
            shown.append(DiffRow(kind="skipped", hidden=1))
    for row in shown:
        if row.kind == "skipped":
            row.left = f"{plural(row.hidden, 'unchanged line')} hidden"
    return shown
